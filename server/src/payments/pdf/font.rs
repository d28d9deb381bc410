//! Fonts: krilla embeds and subsets them but does not expose glyph metrics, so the few tables
//! needed for measuring (cmap, hmtx) are read here.

use std::collections::HashMap;
use std::sync::LazyLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};

use super::PdfError;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Bold.ttf");

pub(super) struct Face {
    pub(super) font: Font,
    units_per_em: f32,
    glyphs: HashMap<char, u16>,
    advances: Vec<u16>,
    /// Stands in for characters the font lacks: PDF/A forbids the empty `.notdef` box, and a
    /// visible question mark at least shows that something is missing.
    fallback: u16,
}

pub(super) struct Fonts {
    pub(super) regular: Face,
    pub(super) bold: Face,
}

pub(super) fn fonts() -> Result<&'static Fonts, PdfError> {
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

    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .filter_map(|c| self.glyph(c))
            .map(|(_, g)| self.advance(g))
            .sum::<f32>()
            * size
    }

    /// The text as it will be drawn (what a reader extracts), and its glyphs.
    pub(super) fn shape(&self, text: &str) -> (String, Vec<KrillaGlyph>) {
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
}
