//! Validator for the per-app-client stylesheets of the hosted sign-in UI.
//!
//! The contract follows Amazon Cognito's hosted-UI customization rules
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/hosted-ui-classic-branding.html>;
//! docs/customization.md): a stylesheet is a list of rules whose selector is exactly one allowed
//! class (with its pseudo-class where the list has one), holding only that class's allowed
//! properties, with values that obey the per-property rules. Everything else is refused: at-rules,
//! HTML, `url()`, `expression()`, JavaScript, `!important`, strings and any function other than the
//! colour functions.
//!
//! The input is parsed with `cssparser`, never matched with patterns, and what gets served is
//! rebuilt from the parsed tokens, so nothing that was not understood reaches the browser.
//!
//! Decisions where Cognito's documentation is silent:
//! - Selector lists (`.a, .b { }`) are refused: one class per rule.
//! - Pseudo-classes and property names match ASCII case-insensitively (as CSS does) and are
//!   written back in lower case; class names are case-sensitive.
//! - `<` is refused anywhere, comments included, and such a sheet is not parsed further.
//! - Lengths are px, em, rem, % or a unitless 0; only margins may be negative.
//! - "Percentage" properties take 0%–100%; "px" properties take a non-negative px value.
//! - Numbers must be finite with a magnitude of at most 10000.
//! - `border`: width (1px–100px), style (`solid`|`none`) and colour, each at most once, in any
//!   order, at least one of them; written back as width, style, colour.
//! - `outline`: a width (0–100px, or a unitless 0), then optionally a style
//!   (`solid`|`dashed`|`dotted`|`none`), then optionally a colour, in that order.
//! - margin/padding shorthands take 1–4 lengths (no `auto`).
//! - Colours: the CSS named colours, `transparent`, `currentcolor`, #rgb/#rgba/#rrggbb/#rrggbbaa,
//!   and rgb()/rgba()/hsl()/hsla() with numeric arguments in the comma or the space syntax
//!   (channel ranges are not checked: browsers clamp them).
//! - Declarations and rules are kept in order, duplicates included; empty rules are kept.
//! - The 3 KB limit applies to the input and to the normalized output (which adds spaces), so
//!   that what is served validates again.

mod classes;
mod rules;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;

use cssparser::{Delimiter, ParseError, Parser, ParserState, SourceLocation, Token};

pub use classes::allowed;
use rules::parse_rule;

/// Cognito's limit on a stylesheet, in bytes.
pub const MAX_CSS_BYTES: usize = 3 * 1024;

/// One problem found in a stylesheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssError {
    /// 1-based line in the input.
    pub line: u32,
    /// The selector or property (or at-rule) at fault, as written.
    pub subject: String,
    /// Why, in plain English.
    pub reason: String,
}

impl fmt::Display for CssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: `{}`: {}", self.line, self.subject, self.reason)
    }
}

impl std::error::Error for CssError {}

/// Validates a stylesheet; on success returns a normalized stylesheet rebuilt from the parsed
/// rules and declarations (one rule per line, `.class { prop: value; }`), which is what gets served.
/// On failure returns every error found (not just the first).
pub fn validate(css: &str) -> Result<String, Vec<CssError>> {
    if css.len() > MAX_CSS_BYTES {
        return Err(vec![CssError {
            line: line_at(css, MAX_CSS_BYTES),
            subject: "stylesheet".into(),
            reason: format!(
                "the stylesheet is {} bytes; the limit is {MAX_CSS_BYTES} bytes",
                css.len()
            ),
        }]);
    }
    // HTML is refused outright, before parsing: a `<` has no business anywhere in the sheet.
    let html = html_errors(css);
    if !html.is_empty() {
        return Err(html);
    }

    let mut parser = Parser::new(css);
    let mut out = String::new();
    let mut errors = Vec::new();
    loop {
        parser.skip_whitespace();
        let start = parser.state();
        let Ok(token) = parser.next_including_whitespace_and_comments() else {
            break;
        };
        if let Token::AtKeyword(name) = token {
            errors.push(at_rule_error(&start, name));
            skip_at_rule(&mut parser);
        } else {
            parser.reset(&start);
            parse_rule(&mut parser, &start, &mut out, &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // What is served must obey the limit too, or it would not validate again.
    if out.len() > MAX_CSS_BYTES {
        return Err(vec![CssError {
            line: 1,
            subject: "stylesheet".into(),
            reason: format!(
                "once normalized (`.class {{ property: value; }}`, one rule per line) the \
                 stylesheet is {} bytes; the limit is {MAX_CSS_BYTES} bytes",
                out.len()
            ),
        }]);
    }
    Ok(out)
}

/// cssparser counts lines from 0; people count from 1.
fn line_number(location: SourceLocation) -> u32 {
    location.line + 1
}

/// Whether byte `i` ends a line, counting newlines the way CSS does (`\n`, `\r\n`, `\r` and
/// form feed; the `\r` of `\r\n` does not count on its own).
fn ends_line(bytes: &[u8], i: usize) -> bool {
    match bytes[i] {
        b'\n' | b'\x0C' => true,
        b'\r' => bytes.get(i + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// The 1-based line holding byte `offset`.
fn line_at(css: &str, offset: usize) -> u32 {
    let bytes = css.as_bytes();
    let mut line = 1;
    for i in 0..offset.min(bytes.len()) {
        if ends_line(bytes, i) {
            line += 1;
        }
    }
    line
}

/// One error per line that contains a `<` (HTML such as `</style>` or `<script>`).
fn html_errors(css: &str) -> Vec<CssError> {
    let bytes = css.as_bytes();
    let mut errors: Vec<CssError> = Vec::new();
    let mut line = 1;
    for i in 0..bytes.len() {
        if bytes[i] == b'<' && errors.last().is_none_or(|e| e.line != line) {
            errors.push(CssError {
                line,
                // `<` is ASCII, so `i` is a character boundary.
                subject: excerpt(&css[i..]),
                reason: "HTML is not allowed: the stylesheet may not contain `<` anywhere, \
                         comments included"
                    .into(),
            });
        }
        if ends_line(bytes, i) {
            line += 1;
        }
    }
    errors
}

/// The start of `text`, trimmed and cut short, for naming the culprit in an error.
fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let text = text.trim();
    let first_line = text.lines().next().unwrap_or("");
    let mut short: String = first_line.chars().take(MAX_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn at_rule_error(start: &ParserState, name: &str) -> CssError {
    CssError {
        line: line_number(start.source_location()),
        subject: format!("@{name}"),
        reason: format!(
            "at-rules such as `@{name}` are not allowed (no @import, @media, @supports, \
             @page, @font-face or any other)"
        ),
    }
}

/// Skips the rest of an at-rule: up to and including its `;` or its `{ … }` block.
fn skip_at_rule(parser: &mut Parser<'_>) {
    let _ = parser.parse_until_after(Delimiter::Semicolon | Delimiter::CurlyBracketBlock, |_| {
        Ok::<(), ParseError<()>>(())
    });
}
