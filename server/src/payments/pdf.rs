//! PDF letters from an authority: the fee notice (Gebührenbescheid) with its GiroCode, and the
//! summary of a submitted application.
//!
//! The layout follows DIN 5008 (form B) because these letters are printed and posted in window
//! envelopes, filed by caseworkers next to paper mail, and read by citizens who expect an
//! official letter to look like one: the recipient address sits exactly in the envelope window,
//! the information block (reference number, date) where every German office puts it.
//!
//! Files are PDF/A-2a and PDF/UA-1: notices are records that must stay readable for decades, and
//! citizens using screen readers are entitled to them as much as anyone (BITV 2.0). That is why
//! the fonts are embedded, every character maps back to Unicode, and the content carries a
//! structure tree (headings, tables, a figure with alternative text for the QR code) while
//! decoration and page furniture are marked as artifacts.
//!
//! Text is laid out here rather than by a text engine: the documents are simple, and measuring
//! the glyph advances of the one embedded font ourselves keeps the line breaks exact and the
//! output identical for identical input.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::sync::LazyLock;

use krilla::color::{luma, rgb};
use krilla::configure::{Accessibility, Archival, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Paint, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, Node, SpanTag, TableHeaderScope, Tag, TagGroup,
    TagKind, TagTree,
};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};

use super::epc::{QrMatrix, QUIET_ZONE};
use crate::domain::Money;

/// The parts every letter has. The caller localizes all text.
#[derive(Clone, Debug, Default)]
pub struct Letter {
    /// Authority name first, then street, postal code and city, phone, email.
    pub sender: Vec<String>,
    /// Name, street, postal code and city: what goes into the envelope window.
    pub recipient: Vec<String>,
    /// The information block, e.g. ("Aktenzeichen", "A7K-3M9-XQ2"), ("Datum", "23.11.2026").
    /// The first pair is repeated on every page next to the page number, which reads
    /// "Seite n von m" (German, like the letters); "Datum" becomes the PDF's creation date.
    pub meta: Vec<(String, String)>,
    pub title: String,
    pub footer: String,
}

#[derive(Clone, Debug)]
pub struct FeeNoticePdf {
    pub letter: Letter,
    pub intro: String,
    pub item_headings: (String, String),
    pub items: Vec<(String, Money)>,
    pub total_label: String,
    pub total: Money,
    pub due_text: String,
    pub bank_heading: String,
    /// Empfänger, IBAN (grouped), BIC, Betrag, Verwendungszweck.
    pub bank: Vec<(String, String)>,
    pub qr: Option<QrMatrix>,
    pub qr_caption: String,
    /// Headed texts after the payment details; paragraphs separated by `\n`.
    pub sections: Vec<(String, String)>,
    /// A remark that changes what the letter means ("STORNIERT", "Ersetzt durch …"), printed
    /// prominently below the title.
    pub stamp: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SummaryPdf {
    pub letter: Letter,
    pub intro: String,
    pub sections: Vec<SummarySection>,
    pub closing: String,
}

#[derive(Clone, Debug)]
pub struct SummarySection {
    pub title: String,
    /// Label and value; values may be long and contain line breaks.
    pub rows: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be used: {0}")]
    Font(&'static str),
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

pub fn fee_notice(doc: &FeeNoticePdf) -> Result<Vec<u8>, PdfError> {
    let mut l = Layout::new(fonts()?, &doc.letter);
    l.fee_notice_body(doc);
    l.finish()
}

pub fn summary(doc: &SummaryPdf) -> Result<Vec<u8>, PdfError> {
    let mut l = Layout::new(fonts()?, &doc.letter);
    l.summary_body(doc);
    l.finish()
}

// ---------------------------------------------------------------------------------------------
// Fonts: krilla embeds and subsets them but does not expose glyph metrics, so the few tables
// needed for measuring (cmap, hmtx) are read here.

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Bold.ttf");

struct Face {
    font: Font,
    units_per_em: f32,
    glyphs: HashMap<char, u16>,
    advances: Vec<u16>,
    /// Stands in for characters the font lacks: PDF/A forbids the empty `.notdef` box, and a
    /// visible question mark at least shows that something is missing.
    fallback: u16,
}

struct Fonts {
    regular: Face,
    bold: Face,
}

fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: LazyLock<Result<Fonts, &'static str>> = LazyLock::new(|| {
        Ok(Fonts {
            regular: Face::load(REGULAR)?,
            bold: Face::load(BOLD)?,
        })
    });
    FONTS.as_ref().map_err(|e| PdfError::Font(e))
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn sfnt_table<'a>(font: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let count = usize::from(be16(font, 4)?);
    (0..count).find_map(|i| {
        let record = 12 + 16 * i;
        if font.get(record..record + 4)? != tag {
            return None;
        }
        let offset = be32(font, record + 8)? as usize;
        let len = be32(font, record + 12)? as usize;
        font.get(offset..offset.checked_add(len)?)
    })
}

/// Unicode to glyph id from the best subtable: format 12 (full Unicode) or format 4 (BMP).
fn parse_cmap(cmap: &[u8]) -> Option<HashMap<char, u16>> {
    let count = usize::from(be16(cmap, 2)?);
    let mut best: Option<(u8, usize)> = None;
    for i in 0..count {
        let record = 4 + 8 * i;
        let (platform, encoding) = (be16(cmap, record)?, be16(cmap, record + 2)?);
        let offset = be32(cmap, record + 4)? as usize;
        let format = be16(cmap, offset)?;
        let rank = match (platform, encoding, format) {
            (3, 10, 12) | (0, 4, 12) => 3,
            (3, 1, 4) => 2,
            (0, _, 4) => 1,
            _ => continue,
        };
        if best.is_none_or(|(r, _)| rank > r) {
            best = Some((rank, offset));
        }
    }
    let (_, offset) = best?;
    let sub = cmap.get(offset..)?;
    let mut map = HashMap::new();
    if be16(sub, 0)? == 12 {
        let groups = be32(sub, 12)? as usize;
        for g in 0..groups {
            let record = 16 + 12 * g;
            let (start, end, first) = (
                be32(sub, record)?,
                be32(sub, record + 4)?,
                be32(sub, record + 8)?,
            );
            for code in start..=end.min(0x10FFFF) {
                let glyph = u16::try_from(first.checked_add(code - start)?).ok()?;
                if let Some(c) = char::from_u32(code) {
                    map.insert(c, glyph);
                }
            }
        }
    } else {
        let segments = usize::from(be16(sub, 6)? / 2);
        let ends = 14;
        let starts = ends + 2 * segments + 2;
        let deltas = starts + 2 * segments;
        let ranges = deltas + 2 * segments;
        for s in 0..segments {
            let end = be16(sub, ends + 2 * s)?;
            let start = be16(sub, starts + 2 * s)?;
            let delta = be16(sub, deltas + 2 * s)?;
            let range = usize::from(be16(sub, ranges + 2 * s)?);
            for code in start..=end {
                let glyph = if range == 0 {
                    code.wrapping_add(delta)
                } else {
                    let at = ranges + 2 * s + range + 2 * usize::from(code - start);
                    match be16(sub, at)? {
                        0 => 0,
                        g => g.wrapping_add(delta),
                    }
                };
                if glyph != 0 {
                    if let Some(c) = char::from_u32(u32::from(code)) {
                        map.insert(c, glyph);
                    }
                }
            }
        }
    }
    Some(map)
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Self, &'static str> {
        let head = sfnt_table(data, b"head").ok_or("no head table")?;
        let hhea = sfnt_table(data, b"hhea").ok_or("no hhea table")?;
        let hmtx = sfnt_table(data, b"hmtx").ok_or("no hmtx table")?;
        let cmap = sfnt_table(data, b"cmap").ok_or("no cmap table")?;
        let units_per_em = f32::from(be16(head, 18).ok_or("short head table")?);
        let metrics = usize::from(be16(hhea, 34).ok_or("short hhea table")?);
        let advances = (0..metrics)
            .map(|g| be16(hmtx, 4 * g))
            .collect::<Option<Vec<u16>>>()
            .ok_or("short hmtx table")?;
        let glyphs = parse_cmap(cmap).ok_or("unreadable cmap table")?;
        let fallback = *glyphs.get(&'?').ok_or("no question mark")?;
        let font = Font::new(data.into(), 0).ok_or("krilla cannot read the font")?;
        if units_per_em <= 0.0 || advances.is_empty() {
            return Err("bad metrics");
        }
        Ok(Self {
            font,
            units_per_em,
            glyphs,
            advances,
            fallback,
        })
    }

    /// What a character is drawn as: `None` for characters that have no business in a letter
    /// (control and invisible format characters), a space for other line breaks and tabs.
    fn glyph(&self, c: char) -> Option<(char, u16)> {
        let c = match c {
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => ' ',
            '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' => return None,
            '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' => return None,
            c if c.is_control() => return None,
            c => c,
        };
        match self.glyphs.get(&c) {
            Some(&g) => Some((c, g)),
            None if c.is_whitespace() => self.glyphs.get(&' ').map(|&g| (' ', g)),
            None => Some(('?', self.fallback)),
        }
    }

    fn advance(&self, glyph: u16) -> f32 {
        let units = self
            .advances
            .get(usize::from(glyph))
            .or(self.advances.last())
            .copied()
            .unwrap_or(0);
        f32::from(units) / self.units_per_em
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .filter_map(|c| self.glyph(c))
            .map(|(_, g)| self.advance(g))
            .sum::<f32>()
            * size
    }

    /// The text as it will be drawn (what a reader extracts), and its glyphs.
    fn shape(&self, text: &str) -> (String, Vec<KrillaGlyph>) {
        let mut drawn = String::with_capacity(text.len());
        let mut glyphs = Vec::with_capacity(text.len());
        for (c, g) in text.chars().filter_map(|c| self.glyph(c)) {
            let start = drawn.len();
            drawn.push(c);
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(u32::from(g)),
                self.advance(g),
                0.0,
                0.0,
                0.0,
                start..drawn.len(),
                None,
            ));
        }
        (drawn, glyphs)
    }

    /// Greedy line breaking at spaces; hard line breaks are kept (an empty line stays empty).
    /// Lines broken at a space end with it (it takes no room at the end of the line).
    /// A word wider than the line (an IBAN without spaces, a pasted URL) is broken where it
    /// must, preferably after a hyphen or slash.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            self.wrap_paragraph(paragraph, size, width, &mut lines);
        }
        lines
    }

    fn wrap_paragraph(&self, text: &str, size: f32, width: f32, lines: &mut Vec<String>) {
        let space = self.width(" ", size);
        let mut line = String::new();
        let mut line_width = 0.0;
        let first = lines.len();
        for word in words(text) {
            let w = self.width(&word, size);
            if !line.is_empty() && line_width + space + w <= width {
                line.push(' ');
                line.push_str(&word);
                line_width += space + w;
                continue;
            }
            if !line.is_empty() {
                // The space stays at the end of the line: tagged PDF wants word boundaries as
                // real spaces, so text extracted across lines does not run words together.
                line.push(' ');
                lines.push(std::mem::take(&mut line));
            }
            if w <= width {
                line = word;
                line_width = w;
            } else {
                let mut pieces = self.break_word(&word, size, width);
                line = pieces.pop().unwrap_or_default();
                line_width = self.width(&line, size);
                lines.extend(pieces);
            }
        }
        if !line.is_empty() || lines.len() == first {
            lines.push(line);
        }
    }

    fn break_word(&self, word: &str, size: f32, width: f32) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut piece_width = 0.0;
        for c in word.chars() {
            let w = self.width(c.encode_utf8(&mut [0; 4]), size);
            if !piece.is_empty() && piece_width + w > width {
                // Break after the last hyphen or slash if that keeps at least half a line.
                let soft = piece
                    .char_indices()
                    .filter(|(_, ch)| matches!(ch, '-' | '/' | '_' | '.' | ',' | ';' | '&' | '?'))
                    .map(|(i, ch)| i + ch.len_utf8())
                    .rfind(|&i| i < piece.len() && self.width(&piece[..i], size) >= width / 2.0);
                let rest = match soft {
                    Some(i) => piece.split_off(i),
                    None => String::new(),
                };
                pieces.push(std::mem::replace(&mut piece, rest));
                piece_width = self.width(&piece, size);
            }
            piece.push(c);
            piece_width += w;
        }
        pieces.push(piece);
        pieces
    }
}

/// Words for line breaking. Some never stand at the start of a line in German typesetting:
/// the currency after an amount ("30,70 €") and the number after "§" or "Nr.".
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split([' ', '\t', '\r']).filter(|w| !w.is_empty()) {
        let glue = out.last().is_some_and(|prev| {
            word.starts_with(['€', '%'])
                || matches!(prev.as_str(), "§" | "§§" | "Nr." | "Art." | "Abs." | "Nr")
        });
        match out.last_mut() {
            Some(prev) if glue => {
                prev.push(' ');
                prev.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Page geometry (points; krilla's origin is the top left corner).

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
/// DIN 5008: 25 mm left margin, at least 20 mm right.
const LEFT: f32 = 25.0 * MM;
const RIGHT: f32 = 190.0 * MM;
const WIDTH: f32 = RIGHT - LEFT;
/// Form B: the address field is 45 mm from the top, 20 mm from the left, 85 × 45 mm, and text
/// in it starts 5 mm further in so it is not cut by the window's edge.
const ADDRESS_X: f32 = 25.0 * MM;
const ADDRESS_TOP: f32 = 45.0 * MM;
const ADDRESS_WIDTH: f32 = 75.0 * MM;
/// The return address line above the recipient (5 mm high), then the 12.7 mm endorsement zone,
/// then the recipient.
const RECIPIENT_TOP: f32 = 62.7 * MM;
/// The information block: 125 mm from the left, starting 50 mm from the top.
const INFO_X: f32 = 125.0 * MM;
const INFO_TOP: f32 = 50.0 * MM;
/// Subject line (here the title) two blank lines below the address field.
const TITLE_TOP: f32 = 98.5 * MM;
/// Top of the text on continuation pages, below their small header.
const CONTINUED_TOP: f32 = 27.0 * MM;

const BODY: Style = Style {
    bold: false,
    size: 10.0,
    leading: 13.5,
    ink: Ink::Black,
};
const BODY_BOLD: Style = Style { bold: true, ..BODY };
const LABEL: Style = Style {
    bold: false,
    size: 8.5,
    leading: 13.5,
    ink: Ink::Grey,
};
const HEADING: Style = Style {
    bold: true,
    size: 11.0,
    leading: 15.0,
    ink: Ink::Black,
};
const TITLE: Style = Style {
    bold: true,
    size: 13.0,
    leading: 17.0,
    ink: Ink::Black,
};
const SMALL: Style = Style {
    bold: false,
    size: 7.5,
    leading: 9.5,
    ink: Ink::Grey,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ink {
    Black,
    Grey,
    Red,
}

impl Ink {
    /// Grey #555 still has a contrast ratio above 7:1 on white (WCAG AAA).
    fn paint(self) -> Paint {
        match self {
            Ink::Black => luma::Color::black().into(),
            Ink::Grey => luma::Color::new(0x55).into(),
            Ink::Red => rgb::Color::new(0xB0, 0x10, 0x10).into(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Style {
    bold: bool,
    size: f32,
    leading: f32,
    ink: Ink,
}

impl Style {
    /// Baseline offset from the top of a line box: the text sits in the lower part of the box,
    /// like in a word processor.
    fn baseline(self) -> f32 {
        (self.leading - self.size) / 2.0 + 0.78 * self.size
    }
}

/// Where drawn content belongs in the structure tree.
#[derive(Clone, Copy, Debug)]
enum Mark {
    /// Decoration and page furniture, skipped by assistive technology.
    Artifact(ArtifactType),
    /// Content: the index of its leaf in the structure tree.
    Leaf(usize),
}

#[derive(Clone, Debug)]
enum Op {
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
struct Cell<'t> {
    text: &'t str,
    style: Style,
    x: f32,
    width: f32,
    /// Amounts are right-aligned so their decimals line up.
    right: bool,
    header: Option<TableHeaderScope>,
}

impl<'t> Cell<'t> {
    fn new(text: &'t str, style: Style, x: f32, width: f32) -> Self {
        Self {
            text,
            style,
            x,
            width,
            right: false,
            header: None,
        }
    }

    fn right(self) -> Self {
        Self {
            right: true,
            ..self
        }
    }

    fn header(self, scope: Option<TableHeaderScope>) -> Self {
        Self {
            header: scope,
            ..self
        }
    }
}

/// The structure tree as it is built during layout; krilla's tree needs identifiers that only
/// exist once the content is drawn, so leaves are numbered here and filled in when drawing.
struct Tags {
    nodes: Vec<(Option<TagKind>, Vec<Child>)>,
    leaves: usize,
}

enum Child {
    Node(usize),
    Leaf(usize),
}

const ROOT: usize = 0;

impl Tags {
    fn new() -> Self {
        Self {
            nodes: vec![(None, Vec::new())],
            leaves: 0,
        }
    }

    fn group(&mut self, parent: usize, kind: impl Into<TagKind>) -> usize {
        self.nodes.push((Some(kind.into()), Vec::new()));
        let id = self.nodes.len() - 1;
        if let Some((_, children)) = self.nodes.get_mut(parent) {
            children.push(Child::Node(id));
        }
        id
    }

    fn leaf(&mut self, parent: usize) -> Mark {
        let id = self.leaves;
        self.leaves += 1;
        if let Some((_, children)) = self.nodes.get_mut(parent) {
            children.push(Child::Leaf(id));
        }
        Mark::Leaf(id)
    }

    fn build(&self, node: usize, ids: &mut [Option<Identifier>]) -> Vec<Node> {
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

fn heading_tag(level: u16, text: &str) -> TagKind {
    Tag::Hn(
        NonZeroU16::new(level).unwrap_or(NonZeroU16::MIN),
        Some(text.to_string()),
    )
    .into()
}

struct Layout<'a> {
    fonts: &'static Fonts,
    letter: &'a Letter,
    pages: Vec<Vec<Op>>,
    /// Top of the next line box on the current page.
    y: f32,
    bottom: f32,
    tags: Tags,
    /// Headings for the bookmarks: level, text, page, position.
    outline: Vec<(u16, String, usize, f32)>,
    footer_lines: Vec<String>,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'static Fonts, letter: &'a Letter) -> Self {
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

    fn face(&self, style: Style) -> &'static Face {
        if style.bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    fn width(&self, text: &str, style: Style) -> f32 {
        self.face(style).width(text, style.size)
    }

    fn wrap(&self, text: &str, style: Style, width: f32) -> Vec<String> {
        self.face(style).wrap(text, style.size, width)
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn text(&mut self, x: f32, top: f32, style: Style, text: &str, mark: Mark) {
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

    fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32, ink: Ink) {
        self.push(Op::Fill {
            rect: [x1, y - thickness / 2.0, x2 - x1, thickness],
            ink,
            mark: Mark::Artifact(ArtifactType::Layout),
        });
    }

    fn page_index(&self) -> usize {
        self.pages.len().saturating_sub(1)
    }

    /// Starts a new page unless `height` still fits on this one.
    fn need(&mut self, height: f32) {
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

    /// Letterhead, window address, information block, fold marks and the title.
    fn first_page(&mut self) {
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

    fn heading(&mut self, level: u16, text: &str, style: Style) {
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
    fn paragraphs(&mut self, text: &str, style: Style, gap: f32) {
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

    /// A table row; long cells wrap, and a row may continue on the next page line by line.
    fn row(&mut self, row: usize, cells: &[Cell], after: f32) {
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

    fn fee_notice_body(&mut self, doc: &FeeNoticePdf) {
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

    fn summary_body(&mut self, doc: &SummaryPdf) {
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

    /// Page numbers and footers, known only once all pages are laid out; then the PDF.
    fn finish(mut self) -> Result<Vec<u8>, PdfError> {
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

    fn render(self) -> Result<Vec<u8>, PdfError> {
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

/// The text cut with an ellipsis so it fits the width.
fn fit(face: &Face, text: &str, size: f32, width: f32) -> String {
    let text = text.trim();
    if face.width(text, size) <= width {
        return text.to_string();
    }
    let ellipsis = face.width("…", size);
    let mut out = String::new();
    let mut w = 0.0;
    for c in text.chars() {
        let cw = face.width(c.encode_utf8(&mut [0; 4]), size);
        if w + cw + ellipsis > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    format!("{}…", out.trim_end())
}

/// Shrinks the font down to `min` before cutting the text.
fn fit_shrinking(face: &Face, text: &str, size: f32, min: f32, width: f32) -> (String, f32) {
    let w = face.width(text, size);
    if w <= width {
        return (text.to_string(), size);
    }
    let shrunk = (size * width / w).max(min);
    (fit(face, text, shrunk, width), shrunk)
}

/// The letter's date ("Datum" in the information block, as "23.11.2026") makes the PDF's
/// creation date, so the same letter gives the same file; PDF/A requires one. Without a
/// readable date, today's is used.
fn creation_date(meta: &[(String, String)]) -> DateTime {
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::domain::{CreditorReference, Iban};
    use crate::payments::epc::testing::{assert_epc_payload, decode_page};
    use crate::payments::epc::EpcTransfer;

    fn transfer() -> EpcTransfer {
        EpcTransfer {
            bic: Some("SOLADEST600".into()),
            name: "Landeshauptstadt Stuttgart – Stadtkasse".into(),
            iban: Iban::parse("DE89 3704 0044 0532 0130 00").expect("valid IBAN"),
            amount: Money(3070),
            reference: CreditorReference::parse("RF18 5390 0754 7034").expect("valid RF"),
            note: Some("Aktenzeichen A7K-3M9-XQ2".into()),
        }
    }

    fn letter(title: &str) -> Letter {
        Letter {
            sender: vec![
                "Landeshauptstadt Stuttgart – Amt für öffentliche Ordnung".into(),
                "Eberhardstraße 39".into(),
                "70173 Stuttgart".into(),
                "Telefon 0711 216-0".into(),
                "buergerbuero@stuttgart.de".into(),
            ],
            recipient: vec![
                "Frau Jürgen-Müßig Özdemir".into(),
                "Königstraße 12".into(),
                "70173 Stuttgart".into(),
            ],
            meta: vec![
                ("Aktenzeichen".into(), "A7K-3M9-XQ2".into()),
                ("Bescheid Nr.".into(), "1".into()),
                ("Datum".into(), "23.11.2026".into()),
                ("Kassenzeichen".into(), "RF18 5390 0754 7034".into()),
            ],
            title: title.into(),
            footer: "Landeshauptstadt Stuttgart · Stadtkasse · IBAN DE89 3704 0044 0532 0130 00 · \
                     BIC SOLADEST600 · Öffnungszeiten Mo–Fr 8–12 Uhr · www.stuttgart.de"
                .into(),
        }
    }

    fn notice() -> FeeNoticePdf {
        let t = transfer();
        FeeNoticePdf {
            letter: letter("Gebührenbescheid"),
            intro: "Sehr geehrte Frau Özdemir,\nfür Ihren Antrag auf einen Bewohnerparkausweis \
                    mit dem Aktenzeichen A7K-3M9-XQ2 setzen wir folgende Gebühren fest."
                .into(),
            item_headings: ("Gebühr".into(), "Betrag".into()),
            items: vec![
                (
                    "Bewohnerparkausweis, Zone S-Mitte, 12 Monate".into(),
                    Money(3070 - 1050),
                ),
                ("Auslagen für die Zustellung (Porto)".into(), Money(1050)),
            ],
            total_label: "Gesamtbetrag".into(),
            total: Money(3070),
            due_text: "Bitte überweisen Sie den Gesamtbetrag von 30,70 € bis zum 23.12.2026 und \
                       geben Sie als Verwendungszweck das Kassenzeichen RF18 5390 0754 7034 an."
                .into(),
            bank_heading: "Bankverbindung".into(),
            bank: vec![
                ("Empfänger".into(), t.name.clone()),
                ("IBAN".into(), t.iban.to_string()),
                ("BIC".into(), "SOLADEST600".into()),
                ("Betrag".into(), t.amount.format_de()),
                ("Verwendungszweck".into(), t.reference.to_string()),
            ],
            qr: Some(t.qr().expect("QR code")),
            qr_caption: "Mit Ihrer Banking-App scannen (GiroCode)".into(),
            sections: vec![
                (
                    "Rechtsgrundlage".into(),
                    "§ 6a Abs. 5 Straßenverkehrsgesetz (StVG) in Verbindung mit der \
                     Gebührenordnung für Maßnahmen im Straßenverkehr (GebOSt) und der Satzung \
                     über Gebühren für Bewohnerparkausweise der Landeshauptstadt Stuttgart."
                        .into(),
                ),
                (
                    "Rechtsbehelfsbelehrung".into(),
                    "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe \
                     Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur \
                     Niederschrift bei der Landeshauptstadt Stuttgart, Amt für öffentliche \
                     Ordnung, Eberhardstraße 39, 70173 Stuttgart, einzulegen.\nDer Widerspruch \
                     kann auch elektronisch mit einer qualifizierten elektronischen Signatur \
                     oder über das Bürgerkonto eingelegt werden. Eine einfache E-Mail genügt \
                     nicht.\nDer Widerspruch hat keine aufschiebende Wirkung; die Gebühr ist \
                     trotz eines Widerspruchs zum genannten Termin fällig (§ 80 Abs. 2 Satz 1 \
                     Nr. 1 VwGO)."
                        .into(),
                ),
            ],
            stamp: None,
        }
    }

    fn long_summary() -> SummaryPdf {
        let long = "Angaben zur Begründung mit Umlauten äöü ß und Beträgen wie 1.234,56 € \
                    – dieser Text wiederholt sich, damit ein Wert über mehrere Zeilen und \
                    Seiten läuft. "
            .repeat(14);
        let sections = (0..4)
            .map(|s| SummarySection {
                title: format!("Abschnitt {} – Angaben zur Person und zum Vorhaben", s + 1),
                rows: (0..50)
                    .map(|r| {
                        let i = s * 50 + r;
                        let value = match i {
                            199 => "Ende der Angaben".to_string(),
                            i if i % 40 == 7 => long
                                [..long.char_indices().nth(2000).map_or(long.len(), |(b, _)| b)]
                                .to_string(),
                            i if i % 10 == 3 => {
                                "Musterstraße 1\n70173 Stuttgart\nDeutschland".into()
                            }
                            i if i % 25 == 11 => "X".repeat(300),
                            i => format!("Wert {i}"),
                        };
                        (format!("Feld {i} mit einer längeren Beschriftung"), value)
                    })
                    .collect(),
            })
            .collect();
        SummaryPdf {
            letter: letter("Zusammenfassung Ihres Antrags auf Wohngeld"),
            intro: "Sie haben am 23.11.2026 folgende Angaben gemacht.".into(),
            sections,
            closing: "Diese Zusammenfassung wurde maschinell erstellt.".into(),
        }
    }

    /// Runs a poppler tool; the tests that need one fail loudly rather than pass unchecked.
    fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
        let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
            panic!(
                "`{tool}` from poppler-utils is required by this test \
                 (apt-get install poppler-utils): {e}"
            )
        });
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("amtsweg-pdf-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn text_of(pdf: &Path) -> String {
        let path = pdf.to_str().expect("utf-8 path");
        String::from_utf8(poppler("pdftotext", &["-enc", "UTF-8", path, "-"])).expect("UTF-8")
    }

    fn pages_of(pdf: &Path) -> usize {
        let info = String::from_utf8(poppler("pdfinfo", &[pdf.to_str().expect("utf-8 path")]))
            .expect("UTF-8");
        info.lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("page count")
    }

    /// Netpbm P5 (binary greyscale), as pdftoppm -gray writes it.
    fn parse_pgm(data: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut fields = Vec::new();
        let mut i = 0;
        while fields.len() < 4 {
            while data[i].is_ascii_whitespace() {
                i += 1;
            }
            if data[i] == b'#' {
                while data[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            let start = i;
            while !data[i].is_ascii_whitespace() {
                i += 1;
            }
            fields.push(
                std::str::from_utf8(&data[start..i])
                    .expect("ASCII header")
                    .to_string(),
            );
        }
        assert_eq!(fields[0], "P5", "binary greyscale");
        let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        assert_eq!(fields[3], "255", "8 bit");
        let pixels = data[i + 1..].to_vec();
        assert_eq!(pixels.len(), w * h);
        (w, h, pixels)
    }

    #[test]
    fn the_printed_girocode_scans() {
        let dir = scratch("scan");
        let pdf = dir.join("notice.pdf");
        std::fs::write(&pdf, fee_notice(&notice()).unwrap()).unwrap();
        let prefix = dir.join("page");
        poppler(
            "pdftoppm",
            &[
                "-r",
                "150",
                "-gray",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                pdf.to_str().unwrap(),
                prefix.to_str().unwrap(),
            ],
        );
        let (w, h, pixels) = parse_pgm(&std::fs::read(dir.join("page.pgm")).unwrap());
        let found = decode_page(w, h, &pixels);
        assert_eq!(found.len(), 1, "exactly one QR code on page 1");
        let (text, version, ecc) = &found[0];
        assert!(*version <= 13, "version {version}");
        assert_eq!(*ecc, 0, "level M");
        assert_epc_payload(text, &transfer());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn fee_notice_text_is_extractable() {
        let dir = scratch("text");
        let pdf = dir.join("notice.pdf");
        std::fs::write(&pdf, fee_notice(&notice()).unwrap()).unwrap();
        let text = text_of(&pdf);
        for needle in [
            "Gebührenbescheid",
            "30,70 €",
            "20,20 €",
            "RF18 5390 0754 7034",
            "DE89 3704 0044 0532 0130 00",
            "Frau Jürgen-Müßig Özdemir",
            "Königstraße 12",
            "Amt für öffentliche Ordnung",
            "Rechtsbehelfsbelehrung",
            "Mit Ihrer Banking-App",
            "(GiroCode)",
            "Aktenzeichen A7K-3M9-XQ2 – Seite 1 von",
            "23.11.2026",
        ] {
            assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn long_summaries_flow_over_pages() {
        let dir = scratch("summary");
        let pdf = dir.join("summary.pdf");
        std::fs::write(&pdf, summary(&long_summary()).unwrap()).unwrap();
        let pages = pages_of(&pdf);
        assert!(pages >= 5, "{pages} pages");
        let text = text_of(&pdf);
        assert!(text.contains("Feld 199 mit einer"));
        assert!(text.contains("Ende der Angaben"));
        assert!(text.contains("Diese Zusammenfassung wurde maschinell erstellt."));
        assert!(text.contains(&format!("Seite {pages} von {pages}")));
        // The last page holds the end of the document.
        let last = text.split('\u{c}').rfind(|p| !p.trim().is_empty()).unwrap();
        assert!(last.contains("Diese Zusammenfassung wurde maschinell erstellt."));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn same_input_same_bytes() {
        let a = fee_notice(&notice()).unwrap();
        let b = fee_notice(&notice()).unwrap();
        assert!(a == b, "deterministic output");
        assert!(a.starts_with(b"%PDF-1.7"));
    }

    fn awkward() -> FeeNoticePdf {
        let mut doc = notice();
        doc.letter.recipient = vec![
            "王小明 \u{1F600}\u{0007}".into(),
            "A very long street name that certainly does not fit into the window of a DIN \
             envelope 123"
                .into(),
            String::new(),
        ];
        doc.letter.meta.clear();
        doc.letter.sender.clear();
        doc.letter.footer = String::new();
        doc.items = vec![("x".repeat(500), Money(1)), (String::new(), Money(0))];
        doc.intro = "\n\n\u{00AD}\n".into();
        doc.sections.push(("".into(), "".into()));
        doc.stamp = Some("STORNIERT – ersetzt durch den Bescheid vom 24.11.2026".into());
        doc.qr = None;
        doc
    }

    #[test]
    fn awkward_input_still_gives_a_letter() {
        let bytes = fee_notice(&awkward()).unwrap();
        let dir = scratch("awkward");
        let pdf = dir.join("awkward.pdf");
        std::fs::write(&pdf, bytes).unwrap();
        let text = text_of(&pdf);
        assert!(text.contains("STORNIERT"));
        assert!(
            text.contains("???"),
            "missing glyphs show as question marks: {text}"
        );
        std::fs::remove_dir_all(dir).ok();

        let empty = SummaryPdf {
            letter: Letter::default(),
            intro: String::new(),
            sections: vec![SummarySection {
                title: String::new(),
                rows: vec![],
            }],
            closing: String::new(),
        };
        summary(&empty).unwrap();
    }

    #[test]
    fn wrapping_measures_glyphs() {
        let f = &fonts().unwrap().regular;
        let text = "Gebühr für die Ausstellung eines Bewohnerparkausweises, zahlbar 30,70 € bis \
                    23.12.2026 gemäß § 6a StVG; https://www.stuttgart.de/service/bewohnerparken/\
                    antrag-und-gebuehren-fuer-bewohnerparkausweise";
        for width in [60.0, 120.0, 200.0, 400.0] {
            let lines = f.wrap(text, 10.0, width);
            for line in &lines {
                assert!(
                    f.width(line.trim_end(), 10.0) <= width + 0.01,
                    "{line:?} wider than {width}"
                );
                assert!(!line.starts_with("€"), "{line:?}");
                assert!(!line.trim_end().ends_with(" §"), "{line:?}");
            }
            // Lines broken at a space keep it, so the text reads back word for word.
            let original = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(lines.concat(), original, "nothing lost at {width}");
        }
        assert_eq!(f.wrap("a\n\nb", 10.0, 100.0), vec!["a", "", "b"]);
        assert!(f.width("MMM", 10.0) > f.width("iii", 10.0));
        assert!(
            (f.width("M", 1000.0) - 833.0).abs() < 1.0,
            "Arial metrics: M is 0.833 em"
        );
    }

    #[test]
    fn creation_date_from_the_letter() {
        let meta = vec![
            ("Ihr Antrag vom".to_string(), "01.02.2026".to_string()),
            ("Datum".to_string(), "23.11.2026".to_string()),
        ];
        let date = creation_date(&meta);
        assert_eq!(
            format!("{date:?}"),
            format!("{:?}", DateTime::new(2026).month(11).day(23))
        );
        let date = creation_date(&meta[..1]);
        assert_eq!(
            format!("{date:?}"),
            format!("{:?}", DateTime::new(2026).month(2).day(1))
        );
        let submitted = [("Eingereicht".to_string(), "01.02.2026 14:05".to_string())];
        let date = creation_date(&submitted);
        assert_eq!(
            format!("{date:?}"),
            format!("{:?}", DateTime::new(2026).month(2).day(1))
        );
    }

    /// Writes sample letters to /tmp/amtsweg-pdf/ (PDF and PNG) for a human to look at.
    #[test]
    fn writes_samples() {
        let dir = Path::new("/tmp/amtsweg-pdf");
        std::fs::create_dir_all(dir).unwrap();
        let svg = transfer()
            .qr()
            .unwrap()
            .svg("GiroCode: 30,70 € an die Stadtkasse");
        std::fs::write(dir.join("girocode.svg"), svg).unwrap();
        let mut cancelled = notice();
        cancelled.stamp = Some("STORNIERT".into());
        for (name, bytes) in [
            ("fee-notice", fee_notice(&notice()).unwrap()),
            ("fee-notice-awkward", fee_notice(&awkward()).unwrap()),
            ("fee-notice-cancelled", fee_notice(&cancelled).unwrap()),
            ("summary", summary(&long_summary()).unwrap()),
        ] {
            let pdf = dir.join(format!("{name}.pdf"));
            std::fs::write(&pdf, &bytes).unwrap();
            let png = dir.join(name);
            poppler(
                "pdftoppm",
                &[
                    "-png",
                    "-r",
                    "80",
                    pdf.to_str().unwrap(),
                    png.to_str().unwrap(),
                ],
            );
        }
    }
}
