//! The parts every letter has: fold marks, letterhead, the address in the envelope window, the
//! information block and the title on the first page; footers and page numbers on every page.

use krilla::tagging::{ArtifactType, TableHeaderScope, Tag};

use super::layout::{Cell, Layout, Op};
use super::style::{
    Ink, Style, ADDRESS_TOP, ADDRESS_WIDTH, ADDRESS_X, BODY, INFO_TOP, INFO_X, LABEL, LEFT, MM,
    PAGE_H, RECIPIENT_TOP, RIGHT, SMALL, TITLE, TITLE_TOP, WIDTH,
};
use super::tags::{Mark, ROOT};
use super::wrap::{fit, fit_shrinking};
use super::PdfError;

impl Layout<'_> {
    /// Letterhead, window address, information block, fold marks and the title.
    pub(super) fn first_page(&mut self) {
        self.fold_marks();
        self.letterhead();
        self.return_address();
        let address_bottom = self.recipient();
        self.y = INFO_TOP;
        self.info_block();
        self.y = TITLE_TOP
            .max(self.y + 6.0 * MM)
            .max(address_bottom + 6.0 * MM);
        self.heading(1, &self.letter.title, TITLE);
    }

    /// Fold marks (105 mm and 210 mm for form B) and the punch mark in the middle, for
    /// folding by hand and for the hole punch.
    fn fold_marks(&mut self) {
        for (y, len) in [(105.0, 5.0), (148.5, 7.0), (210.0, 5.0)] {
            self.push(Op::Fill {
                rect: [4.0 * MM, y * MM - 0.2, len * MM, 0.4],
                ink: Ink::Grey,
                mark: Mark::Artifact(ArtifactType::Layout),
            });
        }
    }

    /// The authority in large type, its address and contacts on the right.
    fn letterhead(&mut self) {
        let sender = &self.letter.sender;
        let authority = sender.first().map(|s| s.trim()).unwrap_or("");
        let head = Style {
            bold: true,
            size: 15.0,
            leading: 18.0,
            ink: Ink::Black,
        };
        let p = self.tags.group(ROOT, Tag::P);
        let mut y = 12.0 * MM;
        for line in self.wrap(authority, head, INFO_X - LEFT - 8.0 * MM) {
            let mark = self.tags.leaf(p);
            self.text(LEFT, y, head, &line, mark);
            y += head.leading;
        }
        let contact = Style {
            size: 8.5,
            leading: 11.0,
            ..LABEL
        };
        let p = self.tags.group(ROOT, Tag::P);
        let mut y = 12.0 * MM + 1.0;
        for line in sender.iter().skip(1) {
            for line in self.wrap(line.trim(), contact, RIGHT - INFO_X) {
                let mark = self.tags.leaf(p);
                self.text(INFO_X, y, contact, &line, mark);
                y += contact.leading;
            }
        }
    }

    /// The sender line at the top of the window, underlined as DIN 5008 shows it: in 7 pt if
    /// it fits on one line, else two lines in 6.5 pt broken between its parts where possible.
    /// It repeats the letterhead, so assistive technology skips it.
    fn return_address(&mut self) {
        let parts: Vec<&str> = self
            .letter
            .sender
            .iter()
            .take(3)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let mut style = Style {
            size: 7.0,
            leading: 7.5,
            ..SMALL
        };
        let one_line = parts.join(" · ");
        let lines = if self.width(&one_line, style) <= ADDRESS_WIDTH {
            vec![one_line]
        } else {
            style.size = 6.5;
            let mut lines: Vec<String> = Vec::new();
            for part in parts {
                match lines.last_mut() {
                    Some(line)
                        if self.width(&format!("{line} · {part}"), style) <= ADDRESS_WIDTH =>
                    {
                        line.push_str(" · ");
                        line.push_str(part);
                    }
                    _ => lines.extend(self.wrap(part, style, ADDRESS_WIDTH)),
                }
            }
            if lines.len() > 2 {
                let rest = lines.split_off(1).join(" · ");
                lines.push(fit(&self.fonts.regular, &rest, style.size, ADDRESS_WIDTH));
            }
            lines
        };
        // The last line ends just above the rule at the bottom of the 5 mm zone.
        let rule_y = ADDRESS_TOP + 5.0 * MM + 0.5;
        let mut top = rule_y - 1.5 - lines.len() as f32 * style.leading;
        let mut width: f32 = 0.0;
        for line in &lines {
            width = width.max(self.width(line.trim_end(), style));
            self.push(Op::Text {
                x: ADDRESS_X,
                y: top + style.leading - 1.5,
                style,
                text: line.clone(),
                mark: Mark::Artifact(ArtifactType::Layout),
            });
            top += style.leading;
        }
        if width > 0.0 {
            self.rule(ADDRESS_X, ADDRESS_X + width, rule_y, 0.3, Ink::Grey);
        }
    }

    /// One line each, shrunk rather than wrapped: a wrapped line would read as an extra
    /// address line to the post office. Returns where the address ends.
    fn recipient(&mut self) -> f32 {
        let p = self.tags.group(ROOT, Tag::P);
        let mut y = RECIPIENT_TOP;
        for line in &self.letter.recipient {
            let (line, size) = fit_shrinking(
                &self.fonts.regular,
                line.trim(),
                BODY.size,
                8.0,
                ADDRESS_WIDTH,
            );
            let style = Style {
                size,
                leading: 12.5,
                ..BODY
            };
            let mark = self.tags.leaf(p);
            self.text(ADDRESS_X, y, style, &line, mark);
            y += style.leading;
        }
        y
    }

    /// Label and value side by side, from the current position.
    fn info_block(&mut self) {
        let meta = &self.letter.meta;
        let table = self.tags.group(ROOT, Tag::Table);
        let label_width = meta
            .iter()
            .map(|(label, _)| self.width(label.trim(), LABEL))
            .fold(0.0, f32::max)
            .min(32.0 * MM);
        let value_x = INFO_X + label_width + 3.0 * MM;
        let info = Style { size: 9.5, ..BODY };
        for (label, value) in meta {
            let tr = self.tags.group(table, Tag::TR);
            self.row(
                tr,
                &[
                    Cell::new(label, LABEL, INFO_X, label_width + 2.0 * MM)
                        .header(Some(TableHeaderScope::Row)),
                    Cell::new(value, info, value_x, RIGHT - value_x),
                ],
                0.0,
            );
        }
    }

    /// Page numbers and footers, known only once all pages are laid out; then the PDF.
    pub(super) fn finish(mut self) -> Result<Vec<u8>, PdfError> {
        let total = self.pages.len();
        let page_label = match self.letter.meta.first() {
            Some((label, value)) => format!("{} {} – ", label.trim(), value.trim()),
            None => String::new(),
        };
        let footer_p = self.tags.group(ROOT, Tag::P);
        let footer_top = PAGE_H - 12.0 * MM - self.footer_lines.len() as f32 * SMALL.leading;
        let footer_lines = std::mem::take(&mut self.footer_lines);
        for page in 0..total {
            // The footer is content once (so screen readers read it at the end), furniture on
            // every further page.
            let mut y = footer_top;
            for line in &footer_lines {
                let mark = if page == 0 {
                    self.tags.leaf(footer_p)
                } else {
                    Mark::Artifact(ArtifactType::Footer)
                };
                if let Some(ops) = self.pages.get_mut(page) {
                    ops.push(Op::Text {
                        x: LEFT,
                        y: y + SMALL.baseline(),
                        style: SMALL,
                        text: line.clone(),
                        mark,
                    });
                }
                y += SMALL.leading;
            }
            let label = format!("{page_label}Seite {} von {total}", page + 1);
            let style = Style { size: 8.0, ..SMALL };
            let label_y = footer_top - 3.0 - style.leading;
            let x = RIGHT - self.width(&label, style);
            if let Some(ops) = self.pages.get_mut(page) {
                ops.push(Op::Text {
                    x,
                    y: label_y + style.baseline() - 2.0,
                    style,
                    text: label,
                    mark: Mark::Artifact(ArtifactType::Footer),
                });
                if !footer_lines.is_empty() {
                    ops.push(Op::Fill {
                        rect: [LEFT, footer_top - 1.5, WIDTH, 0.4],
                        ink: Ink::Grey,
                        mark: Mark::Artifact(ArtifactType::Footer),
                    });
                }
            }
        }
        self.render()
    }
}
