//! What every hosted page shares: the authorization request carried from page to page in the
//! query string, the frame around each page (client, language, sign-up link, providers) and
//! the outcome a page flow hands to HTTP. Messages are catalogue keys (`Text`), translated when
//! the page is rendered.
//!
//! The pages themselves: docs/hosted-ui.md.

use super::authorize::{Resolution, resolve};
use super::sign_in::{self, Challenge, Step};
use super::{Services, Site, issue, lifecycle, session};
use crate::model::client::COGNITO_PROVIDER;
use crate::model::{AppClient, User};
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::{OAuthError, Params};
use crate::store::grants;
use crate::store::{AnyConnection, Lease, StoreError, mfa};
use crate::totp;
use crate::ui::i18n::Text;

/// Parameters the pages add to the carried query; never part of the authorization request.
const PAGE_PARAMETERS: &[&str] = &["username", "notice"];

/// One browser request to a hosted page.
pub struct Browser<'a> {
    pub query: &'a str,
    /// The posted form (POST only).
    pub form: Option<&'a Params>,
    /// Whether the form carries the CSRF token of the page's cookie (checked by HTTP).
    pub csrf_ok: bool,
    pub session_cookie: Option<&'a str>,
    pub address: &'a str,
    pub accept_language: Option<&'a str>,
    pub now: i64,
}

impl Browser<'_> {
    pub fn field(&self, name: &str) -> &str {
        self.form.and_then(|f| f.get(name)).unwrap_or_default()
    }

    /// A short single-line form value (usernames, codes, attribute values).
    pub fn short_field(&self, name: &str) -> String {
        self.field(name).trim().chars().take(2048).collect()
    }

    /// The sign-in name the form carries, as long as a page shows it back (256 characters).
    pub fn typed_username(&self) -> String {
        self.short_field("username").chars().take(256).collect()
    }

    /// A page parameter of the query (`username`, `notice`).
    pub fn query_value(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.chars().take(256).collect())
    }
}

/// The query of the authorization request without the pages' own parameters. The other pairs
/// are kept as sent, undecoded: the authorization request is validated (strictly) later.
pub fn carried_query(query: &str) -> String {
    without(query, |name| PAGE_PARAMETERS.contains(&name))
}

/// The carried query plus page parameters, each replacing any copy the query already has (a
/// parameter given twice makes the request malformed). A provider chosen on the page also
/// replaces an `idp_identifier` of the request.
pub fn query_with(carried: &str, extra: &[(&str, &str)]) -> String {
    let replaced = |name: &str| {
        extra
            .iter()
            .any(|(k, _)| *k == name || (*k == "identity_provider" && name == "idp_identifier"))
    };
    let mut out = url::form_urlencoded::Serializer::new(without(carried, replaced));
    for (k, v) in extra {
        out.append_pair(k, v);
    }
    out.finish()
}

/// `query` without the pairs whose (decoded) name `drop` picks; the rest stay byte for byte.
fn without(query: &str, drop: impl Fn(&str) -> bool) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            crate::oauth::params::decode_component(name).map_or(true, |name| !drop(&name))
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub use crate::ui::view::{Field, Frame, HostedOutcome, Screen, View, csp_source};

/// A validated authorization request and the frame of its pages.
pub struct Context {
    pub client: AppClient,
    pub request: AuthorizationRequest,
    pub frame: Frame,
}

/// Why a page flow stops before its end: an answer to give at once (the page or redirect of an
/// invalid authorization request), or a failure. `?` turns either into the flow's result.
pub enum Halt {
    Answer(HostedOutcome),
    Failed(OAuthError),
}

impl From<OAuthError> for Halt {
    fn from(error: OAuthError) -> Self {
        Self::Failed(error)
    }
}

impl From<StoreError> for Halt {
    fn from(error: StoreError) -> Self {
        Self::Failed(error.into())
    }
}

/// What a hosted page's flow returns.
pub type PageResult = Result<HostedOutcome, Halt>;

impl Halt {
    /// The outcome to answer with: an early answer is one, a failure stays an error.
    pub fn settle(result: PageResult) -> Result<HostedOutcome, OAuthError> {
        match result {
            Ok(outcome) | Err(Halt::Answer(outcome)) => Ok(outcome),
            Err(Halt::Failed(error)) => Err(error),
        }
    }
}

/// Resolves the carried authorization request; an invalid one halts with the answer to give.
pub fn context(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    browser: &Browser,
) -> Result<Context, Halt> {
    let query = carried_query(browser.query);
    let (client, request) = match resolve(conn, services, site, &query)? {
        Resolution::Valid(client, request) => (client, request),
        Resolution::Invalid(error) => {
            return Err(Halt::Answer(
                match super::authorize::AuthorizeOutcome::from(error) {
                    super::authorize::AuthorizeOutcome::Redirect(location) => {
                        HostedOutcome::Redirect {
                            location,
                            session: None,
                        }
                    }
                    super::authorize::AuthorizeOutcome::Page(message) => HostedOutcome::Page(
                        Text::new("page.invalid_request").with("message", message),
                    ),
                    super::authorize::AuthorizeOutcome::SignIn(_)
                    | super::authorize::AuthorizeOutcome::Federate { .. } => {
                        HostedOutcome::Page(Text::new("page.unexpected"))
                    }
                },
            ));
        }
    };
    let supported = &client.settings.supported_identity_providers;
    let offers_cognito = supported.iter().any(|p| p == COGNITO_PROVIDER);
    let identifier_routing = super::identity_providers(conn, services, site)?
        .iter()
        .any(|p| supported.contains(&p.name) && !p.idp_identifiers.is_empty());
    let frame = Frame {
        client_id: client.id.to_string(),
        client_name: client.name.clone(),
        lang: services
            .catalogue
            .negotiate(request.ui_locales.as_deref(), browser.accept_language),
        query,
        signup_allowed: offers_cognito && !site.pool.settings.allow_admin_create_user_only,
        providers: supported
            .iter()
            .filter(|p| *p != COGNITO_PROVIDER)
            .cloned()
            .collect(),
        identifier_routing,
        cognito_allowed: offers_cognito,
        password_rules: site.pool.settings.password_policy.violations(""),
        look: services
            .directory
            .look(conn, site, client.id.as_str(), false, browser.now)?,
        redirect_source: csp_source(&request.redirect_uri),
    };
    Ok(Context {
        client,
        request,
        frame,
    })
}

/// `context` for the pages of the pool's own sign-in (password reset, confirmation): a client
/// that does not offer COGNITO gets a page saying so.
pub fn password_context(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    browser: &Browser,
) -> Result<Context, Halt> {
    let ctx = context(conn, services, site, browser)?;
    if !ctx.frame.cognito_allowed {
        return Err(Halt::Answer(HostedOutcome::Page(Text::new(
            "page.cognito_not_allowed",
        ))));
    }
    Ok(ctx)
}

/// After the password (or a confirmation code) proved who the user is: a TOTP challenge or
/// set-up when the pool asks for one, the form for required attributes the user lacks, else the
/// session and the redirect to the app.
/// `pending` is the browser's pending session, reused rather than left behind.
pub fn after_first_factor(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: Context,
    user: &User,
    browser: &Browser,
) -> Result<HostedOutcome, OAuthError> {
    use crate::model::pool::MfaConfiguration;
    let now = browser.now;
    let conn = db.conn()?;
    let mode = site.pool.settings.mfa_configuration;
    let sub = user.sub.to_string();
    let row = if mode == MfaConfiguration::Off {
        None
    } else {
        mfa::find(conn, &services.sealer, site.pool_id(), &sub)?
    };
    let has_totp = row.as_ref().is_some_and(mfa::MfaRow::has_totp);
    let declined = row.as_ref().is_some_and(|r| r.declined);
    session::end(conn, browser.session_cookie)?;
    match sign_in::second_factor(mode, has_totp, declined) {
        Step::Challenge(challenge @ Challenge::SoftwareTokenMfa) => {
            let cookie = session::start(conn, site, user, challenge.session_kind(), now)?;
            Ok(HostedOutcome::show(ctx.frame, Screen::MfaChallenge).with_session(cookie))
        }
        Step::Challenge(challenge @ Challenge::MfaSetup { optional }) => {
            let cookie = session::start(conn, site, user, challenge.session_kind(), now)?;
            let mut row = row.unwrap_or_else(|| mfa::MfaRow::empty(site.pool_id(), &sub, now));
            row.totp_secret = Some(totp::new_secret());
            row.totp_enabled = false;
            row.updated_at = now;
            mfa::save(conn, &services.sealer, &row)?;
            let screen = setup_screen(site, user, &row, optional);
            Ok(HostedOutcome::show(ctx.frame, screen).with_session(cookie))
        }
        // Not reached after a first factor; treated as done.
        Step::Challenge(Challenge::NewPasswordRequired) | Step::Authenticated
            if !sign_in::missing_attributes(&site.pool.settings, &user.attributes).is_empty() =>
        {
            super::login::ask_attributes(conn, site, ctx, user, now)
        }
        Step::Challenge(Challenge::NewPasswordRequired) | Step::Authenticated => {
            if let Some(refused) = post_authentication(db, services, site, &ctx, user) {
                return Ok(refused);
            }
            let conn = db.conn()?;
            let cookie = session::start(conn, site, user, grants::SESSION_ACTIVE, now)?;
            let location = issue::location(
                conn,
                services,
                site,
                &ctx.client,
                &ctx.request,
                user,
                now,
                now,
            );
            Ok(HostedOutcome::Redirect {
                location,
                session: Some(cookie),
            })
        }
    }
}

/// The post authentication hook, before a page's sign-in issues its session and code: `Some`
/// is the sign-in page with the hook's message when it failed (the sign-in fails, as in
/// Cognito).
pub fn post_authentication(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    ctx: &Context,
    user: &User,
) -> Option<HostedOutcome> {
    let caller = lifecycle::Caller::client(ctx.client.id.as_str());
    let error = lifecycle::post_authentication(db, services, site, user, caller).err()?;
    Some(HostedOutcome::show_error(
        ctx.frame.clone(),
        Screen::SignIn {
            username: String::new(),
        },
        super::triggers::page_text(&error),
    ))
}

/// The TOTP set-up page for the secret on `row`.
pub fn setup_screen(site: &Site, user: &User, row: &mfa::MfaRow, optional: bool) -> Screen {
    let secret = row.totp_secret.clone().unwrap_or_default();
    let account = user
        .attributes
        .get("email")
        .unwrap_or(&user.username)
        .to_owned();
    let qr_svg = totp::otpauth_url(&secret, &site.pool.name, &account)
        .and_then(|url| totp::qr_svg(&url))
        .unwrap_or_default();
    Screen::MfaSetup {
        secret,
        qr_svg,
        optional,
    }
}

/// `a***@e***.com` for an email: enough to recognise, not enough to harvest.
pub fn mask_destination(address: &str) -> String {
    let Some((local, domain)) = address.split_once('@') else {
        return "***".into();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let tld = if tld.is_empty() {
        String::new()
    } else {
        format!(".{tld}")
    };
    format!("{}***@{}***{tld}", first(local), first(host))
}

/// Whether `shown` is a masked address as `mask_destination` writes it, with a plain top-level
/// domain: a link cannot make the confirmation page show text of its own choosing.
pub fn is_masked_destination(shown: &str) -> bool {
    let tld_ok = match shown.rsplit_once("***") {
        Some((_, "")) => true,
        Some((_, tld)) => tld.strip_prefix('.').is_some_and(|t| {
            (1..=24).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }),
        None => false,
    };
    tld_ok && shown.len() <= 64 && mask_destination(shown) == shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_masked_addresses_are_shown_from_a_link() {
        assert!(is_masked_destination(&mask_destination("nina@example.com")));
        assert!(is_masked_destination("n***@e***"));
        assert!(!is_masked_destination("nina@example.com"));
        assert!(!is_masked_destination("n***@e***.com call 555-0100"));
        assert!(!is_masked_destination("n***@e***.c<m"));
        assert!(!is_masked_destination(""));
    }

    #[test]
    fn carried_pairs_stay_as_sent() {
        assert_eq!(
            carried_query("state=%FF&username=x&scope=a+b"),
            "state=%FF&scope=a+b"
        );
    }

    #[test]
    fn page_parameters_are_not_carried() {
        let q = "client_id=a&username=x&redirect_uri=https%3A%2F%2Fa%2Fcb&notice=y";
        assert_eq!(
            carried_query(q),
            "client_id=a&redirect_uri=https%3A%2F%2Fa%2Fcb"
        );
        assert_eq!(
            query_with("client_id=a", &[("username", "a b")]),
            "client_id=a&username=a+b"
        );
        assert_eq!(
            query_with(
                "client_id=a&identity_provider=COGNITO&idp_identifier=x",
                &[("identity_provider", "Google")]
            ),
            "client_id=a&identity_provider=Google"
        );
    }

    #[test]
    fn redirect_uris_become_csp_sources() {
        assert_eq!(
            csp_source("http://localhost:3000/callback?x=1").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(
            csp_source("https://app.example/cb").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(csp_source("myapp://callback").as_deref(), Some("myapp:"));
        assert_eq!(csp_source("not a url"), None);
    }

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask_destination("ann@example.com"), "a***@e***.com");
        assert_eq!(mask_destination("nobody"), "***");
    }
}
