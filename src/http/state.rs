//! The state every handler shares: the store, the flows' services and the settings.
//!
//! See docs/architecture.md.

use super::csrf::CsrfKey;
use crate::flows::Services;
use crate::settings::Settings;
use crate::store::Store;
use crate::ui::i18n::Catalogue;
use std::sync::Arc;

/// What every handler may use. Cloned per worker; everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub services: Services,
    pub settings: Arc<Settings>,
    /// Signs the hosted pages' CSRF tokens; the key is shared by every process.
    pub csrf: CsrfKey,
    /// Delivers the mail outbox (`mail::sender`).
    pub mailer: Arc<dyn crate::mail::Mailer>,
}

impl AppState {
    /// The state for `settings`: its mailer and its page translations. Fails on a bad
    /// translation directory or mail setting.
    pub fn new(store: Store, settings: Settings) -> Result<Self, String> {
        let catalogue = match &settings.locales_dir {
            Some(dir) => Catalogue::with_dir(dir)?,
            None => Catalogue::built_in(),
        };
        let mailer = settings.mail.mailer().map_err(|e| e.to_string())?;
        store.open_inline_connections();
        let mut services = Services::new(catalogue, settings.templates.clone());
        if let Some(sealer) = &settings.encryption {
            services.sealer = sealer.clone();
        }
        let store = store.with_pool_wait(services.metrics.pool_wait());
        let csrf_secret = store
            .conn()
            .and_then(|mut conn| {
                // Another process may hold SQLite's write lock for a while at start-up.
                crate::store::patiently(&mut conn, |conn| {
                    crate::store::instance::secret(
                        conn,
                        CsrfKey::SECRET_NAME,
                        crate::store::now(),
                        || crate::secrets::random_token(32),
                    )
                })
            })
            .map_err(|e| format!("loading the CSRF key: {e}"))?;
        Ok(Self {
            store,
            services,
            settings: Arc::new(settings),
            csrf: CsrfKey::new(csrf_secret.as_bytes()),
            mailer,
        })
    }
}
