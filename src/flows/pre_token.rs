//! Pre token generation (docs/triggers.md, "Pre token generation";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html>):
//! the one use case every path that issues tokens calls before it signs them. It sends the pool's
//! hook Cognito's V1/V2/V3 event and turns the answer into edits of the ID and access tokens'
//! claims, their groups and the access token's scopes.

use super::{Services, Site, internal, triggers};
use crate::hooks::{Event, Failure, HookError, event};
use crate::model::triggers::{EventVersion, TriggerKind};
use crate::model::{AppClient, User};
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::{self, AnyConnection, Lease, StoreError, StoreResult};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const KIND: TriggerKind = TriggerKind::PreTokenGeneration;

/// Why tokens are being issued: the event's `triggerSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A hosted sign-in's authorization code redeemed at `/oauth2/token`.
    HostedAuth,
    /// The end of an API sign-in.
    Authentication,
    /// An API sign-in that ended with the new-password challenge.
    NewPasswordChallenge,
    /// The refresh grant (`/oauth2/token`, `REFRESH_TOKEN_AUTH`).
    RefreshTokens,
    /// The `client_credentials` grant; only V3 hooks hear of it.
    ClientCredentials,
}

impl Source {
    pub fn trigger_source(self) -> &'static str {
        match self {
            Self::HostedAuth => "TokenGeneration_HostedAuth",
            Self::Authentication => "TokenGeneration_Authentication",
            Self::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            Self::RefreshTokens => "TokenGeneration_RefreshTokens",
            Self::ClientCredentials => "TokenGeneration_ClientCredentials",
        }
    }
}

/// The database as a grant holds it: a bare connection (grants of pools without the hook, which
/// may run on the async worker) or a `Lease` the hook's call can give back.
pub trait GrantDb {
    fn conn(&mut self) -> StoreResult<&mut AnyConnection>;
    /// The lease, when the connection can be given back while a hook thinks.
    fn lease(&mut self) -> Option<&mut Lease>;
}

impl GrantDb for AnyConnection {
    fn conn(&mut self) -> StoreResult<&mut AnyConnection> {
        Ok(self)
    }
    fn lease(&mut self) -> Option<&mut Lease> {
        None
    }
}

impl GrantDb for Lease {
    fn conn(&mut self) -> StoreResult<&mut AnyConnection> {
        Lease::conn(self)
    }
    fn lease(&mut self) -> Option<&mut Lease> {
        Some(self)
    }
}

/// Whether grants of this pool must run with a `Lease` (the pool declares the hook).
pub fn needs_lease(site: &Site) -> bool {
    triggers::declared(site, KIND)
}

/// A grant's failure: an OAuth refusal, or the hook's (which each front door reports its way).
#[derive(Debug)]
pub enum TokenError {
    OAuth(OAuthError),
    Hook(HookError),
}

impl From<OAuthError> for TokenError {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl From<HookError> for TokenError {
    fn from(error: HookError) -> Self {
        Self::Hook(error)
    }
}

impl From<StoreError> for TokenError {
    fn from(error: StoreError) -> Self {
        Self::OAuth(error.into())
    }
}

/// At `/oauth2/token` (RFC 6749 §5.2): a refusing hook makes the grant unusable for this user
/// (`invalid_grant`, with Cognito's sentence); a broken answer is the server's failure
/// (`server_error`); a hook that does not answer, `temporarily_unavailable`.
impl From<TokenError> for OAuthError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::OAuth(error) => error,
            TokenError::Hook(hook) => {
                let code = match hook.failure {
                    Failure::Rejected(_) => ErrorCode::InvalidGrant,
                    Failure::InvalidResponse(_) => ErrorCode::ServerError,
                    Failure::Unreachable(_) => ErrorCode::TemporarilyUnavailable,
                };
                OAuthError::new(code, hook.message()).with_detail(hook.to_string())
            }
        }
    }
}

/// What tokens are about to be issued, as the hook is told.
pub struct TokenRequest<'a> {
    pub source: Source,
    pub client: &'a AppClient,
    /// `None` for the `client_credentials` grant.
    pub user: Option<&'a User>,
    /// The access token's scopes.
    pub scopes: &'a [String],
    pub client_metadata: Option<&'a BTreeMap<String, String>>,
}

/// Edits of one token's claims.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimEdits {
    pub add: Map<String, Value>,
    pub suppress: Vec<String>,
}

/// `groupOverrideDetails`: replaces the user's groups and their roles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupOverride {
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub preferred_role: Option<String>,
}

/// What the hook asked for; the default changes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Customization {
    pub id_token: ClaimEdits,
    pub access_token: ClaimEdits,
    pub scopes_to_add: Vec<String>,
    pub scopes_to_suppress: Vec<String>,
    /// `None` keeps the user's groups.
    pub groups: Option<GroupOverride>,
}

/// Claims no hook changes (Cognito ignores such edits silently): identity, audience, times,
/// token ids and bindings. `scope` changes through `scopesToAdd`/`scopesToSuppress` only.
const PROTECTED: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "auth_time",
    "azp",
    "exp",
    "iat",
    "identities",
    "iss",
    "sub",
    "token_use",
    "cognito:username",
    "username",
    "at_hash",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "client_id",
    "scope",
    "version",
];

/// Set through `groupOverrideDetails` only.
const GROUP_CLAIMS: &[&str] = &["cognito:groups", "cognito:roles", "cognito:preferred_role"];

fn protected(claim: &str) -> bool {
    PROTECTED.contains(&claim)
}

impl ClaimEdits {
    /// Adds and overrides, then suppresses (a claim both overridden and suppressed is gone).
    fn apply(&self, claims: &mut Map<String, Value>) {
        for (name, value) in &self.add {
            if !protected(name) && !GROUP_CLAIMS.contains(&name.as_str()) {
                claims.insert(name.clone(), value.clone());
            }
        }
        for name in &self.suppress {
            if !protected(name) {
                claims.remove(name);
            }
        }
    }
}

fn set_list(claims: &mut Map<String, Value>, name: &str, items: &[String]) {
    if items.is_empty() {
        claims.remove(name);
    } else {
        claims.insert(name.into(), items.into());
    }
}

impl Customization {
    /// The ID token's claims: groups, roles and preferred role, then the claim edits.
    pub fn apply_to_id_token(&self, claims: &mut Map<String, Value>) {
        if let Some(groups) = &self.groups {
            set_list(claims, "cognito:groups", &groups.groups);
            set_list(claims, "cognito:roles", &groups.roles);
            match &groups.preferred_role {
                Some(role) => claims.insert("cognito:preferred_role".into(), role.clone().into()),
                None => claims.remove("cognito:preferred_role"),
            };
        }
        self.id_token.apply(claims);
    }

    /// The access token's claims: groups (Cognito's access tokens carry no roles), the claim
    /// edits, and `scope` with the scopes added and suppressed.
    pub fn apply_to_access_token(&self, claims: &mut Map<String, Value>) {
        if let Some(groups) = &self.groups {
            set_list(claims, "cognito:groups", &groups.groups);
        }
        self.access_token.apply(claims);
        if self.scopes_to_add.is_empty() && self.scopes_to_suppress.is_empty() {
            return;
        }
        let granted = claims.get("scope").and_then(Value::as_str).unwrap_or("");
        let mut scopes: Vec<&str> = granted.split(' ').filter(|s| !s.is_empty()).collect();
        for added in &self.scopes_to_add {
            if !scopes.contains(&added.as_str()) {
                scopes.push(added);
            }
        }
        scopes.retain(|s| !self.scopes_to_suppress.iter().any(|x| x == s));
        claims.insert("scope".into(), scopes.join(" ").into());
    }
}

/// Runs the pool's pre token generation hook, if it declares one that hears of `request`, and
/// returns what it asked for. Call it outside any transaction: the lease is given back while
/// the hook thinks.
pub fn customize(
    db: &mut dyn GrantDb,
    services: &Services,
    site: &Site,
    request: &TokenRequest,
) -> Result<Customization, TokenError> {
    let Some(target) = triggers::hook(site, KIND) else {
        return Ok(Customization::default());
    };
    let version = target.version;
    // V1 and V2 hooks never hear of machine-to-machine tokens.
    if request.source == Source::ClientCredentials && version != EventVersion::V3 {
        return Ok(Customization::default());
    }
    let groups = match request.user {
        Some(user) => group_configuration(db.conn()?, site, user)?,
        None => json!({"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null}),
    };
    let user_name = match request.user {
        Some(user) => user.username.as_str(),
        // The client is its own subject.
        None => request.client.id.as_str(),
    };
    let mut event = Event::new(
        request.source.trigger_source(),
        site.pool_id(),
        user_name,
        Some(request.client.id.as_str()),
    );
    event = match request.user {
        Some(user) => event.user(user),
        None => event,
    };
    event = event
        .request("groupConfiguration", groups)
        .client_metadata(request.client_metadata);
    event = match version {
        EventVersion::V1 => event.response("claimsOverrideDetails", Value::Null),
        EventVersion::V2 | EventVersion::V3 => event
            .request("scopes", request.scopes)
            .response("claimsAndScopeOverrideDetails", Value::Null),
    };
    let Some(lease) = db.lease() else {
        // Routing sends every grant of a pool with this hook to the blocking pool with a lease.
        return Err(internal("pre token generation needs a leased connection").into());
    };
    let Some(response) = triggers::call(lease, services, site, KIND, event)? else {
        return Ok(Customization::default());
    };
    let mut custom =
        parse(version, &response).map_err(|detail| HookError::invalid(KIND, detail))?;
    if request.user.is_none() {
        // A client's token has no ID token and no groups.
        custom.id_token = ClaimEdits::default();
        custom.groups = None;
    }
    Ok(custom)
}

/// `request.groupConfiguration`: the user's groups by precedence, their roles, and the role of
/// the group that takes precedence.
fn group_configuration(conn: &mut AnyConnection, site: &Site, user: &User) -> StoreResult<Value> {
    let names = store::users::groups_of(conn, site.pool_id(), &user.sub)?;
    let mut roles: Vec<String> = Vec::new();
    let mut first: Option<(i32, Option<String>)> = None;
    let mut tied = false;
    for name in &names {
        let Some(record) = store::groups::find(conn, site.pool_id(), name)? else {
            continue;
        };
        let group = record.group;
        if let Some(role) = &group.role_arn
            && !roles.contains(role)
        {
            roles.push(role.clone());
        }
        // Groups come by precedence: the first with one wins, unless another ties with it.
        if let Some(precedence) = group.precedence {
            match &first {
                None => first = Some((precedence, group.role_arn.clone())),
                Some((p, role)) if *p == precedence && *role != group.role_arn => tied = true,
                _ => {}
            }
        }
    }
    let preferred = first.and_then(|(_, role)| role).filter(|_| !tied);
    Ok(json!({
        "groupsToOverride": names,
        "iamRolesToOverride": roles,
        "preferredRole": preferred,
    }))
}

/// Reads the hook's `response` as the event version defines it. `Err` names a wrong-typed field.
pub fn parse(
    version: EventVersion,
    response: &Map<String, Value>,
) -> Result<Customization, String> {
    let mut out = Customization::default();
    match version {
        EventVersion::V1 => {
            let Some(details) = object(response, "claimsOverrideDetails")? else {
                return Ok(out);
            };
            out.id_token = claim_edits(details, false)?;
            out.groups = group_override(details)?;
        }
        EventVersion::V2 | EventVersion::V3 => {
            let Some(details) = object(response, "claimsAndScopeOverrideDetails")? else {
                return Ok(out);
            };
            if let Some(id) = object(details, "idTokenGeneration")? {
                out.id_token = claim_edits(id, true)?;
            }
            if let Some(access) = object(details, "accessTokenGeneration")? {
                out.access_token = claim_edits(access, true)?;
                out.scopes_to_add = scope_list(access, "scopesToAdd")?;
                out.scopes_to_suppress = scope_list(access, "scopesToSuppress")?;
            }
            out.groups = group_override(details)?;
        }
    }
    Ok(out)
}

fn object<'a>(
    map: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(format!("`{name}` is not an object")),
    }
}

/// `claimsToAddOrOverride` and `claimsToSuppress`. V1 claims are strings (numbers and booleans
/// are taken as their text); V2 claims may be any JSON value but `null`.
fn claim_edits(details: &Map<String, Value>, any_json: bool) -> Result<ClaimEdits, String> {
    let add = if any_json {
        object(details, "claimsToAddOrOverride")?
            .map(|claims| {
                claims
                    .iter()
                    .filter(|(_, value)| !value.is_null())
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        event::string_map(details, "claimsToAddOrOverride")?
            .unwrap_or_default()
            .into_iter()
            .map(|(name, value)| (name, Value::String(value)))
            .collect()
    };
    Ok(ClaimEdits {
        add,
        suppress: event::string_list(details, "claimsToSuppress")?.unwrap_or_default(),
    })
}

/// A list of scopes, each a scope-token of RFC 6749 §3.3.
fn scope_list(details: &Map<String, Value>, name: &str) -> Result<Vec<String>, String> {
    let scopes = event::string_list(details, name)?.unwrap_or_default();
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    };
    match scopes.iter().find(|s| !valid(s)) {
        Some(bad) => Err(format!("`{name}` has `{bad}`, which is no scope")),
        None => Ok(scopes),
    }
}

/// `groupOverrideDetails`: absent or `null` keeps the groups; an object replaces them (a
/// missing list is an empty one).
fn group_override(details: &Map<String, Value>) -> Result<Option<GroupOverride>, String> {
    let Some(groups) = object(details, "groupOverrideDetails")? else {
        return Ok(None);
    };
    Ok(Some(GroupOverride {
        groups: event::string_list(groups, "groupsToOverride")?.unwrap_or_default(),
        roles: event::string_list(groups, "iamRolesToOverride")?.unwrap_or_default(),
        preferred_role: event::string_field(groups, "preferredRole")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn v1_edits_the_id_token_and_groups_only() {
        let response = map(json!({"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"tier": "gold", "n": 3, "sub": "evil", "cognito:groups": "x"},
            "claimsToSuppress": ["email", "iss"],
            "groupOverrideDetails": {"groupsToOverride": ["a"], "iamRolesToOverride": ["r"],
                                     "preferredRole": "r"},
        }}));
        let custom = parse(EventVersion::V1, &response).unwrap();
        let mut id = map(json!({"sub": "s", "iss": "i", "email": "e", "cognito:groups": ["old"]}));
        custom.apply_to_id_token(&mut id);
        assert_eq!(
            Value::Object(id),
            json!({"sub": "s", "iss": "i", "tier": "gold", "n": "3", "cognito:groups": ["a"],
                   "cognito:roles": ["r"], "cognito:preferred_role": "r"})
        );
        let mut access = map(json!({"scope": "openid", "cognito:groups": ["old"]}));
        custom.apply_to_access_token(&mut access);
        assert_eq!(
            Value::Object(access),
            json!({"scope": "openid", "cognito:groups": ["a"]})
        );
        let nested = map(json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"o": {}}}}));
        assert!(parse(EventVersion::V1, &nested).is_err());
    }

    #[test]
    fn v2_edits_both_tokens_and_scopes_and_suppression_wins() {
        let response = map(json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"obj": {"k": [1, true]}}},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"plan": "pro", "gone": "x", "scope": "admin"},
                "claimsToSuppress": ["gone"],
                "scopesToAdd": ["api/read", "openid"],
                "scopesToSuppress": ["email", "api/read"],
            },
            "groupOverrideDetails": {},
        }}));
        let custom = parse(EventVersion::V2, &response).unwrap();
        let mut access = map(json!({"scope": "openid email", "cognito:groups": ["g"]}));
        custom.apply_to_access_token(&mut access);
        assert_eq!(
            Value::Object(access),
            json!({"scope": "openid", "plan": "pro"})
        );
        let mut id = map(json!({"cognito:groups": ["g"]}));
        custom.apply_to_id_token(&mut id);
        assert_eq!(Value::Object(id), json!({"obj": {"k": [1, true]}}));
        // The version decides which answer is read.
        assert_eq!(
            parse(EventVersion::V1, &response).unwrap(),
            Customization::default()
        );
    }

    #[test]
    fn wrong_types_and_null_answers() {
        let null = map(json!({"claimsAndScopeOverrideDetails": null}));
        assert_eq!(
            parse(EventVersion::V3, &null).unwrap(),
            Customization::default()
        );
        for bad in [
            json!({"claimsOverrideDetails": "x"}),
            json!({"claimsOverrideDetails": {"claimsToSuppress": "email"}}),
            json!({"claimsOverrideDetails": {"groupOverrideDetails": {"groupsToOverride": [1]}}}),
        ] {
            assert!(parse(EventVersion::V1, &map(bad)).is_err());
        }
        let spaced = json!({"claimsAndScopeOverrideDetails": {"accessTokenGeneration":
            {"scopesToAdd": ["a b"]}}});
        assert!(parse(EventVersion::V2, &map(spaced)).is_err());
    }
}
