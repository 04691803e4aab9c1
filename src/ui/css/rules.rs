//! Rules and declarations of a stylesheet: one allowed class per selector, only that class's
//! properties in its block (docs/customization.md, "What is refused").

use cssparser::{
    AtRuleParser, CowRcStr, DeclarationParser, Delimiter, ParseError, ParseErrorKind, Parser,
    ParserState, QualifiedRuleParser, RuleBodyItemParser, RuleBodyParser, SourcePosition, Token,
};

use super::classes::{CLASSES, ValueKind};
use super::values::{check_value, expectation, read_value};
use super::{CssError, at_rule_error, excerpt, line_number};

/// Parses one `selector { declarations }` rule, appending its normalized form to `out`.
pub(super) fn parse_rule(
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
