//! What a hosted page shows, as data: the frame around every page, the screen, its messages as
//! catalogue keys, and what the page flow asks HTTP to do (docs/hosted-ui.md). The use cases
//! return these; `http::pages` picks the template (built in, or the client's own) and the
//! language, so translations and client templates see the same data.

use crate::model::pool::PasswordRule;
use crate::ui::i18n::Text;
use crate::ui::look::ClientLook;
use std::sync::Arc;

/// The frame around every page.
#[derive(Debug, Clone)]
pub struct Frame {
    pub client_id: String,
    pub client_name: String,
    pub lang: String,
    /// The authorization request, for links and form actions between pages.
    pub query: String,
    pub signup_allowed: bool,
    /// Upstream providers the client offers, by name (buttons on the sign-in page).
    pub providers: Vec<String>,
    /// Whether one of them has identifiers (email domains): the page then asks for an email.
    pub identifier_routing: bool,
    /// Whether the client allows the pool's own sign-in (COGNITO): the password form, sign-up
    /// and password reset exist only then.
    pub cognito_allowed: bool,
    /// Every rule of the pool's password policy (for the live check on password forms).
    pub password_rules: Vec<PasswordRule>,
    /// The client's stylesheet and logo, if it (or the pool's `ALL`) has any.
    pub look: Option<Arc<ClientLook>>,
    /// Where a form of these pages may end up: the origin (or app scheme) of the validated
    /// redirect URI. Browsers apply CSP `form-action` to the redirect after a form post too.
    pub redirect_source: Option<String>,
}

/// The CSP source of a redirect URI: `https://app.example:8443`, or `myapp:` for an app scheme.
pub fn csp_source(redirect_uri: &str) -> Option<String> {
    let url = url::Url::parse(redirect_uri).ok()?;
    match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(_)) => Some(url.origin().ascii_serialization()),
        (scheme, _) if scheme != "http" && scheme != "https" => Some(format!("{scheme}:")),
        _ => None,
    }
}

/// An input of the sign-up or new-password form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The form field and attribute name (`username`, `email`, `given_name`, `custom:x`).
    pub name: String,
    /// HTML input type: text, email or tel.
    pub input_type: &'static str,
    pub autocomplete: &'static str,
    pub value: String,
}

/// A problem with one input, shown next to it (and in the page's error summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name (`username`, `password`, `confirm_password`, `code`, `email`, …).
    pub field: String,
    pub text: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, text: Text) -> Self {
        Self {
            field: field.into(),
            text,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Screen {
    SignIn {
        username: String,
    },
    NewPassword {
        username: String,
        missing: Vec<Field>,
    },
    MfaSetup {
        secret: String,
        qr_svg: String,
        optional: bool,
    },
    MfaChallenge,
    /// Required attributes the pool added after the user was created, asked after every factor.
    MissingAttributes {
        username: String,
        missing: Vec<Field>,
    },
    SignUp {
        fields: Vec<Field>,
    },
    Confirm {
        username: String,
        destination: Option<String>,
    },
    ForgotPassword {
        username: String,
    },
    ConfirmForgotPassword {
        username: String,
        /// The emailed code as typed, kept when another field was wrong.
        code: String,
    },
    /// On to an upstream provider. A page, not a redirect: a browser applies the page's CSP
    /// `form-action` to the redirects that follow a form post, and the provider is elsewhere.
    ContinueUpstream {
        provider: String,
        /// Our `/oauth2/authorize` query that sends the browser there.
        query: String,
    },
}

#[derive(Debug, Clone)]
pub struct View {
    pub frame: Frame,
    pub screen: Screen,
    pub error: Option<Text>,
    /// Problems with single inputs, in the form's order.
    pub field_errors: Vec<FieldError>,
    pub notice: Option<Text>,
}

/// What a page flow asks HTTP to do.
pub enum HostedOutcome {
    Show {
        view: Box<View>,
        /// A new session cookie to set.
        session: Option<String>,
    },
    /// 302 to the app (a code, tokens or an error).
    Redirect {
        location: String,
        session: Option<String>,
    },
    /// 302 to another hosted page (`signup`, `confirm`, …) with this query.
    Goto {
        page: &'static str,
        query: String,
        session: Option<String>,
    },
    /// An error page (the request cannot go back to the app).
    Page(Text),
}

impl HostedOutcome {
    pub fn show(frame: Frame, screen: Screen) -> Self {
        Self::Show {
            view: Box::new(View {
                frame,
                screen,
                error: None,
                field_errors: Vec::new(),
                notice: None,
            }),
            session: None,
        }
    }

    pub fn show_error(frame: Frame, screen: Screen, error: Text) -> Self {
        Self::Show {
            view: Box::new(View {
                frame,
                screen,
                error: Some(error),
                field_errors: Vec::new(),
                notice: None,
            }),
            session: None,
        }
    }

    /// The form again with every problem found, each next to its input.
    pub fn show_invalid(frame: Frame, screen: Screen, field_errors: Vec<FieldError>) -> Self {
        Self::Show {
            view: Box::new(View {
                frame,
                screen,
                error: None,
                field_errors,
                notice: None,
            }),
            session: None,
        }
    }

    pub fn with_session(mut self, cookie: String) -> Self {
        match &mut self {
            Self::Show { session, .. }
            | Self::Redirect { session, .. }
            | Self::Goto { session, .. } => *session = Some(cookie),
            Self::Page(_) => {}
        }
        self
    }

    pub fn with_notice(mut self, text: Text) -> Self {
        if let Self::Show { view, .. } = &mut self {
            view.notice = Some(text);
        }
        self
    }
}
