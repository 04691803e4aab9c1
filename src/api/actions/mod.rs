//! The implemented actions, by name (../docs/api.md, "Actions"). Each group of actions lives
//! in its own module and lists its own names; an action takes the call's context and its JSON
//! input and returns its JSON output.

pub mod account;
pub mod admin_attributes;
pub mod admin_users;
pub mod auth;
pub mod groups;
pub mod import_jobs;
pub mod list_users;
pub mod pools;
pub mod sign_up;

use super::{ApiError, Ctx};
use serde_json::Value;

/// An action's handler.
pub type Action = fn(&mut Ctx, Value) -> Result<Value, ApiError>;

/// The handler of an implemented action.
pub fn find(name: &str) -> Option<Action> {
    pools::find(name)
        .or_else(|| sign_up::find(name))
        .or_else(|| account::find(name))
        .or_else(|| auth::find(name))
        .or_else(|| admin_users::find(name))
        .or_else(|| admin_attributes::find(name))
        .or_else(|| groups::find(name))
        .or_else(|| list_users::find(name))
        .or_else(|| import_jobs::find(name))
}

/// Whether the action is implemented (the front door answers `UnknownOperationException`
/// before checking any signature otherwise).
pub fn exists(name: &str) -> bool {
    find(name).is_some()
}
