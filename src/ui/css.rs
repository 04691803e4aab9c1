//! Validator for the per-app-client stylesheets of the hosted sign-in UI.
//!
//! The contract follows Amazon Cognito's hosted-UI customization rules (spec §5.3–§5.7):
//! a stylesheet is a list of rules whose selector is exactly one allowed class (with its
//! pseudo-class where the list has one), holding only that class's allowed properties, with
//! values that obey the per-property rules. Everything else is refused: at-rules, HTML, `url()`,
//! `expression()`, JavaScript, `!important`, strings and any function other than the colour
//! functions.
//!
//! The input is parsed with `cssparser`, never matched with patterns, and what gets served is
//! rebuilt from the parsed tokens, so nothing that was not understood reaches the browser.
//!
//! Decisions where the spec is silent:
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

use std::fmt;

use cssparser::{
    AtRuleParser, CowRcStr, DeclarationParser, Delimiter, ParseError, ParseErrorKind, Parser,
    ParserState, QualifiedRuleParser, RuleBodyItemParser, RuleBodyParser, SourceLocation,
    SourcePosition, ToCss, Token,
};

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

/// What a property's value must look like.
#[derive(Debug, Clone, Copy)]
enum ValueKind {
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
    /// `bold`, `normal`, `italic` (sic, the spec lists it) or a multiple of 100.
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
        const CLASSES: &[(&str, &[(&str, ValueKind)])] =
            &[$(($selector, &[$(($property, $kind)),*])),*];
        /// The same table without the value kinds.
        const ALLOWED: &[(&str, &[&str])] = &[$(($selector, &[$($property),*])),*];
    };
}

class_table! {
    // §5.3 / §5.4
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
    // §5.5: the four extra classes
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

/// Largest magnitude accepted for any number; keeps serialization exact and values sane.
const MAX_NUMBER: f32 = 10_000.0;

/// Length units accepted, besides `%` and a unitless 0.
const LENGTH_UNITS: &[&str] = &["px", "em", "rem"];

/// Angle units, accepted only for the hue of hsl()/hsla().
const ANGLE_UNITS: &[&str] = &["deg", "grad", "rad", "turn"];

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

/// Parses one `selector { declarations }` rule, appending its normalized form to `out`.
fn parse_rule(
    parser: &mut Parser<'_>,
    start: &ParserState,
    out: &mut String,
    errors: &mut Vec<CssError>,
) {
    // The closure reads every token before the `{`, so it never leaves input behind.
    let selector = parser
        .parse_until_before(Delimiter::CurlyBracketBlock, |p| {
            Ok::<_, ParseError<()>>(parse_selector(p))
        })
        .unwrap_or_else(|_| Err("malformed selector".into()));
    let written = excerpt(parser.slice_from(start.position()));
    let line = line_number(start.source_location());
    let error = |reason: String| CssError {
        line,
        subject: written.clone(),
        reason,
    };

    if !matches!(parser.next(), Ok(Token::CurlyBracketBlock)) {
        errors.push(error(
            "expected `{` after the selector (unbalanced braces or stray text?)".into(),
        ));
        return;
    }
    let (selector, properties) = match selector {
        Ok(found) => found,
        Err(reason) => {
            // The block is skipped by the next read: without a valid class its
            // declarations cannot be checked.
            errors.push(error(reason));
            return;
        }
    };

    let (declarations, inner_end) = match parser.parse_nested_block(|body| {
        Ok::<_, ParseError<()>>(parse_declarations(body, selector, properties, errors))
    }) {
        Ok(parsed) => parsed,
        Err(_) => {
            errors.push(error("malformed rule body".into()));
            return;
        }
    };
    // A closed block ends one byte (the `}`) past where its contents stopped; at the end of
    // the input the two positions are equal. CSS would close it silently; we refuse.
    if parser.position() <= inner_end {
        errors.push(error("this rule's `{` is never closed with `}`".into()));
        return;
    }

    out.push('.');
    out.push_str(selector);
    out.push_str(" {");
    for (property, value) in declarations {
        out.push(' ');
        out.push_str(property);
        out.push_str(": ");
        out.push_str(&value);
        out.push(';');
    }
    out.push_str(" }\n");
}

type ClassEntry = (&'static str, &'static [(&'static str, ValueKind)]);

/// Reads a whole rule prelude and returns the matching table entry, or why it is refused.
fn parse_selector(parser: &mut Parser<'_>) -> Result<ClassEntry, String> {
    let mut tokens = Vec::new();
    while let Ok(token) = parser.next_including_whitespace() {
        tokens.push(token.clone());
    }
    while matches!(tokens.last(), Some(Token::WhiteSpace(_))) {
        tokens.pop();
    }
    match tokens.as_slice() {
        [Token::Delim('.'), Token::Ident(class)] => find_class(class, None),
        [
            Token::Delim('.'),
            Token::Ident(class),
            Token::Colon,
            Token::Ident(pseudo),
        ] => find_class(class, Some(pseudo)),
        other => Err(describe_bad_selector(other).into()),
    }
}

/// Looks up `.class` or `.class:pseudo` in the table.
fn find_class(class: &str, pseudo: Option<&str>) -> Result<ClassEntry, String> {
    let wanted = match pseudo {
        Some(pseudo) => format!("{class}:{}", pseudo.to_ascii_lowercase()),
        None => class.to_string(),
    };
    if let Some(&entry) = CLASSES.iter().find(|(selector, _)| *selector == wanted) {
        return Ok(entry);
    }
    if CLASSES.iter().any(|(selector, _)| *selector == class) {
        // The class is fine; its pseudo-class is not.
        let prefix = format!("{class}:");
        let listed: Vec<String> = CLASSES
            .iter()
            .filter_map(|(selector, _)| selector.strip_prefix(prefix.as_str()))
            .map(|pseudo| format!("`:{pseudo}`"))
            .collect();
        let listed = if listed.is_empty() {
            "none".to_string()
        } else {
            listed.join(", ")
        };
        let pseudo = pseudo.unwrap_or_default();
        return Err(format!(
            "pseudo-class `:{pseudo}` is not allowed on `.{class}` (allowed: {listed})"
        ));
    }
    let mut reason = format!("`.{class}` is not one of the allowed classes");
    if let Some((near, _)) = CLASSES
        .iter()
        .find(|(selector, _)| selector.eq_ignore_ascii_case(class))
    {
        reason.push_str(&format!(
            " (class names are case-sensitive: did you mean `.{near}`?)"
        ));
    }
    Err(reason)
}

/// Says, as specifically as it can, why a prelude is not a single allowed class selector.
fn describe_bad_selector(tokens: &[Token<'_>]) -> &'static str {
    let has = |wanted: fn(&Token<'_>) -> bool| tokens.iter().any(wanted);
    if tokens.is_empty() {
        "missing selector before `{`"
    } else if has(|t| matches!(t, Token::Comma)) {
        "selector lists are not allowed: write one rule per class"
    } else if has(|t| matches!(t, Token::CloseCurlyBracket)) {
        "unbalanced `}`"
    } else if matches!(tokens[0], Token::Ident(_)) {
        "element selectors are not allowed: use one of the allowed classes, \
         e.g. `.label-customizable`"
    } else if matches!(tokens[0], Token::IDHash(_) | Token::Hash(_)) {
        "id selectors are not allowed: use one of the allowed classes"
    } else if has(|t| matches!(t, Token::SquareBracketBlock)) {
        "attribute selectors are not allowed"
    } else if tokens
        .windows(2)
        .any(|w| matches!(w, [Token::Colon, Token::Colon]))
    {
        "pseudo-elements are not allowed"
    } else if has(|t| matches!(t, Token::Function(_))) {
        "functional pseudo-classes such as `:not()` are not allowed"
    } else if has(|t| matches!(t, Token::WhiteSpace(_) | Token::Delim('>' | '+' | '~'))) {
        "descendant and combinator selectors are not allowed: one class per rule"
    } else if tokens
        .iter()
        .filter(|t| matches!(t, Token::Delim('.')))
        .count()
        > 1
    {
        "compound selectors are not allowed: one class per rule"
    } else if tokens.iter().filter(|t| matches!(t, Token::Colon)).count() > 1 {
        "only one pseudo-class is allowed, and only where listed"
    } else if matches!(tokens[0], Token::Delim('*')) {
        "the universal selector is not allowed"
    } else {
        "a rule's selector must be exactly one allowed class, e.g. `.label-customizable`"
    }
}

/// Checks every declaration of a rule body. Returns the accepted declarations and the
/// position where the body's contents ended (to tell a closed block from an unclosed one).
fn parse_declarations(
    body: &mut Parser<'_>,
    selector: &'static str,
    properties: &'static [(&'static str, ValueKind)],
    errors: &mut Vec<CssError>,
) -> (Vec<Declaration>, SourcePosition) {
    let mut declaration_parser = DeclarationChecker {
        selector,
        properties,
    };
    let mut declarations = Vec::new();
    for item in RuleBodyParser::new(body, &mut declaration_parser) {
        match item {
            Ok(declaration) => declarations.push(declaration),
            Err((
                ParseError {
                    kind: ParseErrorKind::Custom(error),
                },
                _,
                _,
            )) => errors.push(error),
            Err((_, text, location)) => errors.push(CssError {
                line: line_number(location),
                subject: excerpt(text),
                reason: "expected a declaration `property: value;`".into(),
            }),
        }
    }
    (declarations, body.position())
}

/// An accepted declaration: canonical property name and normalized value.
type Declaration = (&'static str, String);

/// Checks the declarations of one rule against its class's property list.
struct DeclarationChecker {
    selector: &'static str,
    properties: &'static [(&'static str, ValueKind)],
}

impl<'i> DeclarationParser<'i> for DeclarationChecker {
    type Declaration = Declaration;
    type Error = CssError;

    fn parse_value(
        &mut self,
        name: CowRcStr<'i>,
        input: &mut Parser<'i>,
        start: &ParserState,
    ) -> Result<Declaration, ParseError<CssError>> {
        let line = line_number(start.source_location());
        let fail = |line: u32, reason: String| {
            ParseError::custom(CssError {
                line,
                subject: name.to_string(),
                reason,
            })
        };
        let Some(&(property, kind)) = self
            .properties
            .iter()
            .find(|(property, _)| property.eq_ignore_ascii_case(&name))
        else {
            let listed: Vec<&str> = self.properties.iter().map(|(p, _)| *p).collect();
            return Err(fail(
                line,
                format!(
                    "`{name}` is not allowed on `.{}` (allowed: {})",
                    self.selector,
                    listed.join(", ")
                ),
            ));
        };
        let value_start = input.position();
        let parts = read_value(input).map_err(|(line, reason)| fail(line, reason))?;
        let written = excerpt(input.slice_from(value_start));
        if parts.is_empty() {
            return Err(fail(line, format!("`{property}` has no value")));
        }
        match check_value(kind, &parts) {
            Some(value) => Ok((property, value)),
            None => Err(fail(
                line,
                format!(
                    "`{property}` on `.{}` must be {}, got `{written}`",
                    self.selector,
                    expectation(kind)
                ),
            )),
        }
    }
}

impl<'i> AtRuleParser<'i> for DeclarationChecker {
    type Prelude = ();
    type AtRule = Declaration;
    type Error = CssError;

    fn parse_prelude(
        &mut self,
        name: CowRcStr<'i>,
        input: &mut Parser<'i>,
    ) -> Result<(), ParseError<CssError>> {
        // The prelude starts right after the at-keyword, so this is the at-rule's line.
        let line = line_number(input.current_source_location());
        let mut error = at_rule_error(&input.state(), &name);
        error.line = line;
        Err(ParseError::custom(error))
    }
}

// Nested rules are refused: `parse_qualified` below is false, so this is never asked to parse.
impl<'i> QualifiedRuleParser<'i> for DeclarationChecker {
    type Prelude = ();
    type QualifiedRule = Declaration;
    type Error = CssError;
}

impl<'i> RuleBodyItemParser<'i, Declaration, CssError> for DeclarationChecker {
    fn parse_declarations(&self) -> bool {
        true
    }

    fn parse_qualified(&self) -> bool {
        false
    }
}

/// One component of a value, already checked for safety, with its normalized text.
#[derive(Debug)]
struct Part {
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
fn read_value(input: &mut Parser<'_>) -> Result<Vec<Part>, (u32, String)> {
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
fn expectation(kind: ValueKind) -> String {
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
fn check_value(kind: ValueKind, parts: &[Part]) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid sample value for each property, used to drive the acceptance test.
    fn sample(selector: &str, property: &str) -> &'static str {
        match property {
            "color" | "background-color" | "border-color" => "#1a2b3c",
            "font-weight" if selector == "label-customizable" => "700",
            "font-weight" => "bold",
            "width" | "max-width" | "max-height" => "80%",
            "height" => "40px",
            "border" => "2px solid rgba(0, 0, 0, 0.5)",
            "outline" => "2px solid blue",
            "padding-top" | "padding-bottom" | "margin-bottom" => "5px",
            "font-size" => "1.2em",
            "display" => "inline",
            "text-align" => "center",
            "box-sizing" => "border-box",
            "margin" => "4px 8px 4px 8px",
            "padding" => "1rem 2px",
            other => panic!("no sample value for `{other}`; add one"),
        }
    }

    fn errors(css: &str) -> Vec<CssError> {
        match validate(css) {
            Ok(out) => panic!("expected errors for {css:?}, got Ok({out:?})"),
            Err(errors) => errors,
        }
    }

    /// Asserts the sheet is refused and some error's reason mentions `needle`.
    fn refused_with(css: &str, needle: &str) -> Vec<CssError> {
        let errors = errors(css);
        assert!(
            errors.iter().any(|e| e.reason.contains(needle)),
            "no error mentioning {needle:?} for {css:?}: {errors:#?}"
        );
        errors
    }

    fn accepted(css: &str) -> String {
        validate(css).unwrap_or_else(|e| panic!("expected {css:?} to be accepted: {e:#?}"))
    }

    #[test]
    fn the_table_has_the_seventeen_classes() {
        assert_eq!(allowed().len(), 17);
        assert_eq!(allowed().len(), CLASSES.len());
        for ((selector, properties), (checked, kinds)) in allowed().iter().zip(CLASSES) {
            assert_eq!(selector, checked);
            assert_eq!(properties.len(), kinds.len());
        }
    }

    #[test]
    fn every_allowed_class_and_property_is_accepted() {
        let mut whole = String::new();
        for (selector, properties) in allowed() {
            for property in *properties {
                let value = sample(selector, property);
                let css = format!(".{selector} {{ {property}: {value}; }}\n");
                assert_eq!(accepted(&css), css, "round trip of {css:?}");
                whole.push_str(&css);
            }
        }
        assert_eq!(accepted(&whole), whole);
    }

    #[test]
    fn compact_input_is_normalized() {
        assert_eq!(
            accepted(".label-customizable{font-weight:400}.banner-customizable{PADDING:1PX 0}"),
            ".label-customizable { font-weight: 400; }\n.banner-customizable { padding: 1px 0; }\n"
        );
        assert_eq!(
            accepted(".inputField-customizable:FOCUS { outline: 0; border-color: RED }"),
            ".inputField-customizable:focus { outline: 0; border-color: red; }\n"
        );
        assert_eq!(accepted(""), "");
        assert_eq!(accepted("  /* only a comment */ "), "");
    }

    #[test]
    fn unknown_class_is_refused() {
        let e = refused_with(
            ".header-customizable { color: red; }",
            "not one of the allowed",
        );
        assert_eq!(e[0].subject, ".header-customizable");
        // Class names are case-sensitive.
        refused_with(
            ".Label-customizable { font-weight: 400; }",
            "case-sensitive",
        );
        refused_with(".label-Customizable { font-weight: 400; }", "did you mean");
    }

    #[test]
    fn property_not_listed_for_its_class_is_refused() {
        let e = errors(".label-customizable { color: red; }");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].subject, "color");
        assert_eq!(
            e[0].reason,
            "`color` is not allowed on `.label-customizable` (allowed: font-weight)"
        );
        refused_with(".logo-customizable { width: 50%; }", "not allowed on");
        refused_with(
            ".background-customizable { background: red; }",
            "not allowed",
        );
        refused_with(".background-customizable { --x: red; }", "not allowed");
        refused_with(
            ".idpButton-customizable:hover { border-color: red; }",
            "allowed: color, background-color",
        );
    }

    #[test]
    fn selectors_other_than_one_class_are_refused() {
        let cases = [
            ("label { color: red; }", "element selectors"),
            ("#login { color: red; }", "id selectors"),
            ("[type=text] { color: red; }", "attribute selectors"),
            (
                ".background-customizable .label-customizable { font-weight: 400; }",
                "descendant",
            ),
            (
                ".background-customizable > .label-customizable { font-weight: 400; }",
                "combinator",
            ),
            (
                ".label-customizable.banner-customizable { font-weight: 400; }",
                "compound",
            ),
            (
                "div.label-customizable { font-weight: 400; }",
                "element selectors",
            ),
            (
                ".label-customizable, .banner-customizable { font-weight: 400; }",
                "selector lists",
            ),
            (
                ".label-customizable:hover { font-weight: 400; }",
                "allowed: none",
            ),
            (
                ".inputField-customizable:hover { color: red; }",
                "allowed: `:focus`",
            ),
            (
                ".submitButton-customizable::before { color: red; }",
                "pseudo-elements",
            ),
            (
                ".submitButton-customizable:not(.x) { color: red; }",
                "functional pseudo-classes",
            ),
            ("* { color: red; }", "universal"),
            (
                ".submitButton-customizable:hover:focus { color: red; }",
                "one pseudo-class",
            ),
            ("{ color: red; }", "missing selector"),
            (". label-customizable { font-weight: 400; }", "descendant"),
        ];
        for (css, needle) in cases {
            refused_with(css, needle);
        }
    }

    #[test]
    fn at_rules_are_refused() {
        let cases = [
            "@import \"evil.css\";",
            "@import url(evil.css);",
            "@media screen { .label-customizable { font-weight: 400; } }",
            "@supports (display: block) { .label-customizable { font-weight: 400; } }",
            "@page { margin: 1cm; }",
            "@font-face { font-family: x; src: url(x.woff); }",
            "@charset \"utf-8\";",
            "@keyframes spin { from { color: red; } }",
            "@namespace svg url(http://www.w3.org/2000/svg);",
            "@IMPORT 'x.css';",
            "@\\69mport 'x.css';",
        ];
        for css in cases {
            let e = refused_with(css, "at-rules");
            assert!(e[0].subject.starts_with('@'), "{e:?}");
        }
        // After a valid rule, and inside a rule body.
        let e = refused_with(
            ".label-customizable { font-weight: 400; }\n@import 'x.css';",
            "at-rules",
        );
        assert_eq!((e[0].line, e[0].subject.as_str()), (2, "@import"));
        let e = refused_with(
            ".label-customizable {\n  @media print { font-weight: 400; }\n}",
            "at-rules",
        );
        assert_eq!((e[0].line, e[0].subject.as_str()), (2, "@media"));
    }

    #[test]
    fn url_is_refused_in_every_spelling() {
        let values = [
            "url(x.png)",
            "URL(x.png)",
            "Url( 'x.png' )",
            "url(\"x.png\")",
            "u\\rl(x.png)",
            "u\\72 l(x.png)",
            "\\75 rl(x.png)",
            "url(x y)",
            "red url(x)",
        ];
        for value in values {
            refused_with(
                &format!(".background-customizable {{ background-color: {value}; }}"),
                "`url()` is not allowed",
            );
        }
        refused_with(
            ".background-customizable { background-color: image(url(x)); }",
            "function `image()` is not allowed",
        );
    }

    #[test]
    fn script_is_refused() {
        refused_with(
            ".background-customizable { background-color: expression(alert(1)); }",
            "`expression()` is not allowed",
        );
        refused_with(
            ".background-customizable { background-color: EXPRESSION(alert(1)); }",
            "`expression()` is not allowed",
        );
        refused_with(
            ".background-customizable { background-color: javascript:alert(1); }",
            "JavaScript is not allowed",
        );
        refused_with(
            ".background-customizable { background-color: \"javascript:alert(1)\"; }",
            "strings are not allowed",
        );
        refused_with(
            ".background-customizable { background-color: calc(1px + 1px); }",
            "only rgb()",
        );
        refused_with(
            ".background-customizable { background-color: var(--x); }",
            "only rgb()",
        );
    }

    #[test]
    fn html_is_refused() {
        let cases = [
            "</style><script>alert(1)</script>",
            ".label-customizable { font-weight: 400; }</style>",
            ".label-customizable { font-weight: <script>; }",
            "/* <b>comments too</b> */",
            "<!-- .label-customizable { font-weight: 400; } -->",
        ];
        for css in cases {
            refused_with(css, "HTML is not allowed");
        }
        let e = refused_with("\n\n.label-customizable {\n}</style>", "HTML");
        assert_eq!((e[0].line, e[0].subject.as_str()), (4, "</style>"));
    }

    #[test]
    fn important_is_refused() {
        refused_with(
            ".label-customizable { font-weight: 400 !important; }",
            "`!important` is not allowed",
        );
        refused_with(
            ".label-customizable { font-weight: 400!IMPORTANT }",
            "`!important` is not allowed",
        );
    }

    #[test]
    fn size_limit() {
        let rule = ".label-customizable { font-weight: 400; }\n";
        let mut css = rule.repeat(MAX_CSS_BYTES / rule.len());
        css.push_str(&" ".repeat(MAX_CSS_BYTES - css.len()));
        assert_eq!(css.len(), MAX_CSS_BYTES);
        accepted(&css);
        css.push(' ');
        let e = refused_with(&css, "the limit is 3072 bytes");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].subject, "stylesheet");
        // Compact input under the limit whose normalized form is over it.
        let compact = ".label-customizable{font-weight:400}";
        let css = compact.repeat(MAX_CSS_BYTES / compact.len());
        assert!(css.len() <= MAX_CSS_BYTES);
        let e = refused_with(&css, "once normalized");
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn value_rules_are_enforced() {
        let bad = [
            // label font-weight: multiples of 100 in 100..=900
            (".label-customizable", "font-weight", "150"),
            (".label-customizable", "font-weight", "1000"),
            (".label-customizable", "font-weight", "0"),
            (".label-customizable", "font-weight", "bold"),
            (".label-customizable", "font-weight", "400px"),
            (".label-customizable", "font-weight", "400 500"),
            (".submitButton-customizable", "font-weight", "bolder"),
            (".submitButton-customizable", "font-weight", "450"),
            // border: width 1-100px, style solid|none, a colour
            (".inputField-customizable", "border", "0px solid red"),
            (".inputField-customizable", "border", "101px solid red"),
            (".inputField-customizable", "border", "1em solid red"),
            (".inputField-customizable", "border", "1px dashed red"),
            (".inputField-customizable", "border", "1px 2px solid"),
            (".errorMessage-customizable", "border", "1px solid red blue"),
            (".errorMessage-customizable", "border", "1px solid red 2px"),
            // keywords
            (".textDescription-customizable", "display", "flex"),
            (".idpDescription-customizable", "display", "none"),
            (".idpButton-customizable", "text-align", "justify"),
            (".socialButton-customizable", "text-align", "left right"),
            (".errorMessage-customizable", "box-sizing", "padding-box"),
            // percentages where the spec says percentage
            (".inputField-customizable", "width", "50px"),
            (".inputField-customizable", "width", "101%"),
            (".logo-customizable", "max-width", "-1%"),
            (".logo-customizable", "max-height", "0"),
            // px where the spec says px
            (".inputField-customizable", "height", "50%"),
            (".submitButton-customizable", "height", "3em"),
            (".idpButton-customizable", "height", "0"),
            (".socialButton-customizable", "height", "-4px"),
            // colours
            (".legalText-customizable", "color", "#12345"),
            (".legalText-customizable", "color", "#ggg"),
            (".legalText-customizable", "color", "notacolour"),
            (".legalText-customizable", "color", "red blue"),
            (".legalText-customizable", "color", "12"),
            (".legalText-customizable", "color", "rgb(a, b, c)"),
            (".legalText-customizable", "color", "rgb(1, 2)"),
            (".legalText-customizable", "color", "rgb(1, 2, 3, 4, 5)"),
            (".legalText-customizable", "color", "rgb(1 2 3 4)"),
            (".legalText-customizable", "color", "rgb(1, 2 3)"),
            (".legalText-customizable", "color", "rgb(1, 2%, 3)"),
            (".legalText-customizable", "color", "rgb(1 2 3 / 4 / 5)"),
            (".legalText-customizable", "color", "rgb(1px, 2, 3)"),
            (".legalText-customizable", "color", "hsl(10, 20, 30)"),
            (".legalText-customizable", "color", "hsl(10%, 20%, 30%)"),
            (".legalText-customizable", "color", "cmyk(1, 2, 3, 4)"),
            // lengths
            (".legalText-customizable", "font-size", "-1px"),
            (".legalText-customizable", "font-size", "12"),
            (".legalText-customizable", "font-size", "12vh"),
            (".legalText-customizable", "font-size", "large"),
            (".legalText-customizable", "font-size", "99999px"),
            (".legalText-customizable", "font-size", "1e40px"),
            (".textDescription-customizable", "padding-top", "-2px"),
            // margin / padding: 1-4 lengths
            (
                ".submitButton-customizable",
                "margin",
                "1px 2px 3px 4px 5px",
            ),
            (".submitButton-customizable", "margin", "auto"),
            (".banner-customizable", "padding", "-1px"),
            (".banner-customizable", "padding", "1px red"),
            (".errorMessage-customizable", "padding", ""),
            // outline
            (".inputField-customizable:focus", "outline", "solid 2px"),
            (
                ".inputField-customizable:focus",
                "outline",
                "200px solid red",
            ),
            (".inputField-customizable:focus", "outline", "2em"),
            (".inputField-customizable:focus", "outline", "2px red solid"),
        ];
        for (selector, property, value) in bad {
            let css = format!("{selector} {{ {property}: {value}; }}");
            let e = errors(&css);
            assert_eq!(e.len(), 1, "{css}: {e:#?}");
            assert_eq!(e[0].subject, property, "{css}: {e:#?}");
        }
    }

    #[test]
    fn valid_values_of_every_shape_are_accepted() {
        let good = [
            (".label-customizable", "font-weight", "100", "100"),
            (".label-customizable", "font-weight", "900", "900"),
            (
                ".submitButton-customizable",
                "font-weight",
                "italic",
                "italic",
            ),
            (
                ".submitButton-customizable",
                "font-weight",
                "NORMAL",
                "normal",
            ),
            (".submitButton-customizable", "font-weight", "600", "600"),
            (
                ".inputField-customizable",
                "border",
                "1px solid red",
                "1px solid red",
            ),
            (
                ".inputField-customizable",
                "border",
                "red 100px none",
                "100px none red",
            ),
            (".inputField-customizable", "border", "none", "none"),
            (".legalText-customizable", "color", "#ABC", "#ABC"),
            (".legalText-customizable", "color", "#abcd", "#abcd"),
            (".legalText-customizable", "color", "#123456", "#123456"),
            (".legalText-customizable", "color", "#12345678", "#12345678"),
            (
                ".legalText-customizable",
                "color",
                "RebeccaPurple",
                "rebeccapurple",
            ),
            (
                ".legalText-customizable",
                "color",
                "transparent",
                "transparent",
            ),
            (
                ".legalText-customizable",
                "color",
                "rgb(1,2,3)",
                "rgb(1, 2, 3)",
            ),
            (
                ".legalText-customizable",
                "color",
                "RGBA(1%, 2%, 3%, .5)",
                "rgba(1%, 2%, 3%, 0.5)",
            ),
            (
                ".legalText-customizable",
                "color",
                "rgb(1 2 3 / 50%)",
                "rgb(1 2 3 / 50%)",
            ),
            (
                ".legalText-customizable",
                "color",
                "hsl(120, 50%, 50%)",
                "hsl(120, 50%, 50%)",
            ),
            (
                ".legalText-customizable",
                "color",
                "hsla(1turn 50% 50% / 0.2)",
                "hsla(1turn 50% 50% / 0.2)",
            ),
            (
                ".legalText-customizable",
                "color",
                "hsl(90DEG, 5%, 5%)",
                "hsl(90deg, 5%, 5%)",
            ),
            (".legalText-customizable", "font-size", "0", "0"),
            (".legalText-customizable", "font-size", "1.5REM", "1.5rem"),
            (".legalText-customizable", "font-size", "120%", "120%"),
            (".submitButton-customizable", "margin", "-2px", "-2px"),
            (".submitButton-customizable", "margin", "0 1em", "0 1em"),
            (
                ".submitButton-customizable",
                "margin",
                "1px 2px 3px",
                "1px 2px 3px",
            ),
            (".idpButton-customizable", "margin-bottom", "-3px", "-3px"),
            (
                ".errorMessage-customizable",
                "box-sizing",
                "Content-Box",
                "content-box",
            ),
            (".logo-customizable", "max-width", "100%", "100%"),
            (".logo-customizable", "max-height", "0%", "0%"),
            (".inputField-customizable", "height", "0px", "0px"),
            (".inputField-customizable:focus", "outline", "0", "0"),
            (".inputField-customizable:focus", "outline", "1px", "1px"),
            (
                ".inputField-customizable:focus",
                "outline",
                "1px dotted",
                "1px dotted",
            ),
            (
                ".inputField-customizable:focus",
                "outline",
                "3px #00f",
                "3px #00f",
            ),
            (
                ".inputField-customizable:focus",
                "outline",
                "3px solid #00f",
                "3px solid #00f",
            ),
        ];
        for (selector, property, value, normalized) in good {
            let css = format!("{selector} {{ {property}: {value} }}");
            let once = accepted(&css);
            assert_eq!(
                once,
                format!("{selector} {{ {property}: {normalized}; }}\n"),
                "{css}"
            );
            assert_eq!(accepted(&once), once);
        }
    }

    #[test]
    fn comments_are_fine() {
        let css = "/* brand colours */\n.background-customizable { /* dark */ background-color: \
                   /* navy */ navy; }\n/* end */";
        assert_eq!(
            accepted(css),
            ".background-customizable { background-color: navy; }\n"
        );
        assert_eq!(
            accepted(".label-customizable/* c */{font-weight/* c */:/* c */400/* c */}"),
            ".label-customizable { font-weight: 400; }\n"
        );
    }

    #[test]
    fn unbalanced_braces_and_garbage_are_refused_with_a_line() {
        let e = refused_with(
            ".label-customizable {\n  font-weight: 400;\n",
            "never closed",
        );
        assert_eq!(e[0].line, 1);
        let e = refused_with(
            ".label-customizable { font-weight: 400; }\n}\n",
            "unbalanced",
        );
        assert_eq!(e[0].line, 2);
        let e = refused_with(
            ".label-customizable { font-weight: 400; }\n\n.banner-customizable",
            "expected `{`",
        );
        assert_eq!(e[0].line, 3);
        let e = refused_with(
            ".label-customizable {\n font-weight 400;\n}",
            "expected a declaration",
        );
        assert_eq!(e[0].line, 2);
        let e = errors("!!! garbage ###");
        assert_eq!(e[0].line, 1);
        let e = refused_with(
            ".label-customizable { font-weight: 400; ) }",
            "expected a declaration",
        );
        assert_eq!(e[0].line, 1);
        refused_with(
            ".label-customizable { .x { color: red } }",
            "expected a declaration",
        );
        refused_with(
            ".legalText-customizable { color: rgb(1, 2, 3",
            "`rgb(` is never closed",
        );
    }

    #[test]
    fn error_on_line_five_is_reported_on_line_five() {
        let css = "/* line 1 */\n\
                   .label-customizable {\n\
                   \x20 font-weight: 400;\n\
                   }\n\
                   .banner-customizable { background-color: nope; }\n\
                   .logo-customizable { max-width: 50%; }\n";
        let e = errors(css);
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].line, 5);
        assert_eq!(e[0].subject, "background-color");
        // CRLF and a value spread over lines: the offending token's line counts.
        let crlf = ".a\r\n{}\r\n\r\n\r\n.label-customizable { font-weight: 400; }";
        assert_eq!(errors(crlf)[0].line, 1);
        let css = ".legalText-customizable {\r\n color:\r\n\r\n\r\n url(x);\r\n}";
        let e = refused_with(css, "url()");
        assert_eq!(e[0].line, 5);
    }

    #[test]
    fn every_error_is_reported() {
        let css = "\
.label-customizable { color: red; font-weight: 401; }
.nope-customizable { color: red; }
@import 'x.css';
.legalText-customizable { color: red !important; font-size: 12px; }
";
        let e = errors(css);
        let summary: Vec<(u32, &str)> = e.iter().map(|e| (e.line, e.subject.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                (1, "color"),
                (1, "font-weight"),
                (2, ".nope-customizable"),
                (3, "@import"),
                (4, "color"),
            ]
        );
    }

    #[test]
    fn display_names_line_subject_and_reason() {
        let e = &errors("\n\n.label-customizable { color: red; }")[0];
        assert_eq!(
            e.to_string(),
            "line 3: `color`: `color` is not allowed on `.label-customizable` (allowed: font-weight)"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert!(boxed.to_string().starts_with("line 3"));
    }

    #[test]
    fn number_serialization_is_stable() {
        // Numbers are re-serialized from f32; the result must parse back to the same text.
        let mantissas = [
            "0",
            "1",
            "7",
            "33.3",
            ".1",
            "0.7",
            "1.005",
            "9999.99",
            "123.456789",
            "3.14159265",
            "-2.5",
            "+4",
            "1e0",
            "66.6667",
        ];
        let mut accepted_count = 0;
        for mantissa in mantissas {
            for exponent in ["", "e-7", "e-3", "e-1", "e1", "E2", "e3"] {
                for unit in ["px", "%", "em", "REM"] {
                    let css = format!(
                        ".submitButton-customizable {{ margin: {mantissa}{exponent}{unit}; \
                         font-size: {mantissa}{exponent}{unit}; \
                         color: rgba(1, 2, 3, {mantissa}{exponent}); }}"
                    );
                    if let Ok(once) = validate(&css) {
                        accepted_count += 1;
                        assert_eq!(validate(&once), Ok(once.clone()), "{css}");
                    }
                }
            }
        }
        assert!(accepted_count > 200, "{accepted_count}");
    }

    #[test]
    fn normalized_output_is_idempotent_and_has_no_html() {
        let css = "/* x */ .submitButton-customizable{font-weight:BOLD;margin:+1PX -0 1.50em 0;\
                   color:RGB( 1 , 2 , 3 );background-color:HSLA(1.5E2 10% 20% / .25)}\n\
                   .submitButton-customizable:Hover{color:WHITE}\n\
                   .errorMessage-customizable { border: #fff none 1.0px; padding: 0 }\n\
                   .logo-customizable { max-width: 33.3%; max-height: 1e1% }";
        let once = accepted(css);
        assert!(!once.contains('<'));
        assert!(!once.contains("url("));
        assert!(!once.contains('@'));
        assert_eq!(once.lines().count(), 4);
        assert_eq!(accepted(&once), once);
        assert!(once.contains("margin: +1px -0 1.5em 0;"), "{once}");
    }
}
