//! Calling a pool's hooks from a use case (docs/triggers.md): the hook's declaration is looked
//! up on the site, the database connection is given back while the hook thinks, and its
//! `response` comes back for the use case to act on.

use super::{Services, Site};
use crate::hooks::{Event, HookError};
use crate::model::triggers::{HookTarget, TriggerKind};
use crate::store::Lease;
use crate::ui::i18n::Text;
use serde_json::{Map, Value};

/// The pool's hook for `kind`, when it declares one.
pub fn hook(site: &Site, kind: TriggerKind) -> Option<&HookTarget> {
    site.pool.settings.triggers.get(&kind)
}

/// Whether the pool declares a hook for `kind`.
pub fn declared(site: &Site, kind: TriggerKind) -> bool {
    hook(site, kind).is_some()
}

/// Sends `event` to the pool's hook for `kind` with the connection released (it is checked
/// out again on the next `db.conn()`). `Ok(None)` when the pool has no such hook. Never call it
/// inside a transaction.
pub fn call(
    db: &mut Lease,
    services: &Services,
    site: &Site,
    kind: TriggerKind,
    event: Event,
) -> Result<Option<Map<String, Value>>, HookError> {
    let Some(target) = hook(site, kind) else {
        return Ok(None);
    };
    db.release();
    let event = match kind {
        TriggerKind::PreTokenGeneration => event.version(target.version.event_field()),
        _ => event,
    };
    services
        .hooks
        .invoke(
            &services.sealer,
            site.pool_id(),
            kind,
            target,
            &event.to_json(),
        )
        .map(Some)
}

/// What a hosted page says when a hook failed: a refusal shows Cognito's sentence with the
/// hook's own message (as Cognito's hosted UI does); any other failure a plain apology.
pub fn page_text(error: &HookError) -> Text {
    match error.failure {
        crate::hooks::Failure::Rejected(_) => {
            Text::new("error.hook_refused").with("message", error.message())
        }
        _ => Text::new("error.hook_failed"),
    }
}
