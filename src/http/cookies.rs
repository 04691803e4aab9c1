//! The names of the cookies the hosted pages set (RFC 6265). Only the HTTP layer knows them;
//! flows receive cookie values, never names.
//!
//! See docs/hosted-ui.md, "Security".

/// The hosted-UI session (its value is the session id; the database keeps only a digest).
pub const SESSION_COOKIE: &str = "gatehouse_session";
/// The random value the page's CSRF token is an HMAC of (`http::csrf`).
pub const CSRF_COOKIE: &str = "gatehouse_csrf";
/// Binds an upstream provider's answer to the browser that was sent there.
pub const FEDERATION_COOKIE: &str = "gatehouse_federation";
/// The demo app's sign-in in flight: `state`, `nonce` and the PKCE verifier (`http::demo`).
pub const DEMO_PENDING_COOKIE: &str = "gatehouse_demo_pending";
/// The demo app's refresh token, between its pages (`http::demo`).
pub const DEMO_REFRESH_COOKIE: &str = "gatehouse_demo_refresh";
