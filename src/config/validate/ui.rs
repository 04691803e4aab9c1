//! `[pool.ui]`, a client's `css`/`logo_file` and `[[pool.ui_customization]]`: stylesheets and
//! logos (docs/customization.md, "Declaring a look").

use super::{Checker, read_file};
use crate::config::file::UiFile;
use crate::model::{PoolId, UiCustomization};
use std::path::Path;

/// A client's (or `ALL`'s) stylesheet and logo, checked as Cognito checks them: the CSS by
/// `ui::css` (classes, properties, values, 3 KB), the logo by its bytes (PNG or JPEG, 100 KB).
pub(super) fn ui_customization(
    c: &mut Checker,
    path: &str,
    pool: &PoolId,
    client_id: String,
    raw: UiFile,
    base: &Path,
) -> Option<UiCustomization> {
    let (css, css_path) = match (raw.css, raw.css_file) {
        (Some(_), Some(_)) => {
            c.fail(format!("{path}.css_file"), "give css or css_file, not both");
            (None, String::new())
        }
        (Some(css), None) => (Some(css), format!("{path}.css")),
        (None, Some(file)) => {
            let css_path = format!("{path}.css_file");
            let text = read_file(c, css_path.clone(), base, &file).and_then(|bytes| {
                String::from_utf8(bytes)
                    .map_err(|_| c.fail(&css_path, "is not UTF-8"))
                    .ok()
            });
            (text, css_path)
        }
        (None, None) => (None, String::new()),
    };
    let css = css.and_then(|css| match crate::ui::css::validate(&css) {
        Ok(normalized) => Some(normalized),
        Err(errors) => {
            for error in errors {
                c.fail(&css_path, error);
            }
            None
        }
    });
    let logo = raw.logo_file.and_then(|file| {
        let logo_path = format!("{path}.logo_file");
        let bytes = read_file(c, logo_path.clone(), base, &file)?;
        crate::ui::logo::check(&bytes)
            .map_err(|e| c.fail(&logo_path, e))
            .ok()?;
        Some(bytes)
    });
    Some(UiCustomization {
        pool_id: pool.clone(),
        client_id,
        css,
        logo,
    })
}
