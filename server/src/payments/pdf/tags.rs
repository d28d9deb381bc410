//! The structure tree that makes the PDF accessible (PDF/UA): which drawn content is a
//! heading, a paragraph, a table cell or a figure, and which is an artifact.

use std::num::NonZeroU16;

use krilla::tagging::{ArtifactType, Identifier, Node, Tag, TagGroup, TagKind};

/// Where drawn content belongs in the structure tree.
#[derive(Clone, Copy, Debug)]
pub(super) enum Mark {
    /// Decoration and page furniture, skipped by assistive technology.
    Artifact(ArtifactType),
    /// Content: the index of its leaf in the structure tree.
    Leaf(usize),
}

/// The structure tree as it is built during layout; krilla's tree needs identifiers that only
/// exist once the content is drawn, so leaves are numbered here and filled in when drawing.
pub(super) struct Tags {
    nodes: Vec<(Option<TagKind>, Vec<Child>)>,
    pub(super) leaves: usize,
}

enum Child {
    Node(usize),
    Leaf(usize),
}

pub(super) const ROOT: usize = 0;

impl Tags {
    pub(super) fn new() -> Self {
        Self {
            nodes: vec![(None, Vec::new())],
            leaves: 0,
        }
    }

    pub(super) fn group(&mut self, parent: usize, kind: impl Into<TagKind>) -> usize {
        self.nodes.push((Some(kind.into()), Vec::new()));
        let id = self.nodes.len() - 1;
        if let Some((_, children)) = self.nodes.get_mut(parent) {
            children.push(Child::Node(id));
        }
        id
    }

    pub(super) fn leaf(&mut self, parent: usize) -> Mark {
        let id = self.leaves;
        self.leaves += 1;
        if let Some((_, children)) = self.nodes.get_mut(parent) {
            children.push(Child::Leaf(id));
        }
        Mark::Leaf(id)
    }

    pub(super) fn build(&self, node: usize, ids: &mut [Option<Identifier>]) -> Vec<Node> {
        let Some((_, children)) = self.nodes.get(node) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for child in children {
            match *child {
                Child::Leaf(i) => {
                    if let Some(id) = ids.get_mut(i).and_then(Option::take) {
                        out.push(Node::Leaf(id));
                    }
                }
                Child::Node(n) => {
                    let grandchildren = self.build(n, ids);
                    // krilla drops empty groups anyway; an empty table row would be invalid.
                    if let (false, Some((Some(kind), _))) =
                        (grandchildren.is_empty(), self.nodes.get(n))
                    {
                        out.push(Node::Group(TagGroup::with_children(
                            kind.clone(),
                            grandchildren,
                        )));
                    }
                }
            }
        }
        out
    }
}

pub(super) fn heading_tag(level: u16, text: &str) -> TagKind {
    Tag::Hn(
        NonZeroU16::new(level).unwrap_or(NonZeroU16::MIN),
        Some(text.to_string()),
    )
    .into()
}
