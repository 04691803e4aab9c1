//! Process settings: where to listen, the public URL, the database and TLS. Built by the CLI
//! from flags and their environment fallbacks, then passed down; there are no globals.
//!
//! Every setting: docs/configuration.md, "Flags and environment".

use crate::mail::MailSettings;
use crate::ui::overrides::TemplateOverrides;
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    /// Public base URL without a trailing slash; each pool's issuer is `{public_url}/{pool_id}`.
    pub public_url: String,
    pub database_url: String,
    pub tls: Option<TlsFiles>,
    /// How email goes out: the outbox file by default, SMTP from the file's `[mail]`.
    pub mail: MailSettings,
    /// Extra or overriding page translations (`<language>.toml` files).
    pub locales_dir: Option<PathBuf>,
    /// Clients' own page templates, from the file's `templates_dir` keys.
    pub templates: Arc<TemplateOverrides>,
    /// Proxies whose `X-Forwarded-For` names the browser (for per-address throttling).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether the HSTS header also covers subdomains of the public URL's host.
    pub hsts_include_subdomains: bool,
    /// The demo's own sign-in app at `/demo/`: set only when the server runs without a file.
    pub demo: Option<DemoApp>,
    /// Whether `GET /` answers a page listing the pools (docs/configuration.md).
    pub index_page: bool,
    /// How long an idle keep-alive connection stays open, in seconds (0: closed after each
    /// answer). Longer than a load balancer's idle timeout, so it is the balancer that closes.
    pub keep_alive_seconds: u64,
    /// How long a new connection has to send its first request's head, in seconds (0: no limit).
    pub client_request_timeout_seconds: u64,
    /// A separate address serving `/metrics` (and only it); `None` serves it on `listen`.
    pub metrics_listen: Option<String>,
    /// Keys that may sign calls to the Cognito JSON API (`[[api_credentials]]`).
    pub api_credentials: Vec<Arc<crate::api::ApiCredential>>,
    /// The account id in the API's ARNs.
    pub account_id: String,
    /// Seals and opens stored secrets with the operator's key (docs/deployment.md, "Encryption
    /// key"). The command always sets it; `None` (tests, embedders) uses the process's
    /// ephemeral key, which dies with the process.
    pub encryption: Option<Arc<crate::sealing::Sealer>>,
}

/// The pool and client the demo app at `/demo/` signs in with.
#[derive(Debug, Clone)]
pub struct DemoApp {
    pub pool_id: String,
    pub client_id: String,
}

/// Common load balancers keep idle connections to their targets 60 s (AWS ALB and ELB by
/// default): the server's own timeout must be the longer one (docs/deployment.md, "Timeouts").
pub const DEFAULT_KEEP_ALIVE_SECONDS: u64 = 75;
/// actix-web's own default.
pub const DEFAULT_CLIENT_REQUEST_TIMEOUT_SECONDS: u64 = 5;

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl Settings {
    pub fn new(
        listen: String,
        public_url: &str,
        database_url: String,
        tls: Option<TlsFiles>,
    ) -> Result<Self, SettingsError> {
        let parsed = Url::parse(public_url)
            .map_err(|e| SettingsError(format!("--public-url `{public_url}`: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host().is_none()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(SettingsError(format!(
                "--public-url `{public_url}` must be an http(s) URL without query or fragment"
            )));
        }
        Ok(Self {
            listen,
            public_url: public_url.trim_end_matches('/').to_owned(),
            database_url,
            tls,
            mail: MailSettings::default(),
            locales_dir: None,
            templates: Arc::default(),
            trusted_proxies: Vec::new(),
            hsts_include_subdomains: false,
            demo: None,
            index_page: true,
            keep_alive_seconds: DEFAULT_KEEP_ALIVE_SECONDS,
            client_request_timeout_seconds: DEFAULT_CLIENT_REQUEST_TIMEOUT_SECONDS,
            metrics_listen: None,
            api_credentials: Vec::new(),
            account_id: crate::api::DEFAULT_ACCOUNT_ID.to_owned(),
            encryption: None,
        })
    }

    /// Cookies carry `Secure` whenever users reach the server over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `Strict-Transport-Security` for every response when users reach the server over https
    /// (RFC 6797 §6.1): one year; a plain-http public URL gets none.
    pub fn hsts(&self) -> Option<String> {
        if !self.secure_cookies() {
            return None;
        }
        let mut value = "max-age=31536000".to_owned();
        if self.hsts_include_subdomains {
            value.push_str("; includeSubDomains");
        }
        Some(value)
    }
}
