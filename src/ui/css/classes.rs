//! The allowed classes of the hosted-UI stylesheet, each with its properties and the kind of
//! value each property takes (docs/customization.md, "Allowed selectors, properties and values").

/// What a property's value must look like.
#[derive(Debug, Clone, Copy)]
pub(super) enum ValueKind {
    /// Any standard CSS colour.
    Colour,
    /// A non-negative length: px, em, rem, % or a unitless 0.
    Length,
    /// A length that may be negative (margins).
    SignedLength,
    /// A percentage of the containing block, 0%–100%.
    Percentage,
    /// A non-negative length in px.
    Pixels,
    /// A multiple of 100 from 100 to 900 (the label rule).
    FontWeight100,
    /// `bold`, `normal`, `italic` (sic, Cognito's documentation lists it) or a multiple of 100.
    ButtonFontWeight,
    /// One of the listed keywords.
    Keyword(&'static [&'static str]),
    /// Width 1–100px, style `solid`|`none`, a colour.
    Border,
    /// A px width, then optionally a style and a colour.
    Outline,
    /// One to four lengths (top, right, bottom, left); `negative` allows negative lengths.
    BoxEdges { negative: bool },
}

use ValueKind::{
    Border, BoxEdges, ButtonFontWeight, Colour, FontWeight100, Length, Outline, Percentage, Pixels,
    SignedLength,
};

const DISPLAY: ValueKind = ValueKind::Keyword(&["block", "inline"]);
const TEXT_ALIGN: ValueKind = ValueKind::Keyword(&["left", "right", "center"]);
const BOX_SIZING: ValueKind = ValueKind::Keyword(&["content-box", "border-box"]);
const MARGIN: ValueKind = BoxEdges { negative: true };
const PADDING: ValueKind = BoxEdges { negative: false };

/// Writes the class table once and derives both the checking table (with value kinds) and the
/// public `allowed()` list (names only) from it, so the two cannot drift apart.
macro_rules! class_table {
    ($($selector:literal { $($property:literal: $kind:expr),* $(,)? })*) => {
        /// Allowed selectors (without the leading dot), their properties and value kinds.
        pub(super) const CLASSES: &[(&str, &[(&str, ValueKind)])] =
            &[$(($selector, &[$(($property, $kind)),*])),*];
        /// The same table without the value kinds.
        const ALLOWED: &[(&str, &[&str])] = &[$(($selector, &[$($property),*])),*];
    };
}

class_table! {
    // Cognito's documented classes
    "background-customizable" { "background-color": Colour }
    "banner-customizable" { "padding": PADDING, "background-color": Colour }
    "errorMessage-customizable" {
        "margin": MARGIN,
        "padding": PADDING,
        "font-size": Length,
        "width": Percentage,
        "background-color": Colour,
        "border": Border,
        "color": Colour,
        "box-sizing": BOX_SIZING,
    }
    "idpButton-customizable" {
        "height": Pixels,
        "width": Percentage,
        "text-align": TEXT_ALIGN,
        "margin-bottom": SignedLength,
        "color": Colour,
        "background-color": Colour,
        "border-color": Colour,
    }
    "idpButton-customizable:hover" { "color": Colour, "background-color": Colour }
    "inputField-customizable" {
        "width": Percentage,
        "height": Pixels,
        "color": Colour,
        "background-color": Colour,
        "border": Border,
    }
    "inputField-customizable:focus" { "border-color": Colour, "outline": Outline }
    "label-customizable" { "font-weight": FontWeight100 }
    "legalText-customizable" { "color": Colour, "font-size": Length }
    "logo-customizable" { "max-width": Percentage, "max-height": Percentage }
    "submitButton-customizable" {
        "font-size": Length,
        "font-weight": ButtonFontWeight,
        "margin": MARGIN,
        "width": Percentage,
        "height": Pixels,
        "color": Colour,
        "background-color": Colour,
    }
    "submitButton-customizable:hover" { "color": Colour, "background-color": Colour }
    "textDescription-customizable" {
        "padding-top": Length,
        "padding-bottom": Length,
        "display": DISPLAY,
        "font-size": Length,
    }
    // Four more from Cognito's list
    "passwordCheck-notValid-customizable" { "color": Colour }
    "passwordCheck-valid-customizable" { "color": Colour }
    "idpDescription-customizable" {
        "padding-top": Length,
        "padding-bottom": Length,
        "display": DISPLAY,
        "font-size": Length,
    }
    "socialButton-customizable" {
        "height": Pixels,
        "text-align": TEXT_ALIGN,
        "width": Percentage,
        "margin-bottom": SignedLength,
    }
}

/// The allowed classes with their allowed properties, for documentation and tests.
pub fn allowed() -> &'static [(&'static str, &'static [&'static str])] {
    ALLOWED
}
