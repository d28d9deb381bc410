//! Laying out a letter: drawing operations collected page by page, text placed line by line,
//! page breaks that keep headings, paragraphs and table rows together.

use krilla::tagging::{ArtifactType, TableHeaderScope, Tag};

use super::font::{Face, Fonts};
use super::style::{Ink, Style, BODY, CONTINUED_TOP, LABEL, LEFT, MM, PAGE_H, RIGHT, SMALL, WIDTH};
use super::tags::{heading_tag, Mark, Tags, ROOT};
use super::wrap::fit;
use super::Letter;
use crate::payments::epc::QrMatrix;

#[derive(Clone, Debug)]
pub(super) enum Op {
    Text {
        x: f32,
        y: f32,
        style: Style,
        text: String,
        mark: Mark,
    },
    /// A filled rectangle (rules are thin ones).
    Fill {
        rect: [f32; 4],
        ink: Ink,
        mark: Mark,
    },
    /// An outlined rectangle.
    Frame {
        rect: [f32; 4],
        ink: Ink,
        width: f32,
        mark: Mark,
    },
    Qr {
        x: f32,
        y: f32,
        module: f32,
        matrix: QrMatrix,
        mark: Mark,
    },
}

/// One cell of a table row.
pub(super) struct Cell<'t> {
    text: &'t str,
    style: Style,
    x: f32,
    width: f32,
    /// Amounts are right-aligned so their decimals line up.
    right: bool,
    header: Option<TableHeaderScope>,
}

impl<'t> Cell<'t> {
    pub(super) fn new(text: &'t str, style: Style, x: f32, width: f32) -> Self {
        Self {
            text,
            style,
            x,
            width,
            right: false,
            header: None,
        }
    }

    pub(super) fn right(self) -> Self {
        Self {
            right: true,
            ..self
        }
    }

    pub(super) fn header(self, scope: Option<TableHeaderScope>) -> Self {
        Self {
            header: scope,
            ..self
        }
    }
}

pub(super) struct Layout<'a> {
    pub(super) fonts: &'static Fonts,
    pub(super) letter: &'a Letter,
    pub(super) pages: Vec<Vec<Op>>,
    /// Top of the next line box on the current page.
    pub(super) y: f32,
    bottom: f32,
    pub(super) tags: Tags,
    /// Headings for the bookmarks: level, text, page, position.
    pub(super) outline: Vec<(u16, String, usize, f32)>,
    pub(super) footer_lines: Vec<String>,
}

impl<'a> Layout<'a> {
    pub(super) fn new(fonts: &'static Fonts, letter: &'a Letter) -> Self {
        let footer_lines = fonts.regular.wrap(letter.footer.trim(), SMALL.size, WIDTH);
        let footer_lines: Vec<String> = footer_lines
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect();
        // Footer text from 12 mm above the bottom edge upwards, a rule above it, the page
        // line above the rule, and some air above that.
        let footer_top = PAGE_H - 12.0 * MM - footer_lines.len() as f32 * SMALL.leading;
        let bottom = footer_top - 3.0 - SMALL.leading - 6.0 * MM;
        let mut l = Self {
            fonts,
            letter,
            pages: vec![Vec::new()],
            y: 0.0,
            bottom,
            tags: Tags::new(),
            outline: Vec::new(),
            footer_lines,
        };
        l.first_page();
        l
    }

    pub(super) fn face(&self, style: Style) -> &'static Face {
        if style.bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    pub(super) fn width(&self, text: &str, style: Style) -> f32 {
        self.face(style).width(text, style.size)
    }

    pub(super) fn wrap(&self, text: &str, style: Style, width: f32) -> Vec<String> {
        self.face(style).wrap(text, style.size, width)
    }

    pub(super) fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    pub(super) fn text(&mut self, x: f32, top: f32, style: Style, text: &str, mark: Mark) {
        if text.trim().is_empty() {
            return;
        }
        self.push(Op::Text {
            x,
            y: top + style.baseline(),
            style,
            text: text.to_string(),
            mark,
        });
    }

    pub(super) fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32, ink: Ink) {
        self.push(Op::Fill {
            rect: [x1, y - thickness / 2.0, x2 - x1, thickness],
            ink,
            mark: Mark::Artifact(ArtifactType::Layout),
        });
    }

    pub(super) fn page_index(&self) -> usize {
        self.pages.len().saturating_sub(1)
    }

    /// Starts a new page unless `height` still fits on this one.
    pub(super) fn need(&mut self, height: f32) {
        if self.y + height > self.bottom && self.y > CONTINUED_TOP {
            self.pages.push(Vec::new());
            self.continuation_header();
        }
    }

    fn continuation_header(&mut self) {
        let style = Style {
            size: 8.5,
            leading: 11.0,
            ..LABEL
        };
        let header = Mark::Artifact(ArtifactType::Header);
        let top = 12.0 * MM;
        let bold = Style {
            bold: true,
            ..style
        };
        // The title gets what it needs up to half the line, the authority the rest.
        let title = fit(
            self.face(style),
            self.letter.title.trim(),
            style.size,
            WIDTH / 2.0,
        );
        let title_width = self.width(&title, style);
        let title_x = RIGHT - title_width;
        let authority = self.letter.sender.first().map(String::as_str).unwrap_or("");
        let authority = fit(
            self.face(bold),
            authority,
            style.size,
            WIDTH - title_width - 8.0 * MM,
        );
        self.text(LEFT, top, bold, &authority, header);
        self.text(title_x, top, style, &title, header);
        self.rule(LEFT, RIGHT, top + style.leading + 2.0, 0.4, Ink::Grey);
        self.y = CONTINUED_TOP;
    }

    pub(super) fn heading(&mut self, level: u16, text: &str, style: Style) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let lines = self.wrap(text, style, WIDTH);
        // Keep a heading with at least two lines of what follows.
        self.need(lines.len() as f32 * style.leading + 2.0 * BODY.leading);
        let h = self.tags.group(ROOT, heading_tag(level, text));
        self.outline
            .push((level, text.to_string(), self.page_index(), self.y));
        for line in lines {
            let mark = self.tags.leaf(h);
            self.text(LEFT, self.y, style, &line, mark);
            self.y += style.leading;
        }
        self.y += 2.0;
    }

    /// Paragraphs separated by line breaks, each a structure element of its own.
    pub(super) fn paragraphs(&mut self, text: &str, style: Style, gap: f32) {
        for paragraph in text.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
            let p = self.tags.group(ROOT, Tag::P);
            let lines = self.wrap(paragraph, style, WIDTH);
            let n = lines.len();
            for (i, line) in lines.into_iter().enumerate() {
                // No first line alone at the bottom of a page, no last line alone at the top.
                let keep = if i == 0 || i + 2 == n {
                    2.min(n - i)
                } else {
                    1
                };
                self.need(keep as f32 * style.leading);
                let mark = self.tags.leaf(p);
                self.text(LEFT, self.y, style, &line, mark);
                self.y += style.leading;
            }
            self.y += gap;
        }
    }

    /// A table row; long cells wrap, and a row may continue on the next page line by line.
    pub(super) fn row(&mut self, row: usize, cells: &[Cell], after: f32) {
        let mut columns = Vec::with_capacity(cells.len());
        for cell in cells {
            let group = match cell.header {
                Some(scope) => self.tags.group(row, Tag::TH(scope)),
                None => self.tags.group(row, Tag::TD),
            };
            columns.push((group, self.wrap(cell.text.trim(), cell.style, cell.width)));
        }
        // One line grid for the row, with the cells' baselines aligned.
        let leading = cells.iter().map(|c| c.style.leading).fold(0.0, f32::max);
        let baseline = cells.iter().map(|c| c.style.baseline()).fold(0.0, f32::max);
        let lines = columns.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        // Short rows stay together; long ones may break, but not after their first line.
        let height = lines as f32 * leading;
        if height <= (self.bottom - CONTINUED_TOP) / 3.0 {
            self.need(height);
        } else {
            self.need(2.0 * leading);
        }
        for i in 0..lines {
            self.need(leading);
            for (cell, (group, cell_lines)) in cells.iter().zip(&columns) {
                let Some(line) = cell_lines.get(i) else {
                    continue;
                };
                let mark = self.tags.leaf(*group);
                let top = self.y + baseline - cell.style.baseline();
                let x = if cell.right {
                    cell.x + cell.width - self.width(line.trim_end(), cell.style)
                } else {
                    cell.x
                };
                self.text(x, top, cell.style, line, mark);
            }
            self.y += leading;
        }
        self.y += after;
    }
}
