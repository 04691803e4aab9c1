//! Browser endpoints: /oauth2/authorize, the hosted pages (/login, /signup, /confirm,
//! /forgotPassword, /confirmForgotPassword) and /logout. Every hosted page goes through
//! `hosted`: build the `Browser`, run one flow, turn its outcome into a page or a redirect.
//!
//! The pages: docs/hosted-ui.md.

use super::cookies::{CSRF_COOKIE, FEDERATION_COOKIE, SESSION_COOKIE};
use super::pages::{self, PageSite, SignedOutPage};
use super::pool::PoolSite;
use super::respond::{self, run_flow, run_leased_flow, run_read_flow};
use crate::flows::authorize::AuthorizeOutcome;
use crate::flows::federation::{self, IdpOutcome, Received};
use crate::flows::hosted::{Browser, Halt, HostedOutcome, PageResult};
use crate::flows::logout::LogoutOutcome;
use crate::flows::{self, Services, Site};
use crate::http::AppState;
use crate::oauth::{OAuthError, Params};
use crate::secrets;
use crate::store::{Lease, now};
use crate::ui::i18n::Text;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

/// A hosted page's flow: GET shows, POST submits.
type PageFlow = fn(&mut Lease, &Services, &Site, &Browser) -> PageResult;

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect())
}

/// The language of pages that have no authorization request to take `ui_locales` from.
fn browser_language(state: &AppState, req: &HttpRequest) -> String {
    state
        .services
        .catalogue
        .negotiate(None, header(req, "accept-language").as_deref())
}

fn invalid_request_page(state: &AppState, req: &HttpRequest, message: &str) -> HttpResponse {
    pages::error_page(
        &state.services.catalogue,
        &browser_language(state, req),
        StatusCode::BAD_REQUEST,
        "page.invalid_title",
        &Text::new("page.invalid_request").with("message", message),
    )
}

fn unavailable_page(state: &AppState, req: &HttpRequest, error: &OAuthError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = pages::error_page(
        &state.services.catalogue,
        &browser_language(state, req),
        status,
        "page.unavailable_title",
        &Text::new("page.unavailable"),
    );
    super::errors::attach_detail(&mut response, error);
    response
}

/// Whether a posted form comes from a page of another site. Browsers send `Origin` with every
/// POST; it must be an origin (scheme, host and port, RFC 6454 §5) this pool is served at: the
/// public URL's, the pool's domain with the public URL's scheme, or the request's own. This
/// stops a sibling domain that planted its own CSRF cookie, with the token that fits it, in a
/// victim's browser, and a plain-http page or another port of the same host. Without `Origin`
/// the token alone decides.
fn posted_from_elsewhere(state: &AppState, site: &crate::flows::Site, req: &HttpRequest) -> bool {
    let Some(origin) = header(req, "origin") else {
        return false;
    };
    let origin_of = |url: &str| url::Url::parse(url).ok().map(|u| u.origin());
    // `null` (a sandboxed or privacy-sensitive context), an app scheme or garbage: never ours.
    let Some(origin) = origin_of(&origin).filter(url::Origin::is_tuple) else {
        return true;
    };
    let public = url::Url::parse(&state.settings.public_url).ok();
    let public_scheme = public.as_ref().map_or("https", url::Url::scheme);
    let info = req.connection_info();
    let ours = [
        public.as_ref().map(url::Url::origin),
        site.pool
            .domain
            .as_deref()
            .and_then(|domain| origin_of(&format!("{public_scheme}://{domain}"))),
        origin_of(&format!("{}://{}", info.scheme(), info.host())),
    ];
    !ours.contains(&Some(origin))
}

/// The browser's address as throttling counts it (see `forwarded`).
fn browser_address(state: &AppState, req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr() else {
        return String::new();
    };
    let forwarded_for: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let trusted = &state.settings.trusted_proxies;
    throttle_address(super::forwarded::client_address(
        peer.ip(),
        &forwarded_for,
        trusted,
    ))
}

/// The address failures are counted against: the IPv4 address, or the IPv6 /64 (one host
/// commonly holds a whole /64, so counting single IPv6 addresses would count nothing).
fn throttle_address(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The pool's path prefix as the browser sees it: `/{pool_id}`, or empty on a pool domain.
fn base_path(site: &Site, req: &HttpRequest) -> String {
    let path = respond::cookie_path(site, req);
    if path == "/" { String::new() } else { path }
}

pub async fn authorize(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
) -> HttpResponse {
    let site = pool.site();
    let (query, cookie, services, flow_site) = (
        req.query_string().to_owned(),
        cookie_value(&req, SESSION_COOKIE),
        state.services.clone(),
        site.clone(),
    );
    let outcome = run_flow(&state, move |conn| {
        flows::authorize::start(
            conn,
            &services,
            &flow_site,
            &query,
            cookie.as_deref(),
            now(),
        )
    })
    .await;
    match outcome {
        Ok(AuthorizeOutcome::Page(message)) => invalid_request_page(&state, &req, &message),
        Ok(AuthorizeOutcome::Redirect(location)) => respond::redirect(&location).finish(),
        Ok(AuthorizeOutcome::SignIn(query)) => {
            respond::redirect(&format!("{}/login?{query}", base_path(&site, &req))).finish()
        }
        // The provider's URL is made with the connection back in the pool (discovery).
        Ok(AuthorizeOutcome::Federate(departure)) => {
            let location = match federation::depart(&state.services, &departure).await {
                Ok(location) => location,
                Err(to_app) => return respond::redirect(&to_app).finish(),
            };
            let path = respond::cookie_path(&site, &req);
            let mut binding = respond::cookie(
                &state,
                &path,
                FEDERATION_COOKIE,
                departure.browser_cookie,
                Some(federation::PENDING_SECONDS),
            );
            // A provider that answers with a cross-site form POST (Apple's form_post) only gets
            // the cookie back with SameSite=None, which browsers accept only on https.
            if state.settings.secure_cookies() {
                binding.set_same_site(actix_web::cookie::SameSite::None);
            }
            respond::redirect(&location).cookie(binding).finish()
        }
        Err(error) => unavailable_page(&state, &req, &error),
    }
}

/// GET and POST (`response_mode=form_post`) /oauth2/idpresponse: an upstream provider's answer.
pub async fn idp_response(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let site = pool.site();
    let params = if req.method() == actix_web::http::Method::POST {
        respond::form_params(&req, &body)
    } else {
        Params::parse(req.query_string())
    };
    let params = match params {
        Ok(params) => params,
        Err(error) => return invalid_request_page(&state, &req, &error.description),
    };
    let cookie = cookie_value(&req, FEDERATION_COOKIE);
    let outcome = idp_answer(&state, &site, params, cookie).await;
    let path = respond::cookie_path(&site, &req);
    let spent = respond::cookie(&state, &path, FEDERATION_COOKIE, String::new(), Some(0));
    match outcome {
        Ok(IdpOutcome::Redirect { location, session }) => {
            let mut response = respond::redirect(&location);
            response.cookie(spent);
            if let Some(session) = session {
                response.cookie(respond::session_cookie(&state, &path, session));
            }
            response.finish()
        }
        Ok(IdpOutcome::Page(text)) => {
            let mut response = pages::error_page(
                &state.services.catalogue,
                &browser_language(&state, &req),
                StatusCode::BAD_REQUEST,
                "page.invalid_title",
                &text,
            );
            let _ = response.add_cookie(&spent);
            response
        }
        Err(error) => unavailable_page(&state, &req, &error),
    }
}

/// The provider's answer in three steps; no database connection is held while the provider
/// is asked.
async fn idp_answer(
    state: &AppState,
    site: &Site,
    params: Params,
    cookie: Option<String>,
) -> Result<IdpOutcome, OAuthError> {
    let (services, flow_site, flow_params) = (state.services.clone(), site.clone(), params.clone());
    let received = run_flow(state, move |conn| {
        let cookie = cookie.as_deref();
        federation::receive(conn, &services, &flow_site, &flow_params, cookie, now())
    })
    .await?;
    let answer = match received {
        Received::Done(outcome) => return Ok(outcome),
        Received::Exchange(answer) => answer,
    };
    let identity = match federation::exchange(&state.services, site, &params, &answer).await {
        Ok(identity) => identity,
        Err(outcome) => return Ok(outcome),
    };
    let (services, flow_site) = (state.services.clone(), site.clone());
    run_leased_flow(state, move |db| {
        federation::finish(db, &services, &flow_site, &answer, &identity, now())
    })
    .await
}

/// Runs a hosted page's flow and answers with its page or redirect. `body` is the posted form.
async fn hosted(
    state: web::Data<AppState>,
    pool: PoolSite,
    req: HttpRequest,
    body: Option<web::Bytes>,
    flow: PageFlow,
) -> HttpResponse {
    let site = pool.site();
    let body_posted = body.is_some();
    let form = match body
        .map(|body| respond::form_params(&req, &body))
        .transpose()
    {
        Ok(form) => form,
        Err(error) => return invalid_request_page(&state, &req, &error.description),
    };
    // A form posted from another origin is treated as if it had no CSRF cookie: refused.
    let csrf_cookie = if body_posted && posted_from_elsewhere(&state, &site, &req) {
        None
    } else {
        cookie_value(&req, CSRF_COOKIE)
    };
    let csrf_ok = state.csrf.matches(
        csrf_cookie.as_deref(),
        form.as_ref().and_then(|f| f.get("_csrf")),
    );
    let owned = (
        req.query_string().to_owned(),
        cookie_value(&req, SESSION_COOKIE),
        browser_address(&state, &req),
        header(&req, "accept-language"),
    );
    let (services, flow_site) = (state.services.clone(), site.clone());
    let outcome = run_leased_flow(&state, move |db| {
        let (query, session, address, accept_language) = &owned;
        let browser = Browser {
            query,
            form: form.as_ref(),
            csrf_ok,
            session_cookie: session.as_deref(),
            address,
            accept_language: accept_language.as_deref(),
            now: now(),
        };
        Halt::settle(flow(db, &services, &flow_site, &browser))
    })
    .await;
    let path = respond::cookie_path(&site, &req);
    let base = base_path(&site, &req);
    let session_cookie = |session: Option<String>| {
        session.map(|value| respond::session_cookie(&state, &path, value))
    };
    match outcome {
        Ok(HostedOutcome::Show { view, session }) => {
            let (csrf_value, fresh) = match csrf_cookie {
                Some(value) => (value, false),
                None => (secrets::random_token(32), true),
            };
            let page_site = PageSite {
                catalogue: &state.services.catalogue,
                base,
                csrf: state.csrf.token(&csrf_value),
                templates: state
                    .services
                    .templates
                    .get(&view.frame.client_id)
                    .map(|t| t.as_ref()),
            };
            let mut response = pages::render_view(&page_site, &view);
            if fresh {
                let csrf = respond::cookie(&state, &path, CSRF_COOKIE, csrf_value, None);
                let _ = response.add_cookie(&csrf);
            }
            if let Some(cookie) = session_cookie(session) {
                let _ = response.add_cookie(&cookie);
            }
            response
        }
        Ok(HostedOutcome::Redirect { location, session }) => {
            let mut response = respond::redirect(&location);
            if let Some(cookie) = session_cookie(session) {
                response.cookie(cookie);
            }
            response.finish()
        }
        Ok(HostedOutcome::Goto {
            page,
            query,
            session,
        }) => {
            let mut response = respond::redirect(&format!("{base}/{page}?{query}"));
            if let Some(cookie) = session_cookie(session) {
                response.cookie(cookie);
            }
            response.finish()
        }
        Ok(outcome @ HostedOutcome::Page(_)) => pages::outcome_page(
            &state.services.catalogue,
            &browser_language(&state, &req),
            &outcome,
        ),
        Err(error) => unavailable_page(&state, &req, &error),
    }
}

macro_rules! page_handlers {
    ($($get:ident, $post:ident => $show:path, $submit:path;)*) => {$(
        pub async fn $get(state: web::Data<AppState>, pool: PoolSite, req: HttpRequest) -> HttpResponse {
            hosted(state, pool, req, None, $show).await
        }

        pub async fn $post(
            state: web::Data<AppState>,
            pool: PoolSite,
            req: HttpRequest,
            body: web::Bytes,
        ) -> HttpResponse {
            hosted(state, pool, req, Some(body), $submit).await
        }
    )*};
}

page_handlers! {
    login_page, login_submit => flows::login::show, flows::login::submit;
    signup_page, signup_submit => flows::signup::show, flows::signup::submit;
    confirm_page, confirm_submit => flows::signup::show_confirm, flows::signup::submit_confirm;
    forgot_page, forgot_submit => flows::recovery::show, flows::recovery::submit;
    reset_page, reset_submit => flows::recovery::show_confirm, flows::recovery::submit_confirm;
}

pub async fn logout(state: web::Data<AppState>, pool: PoolSite, req: HttpRequest) -> HttpResponse {
    let site = pool.site();
    let path = respond::cookie_path(&site, &req);
    let (query, cookie, services, flow_site) = (
        req.query_string().to_owned(),
        cookie_value(&req, SESSION_COOKIE),
        state.services.clone(),
        site.clone(),
    );
    let outcome = run_flow(&state, move |conn| {
        flows::logout::logout(
            conn,
            &services,
            &flow_site,
            &query,
            cookie.as_deref(),
            now(),
        )
    })
    .await;
    let clear = respond::expired_session_cookie(&state, &path);
    match outcome {
        Ok(LogoutOutcome::Redirect(location)) => {
            respond::redirect(&location).cookie(clear).finish()
        }
        Ok(LogoutOutcome::SignIn(query)) => {
            respond::redirect(&format!("{}/login?{query}", base_path(&site, &req)))
                .cookie(clear)
                .finish()
        }
        Ok(LogoutOutcome::SignedOut) => {
            let lang = browser_language(&state, &req);
            let c = pages::plain_chrome(&state.services.catalogue, &lang, "signed_out.title");
            let mut response = pages::render(StatusCode::OK, &SignedOutPage { c });
            let _ = response.add_cookie(&clear);
            response
        }
        Ok(LogoutOutcome::Page(message)) => invalid_request_page(&state, &req, &message),
        Err(error) => unavailable_page(&state, &req, &error),
    }
}

/// GET /ui/{client}/{version}.{css|png|jpg}: a customization's files, cached for a year (the
/// version in the name changes with the content).
pub async fn ui_file(state: web::Data<AppState>, pool: PoolSite, req: HttpRequest) -> HttpResponse {
    // By name: under `/{pool_id}` the match also holds the pool id.
    let segment = |name| req.match_info().get(name).unwrap_or_default().to_owned();
    let (client, file) = (segment("client"), segment("file"));
    let site = pool.site();
    let services = state.services.clone();
    let look = run_read_flow(&state, move |conn| {
        Ok(services.directory.look(conn, &site, &client, true, now())?)
    })
    .await;
    match look
        .ok()
        .flatten()
        .as_deref()
        .and_then(|look| look.file(&file))
    {
        Some((content_type, bytes)) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
            .body(web::Bytes::copy_from_slice(bytes)),
        None => HttpResponse::NotFound().finish(),
    }
}
