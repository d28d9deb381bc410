//! Line breaking and fitting text into a width, measured with the embedded font.

use super::font::Face;

impl Face {
    /// Greedy line breaking at spaces; hard line breaks are kept (an empty line stays empty).
    /// Lines broken at a space end with it (it takes no room at the end of the line).
    /// A word wider than the line (an IBAN without spaces, a pasted URL) is broken where it
    /// must, preferably after a hyphen or slash.
    pub(super) fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
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

/// The text cut with an ellipsis so it fits the width.
pub(super) fn fit(face: &Face, text: &str, size: f32, width: f32) -> String {
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
pub(super) fn fit_shrinking(
    face: &Face,
    text: &str,
    size: f32,
    min: f32,
    width: f32,
) -> (String, f32) {
    let w = face.width(text, size);
    if w <= width {
        return (text.to_string(), size);
    }
    let shrunk = (size * width / w).max(min);
    (fit(face, text, shrunk, width), shrunk)
}
