//! A client's look as served (docs/customization.md): its stylesheet and logo, each named by a
//! digest of its content.

use crate::model::UiCustomization;
use crate::ui::logo::ImageType;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A client's stylesheet and logo as served: each named by a digest of its content, so the
/// URLs can be cached for ever and change when the content does.
#[derive(Debug)]
pub struct ClientLook {
    /// Whose customization this is: the client id, or `ALL`.
    pub owner: String,
    pub css: Option<(String, Arc<str>)>,
    pub logo: Option<(String, ImageType, Arc<[u8]>)>,
}

impl ClientLook {
    pub fn of(customization: UiCustomization) -> Self {
        let version = |bytes: &[u8]| hex_prefix(&Sha256::digest(bytes));
        Self {
            owner: customization.client_id,
            css: customization
                .css
                .map(|css| (version(css.as_bytes()), Arc::from(css))),
            logo: customization.logo.and_then(|logo| {
                let kind = crate::ui::logo::sniff(&logo)?;
                Some((version(&logo), kind, Arc::from(logo)))
            }),
        }
    }

    /// The stylesheet's file name under `ui/{owner}/`: `{version}.css`.
    pub fn css_name(&self) -> Option<String> {
        self.css
            .as_ref()
            .map(|(version, _)| format!("{version}.css"))
    }

    /// The logo's file name under `ui/{owner}/`: `{version}.png` or `.jpg`.
    pub fn logo_name(&self) -> Option<String> {
        self.logo
            .as_ref()
            .map(|(version, kind, _)| format!("{version}.{}", kind.extension()))
    }

    /// The content type and bytes of the file `name`, if it is one of this look's current files.
    pub fn file(&self, name: &str) -> Option<(&'static str, &[u8])> {
        if self.css_name().as_deref() == Some(name) {
            let (_, css) = self.css.as_ref()?;
            return Some(("text/css; charset=utf-8", css.as_bytes()));
        }
        if self.logo_name().as_deref() == Some(name) {
            let (_, kind, bytes) = self.logo.as_ref()?;
            return Some((kind.content_type(), bytes));
        }
        None
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
