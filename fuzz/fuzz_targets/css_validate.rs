#![no_main]

#[path = "../../src/ui/css/mod.rs"]
#[allow(dead_code)]
mod css;

use css::{MAX_CSS_BYTES, allowed, validate};
use libfuzzer_sys::fuzz_target;

/// The properties every accepted sheet must have.
fn check(css: &str) {
    let Ok(served) = validate(css) else {
        return;
    };
    assert!(
        served.len() <= MAX_CSS_BYTES,
        "served sheet too big: {served:?}"
    );
    assert!(!served.contains('<'), "`<` in served sheet: {served:?}");
    assert!(!served.contains('@'), "`@` in served sheet: {served:?}");
    assert!(
        !served.to_ascii_lowercase().contains("url("),
        "`url(` in served sheet: {served:?}"
    );
    assert_eq!(
        validate(&served),
        Ok(served.clone()),
        "served sheet does not re-validate to itself; input: {css:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(css) = std::str::from_utf8(data) else {
        return;
    };
    // The input as a whole stylesheet.
    check(css);
    // Random sheets rarely get past the selector, so also try the input as the value of one
    // allowed declaration, picked from the first character, to reach the value checks.
    let Some(first) = css.chars().next() else {
        return;
    };
    let pairs: Vec<(&str, &str)> = allowed()
        .iter()
        .flat_map(|(class, props)| props.iter().map(move |p| (*class, *p)))
        .collect();
    let (class, property) = pairs[first as usize % pairs.len()];
    let value = &css[first.len_utf8()..];
    check(&format!(".{class} {{ {property}: {value} }}"));
});
