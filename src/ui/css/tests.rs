//! Tests of the stylesheet validator against the rules in docs/customization.md.

use super::classes::CLASSES;
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
        // percentages where Cognito's list says percentage
        (".inputField-customizable", "width", "50px"),
        (".inputField-customizable", "width", "101%"),
        (".logo-customizable", "max-width", "-1%"),
        (".logo-customizable", "max-height", "0"),
        // px where Cognito's list says px
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
