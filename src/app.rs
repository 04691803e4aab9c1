//! The application: the actix `App`, binding (plain or TLS) and the background tasks.
//!
//! See docs/architecture.md and docs/deployment.md ("TLS", "Timeouts", "Shutdown and health").

use crate::http;
use crate::settings::TlsFiles;
use crate::store::Store;
use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::http::StatusCode;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;

/// The handlers' state lives with them; re-exported for callers that build a server.
pub use crate::http::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
}

/// Binds the listener and returns the running server with the addresses it listens on. The
/// background tasks run until the actix system ends, and signals are left to the caller: this
/// is the embedder's entry (tests, benches); the command uses `start`.
pub fn bind(state: AppState) -> Result<(Server, Vec<SocketAddr>), ServeError> {
    let serving = start(state)?;
    // Dropping the stop sender leaves the background tasks running.
    Ok((serving.server, serving.addrs))
}

/// A bound server with its background tasks (mail sender, housekeeping).
pub struct Serving {
    server: Server,
    pub addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<actix_web::rt::task::JoinHandle<()>>,
    /// The `--metrics-listen` server, stopped after the main one.
    metrics: Option<actix_web::dev::ServerHandle>,
}

/// Binds the listener and starts the background tasks.
pub fn start(state: AppState) -> Result<Serving, ServeError> {
    let listen = state.settings.listen.clone();
    let tls = state.settings.tls.clone();
    let keep_alive = match state.settings.keep_alive_seconds {
        0 => KeepAlive::Disabled,
        seconds => KeepAlive::Timeout(Duration::from_secs(seconds)),
    };
    let request_timeout = Duration::from_secs(state.settings.client_request_timeout_seconds);
    let store = state.store.clone();
    let sender = crate::mail::sender::Sender::new(
        store.clone(),
        state.mailer.clone(),
        state.services.mail.clone(),
    )
    .with_metrics(state.services.metrics.clone())
    .with_hooks(state.services.sealer.clone(), state.services.hooks.clone());
    let hsts = state.settings.hsts();
    let (demo, index) = (state.settings.demo.is_some(), state.settings.index_page);
    let metrics_listen = state.settings.metrics_listen.clone();
    let data = web::Data::new(state);
    // With a listener of its own, /metrics stays off the public one.
    let public_metrics = metrics_listen.is_none();
    let metrics_data = data.clone();
    let server = HttpServer::new(move || {
        let mut headers = DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff"));
        if let Some(hsts) = &hsts {
            headers = headers.add(("Strict-Transport-Security", hsts.as_str()));
        }
        App::new()
            .app_data(data.clone())
            // Bodies are small forms; anything larger is refused before it is read.
            .app_data(web::PayloadConfig::new(http::BODY_LIMIT))
            .wrap(ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, http::body_too_large))
            .wrap(headers)
            .wrap(from_fn(http::log_request))
            .wrap(from_fn(http::metrics::track))
            .configure(|cfg| {
                if public_metrics {
                    cfg.route(http::metrics::PATH, web::get().to(http::metrics::scrape));
                }
            })
            // Before every other route: `POST /` with `X-Amz-Target` is the JSON API, at the
            // root of the public URL and of each pool's own domain.
            .configure(http::cognito::routes)
            .configure(|cfg| http::index::routes(cfg, demo, index))
            .configure(http::routes)
            .default_service(web::to(http::not_found))
    })
    .keep_alive(keep_alive)
    .client_request_timeout(request_timeout)
    // actix would stop at once on SIGINT (gracefully only on SIGTERM): `Serving::run` handles
    // both the same way.
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_SECONDS);
    let server = match tls {
        Some(files) => server
            .bind_rustls_0_23(&listen, tls_config(&files)?)
            .map_err(|e| ServeError::Bind(listen.clone(), e))?,
        None => server
            .bind(&listen)
            .map_err(|e| ServeError::Bind(listen.clone(), e))?,
    };
    let addrs = server.addrs();
    let metrics_server = match &metrics_listen {
        Some(listen) => {
            let (metrics_server, metrics_addrs) = http::metrics::listener(listen, metrics_data)
                .map_err(|e| ServeError::Bind(listen.clone(), e))?;
            for addr in metrics_addrs {
                tracing::info!(%addr, "metrics served on their own listener");
            }
            let handle = metrics_server.handle();
            actix_web::rt::spawn(metrics_server);
            Some(handle)
        }
        None => None,
    };
    let (stop, stopping) = watch::channel(false);
    let tasks = vec![
        actix_web::rt::spawn(import_watch(store.clone(), stopping.clone())),
        actix_web::rt::spawn(housekeeping(store, stopping.clone())),
        // Mail committed before a crash or a restart goes out from here too.
        actix_web::rt::spawn(sender.run_until(stopping)),
    ];
    Ok(Serving {
        server: server.run(),
        addrs,
        stop,
        tasks,
        metrics: metrics_server,
    })
}

/// How long requests in flight may take to finish once a stop is asked for.
pub const SHUTDOWN_SECONDS: u64 = 10;

impl Serving {
    /// Serves until `termination` (SIGTERM or SIGINT), then stops accepting connections, lets
    /// the requests in flight finish (up to `SHUTDOWN_SECONDS`) and stops the background tasks
    /// (a message being delivered is finished and recorded first).
    pub async fn run_until_signalled(self, termination: Termination) -> std::io::Result<()> {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            let signal = termination.received().await;
            tracing::info!(signal, "stopping: finishing the requests in flight");
            handle.stop(true).await;
        });
        let result = self.server.await;
        if let Some(metrics) = self.metrics {
            metrics.stop(true).await;
        }
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
        tracing::info!("stopped");
        result
    }
}

/// SIGTERM and SIGINT (Ctrl-C), caught from the moment `install` returns: installed before the
/// server announces its address, a signal sent as soon as it answers cannot find the default
/// action (an abrupt exit) still in place.
pub struct Termination {
    handlers: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Termination {
    /// Must be called inside the runtime that will serve.
    pub fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(term), Ok(int)) => Some((term, int)),
            _ => {
                tracing::error!(
                    "signal handlers could not be installed: stop the process with SIGKILL"
                );
                None
            }
        };
        Self { handlers }
    }

    /// The first SIGTERM or SIGINT; never, without handlers.
    async fn received(self) -> &'static str {
        let Some((mut term, mut int)) = self.handlers else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    }
}

/// Resolves once a stop is asked for; never, if the sender is gone without asking.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    if stopping.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Purges expired sessions, codes, refresh tokens, families and throttle counters: at start and
/// then hourly. Every instance may do it; the deletes are idempotent. A purge under way when
/// the stop comes is finished.
async fn housekeeping(store: Store, stopping: watch::Receiver<bool>) {
    let mut ticker = actix_web::rt::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopped(stopping.clone()) => return,
        }
        match store
            .run(|conn| {
                let now = crate::store::now();
                // Delivered and abandoned messages are kept a week for the operator.
                let mail = crate::store::mail_outbox::purge_finished(conn, now - 7 * 24 * 3600)?;
                Ok(crate::store::grants::purge_expired(conn, now)? + mail)
            })
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired protocol state purged"),
            Err(e) => tracing::warn!("housekeeping failed: {e}"),
        }
    }
}

/// Ends the user import jobs whose run died with the process that ran it (docs/api.md, "Import
/// jobs"): each minute, from the start.
async fn import_watch(store: Store, stopping: watch::Receiver<bool>) {
    let mut ticker = actix_web::rt::time::interval(Duration::from_secs(60));
    let mut watched = crate::flows::user_import::Watched::new();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopped(stopping.clone()) => return,
        }
        let seen = std::mem::take(&mut watched);
        let outcome = store
            .run(move |conn| {
                let mut seen = seen;
                let now = crate::store::now();
                crate::flows::user_import::end_abandoned(conn, &mut seen, now).map(|_| seen)
            })
            .await;
        match outcome {
            Ok(seen) => watched = seen,
            Err(e) => tracing::warn!("import job watch failed: {e}"),
        }
    }
}

fn tls_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", files.key.display())))?;
    rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))
}
