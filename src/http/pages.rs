//! Server-rendered pages and the headers every page carries. Each page is an askama template
//! around `Chrome`, the frame they share (language, texts, client look, CSRF token, links).
//!
//! The pages: docs/hosted-ui.md; their look: docs/customization.md.

use crate::flows::cache::ClientLook;
use crate::flows::hosted::{Field, Frame, HostedOutcome, Screen, View};
use crate::model::pool::PasswordRule;
use crate::ui::i18n::{Catalogue, Text, Texts};
use crate::ui::overrides::ClientTemplates;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;
use serde::Serialize;

pub const DEFAULT_CSS: &str = include_str!("../../static/gatehouse.css");
pub const SCRIPT: &str = include_str!("../../static/gatehouse.js");

/// What every page shares.
#[derive(Serialize)]
pub struct Chrome<'a> {
    pub lang: String,
    #[serde(skip)]
    pub t: Texts<'a>,
    pub title: String,
    /// The document's `<title>`: the heading, then the app's name unless the heading holds it
    /// already, and "Error: " first while the page shows an error.
    pub document_title: String,
    /// The app's name in the banner (or the product's on pages without an app).
    pub app_name: String,
    pub custom_css: Option<String>,
    pub logo: Option<String>,
    /// Whether the page loads the small progressive script (password checks).
    pub script: bool,
    /// Where the page sends the browser on by itself (`<meta http-equiv="refresh">`).
    pub refresh: Option<String>,
    /// The error summary: the page's error, or every field error's message in a row.
    pub error: Option<String>,
    /// Problems with single inputs, each shown next to its input too.
    pub field_errors: Vec<FieldErrorView>,
    /// The form field name (`username`, `code`, …) of the input that has focus when the page
    /// opens: the first one in error, else the first input.
    pub focus: String,
    pub notice: Option<String>,
    pub csrf: String,
    /// Path prefix of the pool (`/{pool_id}`, or empty at a pool domain's root).
    pub base: String,
    /// The carried authorization request, for links between pages.
    pub query: String,
}

/// A problem with one input, as the page shows it.
#[derive(Serialize)]
pub struct FieldErrorView {
    /// The form field's name.
    pub name: String,
    /// The input's `id`; the message's element is `{id}-error`.
    pub id: String,
    pub text: String,
}

impl Chrome<'_> {
    /// The problem with the input named `name`, if it has one.
    pub fn invalid(&self, name: &str) -> Option<&FieldErrorView> {
        self.field_errors.iter().find(|e| e.name == name)
    }
}

/// Where a page is served: everything `Chrome` needs beyond the flow's view.
pub struct PageSite<'a> {
    pub catalogue: &'a Catalogue,
    pub base: String,
    pub csrf: String,
    /// The client's own templates, if it has any (`templates_dir`).
    pub templates: Option<&'a ClientTemplates>,
}

/// `{base}/ui/{owner}/{version}.css` and `.png`/`.jpg`: the customization's files.
fn look_urls(base: &str, look: Option<&ClientLook>) -> (Option<String>, Option<String>) {
    let Some(look) = look else {
        return (None, None);
    };
    let url = |name: String| format!("{base}/ui/{}/{name}", look.owner);
    let css = look.css_name().map(url);
    let logo = look.logo_name().map(url);
    (css, logo)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub c: Chrome<'a>,
    pub message: String,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage<'a> {
    pub c: Chrome<'a>,
}

#[derive(Serialize)]
pub struct ProviderButton {
    pub label: String,
    pub href: String,
}

#[derive(Template, Serialize)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub c: Chrome<'a>,
    pub username: String,
    pub providers: Vec<ProviderButton>,
    pub signup_allowed: bool,
    pub identifier_routing: bool,
    pub cognito_allowed: bool,
}

#[derive(Template, Serialize)]
#[template(path = "continue.html")]
pub struct ContinuePage<'a> {
    pub c: Chrome<'a>,
    pub provider: String,
    pub href: String,
}

#[derive(Serialize)]
pub struct FieldView {
    pub id: String,
    pub name: String,
    pub label: String,
    pub input_type: &'static str,
    pub autocomplete: &'static str,
    pub value: String,
    /// The problem with this input; its element's id is `{id}-error`.
    pub error: Option<String>,
    pub autofocus: bool,
}

#[derive(Serialize)]
pub struct RuleView {
    pub kind: &'static str,
    pub min: Option<u32>,
    pub text: String,
}

#[derive(Template, Serialize)]
#[template(path = "new_password.html")]
pub struct NewPasswordPage<'a> {
    pub c: Chrome<'a>,
    pub username: String,
    pub fields: Vec<FieldView>,
    pub rules: Vec<RuleView>,
    pub password_field: &'static str,
}

#[derive(Template, Serialize)]
#[template(path = "attributes.html")]
pub struct AttributesPage<'a> {
    pub c: Chrome<'a>,
    pub username: String,
    pub fields: Vec<FieldView>,
}

#[derive(Template, Serialize)]
#[template(path = "signup.html")]
pub struct SignUpPage<'a> {
    pub c: Chrome<'a>,
    pub fields: Vec<FieldView>,
    pub rules: Vec<RuleView>,
    pub password_field: &'static str,
}

#[derive(Template, Serialize)]
#[template(path = "confirm.html")]
pub struct ConfirmPage<'a> {
    pub c: Chrome<'a>,
    pub username: String,
    pub destination: Option<String>,
}

#[derive(Template, Serialize)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage<'a> {
    pub c: Chrome<'a>,
    pub username: String,
}

#[derive(Template, Serialize)]
#[template(path = "confirm_forgot_password.html")]
pub struct ConfirmForgotPasswordPage<'a> {
    pub c: Chrome<'a>,
    pub username: String,
    /// The code as typed before an error.
    pub code: String,
    pub rules: Vec<RuleView>,
    pub password_field: &'static str,
}

#[derive(Template, Serialize)]
#[template(path = "mfa_setup.html")]
pub struct MfaSetupPage<'a> {
    pub c: Chrome<'a>,
    pub secret: String,
    pub qr_svg: String,
    pub optional: bool,
}

#[derive(Template, Serialize)]
#[template(path = "mfa_challenge.html")]
pub struct MfaChallengePage<'a> {
    pub c: Chrome<'a>,
}

/// Headers of every HTML page: no framing, no referrer, no caching, no inline script.
pub fn page_response(status: StatusCode) -> HttpResponseBuilder {
    page_response_to(status, None)
}

/// `page_response` for a page whose forms may end in a redirect to `redirect_source` (the
/// app's origin or scheme): CSP `form-action` covers the redirect after a form post too.
pub fn page_response_to(status: StatusCode, redirect_source: Option<&str>) -> HttpResponseBuilder {
    let form_action = match redirect_source {
        Some(source) => format!("'self' {source}"),
        None => "'self'".to_owned(),
    };
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            format!(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"));
    builder
}

/// Renders a page, or a plain 500 if the template fails (it cannot for valid input).
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => page_response(status).body(html),
        Err(e) => {
            tracing::error!("page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Chrome for pages outside any app (errors, signed out).
pub fn plain_chrome<'a>(catalogue: &'a Catalogue, lang: &str, title: &str) -> Chrome<'a> {
    let t = catalogue.texts(lang);
    let title = t.get(title).to_owned();
    let app_name = "Gatehouse".to_owned();
    Chrome {
        lang: t.lang.clone(),
        document_title: document_title(&t, &title, &app_name, false),
        title,
        t,
        app_name,
        custom_css: None,
        logo: None,
        script: false,
        refresh: None,
        error: None,
        field_errors: Vec::new(),
        focus: String::new(),
        notice: None,
        csrf: String::new(),
        base: String::new(),
        query: String::new(),
    }
}

/// An error page; `title` and `message` are catalogue keys or, failing that, shown as given.
pub fn error_page(
    catalogue: &Catalogue,
    lang: &str,
    status: StatusCode,
    title: &str,
    message: &Text,
) -> HttpResponse {
    let c = plain_chrome(catalogue, lang, title);
    let message = c.t.render(message);
    render(status, &ErrorPage { c, message })
}

/// `Sign in to web` stays as it is; `Reset your password` becomes `Reset your password · web`.
fn document_title(t: &Texts, title: &str, app_name: &str, error: bool) -> String {
    let title = if app_name.is_empty() || title.contains(app_name) {
        title.to_owned()
    } else {
        format!("{title} · {app_name}")
    };
    if error {
        t.fill("page.title_error", "title", &title)
    } else {
        title
    }
}

fn field_views(c: &Chrome, fields: &[Field]) -> Vec<FieldView> {
    let t = &c.t;
    fields
        .iter()
        .map(|f| {
            let key = format!("attribute.{}", f.name);
            let label = match t.get(&key) {
                missing if missing == key => f.name.clone(),
                label => label.to_owned(),
            };
            FieldView {
                id: field_id(&f.name),
                name: f.name.clone(),
                label,
                input_type: f.input_type,
                autocomplete: f.autocomplete,
                value: f.value.clone(),
                error: c.invalid(&f.name).map(|e| e.text.clone()),
                autofocus: c.focus == f.name,
            }
        })
        .collect()
}

fn rule_views(t: &Texts, rules: &[PasswordRule]) -> Vec<RuleView> {
    rules
        .iter()
        .filter(|r| !matches!(r, PasswordRule::MaximumLength))
        .map(|rule| {
            let (kind, min) = match rule {
                PasswordRule::MinimumLength(n) => ("length", Some(*n)),
                PasswordRule::Lowercase => ("lowercase", None),
                PasswordRule::Uppercase => ("uppercase", None),
                PasswordRule::Number => ("number", None),
                PasswordRule::Symbol => ("symbol", None),
                PasswordRule::MaximumLength => ("max_length", None),
            };
            let text = t.fill(
                &format!("password.check.{kind}"),
                "min",
                &min.map(|m| m.to_string()).unwrap_or_default(),
            );
            RuleView { kind, min, text }
        })
        .collect()
}

fn screen_title(screen: &Screen) -> &'static str {
    match screen {
        Screen::SignIn { .. } => "signin.title",
        Screen::NewPassword { .. } => "new_password.title",
        Screen::MfaSetup { .. } => "mfa_setup.title",
        Screen::MfaChallenge => "mfa.title",
        Screen::MissingAttributes { .. } => "attributes.title",
        Screen::SignUp { .. } => "signup.title",
        Screen::Confirm { .. } => "confirm.title",
        Screen::ForgotPassword { .. } => "forgot.title",
        Screen::ConfirmForgotPassword { .. } => "reset.title",
        Screen::ContinueUpstream { .. } => "continue.title",
    }
}

/// The `id` of a sign-up or new-password attribute input.
fn field_id(name: &str) -> String {
    format!("field-{}", name.replace(':', "-"))
}

/// The `id` of the input named `name` on a screen's built-in page.
fn input_id(screen: &Screen, name: &str) -> String {
    let fixed = match (screen, name) {
        (Screen::SignIn { .. }, "username") => "signInFormUsername",
        (Screen::SignIn { .. }, "password") => "signInFormPassword",
        (Screen::SignIn { .. }, "email") => "idpEmail",
        (Screen::Confirm { .. }, "code") => "verification_code",
        (Screen::ConfirmForgotPassword { .. }, "code") => "forgot_password_code",
        (Screen::ConfirmForgotPassword { .. }, "password") => "new_password",
        (Screen::MfaSetup { .. } | Screen::MfaChallenge, "code") => "totpCode",
        (Screen::NewPassword { .. }, "new_password" | "confirm_password")
        | (Screen::ConfirmForgotPassword { .. }, "confirm_password")
        | (Screen::SignUp { .. }, "password")
        | (Screen::ForgotPassword { .. }, "username") => name,
        (
            Screen::NewPassword { .. } | Screen::SignUp { .. } | Screen::MissingAttributes { .. },
            _,
        ) => return field_id(name),
        _ => name,
    };
    fixed.to_owned()
}

/// The form field name of a screen's first input (none on pages without a form).
fn first_input(screen: &Screen, frame: &Frame) -> String {
    match screen {
        Screen::SignIn { .. } if frame.cognito_allowed => "username".into(),
        Screen::SignIn { .. } if frame.identifier_routing => "email".into(),
        Screen::SignIn { .. } | Screen::ContinueUpstream { .. } => String::new(),
        Screen::NewPassword { missing, .. } => missing
            .first()
            .map_or_else(|| "new_password".into(), |f| f.name.clone()),
        Screen::MissingAttributes { missing, .. } => {
            missing.first().map_or_else(String::new, |f| f.name.clone())
        }
        Screen::SignUp { fields } => fields
            .first()
            .map_or_else(|| "password".into(), |f| f.name.clone()),
        Screen::ForgotPassword { .. } => "username".into(),
        Screen::Confirm { .. }
        | Screen::ConfirmForgotPassword { .. }
        | Screen::MfaSetup { .. }
        | Screen::MfaChallenge => "code".into(),
    }
}

fn chrome<'a>(site: &PageSite<'a>, view: &View) -> Chrome<'a> {
    let frame: &Frame = &view.frame;
    let t = site.catalogue.texts(&frame.lang);
    let render_with_rules = |text: &Text| render_text(&t, text);
    let (custom_css, logo) = look_urls(&site.base, frame.look.as_deref());
    let field_errors: Vec<FieldErrorView> = view
        .field_errors
        .iter()
        .map(|e| FieldErrorView {
            name: e.field.clone(),
            id: input_id(&view.screen, &e.field),
            text: render_with_rules(&e.text),
        })
        .collect();
    let error = view.error.as_ref().map(render_with_rules).or_else(|| {
        (!field_errors.is_empty()).then(|| {
            let texts: Vec<&str> = field_errors.iter().map(|e| e.text.as_str()).collect();
            texts.join(" ")
        })
    });
    let title = match &view.screen {
        Screen::ContinueUpstream { provider, .. } => {
            t.fill(screen_title(&view.screen), "provider", provider)
        }
        screen => t.fill(screen_title(screen), "client", &frame.client_name),
    };
    Chrome {
        lang: t.lang.clone(),
        document_title: document_title(&t, &title, &frame.client_name, error.is_some()),
        title,
        focus: field_errors
            .first()
            .map_or_else(|| first_input(&view.screen, frame), |e| e.name.clone()),
        field_errors,
        error,
        notice: view.notice.as_ref().map(render_with_rules),
        app_name: frame.client_name.clone(),
        custom_css,
        logo,
        script: matches!(
            view.screen,
            Screen::NewPassword { .. }
                | Screen::SignUp { .. }
                | Screen::ConfirmForgotPassword { .. }
        ),
        csrf: site.csrf.clone(),
        refresh: match &view.screen {
            Screen::ContinueUpstream { query, .. } => {
                Some(format!("{}/oauth2/authorize?{query}", site.base))
            }
            _ => None,
        },
        base: site.base.clone(),
        query: frame.query.clone(),
        t,
    }
}

/// A flow's message in the page's language: a `rules` argument (comma-separated rule keys) is
/// spelled out, an `attribute` argument becomes the attribute's label.
fn render_text(t: &Texts, text: &Text) -> String {
    let mut text = text.clone();
    let min = text
        .args
        .iter()
        .find(|(name, _)| *name == "min")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    for (name, value) in &mut text.args {
        match *name {
            "rules" => {
                *value = value
                    .split(',')
                    .map(|key| t.get(key).replace("{min}", &min))
                    .collect::<Vec<_>>()
                    .join(", ");
            }
            "attribute" => {
                let key = format!("attribute.{value}");
                if t.get(&key) != key {
                    *value = t.get(&key).to_owned();
                }
            }
            _ => {}
        }
    }
    t.render(&text)
}

/// A page from the client's own template when it has one, else the built-in one.
fn show<P: Template + Serialize>(
    site: &PageSite,
    source: Option<&str>,
    lang: &str,
    name: &str,
    page: &P,
) -> HttpResponse {
    let own = site.templates.filter(|t| t.has(name)).map(|templates| {
        templates
            .render(name, page, site.catalogue.texts(lang).all())
            .inspect_err(|e| tracing::error!("client template failed to render: {e}"))
    });
    // A client template that fails at run time falls back to the built-in page.
    let html = match own {
        Some(Ok(html)) => Ok(html),
        _ => page.render().map_err(|e| e.to_string()),
    };
    match html {
        Ok(html) => page_response_to(StatusCode::OK, source).body(html),
        Err(e) => {
            tracing::error!("page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The page of a view.
pub fn render_view(site: &PageSite, view: &View) -> HttpResponse {
    let c = chrome(site, view);
    let lang = c.lang.clone();
    let source = view.frame.redirect_source.as_deref();
    match &view.screen {
        Screen::SignIn { username } => {
            let providers = view
                .frame
                .providers
                .iter()
                .map(|name| ProviderButton {
                    label: c.t.fill("signin.provider_button", "provider", name),
                    href: format!(
                        "{}/oauth2/authorize?{}",
                        site.base,
                        crate::flows::hosted::query_with(
                            &view.frame.query,
                            &[("identity_provider", name)]
                        )
                    ),
                })
                .collect();
            show(
                site,
                source,
                &lang,
                "login.html",
                &LoginPage {
                    username: username.clone(),
                    providers,
                    signup_allowed: view.frame.signup_allowed,
                    identifier_routing: view.frame.identifier_routing,
                    cognito_allowed: view.frame.cognito_allowed,
                    c,
                },
            )
        }
        Screen::NewPassword { username, missing } => {
            let fields = field_views(&c, missing);
            let rules = rule_views(&c.t, &view.frame.password_rules);
            show(
                site,
                source,
                &lang,
                "new_password.html",
                &NewPasswordPage {
                    username: username.clone(),
                    fields,
                    rules,
                    password_field: "new_password",
                    c,
                },
            )
        }
        Screen::MissingAttributes { username, missing } => {
            let fields = field_views(&c, missing);
            show(
                site,
                source,
                &lang,
                "attributes.html",
                &AttributesPage {
                    username: username.clone(),
                    fields,
                    c,
                },
            )
        }
        Screen::SignUp { fields } => {
            let fields = field_views(&c, fields);
            let rules = rule_views(&c.t, &view.frame.password_rules);
            show(
                site,
                source,
                &lang,
                "signup.html",
                &SignUpPage {
                    fields,
                    rules,
                    password_field: "password",
                    c,
                },
            )
        }
        Screen::Confirm {
            username,
            destination,
        } => show(
            site,
            source,
            &lang,
            "confirm.html",
            &ConfirmPage {
                username: username.clone(),
                destination: destination.clone(),
                c,
            },
        ),
        Screen::ForgotPassword { username } => show(
            site,
            source,
            &lang,
            "forgot_password.html",
            &ForgotPasswordPage {
                username: username.clone(),
                c,
            },
        ),
        Screen::ConfirmForgotPassword { username, code } => {
            let rules = rule_views(&c.t, &view.frame.password_rules);
            show(
                site,
                source,
                &lang,
                "confirm_forgot_password.html",
                &ConfirmForgotPasswordPage {
                    username: username.clone(),
                    code: code.clone(),
                    rules,
                    password_field: "new_password",
                    c,
                },
            )
        }
        Screen::MfaSetup {
            secret,
            qr_svg,
            optional,
        } => show(
            site,
            source,
            &lang,
            "mfa_setup.html",
            &MfaSetupPage {
                secret: secret.clone(),
                qr_svg: qr_svg.clone(),
                optional: *optional,
                c,
            },
        ),
        Screen::ContinueUpstream { provider, query } => {
            let href = format!("{}/oauth2/authorize?{query}", site.base);
            render(
                StatusCode::OK,
                &ContinuePage {
                    provider: provider.clone(),
                    href,
                    c,
                },
            )
        }
        Screen::MfaChallenge => show(
            site,
            source,
            &lang,
            "mfa_challenge.html",
            &MfaChallengePage { c },
        ),
    }
}

/// The error page for an outcome that cannot go back to the app.
pub fn outcome_page(catalogue: &Catalogue, lang: &str, outcome: &HostedOutcome) -> HttpResponse {
    match outcome {
        HostedOutcome::Page(text) => error_page(
            catalogue,
            lang,
            StatusCode::BAD_REQUEST,
            "page.invalid_title",
            text,
        ),
        _ => HttpResponse::InternalServerError().finish(),
    }
}
