//! Prometheus metrics: what the server counts and the page `/metrics` serves, in OpenMetrics
//! text or Prometheus's classic 0.0.4 text format (every metric and what to alert on:
//! docs/deployment.md, "Metrics").
//!
//! Each server holds its own registry (in `flows::Services`), never a process global, so that
//! servers sharing a process (the integration tests) count apart. Every label value comes from a
//! closed set written here or from the route table: a caller can never add a label value.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// OpenMetrics 1.0 text, which Prometheus asks for first.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Prometheus's classic text format, for scrapers that do not ask for OpenMetrics.
pub const TEXT_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The route label of a request that matched no route: its raw path would make the number of
/// series unbounded.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Request latencies: from 5 ms (a cached token check) to 10 s (an upstream time-out).
const HTTP_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Waits for a pooled connection: nothing at all when one is idle, seconds when the pool is
/// exhausted (its time-out is 10 s).
const POOL_WAIT_BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0,
];
/// Upstream identity-provider calls: tens of milliseconds to the 10 s time-out.
const UPSTREAM_BUCKETS: [f64; 9] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How one submitted step of a password sign-in on the hosted pages ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// Every factor is in: the browser goes back to the app.
    Success,
    /// A wrong password or an unknown user (the two are not told apart).
    WrongPassword,
    /// Throttled: too many wrong passwords or codes.
    Locked,
    /// The right password; the authenticator's code comes next.
    MfaRequired,
    /// The right password; the pool asks for an authenticator the user has not set up.
    MfaSetupRequired,
    /// A temporary password: the user must choose a new one.
    NewPasswordRequired,
    WrongMfaCode,
    Disabled,
    Unconfirmed,
    ResetRequired,
    TemporaryPasswordExpired,
}

impl SignIn {
    pub const ALL: [SignIn; 11] = [
        Self::Success,
        Self::WrongPassword,
        Self::Locked,
        Self::MfaRequired,
        Self::MfaSetupRequired,
        Self::NewPasswordRequired,
        Self::WrongMfaCode,
        Self::Disabled,
        Self::Unconfirmed,
        Self::ResetRequired,
        Self::TemporaryPasswordExpired,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::WrongPassword => "wrong_password",
            Self::Locked => "locked",
            Self::MfaRequired => "mfa_required",
            Self::MfaSetupRequired => "mfa_setup_required",
            Self::NewPasswordRequired => "new_password_required",
            Self::WrongMfaCode => "wrong_mfa_code",
            Self::Disabled => "disabled",
            Self::Unconfirmed => "unconfirmed",
            Self::ResetRequired => "reset_required",
            Self::TemporaryPasswordExpired => "temporary_password_expired",
        }
    }
}

/// The grant a token response answered (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// Tokens in the redirect's fragment (`response_type=token`).
    Implicit,
}

impl Grant {
    pub const ALL: [Grant; 4] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::Implicit,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Implicit => "implicit",
        }
    }
}

/// What one attempt to deliver an outbox message came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Failed; it is tried again later.
    Retrying,
    /// Failed for the last time: the message is given up on.
    Abandoned,
}

impl Delivery {
    pub const ALL: [Delivery; 3] = [Self::Sent, Self::Retrying, Self::Abandoned];

    pub fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Abandoned => "abandoned",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    provider: &'static str,
    call: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamCallLabels {
    provider: &'static str,
    call: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// One server's metrics and the registry that serves them.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    sign_ins: Family<ResultLabels, Counter>,
    tokens: Family<GrantLabels, Counter>,
    refresh_reuse: Counter,
    code_replays: Counter,
    mail: Family<ResultLabels, Counter>,
    outbox_depth: Gauge,
    database_up: Gauge,
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_duration: Histograms<UpstreamCallLabels>,
    pool_wait: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let metrics = Self {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS)),
            sign_ins: Family::default(),
            tokens: Family::default(),
            refresh_reuse: Counter::default(),
            code_replays: Counter::default(),
            mail: Family::default(),
            outbox_depth: Gauge::default(),
            database_up: Gauge::default(),
            upstream_requests: Family::default(),
            upstream_duration: Family::new_with_constructor(|| Histogram::new(UPSTREAM_BUCKETS)),
            pool_wait: Histogram::new(POOL_WAIT_BUCKETS),
            registry: Registry::default(),
        };
        // Known label values start at zero, so a first event is an increase a rate can see.
        for result in SignIn::ALL {
            metrics.sign_ins.get_or_create_owned(&ResultLabels {
                result: result.label(),
            });
        }
        for grant in Grant::ALL {
            metrics.tokens.get_or_create_owned(&GrantLabels {
                grant: grant.label(),
            });
        }
        for result in Delivery::ALL {
            metrics.mail.get_or_create_owned(&ResultLabels {
                result: result.label(),
            });
        }
        registry.register(
            "build",
            "The running version",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            metrics.http_requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (to the response head), by route template and method",
            Unit::Seconds,
            metrics.http_duration.clone(),
        );
        registry.register(
            "sign_ins",
            "Password sign-in steps submitted on the hosted pages, by how they ended",
            metrics.sign_ins.clone(),
        );
        registry.register(
            "tokens_issued",
            "Token responses issued, by grant",
            metrics.tokens.clone(),
        );
        registry.register(
            "refresh_token_reuse",
            "Rotated refresh tokens used again: each revoked its whole family",
            metrics.refresh_reuse.clone(),
        );
        registry.register(
            "authorization_code_replays",
            "Authorization codes presented again: each revoked the tokens it had issued",
            metrics.code_replays.clone(),
        );
        registry.register(
            "mail_deliveries",
            "Attempts to deliver an outbox message, by result",
            metrics.mail.clone(),
        );
        registry.register(
            "mail_outbox_depth",
            "Messages waiting in the mail outbox (all processes), read at scrape time",
            metrics.outbox_depth.clone(),
        );
        registry.register(
            "database_up",
            "Whether the database answered this scrape's outbox query (1) or not (0)",
            metrics.database_up.clone(),
        );
        registry.register(
            "upstream_requests",
            "Calls to upstream identity providers, by provider type, call and result",
            metrics.upstream_requests.clone(),
        );
        registry.register_with_unit(
            "upstream_request_duration",
            "Time upstream identity-provider calls took, by provider type and call",
            Unit::Seconds,
            metrics.upstream_duration.clone(),
        );
        registry.register_with_unit(
            "database_pool_wait",
            "Time from asking for a pooled database connection to holding one",
            Unit::Seconds,
            metrics.pool_wait.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// One answered request. `route` is the matched route's template (`None`: no route
    /// matched); methods outside the standard ones share one label value.
    pub fn http_request(&self, route: Option<String>, method: &str, status: u16, took: Duration) {
        let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
        let method = standard_method(method);
        self.http_duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(took.as_secs_f64());
        self.http_requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    pub fn sign_in(&self, result: SignIn) {
        self.sign_ins
            .get_or_create(&ResultLabels {
                result: result.label(),
            })
            .inc();
    }

    pub fn token_issued(&self, grant: Grant) {
        self.tokens
            .get_or_create(&GrantLabels {
                grant: grant.label(),
            })
            .inc();
    }

    pub fn refresh_token_reused(&self) {
        self.refresh_reuse.inc();
    }

    pub fn code_replayed(&self) {
        self.code_replays.inc();
    }

    pub fn mail_delivery(&self, result: Delivery) {
        self.mail
            .get_or_create(&ResultLabels {
                result: result.label(),
            })
            .inc();
    }

    /// The outbox's depth as the database tells it now, or `None` when it could not be asked
    /// (the depth then keeps its last value and `database_up` says 0).
    pub fn outbox_depth(&self, depth: Option<i64>) {
        match depth {
            Some(depth) => {
                self.outbox_depth.set(depth);
                self.database_up.set(1);
            }
            None => {
                self.database_up.set(0);
            }
        }
    }

    /// One call to an upstream identity provider. `provider` is the provider's type and
    /// `result` `ok` or the kind of failure, both from closed sets.
    pub fn upstream_call(
        &self,
        provider: &'static str,
        call: &'static str,
        result: &'static str,
        took: Duration,
    ) {
        self.upstream_duration
            .get_or_create(&UpstreamCallLabels { provider, call })
            .observe(took.as_secs_f64());
        self.upstream_requests
            .get_or_create(&UpstreamLabels {
                provider,
                call,
                result,
            })
            .inc();
    }

    /// The histogram the store records its connection waits in (a shared handle).
    pub fn pool_wait(&self) -> Histogram {
        self.pool_wait.clone()
    }

    /// The page: OpenMetrics text, or the classic text format.
    pub fn encode(&self, openmetrics: bool) -> String {
        let mut page = String::new();
        let encoded = if openmetrics {
            prometheus_client::encoding::text::encode(&mut page, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut page, &self.registry)
        };
        // Writing to a String does not fail, and every label value encodes.
        encoded.expect("metrics encode to a string");
        page
    }
}

/// The request method as a label value: the standard methods (RFC 9110 §9.3, and PATCH), every
/// other one as `other`.
fn standard_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_routes_and_odd_methods_share_one_series() {
        let metrics = Metrics::new();
        let ms = Duration::from_millis(1);
        metrics.http_request(None, "BREW", 404, ms);
        metrics.http_request(None, "WHEN", 404, ms);
        let page = metrics.encode(true);
        assert!(
            page.contains(
                "gatehouse_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 2"
            ),
            "{page}"
        );
    }

    #[test]
    fn both_formats_carry_every_family() {
        let metrics = Metrics::new();
        metrics.sign_in(SignIn::Locked);
        for openmetrics in [true, false] {
            let page = metrics.encode(openmetrics);
            assert!(page.contains("gatehouse_sign_ins_total{result=\"locked\"} 1"));
            assert!(page.contains("gatehouse_sign_ins_total{result=\"success\"} 0"));
            assert!(page.contains("gatehouse_build_info{version=\""));
            assert!(page.contains("gatehouse_database_pool_wait_seconds_bucket"));
            assert_eq!(page.ends_with("# EOF\n"), openmetrics);
        }
    }
}
