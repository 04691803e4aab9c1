//! The pages' words, per language. Each language is a flat TOML file of `key = "text"` in
//! `locales/` (English and Korean are built in); a directory given with `--locales-dir` adds
//! languages or overrides keys. A key missing from a language falls back to English, so a
//! partial translation still renders every page. Texts may hold `{name}` placeholders.
//!
//! See docs/customization.md, "Translations".

use std::collections::HashMap;
use std::path::Path;

const BUILT_IN: &[(&str, &str)] = &[
    ("en", include_str!("../../locales/en.toml")),
    ("ko", include_str!("../../locales/ko.toml")),
];
pub const DEFAULT_LANGUAGE: &str = "en";

/// A message chosen by a flow: a catalogue key and the values of its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Text {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    languages: HashMap<String, HashMap<String, String>>,
}

fn parse_language(name: &str, source: &str) -> Result<HashMap<String, String>, String> {
    toml::from_str(source).map_err(|e| format!("locale {name}: {e}"))
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::built_in()
    }
}

impl Catalogue {
    pub fn built_in() -> Self {
        let languages = BUILT_IN
            .iter()
            .map(|(lang, source)| {
                let texts = parse_language(lang, source).expect("built-in locale parses");
                ((*lang).to_owned(), texts)
            })
            .collect();
        Self { languages }
    }

    /// The built-in languages plus every `<language>.toml` in `dir` (its keys win).
    pub fn with_dir(dir: &Path) -> Result<Self, String> {
        let mut catalogue = Self::built_in();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            let Some(lang) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".toml"))
            else {
                continue;
            };
            if !is_language_tag(lang) {
                return Err(format!("{}: not a language tag", path.display()));
            }
            let source =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let texts = parse_language(&path.display().to_string(), &source)?;
            let english = &catalogue.languages[DEFAULT_LANGUAGE];
            if let Some(unknown) = texts.keys().find(|k| !english.contains_key(*k)) {
                return Err(format!("{}: unknown key `{unknown}`", path.display()));
            }
            catalogue
                .languages
                .entry(lang.to_lowercase())
                .or_default()
                .extend(texts);
        }
        Ok(catalogue)
    }

    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.keys().map(String::as_str)
    }

    /// The language to speak: the first of `ui_locales` (OIDC; space-separated) we have, else
    /// the best of Accept-Language, else English. `ko-KR` matches `ko`.
    pub fn negotiate(&self, ui_locales: Option<&str>, accept_language: Option<&str>) -> String {
        let from_ui = ui_locales
            .into_iter()
            .flat_map(|v| v.split_whitespace())
            .map(|tag| (tag.to_owned(), 1.0));
        let mut from_header: Vec<(String, f32)> = accept_language
            .into_iter()
            .flat_map(|v| v.split(','))
            .take(32)
            .filter_map(|item| {
                let mut parts = item.trim().split(';');
                let tag = parts.next()?.trim().to_owned();
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
                (q > 0.0).then_some((tag, q))
            })
            .collect();
        // Stable sort keeps the header's order among equal weights.
        from_header.sort_by(|a, b| b.1.total_cmp(&a.1));
        from_ui
            .chain(from_header)
            .find_map(|(tag, _)| self.matching(&tag))
            .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned())
    }

    fn matching(&self, tag: &str) -> Option<String> {
        let tag = tag.to_lowercase();
        if self.languages.contains_key(&tag) {
            return Some(tag);
        }
        let primary = tag.split('-').next()?;
        self.languages
            .contains_key(primary)
            .then(|| primary.to_owned())
    }

    pub fn texts(&self, lang: &str) -> Texts<'_> {
        let english = &self.languages[DEFAULT_LANGUAGE];
        Texts {
            lang: if self.languages.contains_key(lang) {
                lang.to_owned()
            } else {
                DEFAULT_LANGUAGE.to_owned()
            },
            own: self.languages.get(lang).unwrap_or(english),
            english,
        }
    }
}

fn is_language_tag(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// One language's texts, with English behind it.
pub struct Texts<'a> {
    pub lang: String,
    own: &'a HashMap<String, String>,
    english: &'a HashMap<String, String>,
}

impl Texts<'_> {
    /// Every text of the language (English where it has none), for templates that look keys up
    /// themselves (a client's own templates).
    pub fn all(&self) -> HashMap<&str, &str> {
        let mut all: HashMap<&str, &str> = self
            .english
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend(self.own.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        all
    }

    /// The text of `key`; the key itself if even English lacks it (a visible, harmless slip).
    pub fn get<'k>(&'k self, key: &'k str) -> &'k str {
        self.own
            .get(key)
            .or_else(|| self.english.get(key))
            .map_or(key, String::as_str)
    }

    /// `key` with one placeholder filled.
    pub fn fill(&self, key: &str, name: &str, value: &str) -> String {
        self.get(key).replace(&format!("{{{name}}}"), value)
    }

    pub fn render(&self, text: &Text) -> String {
        text.args
            .iter()
            .fold(self.get(text.key).to_owned(), |acc, (name, value)| {
                acc.replace(&format!("{{{name}}}"), value)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_only_known_keys_and_korean_is_complete() {
        let catalogue = Catalogue::built_in();
        let english = &catalogue.languages["en"];
        for (lang, texts) in &catalogue.languages {
            for key in texts.keys() {
                assert!(english.contains_key(key), "{lang} has unknown key {key}");
            }
        }
        let korean = &catalogue.languages["ko"];
        let missing: Vec<_> = english
            .keys()
            .filter(|k| !korean.contains_key(*k))
            .collect();
        assert!(missing.is_empty(), "ko lacks {missing:?}");
    }

    #[test]
    fn negotiation_prefers_ui_locales_then_accept_language() {
        let c = Catalogue::built_in();
        assert_eq!(c.negotiate(Some("fr ko-KR"), Some("en")), "ko");
        assert_eq!(
            c.negotiate(None, Some("fr;q=0.9, ko;q=0.8, en;q=0.5")),
            "ko"
        );
        assert_eq!(c.negotiate(None, Some("en;q=0.1, ko;q=0.8")), "ko");
        assert_eq!(c.negotiate(None, Some("de, fr")), "en");
        assert_eq!(c.negotiate(Some("xx"), None), "en");
        assert_eq!(c.negotiate(None, Some("ko;q=0")), "en");
    }

    #[test]
    fn placeholders_and_fallback() {
        let c = Catalogue::built_in();
        let t = c.texts("ko");
        let text = Text::new("signin.title").with("client", "Demo");
        assert!(t.render(&text).contains("Demo"));
        assert_eq!(c.texts("zz").lang, "en");
    }

    #[test]
    fn a_directory_adds_languages_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("fr.toml"),
            "\"signin.submit\" = \"Se connecter\"\n",
        )
        .unwrap();
        let c = Catalogue::with_dir(dir.path()).unwrap();
        assert_eq!(c.texts("fr").get("signin.submit"), "Se connecter");
        assert_eq!(c.texts("fr").get("signin.password"), "Password");
        std::fs::write(dir.path().join("de.toml"), "\"no.such\" = \"x\"\n").unwrap();
        assert!(
            Catalogue::with_dir(dir.path())
                .unwrap_err()
                .contains("no.such")
        );
    }
}
