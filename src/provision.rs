//! Writes a validated `Declaration` into the store: creates what is missing, updates what
//! differs, and never deletes what the file does not mention. Everything happens in one
//! transaction, so a failure leaves the database as it was.
//!
//! What the file declares: docs/configuration.md.

use crate::config::{Declaration, DeclaredPool, DeclaredUser};
use crate::flows::messages::{self, Message};
use crate::model::{
    Attributes, ClientSettings, OAuthFlow, PoolSettings, User, UserPool, UserStatus,
};
use crate::sealing::Sealer;
use crate::secrets;
use crate::store::{self, AnyConnection, Saved, StoreError, StoreResult};
use crate::tokens::keys;
use uuid::Uuid;

/// What applying a declaration changed, counted per outcome.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub keys_generated: usize,
    /// Pools whose attribute schema this start changed, or that keep retired values.
    pub schema: Vec<SchemaChange>,
}

/// What a start changed in a pool's attribute schema (docs/migrating.md, "Changing the schema
/// after creation"), and the retired values it keeps; logged once the declaration is applied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SchemaChange {
    pub pool: String,
    pub required_added: Vec<String>,
    pub required_removed: Vec<String>,
    /// Full names (`custom:tier`).
    pub custom_added: Vec<String>,
    pub custom_removed: Vec<String>,
    /// Custom attributes whose type, mutability or length changed: new writes follow it.
    pub custom_redefined: Vec<String>,
    /// Values moved out of sight because their attribute was removed.
    pub values_hidden: usize,
    /// Retired values moved back because their attribute is declared again.
    pub values_restored: usize,
    /// Retired values still kept, as (attribute, users holding one).
    pub retired: Vec<(String, i64)>,
}

impl SchemaChange {
    fn changed(&self) -> bool {
        !(self.required_added.is_empty()
            && self.required_removed.is_empty()
            && self.custom_added.is_empty()
            && self.custom_removed.is_empty()
            && self.custom_redefined.is_empty())
    }

    fn log(&self) {
        if self.changed() || self.values_hidden + self.values_restored > 0 {
            tracing::info!(
                pool = %self.pool,
                required_added = ?self.required_added,
                required_removed = ?self.required_removed,
                custom_added = ?self.custom_added,
                custom_removed = ?self.custom_removed,
                custom_redefined = ?self.custom_redefined,
                values_hidden = self.values_hidden,
                values_restored = self.values_restored,
                "attribute schema changed: users lacking a newly required attribute are asked \
                 for it at their next hosted sign-in; values of removed custom attributes are \
                 kept hidden"
            );
        }
        for (attribute, users) in &self.retired {
            tracing::info!(
                pool = %self.pool,
                attribute = %attribute,
                users,
                "users hold hidden values of a custom attribute the pool no longer declares; \
                 declaring it again brings them back"
            );
        }
    }
}

impl ApplyReport {
    fn count(&mut self, saved: Saved) {
        match saved {
            Saved::Created => self.created += 1,
            Saved::Updated => self.updated += 1,
            Saved::Unchanged => self.unchanged += 1,
        }
    }
}

impl std::fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} unchanged, {} signing keys generated",
            self.created, self.updated, self.unchanged, self.keys_generated
        )
    }
}

/// Applies a declaration without sending invitations, sealing secrets with the process's
/// ephemeral key (`Sealer::process_ephemeral`, which a server built without
/// `Settings::encryption` shares): for tests and `ensure_demo`, which seals nothing.
pub fn apply(conn: &mut AnyConnection, declaration: &Declaration) -> StoreResult<ApplyReport> {
    apply_and_invite(conn, declaration, false, &Sealer::process_ephemeral())
}

/// Applies a declaration in one transaction. Users it creates with a temporary password
/// (FORCE_CHANGE_PASSWORD) and an email get the pool's invitation, queued in the same
/// transaction (`store::mail_outbox`) and delivered by the server's mail sender after it
/// commits: a start never leaves an uninvited user, and a mail server that is down delays the
/// invitation instead of the start.
pub fn apply_and_invite(
    conn: &mut AnyConnection,
    declaration: &Declaration,
    invite: bool,
    sealer: &Sealer,
) -> StoreResult<ApplyReport> {
    let report = crate::store::write_transaction(conn, |conn| {
        let mut report = ApplyReport::default();
        for declared in &declaration.pools {
            apply_pool(conn, declared, &mut report, invite, sealer)?;
        }
        Ok::<_, StoreError>(report)
    })?;
    // After the commit, so that a retried start logs once.
    report.schema.iter().for_each(SchemaChange::log);
    Ok(report)
}

fn apply_pool(
    conn: &mut AnyConnection,
    declared: &DeclaredPool,
    report: &mut ApplyReport,
    invite: bool,
    sealer: &Sealer,
) -> StoreResult<()> {
    let before = match store::pools::get(conn, declared.pool.id.as_str()) {
        Ok(stored) => Some(stored.settings),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let pool = &sealed_hooks(&declared.pool, before.as_ref().map(|b| &b.triggers), sealer);
    report.count(store::pools::save(conn, pool)?);
    for server in &declared.resource_servers {
        report.count(store::directory::save_resource_server(conn, server)?);
    }
    for provider in &declared.identity_providers {
        report.count(store::directory::save_identity_provider(
            conn, sealer, provider,
        )?);
    }
    for client in &declared.clients {
        let mut client = client.clone();
        if let Some(clear) = declared.client_secrets.get(client.id.as_str()) {
            client.sealed_secret = Some(sealed_client_secret(conn, sealer, &client, clear)?);
        }
        report.count(store::clients::save(conn, &client)?);
    }
    for group in &declared.groups {
        report.count(store::directory::save_group(conn, group)?);
    }
    for user in &declared.users {
        report.count(apply_user(conn, pool, user, invite, sealer)?);
    }
    for customization in &declared.ui_customizations {
        report.count(store::directory::save_customization(conn, customization)?);
    }
    if ensure_signing_key(conn, pool.id.as_str())? {
        report.keys_generated += 1;
    }
    let change = apply_schema(conn, pool, before.as_ref())?;
    if change.changed() || !change.retired.is_empty() || change.values_restored > 0 {
        report.schema.push(change);
    }
    Ok(())
}

/// The pool with its hooks' secrets sealed: a stored sealing is kept while it is under the
/// current key and opens to the declared secret, so an unchanged file rewrites nothing.
fn sealed_hooks(
    pool: &UserPool,
    stored: Option<&crate::model::triggers::Triggers>,
    sealer: &Sealer,
) -> UserPool {
    let mut pool = pool.clone();
    for (kind, hook) in pool.settings.triggers.iter_mut() {
        let Some(clear) = hook.clear_secret.take() else {
            continue;
        };
        let purpose = crate::hooks::secret_purpose(pool.id.as_str(), *kind);
        let kept = (stored.and_then(|s| s.get(kind)))
            .map(|s| s.sealed_secret.clone())
            .filter(|sealed| {
                sealer.is_current(sealed)
                    && sealer.open_string(&purpose, sealed).as_deref() == Ok(&clear)
            });
        hook.sealed_secret = kept.unwrap_or_else(|| sealer.seal_str(&purpose, &clear));
    }
    pool
}

/// The pool's attribute schema as declared now against the one stored before this start:
/// values of removed custom attributes are moved out of sight, those of declared ones come back
/// (docs/migrating.md, "Changing the schema after creation").
fn apply_schema(
    conn: &mut AnyConnection,
    pool: &UserPool,
    before: Option<&PoolSettings>,
) -> StoreResult<SchemaChange> {
    let prefixed = |settings: &PoolSettings| -> Vec<String> {
        (settings.custom_attributes.iter())
            .map(|c| format!("{}{}", crate::model::attributes::CUSTOM_PREFIX, c.name))
            .collect()
    };
    let missing_from = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|n| !b.contains(n)).cloned().collect()
    };
    let now = &pool.settings;
    let declared = prefixed(now);
    let mut change = SchemaChange {
        pool: pool.id.to_string(),
        ..SchemaChange::default()
    };
    if let Some(before) = before {
        let had = prefixed(before);
        change.required_added = missing_from(&now.required_attributes, &before.required_attributes);
        change.required_removed =
            missing_from(&before.required_attributes, &now.required_attributes);
        change.custom_added = missing_from(&declared, &had);
        change.custom_removed = missing_from(&had, &declared);
        change.custom_redefined = (now.custom_attributes.iter())
            .filter(|c| {
                before
                    .custom_attributes
                    .iter()
                    .any(|b| b.name == c.name && b != *c)
            })
            .map(|c| format!("{}{}", crate::model::attributes::CUSTOM_PREFIX, c.name))
            .collect();
        change.values_hidden =
            store::retired::hide(conn, pool, &change.custom_removed, store::now())?;
    }
    change.values_restored = store::retired::restore(conn, pool, &declared)?;
    change.retired = store::retired::counts(conn, pool.id.as_str())?;
    Ok(change)
}

/// The client's secret sealed: the stored value when it is sealed by the current key and opens
/// to the declared secret (so re-applying an unchanged file changes nothing), else a new one.
fn sealed_client_secret(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    client: &crate::model::AppClient,
    clear: &crate::sealing::Clear,
) -> StoreResult<String> {
    let purpose = crate::sealing::purpose::client_secret(client.id.as_str());
    let stored = store::clients::find_by_id(conn, client.id.as_str())?
        .and_then(|stored| stored.sealed_secret)
        .filter(|sealed| {
            sealer.is_current(sealed)
                && sealer.open_string(&purpose, sealed).as_deref() == Ok(clear.expose())
        });
    Ok(stored.unwrap_or_else(|| sealer.seal_str(&purpose, clear.expose())))
}

/// A declared user is created with its password and status; afterwards the file keeps its
/// attributes, enabled flag and group memberships up to date, but never resets a password or
/// status the user has since changed.
/// Cognito's invitation (docs/configuration.md, "`[pool.messages]`"): `{username}` and the
/// temporary password `{####}`, as `message` says (`flows::messages`), to the user's email.
pub fn queue_invitation(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    pool: &UserPool,
    user: &User,
    password: &str,
    message: &Message,
    now: i64,
) -> StoreResult<()> {
    let Some(to) = user.attributes.get("email") else {
        return Ok(());
    };
    messages::queue(conn, sealer, pool, user, to, password, message, now)
}

fn apply_user(
    conn: &mut AnyConnection,
    pool: &UserPool,
    declared: &DeclaredUser,
    invite: bool,
    sealer: &Sealer,
) -> StoreResult<Saved> {
    let time = store::now();
    let saved = match store::users::find_by_username(conn, pool, &declared.username)? {
        None => {
            let password_hash = declared
                .password
                .as_deref()
                .map(secrets::hash_password)
                .transpose()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            let mut user = User {
                sub: Uuid::new_v4(),
                pool_id: pool.id.clone(),
                username: declared.username.clone(),
                status: declared.status,
                enabled: declared.enabled,
                password_hash,
                attributes: declared.attributes.clone(),
                created_at: time,
                updated_at: time,
                srp_verifier: None,
            };
            // SRP sign-ins work from the first one: the verifier is made with the password.
            if let Some(password) = &declared.password {
                user.srp_verifier = Some(crate::flows::passwords::sealed_verifier_with(
                    sealer, &user, password,
                ));
            }
            store::users::create(conn, pool, &user)?;
            if let (true, UserStatus::ForceChangePassword, Some(password)) =
                (invite, user.status, declared.password.as_deref())
            {
                // No `custom_message` hook at provisioning (it runs before the server serves
                // and may precede the hook's own start): the pool's template, or its sender.
                let caller = messages::Caller::default();
                let message = messages::templates(pool, messages::Source::AdminCreateUser, caller);
                queue_invitation(conn, sealer, pool, &user, password, &message, time)?;
            }
            Saved::Created
        }
        Some(mut user) => {
            let mut attributes = user.attributes.clone();
            attributes.merge(&declared.attributes);
            if attributes == user.attributes && user.enabled == declared.enabled {
                Saved::Unchanged
            } else {
                user.attributes = attributes;
                user.enabled = declared.enabled;
                user.updated_at = time;
                store::users::update(conn, pool, &user)?;
                Saved::Updated
            }
        }
    };
    let user = store::users::find_by_username(conn, pool, &declared.username)?
        .ok_or(StoreError::NotFound)?;
    for group in &declared.groups {
        store::users::add_to_group(conn, pool.id.as_str(), group, &user.sub)?;
    }
    let mut saved = saved;
    for (provider_name, subject) in &declared.linked_identities {
        if link_identity(conn, pool, &user, provider_name, subject)? {
            saved = Saved::Updated;
        }
    }
    if declared.reset_mfa && store::mfa::reset(conn, pool.id.as_str(), &user.sub.to_string())? > 0 {
        tracing::info!(pool = %pool.id, username = %user.username, "TOTP authenticator reset");
        return Ok(Saved::Updated);
    }
    Ok(saved)
}

/// Most identities one user may have linked (Cognito's limit).
const MAX_LINKED_IDENTITIES: usize = 5;

/// Links an upstream identity to a native user (Cognito's AdminLinkProviderForUser); returns
/// whether it was new. An identity that already signs in as another user is an error: the
/// file never merges or deletes users.
fn link_identity(
    conn: &mut AnyConnection,
    pool: &UserPool,
    user: &User,
    provider_name: &str,
    subject: &str,
) -> StoreResult<bool> {
    let sub = user.sub.to_string();
    match store::federation::user_of(conn, pool.id.as_str(), provider_name, subject)? {
        Some(owner) if owner == sub => return Ok(false),
        Some(_) => {
            return Err(StoreError::Invalid(format!(
                "identity {subject} of {provider_name} already signs in as another user; \
                 it cannot also be linked to {}",
                user.username
            )));
        }
        None => {}
    }
    let provider = store::directory::list_identity_providers_sealed(conn, pool.id.as_str())?
        .into_iter()
        .find(|p| p.name == provider_name)
        .ok_or(StoreError::NotFound)?;
    if store::federation::identities_of(conn, &sub)?.len() >= MAX_LINKED_IDENTITIES {
        return Err(StoreError::Invalid(format!(
            "user {} already has {MAX_LINKED_IDENTITIES} linked identities",
            user.username
        )));
    }
    // Cognito gives an issuer only for OIDC identities.
    let issuer = (provider.provider_type == crate::model::ProviderType::Oidc)
        .then(|| provider.details.get("oidc_issuer"))
        .flatten()
        .map(|i| i.trim_end_matches('/').to_owned());
    store::federation::link(
        conn,
        &store::federation::IdentityRow {
            pool_id: pool.id.to_string(),
            provider: provider.name.clone(),
            subject: subject.to_owned(),
            user_sub: sub.clone(),
            provider_type: provider.provider_type.as_str().to_owned(),
            issuer,
            created_at: store::now(),
        },
    )?;
    Ok(true)
}

/// Generates the pool's first signing key if it has none; returns whether it did.
pub fn ensure_signing_key(conn: &mut AnyConnection, pool_id: &str) -> StoreResult<bool> {
    if store::keys::active(conn, pool_id)?.is_some() {
        return Ok(false);
    }
    let key = keys::generate().map_err(|e| StoreError::Invalid(e.to_string()))?;
    store::keys::ensure_active(conn, pool_id, &key, store::now())
}

/// Rotates a pool's signing key: the new key signs from now on, and the previous one stays
/// in the JWKS for as long as the longest-lived token of any client of the pool.
pub fn rotate_signing_key(conn: &mut AnyConnection, pool_id: &str) -> StoreResult<String> {
    store::pools::get(conn, pool_id)?;
    let longest_minutes = store::clients::list(conn, pool_id)?
        .iter()
        .map(|c| {
            c.settings
                .access_token_validity_minutes
                .max(c.settings.id_token_validity_minutes)
        })
        .max()
        .unwrap_or(60)
        .max(60);
    let key = keys::generate().map_err(|e| StoreError::Invalid(e.to_string()))?;
    store::keys::rotate(
        conn,
        pool_id,
        &key,
        store::now(),
        i64::from(longest_minutes) * 60,
    )?;
    Ok(key.kid)
}

/// What `gatehouse serve` prints when it runs without a configuration file.
#[derive(Debug, Clone)]
pub struct Demo {
    pub pool_id: String,
    pub client_id: String,
    /// The demo app's callback, `{public_url}/demo/callback`.
    pub callback_url: String,
    /// Where a newcomer starts: the demo app, `{public_url}/demo/`.
    pub start_url: String,
    pub username: String,
    /// The demo user's password, while it still is the one the demo was created with.
    pub password: Option<String>,
}

pub const DEMO_POOL_ID: &str = "local_DemoPool1";
pub const DEMO_CLIENT_ID: &str = "democlient0000000000000000";
pub const DEMO_USERNAME: &str = "demo";
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd";
/// The callback of the example web app (examples/web-app), also registered on the demo client.
pub const DEMO_CALLBACK: &str = "http://localhost:3000/callback";
/// The example web app's sign-out URL.
pub const DEMO_SIGN_OUT: &str = "http://localhost:3000/";

/// `{public_url}/demo/`: the demo app, and where signing out of it comes back to.
pub fn demo_start_url(public_url: &str) -> String {
    format!("{}/demo/", public_url.trim_end_matches('/'))
}

/// `{public_url}/demo/callback`: where the pool sends the demo app its code.
pub fn demo_callback_url(public_url: &str) -> String {
    format!("{}/demo/callback", public_url.trim_end_matches('/'))
}

/// Creates the demo pool, its public client and its user, once: a demo pool that already
/// exists is left as it is, but for the demo app's callback and sign-out URLs under
/// `public_url`, which are added to its client (the public URL may differ from one start to
/// the next).
pub fn ensure_demo(
    conn: &mut AnyConnection,
    public_url: &str,
) -> StoreResult<(Demo, Option<ApplyReport>)> {
    ensure_demo_with(conn, public_url, &Sealer::process_ephemeral())
}

/// `ensure_demo` sealing with the server's key: the demo user's SRP verifier is sealed when
/// the user is created, and must open after a restart.
pub fn ensure_demo_with(
    conn: &mut AnyConnection,
    public_url: &str,
    sealer: &Sealer,
) -> StoreResult<(Demo, Option<ApplyReport>)> {
    let callback_url = demo_callback_url(public_url);
    let start_url = demo_start_url(public_url);
    let mut demo = Demo {
        pool_id: DEMO_POOL_ID.to_owned(),
        client_id: DEMO_CLIENT_ID.to_owned(),
        callback_url: callback_url.clone(),
        start_url: start_url.clone(),
        username: DEMO_USERNAME.to_owned(),
        password: None,
    };
    let exists = match store::pools::get(conn, DEMO_POOL_ID) {
        Ok(_) => true,
        Err(StoreError::NotFound) => false,
        Err(e) => return Err(e),
    };
    let report = if exists {
        ensure_signing_key(conn, DEMO_POOL_ID)?;
        if add_demo_urls(conn, &callback_url, &start_url)? {
            tracing::info!(callback = %callback_url, "demo client's URLs follow the public URL");
        }
        None
    } else {
        Some(create_demo(conn, &callback_url, &start_url, sealer)?)
    };
    demo.password = demo_password_unchanged(conn)?.then(|| DEMO_PASSWORD.to_owned());
    Ok((demo, report))
}

/// Puts the demo app's URLs first on the demo client, keeping every other URL it has; returns
/// whether anything changed. A missing client (deleted by hand) is left missing.
fn add_demo_urls(
    conn: &mut AnyConnection,
    callback_url: &str,
    start_url: &str,
) -> StoreResult<bool> {
    let mut client = match store::clients::get(conn, DEMO_POOL_ID, DEMO_CLIENT_ID) {
        Ok(client) => client,
        Err(StoreError::NotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    let mut changed = false;
    for (urls, url) in [
        (&mut client.settings.callback_urls, callback_url),
        (&mut client.settings.logout_urls, start_url),
    ] {
        if !urls.iter().any(|u| u == url) {
            urls.insert(0, url.to_owned());
            changed = true;
        }
    }
    if changed {
        store::clients::save(conn, &client)?;
    }
    Ok(changed)
}

/// Whether the demo user still signs in with `DEMO_PASSWORD` (one argon2 check, at start).
fn demo_password_unchanged(conn: &mut AnyConnection) -> StoreResult<bool> {
    let pool = store::pools::get(conn, DEMO_POOL_ID)?;
    let user = store::users::find_by_username(conn, &pool, DEMO_USERNAME)?;
    Ok(user
        .and_then(|u| u.password_hash)
        .is_some_and(|hash| secrets::verify_password(DEMO_PASSWORD, &hash)))
}

fn create_demo(
    conn: &mut AnyConnection,
    callback_url: &str,
    start_url: &str,
    sealer: &Sealer,
) -> StoreResult<ApplyReport> {
    let pool_id = crate::model::PoolId::parse(DEMO_POOL_ID).expect("demo pool id is valid");
    let pool = UserPool {
        id: pool_id.clone(),
        name: "demo".to_owned(),
        domain: None,
        settings: PoolSettings {
            alias_attributes: vec!["email".to_owned()],
            auto_verified_attributes: vec!["email".to_owned()],
            ..PoolSettings::default()
        },
    };
    let client = crate::model::AppClient {
        id: crate::model::ClientId::parse(DEMO_CLIENT_ID).expect("demo client id is valid"),
        pool_id: pool_id.clone(),
        name: "demo".to_owned(),
        secret: None,
        sealed_secret: None,
        settings: ClientSettings {
            // The demo app first; the example web app (examples/web-app) also works with the demo.
            callback_urls: vec![callback_url.to_owned(), DEMO_CALLBACK.to_owned()],
            logout_urls: vec![start_url.to_owned(), DEMO_SIGN_OUT.to_owned()],
            allowed_oauth_flows: vec![OAuthFlow::Code, OAuthFlow::Implicit],
            allowed_oauth_scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            ..ClientSettings::default()
        },
    };
    let user = DeclaredUser {
        username: DEMO_USERNAME.to_owned(),
        password: Some(DEMO_PASSWORD.to_owned()),
        attributes: Attributes::from_pairs([
            ("email", "demo@example.com"),
            ("email_verified", "true"),
            ("given_name", "Demo"),
            ("family_name", "User"),
        ])
        .expect("demo attributes are valid"),
        groups: Vec::new(),
        status: crate::model::UserStatus::Confirmed,
        enabled: true,
        reset_mfa: false,
        linked_identities: Vec::new(),
    };
    let declaration = Declaration {
        pools: vec![DeclaredPool {
            pool,
            resource_servers: Vec::new(),
            clients: vec![client],
            groups: Vec::new(),
            users: vec![user],
            identity_providers: Vec::new(),
            ui_customizations: Vec::new(),
            templates: Vec::new(),
            client_secrets: Default::default(),
        }],
        mail: None,
        api_credentials: Vec::new(),
        account_id: None,
    };
    apply_and_invite(conn, &declaration, false, sealer)
}
