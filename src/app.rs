//! The application: the actix `App`, binding (plain or TLS) and the background tasks.
//!
//! See docs/architecture.md and docs/deployment.md ("TLS").

use crate::http;
use crate::settings::TlsFiles;
use crate::store::Store;
use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use std::net::SocketAddr;

/// The handlers' state lives with them; re-exported for callers that build a server.
pub use crate::http::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
}

/// Binds the listener and returns the running server with the addresses it listens on.
/// The server stops gracefully on SIGTERM / SIGINT.
pub fn bind(state: AppState) -> Result<(Server, Vec<SocketAddr>), ServeError> {
    let listen = state.settings.listen.clone();
    let tls = state.settings.tls.clone();
    let store = state.store.clone();
    let sender = crate::mail::sender::Sender::new(
        store.clone(),
        state.mailer.clone(),
        state.services.mail.clone(),
    )
    .with_metrics(state.services.metrics.clone());
    let hsts = state.settings.hsts();
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
            .configure(http::routes)
            .default_service(web::to(http::not_found))
    })
    .shutdown_timeout(10);
    let server = match tls {
        Some(files) => server
            .bind_rustls_0_23(&listen, tls_config(&files)?)
            .map_err(|e| ServeError::Bind(listen.clone(), e))?,
        None => server
            .bind(&listen)
            .map_err(|e| ServeError::Bind(listen.clone(), e))?,
    };
    let addrs = server.addrs();
    if let Some(listen) = &metrics_listen {
        let (metrics_server, metrics_addrs) = http::metrics::listener(listen, metrics_data)
            .map_err(|e| ServeError::Bind(listen.clone(), e))?;
        for addr in metrics_addrs {
            tracing::info!(%addr, "metrics served on their own listener");
        }
        actix_web::rt::spawn(metrics_server);
    }
    actix_web::rt::spawn(housekeeping(store));
    // Mail committed before a crash or a restart goes out from here too.
    actix_web::rt::spawn(sender.run());
    Ok((server.run(), addrs))
}

/// Purges expired sessions, codes, refresh tokens, families and throttle counters: at start and
/// then hourly. Every instance may do it; the deletes are idempotent.
async fn housekeeping(store: Store) {
    let mut ticker = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
    loop {
        ticker.tick().await;
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
