//! Finds the pool a request is for: from the `/{pool_id}` path prefix, or from the Host header
//! when the pool owns a domain and is served at the root.
//!
//! See docs/deployment.md, "Domains".

use crate::http::AppState;
use crate::model::UserPool;
use crate::oauth::OAuthError;
use crate::oauth::discovery::PoolUrls;
use crate::store::{self, StoreError};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

/// The pool a request addresses, with the URLs it is reached at.
pub struct PoolSite {
    pub pool: UserPool,
    pub urls: PoolUrls,
}

impl FromRequest for PoolSite {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let by_path = req.match_info().get("pool_id").map(str::to_owned);
        let host = req.connection_info().host().to_owned();
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                OAuthError::server_error().with_detail("application state missing")
            })?;
            let key = match &by_path {
                Some(id) => format!("id:{id}"),
                None => format!("host:{}", host.to_ascii_lowercase()),
            };
            let directory = state.services.directory.clone();
            let found = match directory.cached_pool(&key, store::now()) {
                Some(cached) => cached,
                None => {
                    state
                        .store
                        .run(move |conn| {
                            directory.pool(conn, &key, store::now(), |conn| match by_path {
                                Some(id) => match store::pools::get(conn, &id) {
                                    Ok(pool) => Ok(Some(pool)),
                                    Err(StoreError::NotFound) => Ok(None),
                                    Err(e) => Err(e),
                                },
                                None => find_by_host(conn, &host),
                            })
                        })
                        .await?
                }
            };
            let pool = found.ok_or_else(|| OAuthError::not_found("no such user pool"))?;
            req.extensions_mut()
                .insert(crate::http::LoggedPool(pool.id.as_str().to_owned()));
            let urls = PoolUrls::new(
                &state.settings.public_url,
                pool.id.as_str(),
                pool.domain.as_deref(),
            );
            Ok(PoolSite { pool, urls })
        })
    }
}

/// A pool whose domain is the request's host, with or without the port.
fn find_by_host(
    conn: &mut store::AnyConnection,
    host: &str,
) -> store::StoreResult<Option<UserPool>> {
    let host = host.to_ascii_lowercase();
    if let Some(pool) = store::pools::find_by_domain(conn, &host)? {
        return Ok(Some(pool));
    }
    match host.rsplit_once(':') {
        Some((bare, port)) if port.bytes().all(|b| b.is_ascii_digit()) => {
            store::pools::find_by_domain(conn, bare)
        }
        _ => Ok(None),
    }
}

impl PoolSite {
    /// What flows need to know about the pool.
    pub fn site(&self) -> crate::flows::Site {
        crate::flows::Site {
            pool: self.pool.clone(),
            urls: self.urls.clone(),
        }
    }
}
