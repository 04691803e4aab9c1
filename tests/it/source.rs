//! The source tree's own rules (docs/architecture.md, "Rules"): no file over 800 lines, every
//! module opens with a `//!` doc, and a module doc that cites a Markdown page by section cites one
//! under docs/ that exists.

use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under src/, with its path relative to the crate root and its text.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&root().join("src"), &mut paths);
    paths.sort();
    assert!(paths.len() > 10, "found only {paths:?} under src/");
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).expect("source files are UTF-8");
            let name = path.strip_prefix(root()).unwrap_or(&path);
            (name.display().to_string(), text)
        })
        .collect()
}

/// The pages `line` cites as `name.md §…` that are not existing pages under docs/.
fn dangling_citations(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in line.match_indices(".md §") {
        let start = line[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let page = &line[start..at + ".md".len()];
        let under_docs = line[..start].ends_with("docs/");
        if !under_docs || !root().join("docs").join(page).is_file() {
            found.push(page.to_owned());
        }
    }
    found
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(name, text)| format!("{name}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let undocumented: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(name, _)| name)
        .collect();
    assert!(
        undocumented.is_empty(),
        "no leading `//!` line: {undocumented:#?}"
    );
}

#[test]
fn module_docs_cite_sections_only_of_pages_under_docs() {
    let mut dangling = Vec::new();
    for (name, text) in sources() {
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//!") {
                for citation in dangling_citations(line) {
                    dangling.push(format!("{name}:{}: {citation}", number + 1));
                }
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "`//!` lines citing a page that is not under docs/: {dangling:#?}"
    );
}

#[test]
fn a_citation_is_dangling_unless_its_page_is_under_docs() {
    assert_eq!(
        dangling_citations("//! Codes (user-pools.md §6.3) and (spec: hosted-ui-and-oauth.md §7)"),
        ["user-pools.md", "hosted-ui-and-oauth.md"]
    );
    assert_eq!(
        dangling_citations("//! See docs/missing.md §2."),
        ["missing.md"]
    );
    assert!(dangling_citations("//! See docs/hosted-ui.md §2 and RFC 6749 §4.1.2.").is_empty());
}

/// The JSON API's actions are use cases: they know neither HTTP nor SQL (docs/api.md).
#[test]
fn the_api_module_imports_neither_actix_web_nor_diesel() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(name, _)| name.starts_with("src/api/"))
        .filter(|(_, text)| text.contains("actix_web") || text.contains("diesel"))
        .map(|(name, _)| name)
        .collect();
    assert!(offenders.is_empty(), "{offenders:?}");
}
