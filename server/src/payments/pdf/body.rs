//! What the two letters say: the fee notice with its fees, payment details and GiroCode, and
//! the summary of an application.

use krilla::tagging::{ArtifactType, TableHeaderScope, Tag};

use super::layout::{Cell, Layout, Op};
use super::style::{Ink, Style, BODY, BODY_BOLD, HEADING, LABEL, LEFT, MM, RIGHT, WIDTH};
use super::tags::{heading_tag, Mark, ROOT};
use super::{FeeNoticePdf, SummaryPdf};
use crate::payments::epc::QUIET_ZONE;

impl Layout<'_> {
    fn stamp(&mut self, text: &str) {
        let style = Style {
            bold: true,
            size: 13.0,
            leading: 16.0,
            ink: Ink::Red,
        };
        let pad = 2.5 * MM;
        let lines = self.wrap(text.trim(), style, WIDTH - 2.0 * pad);
        let width = lines
            .iter()
            .map(|l| self.width(l.trim_end(), style))
            .fold(0.0, f32::max);
        let height = lines.len() as f32 * style.leading + 2.0 * pad - 4.0;
        self.need(height + 4.0 * MM);
        self.y += 1.0 * MM;
        self.push(Op::Frame {
            rect: [LEFT, self.y, width + 2.0 * pad, height],
            ink: Ink::Red,
            width: 1.5,
            mark: Mark::Artifact(ArtifactType::Layout),
        });
        let p = self.tags.group(ROOT, Tag::P);
        let mut y = self.y + pad - 2.0;
        for line in lines {
            let mark = self.tags.leaf(p);
            self.text(LEFT + pad, y, style, &line, mark);
            y += style.leading;
        }
        self.y += height + 4.0 * MM;
    }

    pub(super) fn fee_notice_body(&mut self, doc: &FeeNoticePdf) {
        if let Some(stamp) = doc.stamp.as_deref().filter(|s| !s.trim().is_empty()) {
            self.stamp(stamp);
        } else {
            self.y += 2.0 * MM;
        }
        self.paragraphs(&doc.intro, BODY, 5.0);
        self.y += 2.0 * MM;

        // The fees: description on the left, amounts right-aligned so the decimals line up.
        let amount_w = 35.0 * MM;
        let amount_x = RIGHT - amount_w;
        let desc_w = WIDTH - amount_w - 6.0 * MM;
        let table = self.tags.group(ROOT, Tag::Table);
        let head_style = Style {
            size: 9.0,
            ..BODY_BOLD
        };
        self.need(head_style.leading + 2.0 * BODY.leading + 10.0);
        let thead = self.tags.group(table, Tag::THead);
        let tr = self.tags.group(thead, Tag::TR);
        let column = Some(TableHeaderScope::Column);
        self.row(
            tr,
            &[
                Cell::new(&doc.item_headings.0, head_style, LEFT, desc_w).header(column),
                Cell::new(&doc.item_headings.1, head_style, amount_x, amount_w)
                    .header(column)
                    .right(),
            ],
            0.0,
        );
        self.rule(LEFT, RIGHT, self.y + 1.0, 0.6, Ink::Black);
        self.y += 4.0;
        let tbody = self.tags.group(table, Tag::TBody);
        for (i, (description, amount)) in doc.items.iter().enumerate() {
            if i > 0 {
                self.rule(LEFT, RIGHT, self.y - 1.5, 0.25, Ink::Grey);
            }
            let tr = self.tags.group(tbody, Tag::TR);
            let amount = amount.format_de();
            self.row(
                tr,
                &[
                    Cell::new(description, BODY, LEFT, desc_w),
                    Cell::new(&amount, BODY, amount_x, amount_w).right(),
                ],
                3.0,
            );
        }
        self.need(BODY_BOLD.leading + 4.0);
        self.rule(LEFT, RIGHT, self.y, 0.6, Ink::Black);
        self.y += 3.0;
        let tfoot = self.tags.group(table, Tag::TFoot);
        let tr = self.tags.group(tfoot, Tag::TR);
        let total = doc.total.format_de();
        self.row(
            tr,
            &[
                Cell::new(&doc.total_label, BODY_BOLD, LEFT, desc_w)
                    .header(Some(TableHeaderScope::Row)),
                Cell::new(&total, BODY_BOLD, amount_x, amount_w).right(),
            ],
            0.0,
        );
        self.rule(RIGHT - amount_w, RIGHT, self.y + 0.5, 0.5, Ink::Black);
        self.rule(RIGHT - amount_w, RIGHT, self.y + 2.0, 0.5, Ink::Black);
        self.y += 5.0 * MM;

        self.paragraphs(&doc.due_text, BODY, 5.0);
        self.y += 2.0 * MM;
        self.bank_block(doc);
        for (title, text) in &doc.sections {
            self.heading(2, title, HEADING);
            self.paragraphs(text, BODY, 4.0);
            self.y += 2.0 * MM;
        }
    }

    /// Payment details with the GiroCode beside them, kept together on one page.
    fn bank_block(&mut self, doc: &FeeNoticePdf) {
        let has_heading = !doc.bank_heading.trim().is_empty();
        if doc.bank.is_empty() && doc.qr.is_none() {
            return;
        }
        let pad = 4.0 * MM;
        let qr_size = 38.0 * MM;
        let caption_style = Style {
            size: 8.0,
            leading: 10.0,
            ..LABEL
        };
        let caption = self.wrap(doc.qr_caption.trim(), caption_style, qr_size);
        let (table_right, qr_height) = match &doc.qr {
            Some(_) => (
                RIGHT - pad - qr_size - 6.0 * MM,
                qr_size + caption.len() as f32 * caption_style.leading,
            ),
            None => (RIGHT - pad, 0.0),
        };
        let label_w = 34.0 * MM;
        let value_x = LEFT + pad + label_w;
        let value_w = table_right - value_x;
        let heading_h = if has_heading {
            HEADING.leading + 4.0
        } else {
            0.0
        };
        let rows_h: f32 = doc
            .bank
            .iter()
            .map(|(l, v)| {
                let n = self
                    .wrap(l.trim(), LABEL, label_w - 3.0 * MM)
                    .len()
                    .max(self.wrap(v.trim(), BODY, value_w).len());
                n as f32 * BODY.leading + 2.0
            })
            .sum();
        let inner = (heading_h + rows_h).max(qr_height);
        let height = inner + 2.0 * pad;
        self.need(height + 2.0 * MM);

        let top = self.y;
        self.push(Op::Frame {
            rect: [LEFT, top, WIDTH, height],
            ink: Ink::Grey,
            width: 0.6,
            mark: Mark::Artifact(ArtifactType::Layout),
        });
        if has_heading {
            let text = doc.bank_heading.trim();
            let h = self.tags.group(ROOT, heading_tag(2, text));
            self.outline
                .push((2, text.to_string(), self.page_index(), top));
            let mark = self.tags.leaf(h);
            self.text(LEFT + pad, top + pad - 2.0, HEADING, text, mark);
        }
        self.y = top + pad + heading_h - 2.0;
        let table = self.tags.group(ROOT, Tag::Table);
        for (label, value) in &doc.bank {
            let tr = self.tags.group(table, Tag::TR);
            self.row(
                tr,
                &[
                    Cell::new(label, LABEL, LEFT + pad, label_w - 3.0 * MM)
                        .header(Some(TableHeaderScope::Row)),
                    Cell::new(value, BODY, value_x, value_w),
                ],
                2.0,
            );
        }
        if let Some(matrix) = &doc.qr {
            let figure = self.tags.group(
                ROOT,
                Tag::Figure(
                    Some(doc.qr_caption.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .or_else(|| Some("GiroCode".to_string())),
                ),
            );
            let mark = self.tags.leaf(figure);
            let modules = (matrix.width + 2 * QUIET_ZONE) as f32;
            let module = qr_size / modules;
            let x = RIGHT - pad - qr_size;
            let y = top + pad;
            self.push(Op::Qr {
                x: x + QUIET_ZONE as f32 * module,
                y: y + QUIET_ZONE as f32 * module,
                module,
                matrix: matrix.clone(),
                mark,
            });
            let p = self.tags.group(ROOT, Tag::P);
            let mut cy = y + qr_size - 2.0;
            for line in caption {
                let w = self.width(line.trim_end(), caption_style);
                let mark = self.tags.leaf(p);
                self.text(x + (qr_size - w) / 2.0, cy, caption_style, &line, mark);
                cy += caption_style.leading;
            }
        }
        self.y = top + height + 6.0 * MM;
    }

    pub(super) fn summary_body(&mut self, doc: &SummaryPdf) {
        self.y += 3.0 * MM;
        self.paragraphs(&doc.intro, BODY, 5.0);
        self.y += 2.0 * MM;
        let label_w = 52.0 * MM;
        let value_x = LEFT + label_w + 5.0 * MM;
        let value_w = RIGHT - value_x;
        for section in &doc.sections {
            self.heading(2, &section.title, HEADING);
            self.rule(LEFT, RIGHT, self.y - 1.0, 0.5, Ink::Grey);
            self.y += 3.0;
            let table = self.tags.group(ROOT, Tag::Table);
            for (i, (label, value)) in section.rows.iter().enumerate() {
                if i > 0 {
                    self.rule(LEFT, RIGHT, self.y - 2.0, 0.25, Ink::Grey);
                }
                let tr = self.tags.group(table, Tag::TR);
                let label_style = Style { size: 9.0, ..LABEL };
                self.row(
                    tr,
                    &[
                        Cell::new(label, label_style, LEFT, label_w)
                            .header(Some(TableHeaderScope::Row)),
                        Cell::new(value, BODY, value_x, value_w),
                    ],
                    4.0,
                );
            }
            self.y += 4.0 * MM;
        }
        self.paragraphs(&doc.closing, BODY, 5.0);
    }
}
