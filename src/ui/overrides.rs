//! A client's own page templates (`templates_dir`): files named like the built-in pages
//! (`login.html`, `signup.html`, …) replace them for that client. They are Jinja templates
//! rendered with the same data as the built-in pages and the same HTML escaping; other `.html`
//! files in the directory may be included or extended. Texts are looked up with `t["key"]`.
//! Templates are compiled when the configuration is read, so a broken one stops the start.
//!
//! See docs/customization.md, "Page templates".

use minijinja::{AutoEscape, Environment, Value, context};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The pages a client may replace.
pub const PAGES: &[&str] = &[
    "login.html",
    "signup.html",
    "confirm.html",
    "forgot_password.html",
    "confirm_forgot_password.html",
    "new_password.html",
    "mfa_setup.html",
    "mfa_challenge.html",
    "attributes.html",
];

/// Templates larger than this are refused (a page, not a site).
const MAX_TEMPLATE_BYTES: u64 = 256 * 1024;

/// One client's compiled templates.
#[derive(Debug)]
pub struct ClientTemplates {
    env: Environment<'static>,
}

impl ClientTemplates {
    /// Reads and compiles every `.html` file of `dir`; at least one must be a page of `PAGES`.
    pub fn load(dir: &Path) -> Result<Self, Vec<String>> {
        let entries = std::fs::read_dir(dir).map_err(|e| vec![format!("cannot read it: {e}")])?;
        let mut env = Environment::new();
        // Every page is HTML, whatever the included file's extension.
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let mut errors = Vec::new();
        let mut pages = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if !name.ends_with(".html") {
                continue;
            }
            if entry.metadata().map(|m| m.len()).unwrap_or(0) > MAX_TEMPLATE_BYTES {
                errors.push(format!("{name}: larger than 256 KB"));
                continue;
            }
            let source = match std::fs::read_to_string(&path) {
                Ok(source) => source,
                Err(e) => {
                    errors.push(format!("{name}: {e}"));
                    continue;
                }
            };
            pages += usize::from(PAGES.contains(&name.as_str()));
            if let Err(e) = env.add_template_owned(name.clone(), source) {
                errors.push(format!("{name}: {e}"));
            }
        }
        if errors.is_empty() && pages == 0 {
            errors.push(format!(
                "no page template in it (expected one of {})",
                PAGES.join(", ")
            ));
        }
        if errors.is_empty() {
            Ok(Self { env })
        } else {
            Err(errors)
        }
    }

    pub fn has(&self, page: &str) -> bool {
        PAGES.contains(&page) && self.env.get_template(page).is_ok()
    }

    /// Renders `page` with the page's data and the language's texts as `t`.
    pub fn render(
        &self,
        page: &str,
        data: &impl Serialize,
        texts: HashMap<&str, &str>,
    ) -> Result<String, String> {
        let template = self.env.get_template(page).map_err(|e| e.to_string())?;
        let texts: HashMap<String, String> = texts
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        template
            .render(context! { t => texts, ..Value::from(minijinja::value::Serde(data)) })
            .map_err(|e| format!("{page}: {e}"))
    }
}

/// Every client's templates, by client id.
pub type TemplateOverrides = HashMap<String, Arc<ClientTemplates>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Data {
        username: String,
    }

    #[test]
    fn templates_escape_and_broken_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("login.html"),
            "<p>{{ t['signin.submit'] }} {{ username }}</p>",
        )
        .unwrap();
        let templates = ClientTemplates::load(dir.path()).unwrap();
        assert!(templates.has("login.html") && !templates.has("signup.html"));
        let html = templates
            .render(
                "login.html",
                &Data {
                    username: "<b>x</b>".into(),
                },
                HashMap::from([("signin.submit", "Go")]),
            )
            .unwrap();
        assert_eq!(html, "<p>Go &lt;b&gt;x&lt;&#x2f;b&gt;</p>");
        std::fs::write(dir.path().join("signup.html"), "{% if %}").unwrap();
        let errors = ClientTemplates::load(dir.path()).unwrap_err();
        assert!(errors[0].starts_with("signup.html"), "{errors:?}");
        let empty = tempfile::tempdir().unwrap();
        assert!(ClientTemplates::load(empty.path()).unwrap_err()[0].contains("no page"));
    }
}
