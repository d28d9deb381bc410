//! Page geometry (points; krilla's origin is the top left corner) and the type styles.

use krilla::color::{luma, rgb};
use krilla::paint::Paint;

pub(super) const MM: f32 = 72.0 / 25.4;
pub(super) const PAGE_W: f32 = 210.0 * MM;
pub(super) const PAGE_H: f32 = 297.0 * MM;
/// DIN 5008: 25 mm left margin, at least 20 mm right.
pub(super) const LEFT: f32 = 25.0 * MM;
pub(super) const RIGHT: f32 = 190.0 * MM;
pub(super) const WIDTH: f32 = RIGHT - LEFT;
/// Form B: the address field is 45 mm from the top, 20 mm from the left, 85 × 45 mm, and text
/// in it starts 5 mm further in so it is not cut by the window's edge.
pub(super) const ADDRESS_X: f32 = 25.0 * MM;
pub(super) const ADDRESS_TOP: f32 = 45.0 * MM;
pub(super) const ADDRESS_WIDTH: f32 = 75.0 * MM;
/// The return address line above the recipient (5 mm high), then the 12.7 mm endorsement zone,
/// then the recipient.
pub(super) const RECIPIENT_TOP: f32 = 62.7 * MM;
/// The information block: 125 mm from the left, starting 50 mm from the top.
pub(super) const INFO_X: f32 = 125.0 * MM;
pub(super) const INFO_TOP: f32 = 50.0 * MM;
/// Subject line (here the title) two blank lines below the address field.
pub(super) const TITLE_TOP: f32 = 98.5 * MM;
/// Top of the text on continuation pages, below their small header.
pub(super) const CONTINUED_TOP: f32 = 27.0 * MM;

pub(super) const BODY: Style = Style {
    bold: false,
    size: 10.0,
    leading: 13.5,
    ink: Ink::Black,
};
pub(super) const BODY_BOLD: Style = Style { bold: true, ..BODY };
pub(super) const LABEL: Style = Style {
    bold: false,
    size: 8.5,
    leading: 13.5,
    ink: Ink::Grey,
};
pub(super) const HEADING: Style = Style {
    bold: true,
    size: 11.0,
    leading: 15.0,
    ink: Ink::Black,
};
pub(super) const TITLE: Style = Style {
    bold: true,
    size: 13.0,
    leading: 17.0,
    ink: Ink::Black,
};
pub(super) const SMALL: Style = Style {
    bold: false,
    size: 7.5,
    leading: 9.5,
    ink: Ink::Grey,
};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Ink {
    Black,
    Grey,
    Red,
}

impl Ink {
    /// Grey #555 still has a contrast ratio above 7:1 on white (WCAG AAA).
    pub(super) fn paint(self) -> Paint {
        match self {
            Ink::Black => luma::Color::black().into(),
            Ink::Grey => luma::Color::new(0x55).into(),
            Ink::Red => rgb::Color::new(0xB0, 0x10, 0x10).into(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Style {
    pub(super) bold: bool,
    pub(super) size: f32,
    pub(super) leading: f32,
    pub(super) ink: Ink,
}

impl Style {
    /// Baseline offset from the top of a line box: the text sits in the lower part of the box,
    /// like in a word processor.
    pub(super) fn baseline(self) -> f32 {
        (self.leading - self.size) / 2.0 + 0.78 * self.size
    }
}
