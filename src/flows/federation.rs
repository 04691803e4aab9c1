//! Sign-in through an upstream provider (docs/federation.md, "How a federated sign-in works"):
//! `/oauth2/authorize` with `identity_provider` (or the sign-in page's button) keeps a pending row
//! with our own state, nonce and PKCE verifier, bound to the browser by a cookie, and sends the
//! browser upstream; `/oauth2/idpresponse` takes that row (once), lets the provider's connector
//! exchange the code, maps the claims, creates or updates the federated user and resumes the app's
//! authorization. Upstream errors and refusals go back to the app as OAuth error redirects.

use super::lifecycle::{self, SignUpAnswer, SignUpStop};
use super::request::{Resolution, resolve};
use super::{Services, Site, internal, issue, session};
use crate::federation::mapping::{self, MappingError};
use crate::federation::{self, Callback, FederationError, Start, UpstreamIdentity};
use crate::model::attributes::Attributes;
use crate::model::{AppClient, IdentityProvider, User, UserStatus};
use crate::oauth::authorize::{AuthorizationRequest, AuthorizeError, ErrorRedirect, ResponseType};
use crate::oauth::{ErrorCode, OAuthError, Params, pkce};
use crate::secrets::{self, SecretDigest};
use crate::store::federation::{self as fed_store, IdentityRow, PendingRow};
use crate::store::grants::SESSION_ACTIVE;
use crate::store::{self, AnyConnection, Lease, StoreError};
use crate::ui::i18n::Text;
use serde_json::json;
use subtle::ConstantTimeEq;

/// How long the upstream may take to send the user back.
pub const PENDING_SECONDS: i64 = 600;

/// Where the provider sends its answer (what to register upstream).
pub fn idpresponse_url(site: &Site) -> String {
    format!("{}/oauth2/idpresponse", site.urls.endpoint_base)
}

fn provider_named(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    name: &str,
) -> Result<Option<IdentityProvider>, StoreError> {
    Ok(super::identity_providers(conn, services, site)?
        .iter()
        .find(|p| p.name == name)
        .cloned())
}

fn upstream_oauth_error(error: &FederationError) -> OAuthError {
    let code = match error {
        FederationError::Unavailable(_) => ErrorCode::TemporarilyUnavailable,
        FederationError::Rejected(_) => ErrorCode::AccessDenied,
        FederationError::Misconfigured(_) => ErrorCode::ServerError,
    };
    tracing::warn!("federated sign-in failed: {error}");
    OAuthError::new(code, error.to_string())
}

fn upstream_error(request: &AuthorizationRequest, error: &FederationError) -> AuthorizeError {
    request.error(upstream_oauth_error(error))
}

/// What the database step of a federated start comes to.
pub enum Departing {
    /// Off to the provider, once `depart` has made its URL.
    Depart(Box<Departure>),
    /// Back to the app with an error.
    Refused(AuthorizeError),
}

/// A federated sign-in about to leave for its provider: the pending row is written; the
/// provider's authorization URL, which may need discovery over HTTP, is made after the
/// database step by `depart`.
pub struct Departure {
    provider: IdentityProvider,
    request: AuthorizationRequest,
    state: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
    /// The cookie that binds the provider's answer to this browser.
    pub browser_cookie: String,
}

/// `/oauth2/authorize?identity_provider=NAME` (already validated against the client), its
/// database step: the pending row, and what `depart` needs to send the browser upstream.
pub fn start(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    request: &AuthorizationRequest,
    provider_name: &str,
    query: &str,
    now: i64,
) -> Result<Departing, OAuthError> {
    let Some(provider) = provider_named(conn, services, site, provider_name)? else {
        let error =
            OAuthError::invalid_request(format!("unknown identity provider `{provider_name}`"));
        return Ok(Departing::Refused(request.error(error)));
    };
    if let Err(error) = federation::connector(&provider, &services.upstreams) {
        return Ok(Departing::Refused(upstream_error(request, &error)));
    }
    let (state, nonce, verifier, browser) = (
        secrets::random_token(32),
        secrets::random_token(32),
        secrets::random_token(48),
        secrets::random_token(32),
    );
    let challenge = pkce::challenge(&verifier);
    let redirect_uri = idpresponse_url(site);
    // Written before the URL is known: should the URL fail, the state never leaves and the
    // row expires unused.
    fed_store::insert_pending(
        conn,
        &PendingRow {
            state_digest: SecretDigest::of(&state).as_str().to_owned(),
            pool_id: site.pool_id().to_owned(),
            provider: provider.name.clone(),
            browser_digest: SecretDigest::of(&browser).as_str().to_owned(),
            nonce: nonce.clone(),
            pkce_verifier: verifier,
            request_query: query.to_owned(),
            created_at: now,
            expires_at: now + PENDING_SECONDS,
        },
    )?;
    Ok(Departing::Depart(Box::new(Departure {
        provider,
        request: request.clone(),
        state,
        nonce,
        challenge,
        redirect_uri,
        browser_cookie: browser,
    })))
}

/// The provider's authorization URL for a departure, with no database connection held (an
/// OpenID Provider's may need discovery). `Err` is the app's error redirect.
pub async fn depart(services: &Services, departure: &Departure) -> Result<String, String> {
    let location = match federation::connector(&departure.provider, &services.upstreams) {
        Ok(connector) => {
            connector
                .authorization_url(&Start {
                    redirect_uri: &departure.redirect_uri,
                    state: &departure.state,
                    nonce: &departure.nonce,
                    code_challenge: &departure.challenge,
                })
                .await
        }
        Err(error) => Err(error),
    };
    location.map_err(|error| {
        let request = &departure.request;
        super::error_location(&ErrorRedirect {
            redirect_uri: request.redirect_uri.clone(),
            fragment: request.response_type == ResponseType::Token,
            error: upstream_oauth_error(&error),
            state: request.state.clone(),
        })
    })
}

/// What `/oauth2/idpresponse` answers.
pub enum IdpOutcome {
    /// To the app (a code, tokens or an error), with a new session cookie.
    Redirect {
        location: String,
        session: Option<String>,
    },
    /// The answer cannot be tied to a sign-in: a page, never a redirect.
    Page(Text),
}

fn invalid_answer() -> IdpOutcome {
    IdpOutcome::Page(Text::new("page.idp_answer_invalid"))
}

fn to_app(error: AuthorizeError) -> IdpOutcome {
    match error {
        AuthorizeError::Redirect(redirect) => IdpOutcome::Redirect {
            location: super::error_location(&redirect),
            session: None,
        },
        AuthorizeError::Page(_) => invalid_answer(),
    }
}

/// An answer tied to its pending sign-in, ready for the code exchange.
pub struct Answer {
    provider: IdentityProvider,
    client: AppClient,
    request: AuthorizationRequest,
    pending: PendingRow,
    code: String,
}

/// The first step of `/oauth2/idpresponse`: what the database step decided.
pub enum Received {
    /// Answered without the provider (an unknown state, another browser, an upstream error).
    Done(IdpOutcome),
    /// A code to exchange, with no database connection held.
    Exchange(Box<Answer>),
}

/// GET (query) or POST (`form_post`) `/oauth2/idpresponse`, its database step: takes the
/// pending row (once), checks the browser, resumes the carried request and finds the provider.
pub fn receive(
    conn: &mut AnyConnection,
    services: &Services,
    site: &Site,
    params: &Params,
    browser_cookie: Option<&str>,
    now: i64,
) -> Result<Received, OAuthError> {
    let done = |outcome| Ok(Received::Done(outcome));
    let Some(state) = params.get("state") else {
        return done(invalid_answer());
    };
    let digest = SecretDigest::of(state);
    let Some(pending) = fed_store::take_pending(conn, site.pool_id(), digest.as_str(), now)? else {
        return done(invalid_answer());
    };
    let same_browser = browser_cookie.is_some_and(|cookie| {
        bool::from(
            SecretDigest::of(cookie)
                .as_str()
                .as_bytes()
                .ct_eq(pending.browser_digest.as_bytes()),
        )
    });
    if !same_browser {
        return done(invalid_answer());
    }
    let (client, request) = match resolve(conn, services, site, &pending.request_query)? {
        Resolution::Valid(client, request) => (client, request),
        Resolution::Invalid(_) => return done(invalid_answer()),
    };
    if let Some(error) = params.get("error") {
        let described = params
            .get("error_description")
            .map(|d| format!("{}: {error}: {d}", pending.provider))
            .unwrap_or_else(|| format!("{}: {error}", pending.provider));
        // The user said no: Facebook's and OIDC's access_denied, Apple's own word for it.
        let code = if matches!(
            error,
            "access_denied" | "user_cancelled_authorize" | "user_denied"
        ) {
            ErrorCode::AccessDenied
        } else {
            ErrorCode::ServerError
        };
        let text = format!("the identity provider answered {described}");
        return done(to_app(request.error(OAuthError::new(code, text))));
    }
    let Some(code) = params.get("code") else {
        let error = OAuthError::invalid_request("the identity provider sent no code");
        return done(to_app(request.error(error)));
    };
    let Some(provider) = provider_named(conn, services, site, &pending.provider)? else {
        return done(invalid_answer());
    };
    Ok(Received::Exchange(Box::new(Answer {
        provider,
        client,
        request,
        code: code.to_owned(),
        pending,
    })))
}

/// The code exchange with the provider, with no database connection held. `Err` is the
/// answer to give instead (the provider failed or refused).
pub async fn exchange(
    services: &Services,
    site: &Site,
    params: &Params,
    answer: &Answer,
) -> Result<UpstreamIdentity, IdpOutcome> {
    let connector = federation::connector(&answer.provider, &services.upstreams);
    let identity = match connector {
        Ok(connector) => {
            connector
                .exchange(&Callback {
                    code: &answer.code,
                    redirect_uri: &idpresponse_url(site),
                    nonce: &answer.pending.nonce,
                    pkce_verifier: &answer.pending.pkce_verifier,
                    extra_claims: connector.answer_claims(params),
                })
                .await
        }
        Err(error) => Err(error),
    };
    identity.map_err(|error| to_app(upstream_error(&answer.request, &error)))
}

/// The last step of `/oauth2/idpresponse`: the federated user and its session in one
/// transaction, then the app's code or tokens.
pub fn finish(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    answer: &Answer,
    identity: &UpstreamIdentity,
    now: i64,
) -> Result<IdpOutcome, OAuthError> {
    let Answer {
        provider,
        client,
        request,
        ..
    } = answer;
    let first = match first_sign_in(db, services, site, answer, identity)? {
        Ok(first) => first,
        Err(message) => return Ok(to_app(request.error(OAuthError::invalid_request(message)))),
    };
    let conn = db.conn()?;
    // One transaction: a sign-in refused half-way (a value too long, an email that is another
    // user's alias) leaves no user or link behind.
    let signed_in = crate::store::write_transaction::<_, Refusal>(conn, |conn| {
        let user = federated_user(conn, site, provider, identity, first.as_ref(), now)?;
        // A disabled user's mapped attributes are still recorded; only the session is refused.
        if !user.enabled {
            return Ok(SignedIn::Disabled);
        }
        let cookie = session::start(conn, site, &user, SESSION_ACTIVE, now)?;
        Ok(SignedIn::Active(user, cookie))
    });
    let (user, cookie) = match signed_in {
        Ok(SignedIn::Active(user, cookie)) => (user, cookie),
        Ok(SignedIn::Disabled) => {
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user is disabled");
            return Ok(to_app(request.error(error)));
        }
        Err(Refusal::Refused(message)) => {
            let error = OAuthError::invalid_request(message);
            return Ok(to_app(request.error(error)));
        }
        Err(Refusal::Failed(error)) => return Err(error),
    };
    // After the commit: an implicit grant signs tokens here, which must not hold the write lock.
    let location = issue::location(conn, services, site, client, request, &user, now, now);
    Ok(IdpOutcome::Redirect {
        location,
        session: Some(cookie),
    })
}

/// An identity no user is linked to yet, nor will be by its verified email, is a sign-up: the
/// pre sign-up hook (`PreSignUp_ExternalProvider`) hears of it, with the mapped attributes,
/// before anything is written. `Err` is the hook's refusal, for the app (Cognito's `error_description`).
fn first_sign_in(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    answer: &Answer,
    identity: &UpstreamIdentity,
) -> Result<Result<Option<SignUpAnswer>, String>, OAuthError> {
    let provider = &answer.provider;
    if !super::triggers::declared(site, crate::model::triggers::TriggerKind::PreSignUp) {
        return Ok(Ok(None));
    }
    // A mapping the sign-in will refuse anyway is left to `federated_user` to say.
    let mapped =
        mapping::map_claims(&provider.attribute_mapping, &identity.claims).unwrap_or_default();
    let conn = db.conn()?;
    // Linked already, or about to be linked to a native user by verified email: no sign-up.
    if fed_store::user_of(conn, site.pool_id(), &provider.name, &identity.subject)?.is_some()
        || verified_email_match(conn, site, provider, &mapped)?.is_some()
    {
        return Ok(Ok(None));
    }
    let mut attributes = Attributes::new();
    for (name, value) in mapped {
        let _ = attributes.set(name, value);
    }
    let user_name = format!("{}_{}", provider.name, identity.subject);
    let caller = lifecycle::Caller::client(answer.client.id.as_str());
    let source = lifecycle::SignUpSource::ExternalProvider;
    Ok(
        match lifecycle::pre_sign_up(
            db,
            services,
            site,
            source,
            &user_name,
            &attributes,
            None,
            caller,
        ) {
            Ok(first) => Ok(Some(first)),
            Err(SignUpStop::Hook(error)) => Err(error.message()),
            Err(SignUpStop::NothingToVerify(attribute)) => Err(format!(
                "the pre sign-up hook asked to verify {attribute}, which the user does not have"
            )),
        },
    )
}

/// A federated identity's user, with the new session's cookie, or disabled.
enum SignedIn {
    Active(User, String),
    Disabled,
}

/// Why a federated sign-in stops (and its transaction rolls back): a refusal the app hears as
/// `invalid_request` with this message, or a failure.
#[derive(Debug)]
pub enum Refusal {
    Refused(String),
    Failed(OAuthError),
}

impl From<OAuthError> for Refusal {
    fn from(e: OAuthError) -> Self {
        Self::Failed(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(StoreError::Database(e).into())
    }
}

/// The user an upstream identity signs in as: the linked user, else a new federated user
/// `<Provider>_<subject>`. Mapped attributes are written at every sign-in (docs/federation.md).
pub fn user_for_identity(
    conn: &mut AnyConnection,
    site: &Site,
    provider: &IdentityProvider,
    identity: &UpstreamIdentity,
    now: i64,
) -> Result<User, Refusal> {
    federated_user(conn, site, provider, identity, None, now)
}

/// `user_for_identity`, with what the pre sign-up hook said of a first sign-in: a new user's
/// email or phone number it verified are marked so.
fn federated_user(
    conn: &mut AnyConnection,
    site: &Site,
    provider: &IdentityProvider,
    identity: &UpstreamIdentity,
    first: Option<&SignUpAnswer>,
    now: i64,
) -> Result<User, Refusal> {
    let mut created = false;
    let mapped = match mapping::map_claims(&provider.attribute_mapping, &identity.claims) {
        Ok(mapped) => mapped,
        Err(error @ MappingError::TooLong { .. }) => {
            return Err(Refusal::Refused(format!("{}: {error}", provider.name)));
        }
    };
    let linked = match fed_store::user_of(conn, site.pool_id(), &provider.name, &identity.subject)?
    {
        Some(sub) => Some(sub),
        None => link_by_verified_email(conn, site, provider, identity, &mapped, now)?,
    };
    let mut user = match linked {
        Some(sub) => {
            let sub = uuid::Uuid::parse_str(&sub).map_err(internal)?;
            store::users::get(conn, site.pool_id(), &sub)?
        }
        None => {
            let user = User {
                sub: uuid::Uuid::new_v4(),
                pool_id: site.pool.id.clone(),
                username: format!("{}_{}", provider.name, identity.subject),
                status: UserStatus::ExternalProvider,
                enabled: true,
                password_hash: None,
                attributes: Attributes::new(),
                created_at: now,
                updated_at: now,
                srp_verifier: None,
            };
            match store::users::create(conn, &site.pool, &user) {
                Ok(()) => {}
                Err(StoreError::Conflict(_)) => {
                    return Err(Refusal::Refused(format!(
                        "{}: the username {} or one of its aliases is taken",
                        provider.name, user.username
                    )));
                }
                Err(e) => return Err(e.into()),
            }
            created = true;
            fed_store::link(
                conn,
                &IdentityRow {
                    pool_id: site.pool_id().to_owned(),
                    provider: provider.name.clone(),
                    subject: identity.subject.clone(),
                    user_sub: user.sub.to_string(),
                    provider_type: provider.provider_type.as_str().to_owned(),
                    issuer: identity.issuer.clone(),
                    created_at: now,
                },
            )?;
            user
        }
    };
    let before = user.attributes.clone();
    for (attribute, value) in &mapped {
        if attribute == "preferred_username" && value.contains('@') {
            // It is a sign-in alias: one shaped like an email could shadow someone's email.
            return Err(Refusal::Refused(format!(
                "{}: a preferred_username may not look like an email address",
                provider.name
            )));
        }
        if let Err(error) = user.attributes.set(attribute.clone(), value.clone()) {
            return Err(Refusal::Refused(format!("{}: {error}", provider.name)));
        }
    }
    // A new or changed email or phone number is unverified unless the upstream said otherwise
    // just now.
    for (attribute, flag) in crate::model::attributes::VERIFIABLE {
        let said = mapped.iter().any(|(a, _)| a == flag);
        let value = user.attributes.get(attribute);
        if value.is_some()
            && !said
            && (before.get(attribute) != value || user.attributes.get(flag).is_none())
        {
            user.attributes.set(*flag, "false").map_err(internal)?;
        }
    }
    if let (true, Some(first)) = (created, first) {
        first.verify(&mut user.attributes);
    }
    let identities = fed_store::identities_of(conn, &user.sub.to_string())?;
    user.attributes
        .set_identities(identities_claim(&identities));
    user.updated_at = now;
    match store::users::update(conn, &site.pool, &user) {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => Err(Refusal::Refused(format!(
            "{}: the email is already another user's verified alias",
            provider.name
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Most identities one user may have linked (Cognito's limit).
const MAX_LINKED_IDENTITIES: usize = 5;

/// Beyond Cognito, when the provider opts in: a first sign-in whose email the upstream says is
/// verified links to the one native user with that same verified email. Never on an
/// unverified email, never when several users match, never past five identities.
fn link_by_verified_email(
    conn: &mut AnyConnection,
    site: &Site,
    provider: &IdentityProvider,
    identity: &UpstreamIdentity,
    mapped: &[(String, String)],
    now: i64,
) -> Result<Option<String>, OAuthError> {
    let Some(user) = verified_email_match(conn, site, provider, mapped)? else {
        return Ok(None);
    };
    let sub = user.sub.to_string();
    fed_store::link(
        conn,
        &IdentityRow {
            pool_id: site.pool_id().to_owned(),
            provider: provider.name.clone(),
            subject: identity.subject.clone(),
            user_sub: sub.clone(),
            provider_type: provider.provider_type.as_str().to_owned(),
            issuer: identity.issuer.clone(),
            created_at: now,
        },
    )?;
    tracing::info!(pool = site.pool_id(), provider = %provider.name, user = %user.username, "identity linked by verified email");
    Ok(Some(sub))
}

/// The one native user whose verified email is the identity's verified email, when the
/// provider links by verified email and the user has room for another identity. Read-only:
/// `link_by_verified_email` writes the link.
fn verified_email_match(
    conn: &mut AnyConnection,
    site: &Site,
    provider: &IdentityProvider,
    mapped: &[(String, String)],
) -> Result<Option<User>, OAuthError> {
    let value = |name: &str| {
        mapped
            .iter()
            .find(|(attribute, _)| attribute == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(email), Some("true")) = (value("email"), value("email_verified")) else {
        return Ok(None);
    };
    if !provider.links_by_verified_email() {
        return Ok(None);
    }
    let mut natives: Vec<User> = store::users::find_by_verified_email(conn, &site.pool, email)?
        .into_iter()
        .filter(|u| u.status != UserStatus::ExternalProvider)
        .collect();
    let (Some(user), true) = (natives.pop(), natives.is_empty()) else {
        return Ok(None);
    };
    if fed_store::identities_of(conn, &user.sub.to_string())?.len() >= MAX_LINKED_IDENTITIES {
        return Ok(None);
    }
    Ok(Some(user))
}

/// Cognito's `identities` attribute: a JSON array of the user's upstream identities.
fn identities_claim(rows: &[IdentityRow]) -> String {
    let list: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            json!({
                "userId": row.subject,
                "providerName": row.provider,
                "providerType": row.provider_type,
                "issuer": row.issuer,
                "primary": i == 0,
                "dateCreated": row.created_at * 1000,
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}
