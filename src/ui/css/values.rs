//! Property values: lengths, percentages, font weights, keywords and colours, read token by
//! token and written back normalized (docs/customization.md, "Value forms").

use cssparser::{ParseError, ParseErrorKind, Parser, ToCss, Token};

use super::classes::ValueKind::{
    self, Border, BoxEdges, ButtonFontWeight, Colour, FontWeight100, Length, Outline, Percentage,
    Pixels, SignedLength,
};
use super::{excerpt, line_number};

/// Largest magnitude accepted for any number; keeps serialization exact and values sane.
const MAX_NUMBER: f32 = 10_000.0;

/// Length units accepted, besides `%` and a unitless 0.
const LENGTH_UNITS: &[&str] = &["px", "em", "rem"];

/// Angle units, accepted only for the hue of hsl()/hsla().
const ANGLE_UNITS: &[&str] = &["deg", "grad", "rad", "turn"];

/// One component of a value, already checked for safety, with its normalized text.
#[derive(Debug)]
pub(super) struct Part {
    kind: PartKind,
    text: String,
}

#[derive(Debug)]
enum PartKind {
    Number(f32),
    /// Value and canonical (lower-case) unit; only length and angle units get here.
    Dimension(f32, &'static str),
    /// In percent, i.e. `50%` is 50.0.
    Percentage(f32),
    /// An identifier, lower-cased.
    Word(String),
    /// The text after `#`, as written.
    Hash(String),
    /// A checked rgb()/rgba()/hsl()/hsla() call.
    ColourFunction,
}

/// A finite number of sane magnitude.
fn number_ok(value: f32) -> bool {
    value.is_finite() && value.abs() <= MAX_NUMBER
}

/// The canonical spelling of `unit` if it is in `units`.
fn known_unit(unit: &str, units: &[&'static str]) -> Option<&'static str> {
    units.iter().copied().find(|u| u.eq_ignore_ascii_case(unit))
}

/// Reads a declaration value token by token, refusing anything unsafe or unknown.
/// Errors carry the line of the offending token.
pub(super) fn read_value(input: &mut Parser<'_>) -> Result<Vec<Part>, (u32, String)> {
    let mut parts = Vec::new();
    loop {
        input.skip_whitespace();
        let line = line_number(input.current_source_location());
        let token_start = input.position();
        let Ok(token) = input.next() else {
            return Ok(parts);
        };
        let token = token.clone();
        let refuse = |reason: String| Err((line, reason));
        let part = match token {
            Token::Number { value, .. } if number_ok(value) => Part {
                kind: PartKind::Number(value),
                text: token.to_css_string(),
            },
            Token::Percentage { unit_value, .. } if number_ok(unit_value * 100.0) => Part {
                kind: PartKind::Percentage(unit_value * 100.0),
                text: token.to_css_string(),
            },
            Token::Dimension {
                value,
                int_value,
                has_sign,
                ref unit,
            } if number_ok(value) => {
                let Some(unit) =
                    known_unit(unit, LENGTH_UNITS).or_else(|| known_unit(unit, ANGLE_UNITS))
                else {
                    return refuse(format!(
                        "unit `{unit}` is not supported (use px, em, rem or %)"
                    ));
                };
                let canonical = Token::Dimension {
                    value,
                    int_value,
                    has_sign,
                    unit: unit.into(),
                };
                Part {
                    kind: PartKind::Dimension(value, unit),
                    text: canonical.to_css_string(),
                }
            }
            Token::Number { .. } | Token::Percentage { .. } | Token::Dimension { .. } => {
                return refuse(format!(
                    "number out of range (at most {MAX_NUMBER} either way)"
                ));
            }
            Token::Ident(ref word) if word.eq_ignore_ascii_case("javascript") => {
                return refuse("JavaScript is not allowed".into());
            }
            Token::Ident(ref word) => Part {
                kind: PartKind::Word(word.to_ascii_lowercase()),
                text: word.to_ascii_lowercase(),
            },
            Token::Hash(ref hex) | Token::IDHash(ref hex) => Part {
                kind: PartKind::Hash(hex.to_string()),
                text: format!("#{hex}"),
            },
            Token::Function(ref name) => Part {
                text: read_function(input, name, line)?,
                kind: PartKind::ColourFunction,
            },
            Token::UnquotedUrl(_) | Token::BadUrl(_) => {
                return refuse("`url()` is not allowed".into());
            }
            Token::Delim('!') => return refuse("`!important` is not allowed".into()),
            Token::QuotedString(_) | Token::BadString(_) => {
                return refuse("strings are not allowed in values".into());
            }
            Token::AtKeyword(ref name) => {
                return refuse(format!("at-rules such as `@{name}` are not allowed"));
            }
            _ => {
                return refuse(format!(
                    "unexpected `{}` in the value",
                    excerpt(input.slice_from(token_start))
                ));
            }
        };
        parts.push(part);
    }
}

/// Reads a function call in a value; only the colour functions are accepted.
fn read_function(input: &mut Parser<'_>, name: &str, line: u32) -> Result<String, (u32, String)> {
    let Some(canonical) = ["rgb", "rgba", "hsl", "hsla"]
        .into_iter()
        .find(|f| f.eq_ignore_ascii_case(name))
    else {
        let reason = if name.eq_ignore_ascii_case("url") {
            "`url()` is not allowed".to_string()
        } else if name.eq_ignore_ascii_case("expression") {
            "`expression()` is not allowed".to_string()
        } else {
            format!("function `{name}()` is not allowed (only rgb(), rgba(), hsl() and hsla())")
        };
        return Err((line, reason));
    };
    let parsed = input.parse_nested_block(|args| {
        let text = colour_function(canonical, args).map_err(ParseError::custom)?;
        Ok((text, args.position()))
    });
    let (text, inner_end) = parsed.map_err(|e| match e.kind {
        ParseErrorKind::Custom(error) => error,
        ParseErrorKind::Basic(_) => (line, format!("malformed `{canonical}()`")),
    })?;
    // Same trick as for rule blocks: a closed call ends one byte (the `)`) further on.
    if input.position() <= inner_end {
        return Err((line, format!("`{canonical}(` is never closed")));
    }
    Ok(text)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ArgKind {
    Number,
    Percentage,
    Angle,
}

#[derive(Debug)]
enum Arg {
    Value(ArgKind, String),
    Comma,
    Slash,
}

/// Checks the arguments of rgb()/rgba()/hsl()/hsla() and returns the normalized call.
/// Accepts the comma syntax `rgb(1, 2, 3[, a])` and the space syntax `rgb(1 2 3[ / a])`.
fn colour_function(name: &str, args: &mut Parser<'_>) -> Result<String, (u32, String)> {
    let line = line_number(args.current_source_location());
    let is_hsl = name.starts_with("hsl");
    let usage = || {
        (
            line,
            format!(
                "`{name}()` takes three {} and an optional alpha, as `{name}(a, b, c)`, \
                 `{name}(a, b, c, alpha)`, `{name}(a b c)` or `{name}(a b c / alpha)`",
                if is_hsl {
                    "numbers (hue: a number or angle; saturation and lightness: percentages)"
                } else {
                    "numbers or percentages"
                }
            ),
        )
    };

    let mut list = Vec::new();
    loop {
        let token_start = args.position();
        let Ok(token) = args.next() else { break };
        let arg = match *token {
            Token::Number { value, .. } if number_ok(value) => {
                Arg::Value(ArgKind::Number, token.to_css_string())
            }
            Token::Percentage { unit_value, .. } if number_ok(unit_value * 100.0) => {
                Arg::Value(ArgKind::Percentage, token.to_css_string())
            }
            Token::Dimension {
                value,
                int_value,
                has_sign,
                ref unit,
            } if number_ok(value) && known_unit(unit, ANGLE_UNITS).is_some() => {
                let unit = known_unit(unit, ANGLE_UNITS).unwrap_or("deg");
                let canonical = Token::Dimension {
                    value,
                    int_value,
                    has_sign,
                    unit: unit.into(),
                };
                Arg::Value(ArgKind::Angle, canonical.to_css_string())
            }
            Token::Comma => Arg::Comma,
            Token::Delim('/') => Arg::Slash,
            _ => {
                let written = excerpt(args.slice_from(token_start));
                return Err((
                    line,
                    format!("`{name}()` takes only numeric arguments, got `{written}`"),
                ));
            }
        };
        list.push(arg);
    }

    // Pick the values out of the separators; a separator where a value belongs is refused.
    let legacy = list.iter().any(|a| matches!(a, Arg::Comma));
    let picked: Vec<&Arg> = match list.as_slice() {
        [a, Arg::Comma, b, Arg::Comma, c] | [a, b, c] => vec![a, b, c],
        [a, Arg::Comma, b, Arg::Comma, c, Arg::Comma, d] | [a, b, c, Arg::Slash, d] => {
            vec![a, b, c, d]
        }
        _ => return Err(usage()),
    };
    let values: Vec<(ArgKind, &str)> = picked
        .into_iter()
        .map(value_of)
        .collect::<Option<_>>()
        .ok_or_else(usage)?;

    // Check what each position may hold.
    let kinds: Vec<ArgKind> = values.iter().map(|(kind, _)| *kind).collect();
    let numeric = |k: ArgKind| matches!(k, ArgKind::Number | ArgKind::Percentage);
    let alpha_ok = kinds.get(3).is_none_or(|k| numeric(*k));
    let channels_ok = if is_hsl {
        let hue_ok = matches!(kinds[0], ArgKind::Number | ArgKind::Angle);
        let sl_ok = if legacy {
            kinds[1] == ArgKind::Percentage && kinds[2] == ArgKind::Percentage
        } else {
            numeric(kinds[1]) && numeric(kinds[2])
        };
        hue_ok && sl_ok
    } else {
        let all_numeric = kinds[..3].iter().all(|k| numeric(*k));
        // The comma syntax does not allow mixing numbers and percentages.
        let consistent = !legacy || kinds[..3].iter().all(|k| *k == kinds[0]);
        all_numeric && consistent
    };
    if !(alpha_ok && channels_ok) {
        return Err(usage());
    }

    let texts: Vec<&str> = values.iter().map(|(_, text)| *text).collect();
    Ok(if legacy {
        format!("{name}({})", texts.join(", "))
    } else if texts.len() == 4 {
        format!(
            "{name}({} {} {} / {})",
            texts[0], texts[1], texts[2], texts[3]
        )
    } else {
        format!("{name}({})", texts.join(" "))
    })
}

/// The kind and text of a value argument; `None` for a separator.
fn value_of(arg: &Arg) -> Option<(ArgKind, &str)> {
    match arg {
        Arg::Value(kind, text) => Some((*kind, text.as_str())),
        Arg::Comma | Arg::Slash => None,
    }
}

/// What `kind` expects, for error messages.
pub(super) fn expectation(kind: ValueKind) -> String {
    match kind {
        Colour => "a colour (a named colour, #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(), \
                   hsl() or hsla())"
            .into(),
        Length => "a non-negative length (px, em, rem, % or 0)".into(),
        SignedLength => "a length (px, em, rem, % or 0)".into(),
        Percentage => "a percentage from 0% to 100%".into(),
        Pixels => "a non-negative length in px".into(),
        FontWeight100 => "a multiple of 100 from 100 to 900".into(),
        ButtonFontWeight => {
            "`bold`, `normal`, `italic` or a multiple of 100 from 100 to 900".into()
        }
        ValueKind::Keyword(words) => {
            let words: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
            format!("one of {}", words.join(", "))
        }
        Border => "`<width> <style> <colour>` with a width from 1px to 100px, style `solid` or \
                   `none` and a colour, each at most once"
            .into(),
        Outline => "`<width> [<style>] [<colour>]` with a width from 0 to 100px and style \
                    `solid`, `dashed`, `dotted` or `none`"
            .into(),
        BoxEdges { negative } => format!(
            "1 to 4 {}lengths (px, em, rem, % or 0)",
            if negative { "" } else { "non-negative " }
        ),
    }
}

/// Checks the parts of a value against `kind`; returns the normalized value if it fits.
pub(super) fn check_value(kind: ValueKind, parts: &[Part]) -> Option<String> {
    let single = || match parts {
        [part] => Some(part),
        _ => None,
    };
    let accept = |ok: bool, part: &Part| ok.then(|| part.text.clone());
    match kind {
        Colour => single().and_then(|p| accept(is_colour(p), p)),
        Length => single().and_then(|p| accept(is_length(p, false), p)),
        SignedLength => single().and_then(|p| accept(is_length(p, true), p)),
        Percentage => single().and_then(|p| {
            accept(
                matches!(p.kind, PartKind::Percentage(v) if (0.0..=100.0).contains(&v)),
                p,
            )
        }),
        Pixels => single().and_then(|p| accept(pixels(p).is_some_and(|v| v >= 0.0), p)),
        FontWeight100 => single().and_then(|p| accept(is_weight_100(p), p)),
        ButtonFontWeight => single().and_then(|p| {
            accept(
                is_weight_100(p) || is_word(p, &["bold", "normal", "italic"]),
                p,
            )
        }),
        ValueKind::Keyword(words) => single().and_then(|p| accept(is_word(p, words), p)),
        Border => check_border(parts),
        Outline => check_outline(parts),
        BoxEdges { negative } => {
            let fits =
                (1..=4).contains(&parts.len()) && parts.iter().all(|p| is_length(p, negative));
            fits.then(|| join(parts.iter()))
        }
    }
}

fn join<'a>(parts: impl Iterator<Item = &'a Part>) -> String {
    parts.map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ")
}

fn is_word(part: &Part, words: &[&str]) -> bool {
    matches!(&part.kind, PartKind::Word(w) if words.contains(&w.as_str()))
}

fn pixels(part: &Part) -> Option<f32> {
    match part.kind {
        PartKind::Dimension(v, "px") => Some(v),
        _ => None,
    }
}

fn is_length(part: &Part, negative_ok: bool) -> bool {
    match part.kind {
        PartKind::Number(v) => v == 0.0,
        PartKind::Dimension(v, unit) => LENGTH_UNITS.contains(&unit) && (negative_ok || v >= 0.0),
        PartKind::Percentage(v) => negative_ok || v >= 0.0,
        _ => false,
    }
}

fn is_weight_100(part: &Part) -> bool {
    matches!(part.kind, PartKind::Number(v)
        if v.fract() == 0.0 && (100.0..=900.0).contains(&v) && v % 100.0 == 0.0)
}

fn is_colour(part: &Part) -> bool {
    match &part.kind {
        PartKind::Word(w) => {
            w == "transparent"
                || w == "currentcolor"
                || cssparser::color::parse_named_color(w).is_ok()
        }
        PartKind::Hash(hex) => {
            matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        PartKind::ColourFunction => true,
        _ => false,
    }
}

/// `border`: width 1–100px, style `solid`|`none`, colour; each at most once, any order.
fn check_border(parts: &[Part]) -> Option<String> {
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let (mut width, mut style, mut colour) = (None, None, None);
    for part in parts {
        let slot = if pixels(part).is_some_and(|v| (1.0..=100.0).contains(&v)) {
            &mut width
        } else if is_word(part, &["solid", "none"]) {
            &mut style
        } else if is_colour(part) {
            &mut colour
        } else {
            return None;
        };
        if slot.replace(part).is_some() {
            return None;
        }
    }
    Some(join([width, style, colour].into_iter().flatten()))
}

/// `outline`: a width (0–100px or a unitless 0), then optionally a style, then optionally a
/// colour.
fn check_outline(parts: &[Part]) -> Option<String> {
    let (width, rest) = parts.split_first()?;
    let width_ok = pixels(width).is_some_and(|v| (0.0..=100.0).contains(&v))
        || matches!(width.kind, PartKind::Number(v) if v == 0.0);
    let rest_ok = match rest {
        [] => true,
        [one] => is_word(one, &["solid", "dashed", "dotted", "none"]) || is_colour(one),
        [style, colour] => {
            is_word(style, &["solid", "dashed", "dotted", "none"]) && is_colour(colour)
        }
        _ => false,
    };
    (width_ok && rest_ok).then(|| join(parts.iter()))
}
