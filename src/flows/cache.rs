//! The directory cache as flows reach it; it lives in `store::cache` (see "Caches" in
//! docs/architecture.md).

pub use crate::store::cache::{ClientLook, DirectoryCache, TTL_SECONDS};

impl crate::store::cache::PoolScoped for super::Site {
    fn pool_id(&self) -> &str {
        super::Site::pool_id(self)
    }
}
