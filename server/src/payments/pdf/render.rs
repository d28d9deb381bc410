//! Writing the laid-out pages as PDF/A-2a and PDF/UA-1 with krilla: drawing, structure tree,
//! bookmarks and metadata.

use krilla::configure::{Accessibility, Archival, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{Artifact, ContentTag, Identifier, SpanTag, TagTree};
use krilla::{Document, SerializeSettings};

use super::layout::{Layout, Op};
use super::style::{LEFT, PAGE_H, PAGE_W};
use super::tags::{Mark, ROOT};
use super::{Letter, PdfError};

impl Layout<'_> {
    pub(super) fn render(self) -> Result<Vec<u8>, PdfError> {
        let configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A2_A)
            .with_accessibility_validator(Accessibility::UA1)
            .finish()
            .map_err(|e| PdfError::Write(format!("{e:?}")))?;
        let settings = SerializeSettings {
            configuration,
            enable_tagging: true,
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        let mut ids: Vec<Option<Identifier>> = vec![None; self.tags.leaves];
        let page_settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| PdfError::Write("page size".into()))?;
        for ops in &self.pages {
            let mut page = document.start_page_with(page_settings.clone());
            let mut surface = page.surface();
            for op in ops {
                self.draw(&mut surface, op, &mut ids);
            }
            surface.finish();
            page.finish();
        }

        let mut tree = TagTree::new().with_lang(Some("de".into()));
        for node in self.tags.build(ROOT, &mut ids) {
            tree.push(node);
        }
        document.set_tag_tree(tree);

        let mut outline = Outline::new();
        let mut current: Option<OutlineNode> = None;
        for (level, text, page, y) in &self.outline {
            let node = OutlineNode::new(
                text.clone(),
                XyzDestination::new(*page, Point::from_xy(LEFT, (*y - 6.0).max(0.0))),
            );
            match (level, current.as_mut()) {
                (2, Some(parent)) => parent.push_child(node),
                _ => {
                    if let Some(done) = current.take() {
                        outline.push_child(done);
                    }
                    current = Some(node.with_open(true));
                }
            }
        }
        if let Some(done) = current {
            outline.push_child(done);
        }
        document.set_outline(outline);

        let letter = self.letter;
        let mut metadata = Metadata::new()
            .title(document_title(letter))
            .language("de".into())
            .creator("Amtsweg".into())
            .creation_date(creation_date(&letter.meta));
        if let Some(authority) = letter.sender.first().filter(|s| !s.trim().is_empty()) {
            metadata = metadata.authors(vec![authority.trim().to_string()]);
        }
        document.set_metadata(metadata);
        document
            .finish()
            .map_err(|e| PdfError::Write(format!("{e:?}")))
    }

    fn draw(&self, surface: &mut Surface, op: &Op, ids: &mut [Option<Identifier>]) {
        let (mark, is_text) = match op {
            Op::Text { mark, .. } => (*mark, true),
            Op::Fill { mark, .. } | Op::Frame { mark, .. } | Op::Qr { mark, .. } => (*mark, false),
        };
        let id = match mark {
            Mark::Artifact(kind) => {
                surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)))
            }
            Mark::Leaf(_) if is_text => surface.start_tagged(ContentTag::Span(SpanTag::empty())),
            Mark::Leaf(_) => surface.start_tagged(ContentTag::Other),
        };
        if let Some(slot) = match mark {
            Mark::Leaf(i) => ids.get_mut(i),
            Mark::Artifact(_) => None,
        } {
            *slot = Some(id);
        }
        match op {
            Op::Text {
                x, y, style, text, ..
            } => {
                let face = self.face(*style);
                let (drawn, glyphs) = face.shape(text);
                surface.set_stroke(None);
                surface.set_fill(Some(Fill {
                    paint: style.ink.paint(),
                    ..Fill::default()
                }));
                surface.draw_glyphs(
                    Point::from_xy(*x, *y),
                    &glyphs,
                    face.font.clone(),
                    &drawn,
                    style.size,
                    false,
                );
            }
            Op::Fill { rect, ink, .. } => {
                if let Some(path) = rect_path(&[*rect]) {
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill {
                        paint: ink.paint(),
                        ..Fill::default()
                    }));
                    surface.draw_path(&path);
                }
            }
            Op::Frame {
                rect, ink, width, ..
            } => {
                if let Some(path) = rect_path(&[*rect]) {
                    surface.set_fill(None);
                    surface.set_stroke(Some(Stroke {
                        paint: ink.paint(),
                        width: *width,
                        ..Stroke::default()
                    }));
                    surface.draw_path(&path);
                    surface.set_stroke(None);
                }
            }
            Op::Qr {
                x,
                y,
                module,
                matrix,
                ..
            } => {
                let rects: Vec<[f32; 4]> = matrix
                    .dark_runs()
                    .into_iter()
                    .map(|(mx, my, len)| {
                        [
                            x + mx as f32 * module,
                            y + my as f32 * module,
                            len as f32 * module,
                            *module,
                        ]
                    })
                    .collect();
                if let Some(path) = rect_path(&rects) {
                    surface.set_stroke(None);
                    surface.set_fill(Some(Fill::default()));
                    surface.draw_path(&path);
                }
            }
        }
        surface.end_tagged();
    }
}

fn rect_path(rects: &[[f32; 4]]) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    for &[x, y, w, h] in rects {
        pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    }
    pb.finish()
}

/// PDF/UA requires a title; a letter without one is still called something.
fn document_title(letter: &Letter) -> String {
    [
        letter.title.as_str(),
        letter.sender.first().map_or("", String::as_str),
    ]
    .into_iter()
    .map(str::trim)
    .find(|t| !t.is_empty())
    .unwrap_or("Amtsweg")
    .to_string()
}

/// The letter's date ("Datum" in the information block, as "23.11.2026") makes the PDF's
/// creation date, so the same letter gives the same file; PDF/A requires one. Without a
/// readable date, today's is used.
pub(super) fn creation_date(meta: &[(String, String)]) -> DateTime {
    let parse = |value: &str| -> Option<(u16, u8, u8)> {
        // "23.11.2026", possibly followed by a time.
        let mut parts = value.split_whitespace().next()?.split('.');
        let day: u8 = parts.next()?.trim().parse().ok()?;
        let month: u8 = parts.next()?.trim().parse().ok()?;
        let year: u16 = parts.next()?.trim().parse().ok()?;
        let valid = parts.next().is_none()
            && (1..=31).contains(&day)
            && (1..=12).contains(&month)
            && (1900..=9999).contains(&year);
        valid.then_some((year, month, day))
    };
    let labelled = meta
        .iter()
        .filter(|(label, _)| {
            let label = label.trim().to_lowercase();
            label == "datum" || label == "date"
        })
        .find_map(|(_, value)| parse(value));
    let (year, month, day) = labelled
        .or_else(|| meta.iter().find_map(|(_, value)| parse(value)))
        .unwrap_or_else(|| {
            let today = time::OffsetDateTime::now_utc().date();
            (
                u16::try_from(today.year()).unwrap_or(2000),
                u8::from(today.month()),
                today.day(),
            )
        });
    DateTime::new(year).month(month).day(day)
}
