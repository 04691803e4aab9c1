//! The `gatehouse` command: `serve`, `migrate`, `check`, `keys rotate`,
//! `encryption rotate`, `users import` and `users export`.
//!
//! Flags and environment: docs/configuration.md.

mod cli_users;

use clap::{Args, Parser, Subcommand};
use gatehouse::app::{self, AppState};
use gatehouse::mail::MailSettings;
use gatehouse::provision::{self, Demo};
use gatehouse::settings::{DemoApp, Settings, TlsFiles};
use gatehouse::store::{self, StartupLock, Store};
use gatehouse::{config, tokens};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

// The server allocates many small, short-lived buffers per request (JSON, claims, SQL rows);
// mimalloc serves them in about half the time glibc's allocator takes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Self-hosted OAuth 2.0 / OpenID Connect server with a hosted sign-in UI"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text, or as one JSON object per line (for a log collector).
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server. Without --config, a demo pool, client and user are created once.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Validate a configuration file without touching the database.
    Check {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage the key that seals stored secrets (docs/deployment.md, "Encryption key").
    Encryption {
        #[command(subcommand)]
        command: EncryptionCommand,
    },
    /// Import users from a CSV file, or export them (docs/migrating.md).
    Users {
        #[command(subcommand)]
        command: cli_users::UsersCommand,
    },
}

#[derive(Subcommand)]
enum EncryptionCommand {
    /// Re-seal every stored secret under a new key (the current key given as for `serve`).
    Rotate {
        /// The new key: 32 bytes as 64 hex digits or base64.
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
        #[command(flatten)]
        encryption: EncryptionArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Args)]
struct EncryptionArgs {
    /// File holding the key that seals stored secrets (default on SQLite: gatehouse.key beside
    /// the database, created on first start). GATEHOUSE_ENCRYPTION_KEY may hold the key itself.
    #[arg(long, env = "GATEHOUSE_ENCRYPTION_KEY_FILE", value_name = "FILE")]
    encryption_key_file: Option<PathBuf>,
    /// Older keys that still open values sealed before a rotation (repeat the flag, or separate
    /// with commas).
    #[arg(
        long = "previous-encryption-key-file",
        env = "GATEHOUSE_PREVIOUS_ENCRYPTION_KEY_FILES",
        value_name = "FILE",
        value_delimiter = ','
    )]
    previous_encryption_key_files: Vec<PathBuf>,
}

impl EncryptionArgs {
    fn config(&self) -> gatehouse::sealing::keys::KeyConfig {
        gatehouse::sealing::keys::KeyConfig {
            key_file: self.encryption_key_file.clone(),
            // The key itself only from the environment: a flag would show in `ps`.
            key: std::env::var("GATEHOUSE_ENCRYPTION_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            previous_files: self.previous_encryption_key_files.clone(),
        }
    }
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new active signing key to a pool; the previous key stays published until every
    /// token it signed has expired.
    Rotate {
        #[arg(long, value_name = "POOL_ID")]
        pool: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Args)]
struct DatabaseArgs {
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://gatehouse.db")]
    database_url: String,
}

#[derive(Args)]
struct ServeArgs {
    /// Declarative configuration applied at every start (creates and updates, never deletes).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:7070")]
    listen: String,
    /// URL users reach the server at; each pool's issuer is {public-url}/{pool_id}.
    #[arg(
        long,
        env = "GATEHOUSE_PUBLIC_URL",
        default_value = "http://localhost:7070"
    )]
    public_url: String,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    encryption: EncryptionArgs,
    /// Most pooled database connections (default: one per core on SQLite, 10 on PostgreSQL).
    #[arg(
        long,
        env = "GATEHOUSE_DATABASE_MAX_CONNECTIONS",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    database_max_connections: Option<u32>,
    /// PEM certificate chain: serve HTTPS directly.
    #[arg(long, env = "GATEHOUSE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "GATEHOUSE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Where emails go when the file has no [mail.smtp]: one JSON line per message.
    #[arg(long, env = "GATEHOUSE_OUTBOX", value_name = "FILE")]
    outbox: Option<PathBuf>,
    /// Directory of `<language>.toml` page translations that add to or override the built-in ones.
    #[arg(long, env = "GATEHOUSE_LOCALES_DIR", value_name = "DIR")]
    locales_dir: Option<PathBuf>,
    /// Proxies or load balancers in front of the server (addresses or CIDR ranges, repeat the
    /// flag or separate with commas): behind them, failed sign-ins are counted per address
    /// named in X-Forwarded-For instead of per proxy.
    #[arg(
        long = "trusted-proxy",
        env = "GATEHOUSE_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ',',
        value_parser = gatehouse::http::forwarded::parse_trusted
    )]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// With an https public URL, add `includeSubDomains` to Strict-Transport-Security: every
    /// subdomain of the public host must then be served over https too.
    #[arg(long, env = "GATEHOUSE_HSTS_INCLUDE_SUBDOMAINS")]
    hsts_include_subdomains: bool,
    /// Answer `GET /` with 404 instead of a page listing the pools and their discovery URLs
    /// (GATEHOUSE_INDEX_PAGE=false does the same).
    #[arg(
        long = "no-index-page",
        env = "GATEHOUSE_INDEX_PAGE",
        action = clap::ArgAction::SetFalse
    )]
    index_page: bool,
    /// Seconds an idle keep-alive connection stays open (0: close after each answer); keep it
    /// longer than the idle timeout of a load balancer in front.
    #[arg(
        long,
        env = "GATEHOUSE_KEEP_ALIVE_SECONDS",
        value_name = "SECONDS",
        default_value_t = gatehouse::settings::DEFAULT_KEEP_ALIVE_SECONDS
    )]
    keep_alive_seconds: u64,
    /// Seconds a new connection has to send its first request's headers (0: no limit).
    #[arg(
        long,
        env = "GATEHOUSE_CLIENT_REQUEST_TIMEOUT_SECONDS",
        value_name = "SECONDS",
        default_value_t = gatehouse::settings::DEFAULT_CLIENT_REQUEST_TIMEOUT_SECONDS
    )]
    client_request_timeout_seconds: u64,
    /// Serve Prometheus metrics on this address only (plain HTTP) instead of at /metrics on
    /// the main listener.
    #[arg(long, env = "GATEHOUSE_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<String>,
}

fn main() -> ExitCode {
    tokens::signer::install_crypto_providers();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let log_format = cli.log_format;
    let result = match cli.command {
        Command::Serve(args) => serve(*args).map(|()| exit_after_serving()),
        Command::Migrate(args) => migrate(&args.database_url),
        Command::Check { config } => config::load(&config)
            .map(|declaration| {
                println!(
                    "{}: valid ({} pools)",
                    config.display(),
                    declaration.pools.len()
                );
            })
            .map_err(|e| e.to_string()),
        Command::Keys {
            command: KeysCommand::Rotate { pool, database },
        } => rotate(&pool, &database.database_url),
        Command::Encryption {
            command:
                EncryptionCommand::Rotate {
                    new_key_file,
                    encryption,
                    database,
                },
        } => rotate_encryption(&new_key_file, &encryption, &database.database_url),
        Command::Users { command } => cli_users::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            match log_format {
                // Every stderr line stays one JSON object.
                LogFormat::Json => tracing::error!(error = %message, "command failed"),
                LogFormat::Text => eprintln!("error: {message}"),
            }
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr, filtered by `GATEHOUSE_LOG`. JSON: one object per line, the event's
/// fields at the top level next to `timestamp`, `level`, `target` and the request's span.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

fn open_store(url: &str) -> Result<(Store, StartupLock), String> {
    open_store_with(url, None)
}

/// Connects and migrates. Until the returned lock is dropped, other processes starting on the
/// same database wait (see `Store::startup_lock`).
fn open_store_with(
    url: &str,
    max_connections: Option<u32>,
) -> Result<(Store, StartupLock), String> {
    let store = Store::connect_with(url, max_connections)
        .map_err(|e| format!("{}: {e}", store::redact_url(url)))?;
    let lock = store.startup_lock().map_err(|e| e.to_string())?;
    let applied = store.migrate().map_err(|e| e.to_string())?;
    if applied > 0 {
        tracing::info!(applied, backend = store.backend(), "migrations applied");
    }
    Ok((store, lock))
}

fn migrate(url: &str) -> Result<(), String> {
    let store = Store::connect(url).map_err(|e| format!("{}: {e}", store::redact_url(url)))?;
    let _lock = store.startup_lock().map_err(|e| e.to_string())?;
    let applied = store.migrate().map_err(|e| e.to_string())?;
    println!("{applied} migrations applied ({})", store.backend());
    Ok(())
}

fn rotate(pool: &str, url: &str) -> Result<(), String> {
    let (store, _lock) = open_store(url)?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let kid = provision::rotate_signing_key(&mut conn, pool).map_err(|e| match e {
        store::StoreError::NotFound => format!("no pool `{pool}`"),
        other => other.to_string(),
    })?;
    println!("pool {pool}: new signing key {kid}");
    Ok(())
}

/// The operator's key, checked against what the database holds: a key that does not open the
/// stored secrets refuses to start rather than fail every sign-in that reads one.
fn check_sealer(
    loaded: gatehouse::sealing::keys::Loaded,
    store: &Store,
) -> Result<std::sync::Arc<gatehouse::sealing::Sealer>, String> {
    if let Some(path) = &loaded.created {
        tracing::info!(
            file = %path.display(),
            "created the encryption key that seals stored secrets: back it up with the database"
        );
    }
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let unknown = gatehouse::sealing::rotate::unknown_keys(&mut conn, &loaded.sealer)
        .map_err(|e| e.to_string())?;
    if !unknown.is_empty() {
        return Err(format!(
            "the database holds secrets sealed with encryption key {} but the key given ({}, id \
             {}) is another: give the key they were sealed with (--encryption-key-file), or add \
             it with --previous-encryption-key-file",
            unknown.join(", "),
            loaded.origin,
            loaded.sealer.current_key_id()
        ));
    }
    tracing::info!(
        key = loaded.sealer.current_key_id(),
        from = %loaded.origin,
        "encryption key loaded"
    );
    Ok(std::sync::Arc::new(loaded.sealer))
}

fn rotate_encryption(
    new_key_file: &Path,
    encryption: &EncryptionArgs,
    url: &str,
) -> Result<(), String> {
    use gatehouse::sealing::{Sealer, keys, rotate};
    let (store, _lock) = open_store(url)?;
    let loaded = keys::load(&encryption.config(), url)?;
    let new = keys::read_key_file(new_key_file)?;
    let mut older = vec![loaded.current];
    older.extend(loaded.previous.iter().copied());
    let sealer = Sealer::new(&new, &older);
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let report = rotate::rotate(&mut conn, &sealer).map_err(|e| e.to_string())?;
    println!(
        "{} values re-sealed under key {}, {} already under it",
        report.total(),
        sealer.current_key_id(),
        report.current
    );
    for (kind, count) in &report.resealed {
        println!("  {kind}: {count}");
    }
    if !report.srp_column {
        println!("  (this database has no SRP verifiers column yet)");
    }
    if !report.failed.is_empty() {
        println!(
            "{} values did not open and were left as they are:",
            report.failed.len()
        );
        for failure in &report.failed {
            println!("  {failure}");
        }
    }
    println!(
        "\nNext: start every server with --encryption-key-file {new} and keep the old key \
         ({old}) as --previous-encryption-key-file until all of them run with the new one; \
         run this command again then (it re-seals what was sealed meanwhile), and drop the old \
         key once it reports nothing left to re-seal and nothing that did not open.",
        new = new_key_file.display(),
        old = loaded.origin,
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} values did not open with the keys given",
            report.failed.len()
        ))
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let started = Instant::now();
    let max_connections = args.database_max_connections;
    let tls = args
        .tls_cert
        .zip(args.tls_key)
        .map(|(cert, key)| TlsFiles { cert, key });
    let mut settings = Settings::new(
        args.listen,
        &args.public_url,
        args.database.database_url,
        tls,
    )
    .map_err(|e| e.to_string())?;
    // Validate the file before touching the database: a bad file changes nothing.
    let declaration = args
        .config
        .as_deref()
        .map(config::load)
        .transpose()
        .map_err(|e| e.to_string())?;
    // Like the file, translations are checked before the database is touched.
    if let Some(dir) = &args.locales_dir {
        gatehouse::ui::i18n::Catalogue::with_dir(dir).map_err(|e| format!("--locales-dir: {e}"))?;
    }
    settings.locales_dir = args.locales_dir;
    settings.trusted_proxies = args.trusted_proxies;
    settings.hsts_include_subdomains = args.hsts_include_subdomains;
    settings.index_page = args.index_page;
    settings.keep_alive_seconds = args.keep_alive_seconds;
    settings.client_request_timeout_seconds = args.client_request_timeout_seconds;
    settings.metrics_listen = args.metrics_listen;
    if let Some(declaration) = &declaration {
        settings.api_credentials = declaration.api_credentials.clone();
        if let Some(account_id) = &declaration.account_id {
            settings.account_id = account_id.clone();
        }
        let templates = declaration
            .pools
            .iter()
            .flat_map(|pool| pool.templates.iter().cloned())
            .collect();
        settings.templates = std::sync::Arc::new(templates);
    }
    settings.mail = match (
        declaration.as_ref().and_then(|d| d.mail.clone()),
        args.outbox,
    ) {
        (Some(MailSettings::Smtp(smtp)), _) => MailSettings::Smtp(smtp),
        (_, Some(outbox)) => MailSettings::Outbox(outbox),
        (Some(from_file), None) => from_file,
        (None, None) => MailSettings::default(),
    };
    // Before the database: a missing key on PostgreSQL is refused without touching it.
    let key = gatehouse::sealing::keys::load(&args.encryption.config(), &settings.database_url)?;
    let (store, startup) = open_store_with(&settings.database_url, max_connections)?;
    let sealer = check_sealer(key, &store)?;
    settings.encryption = Some(sealer.clone());
    let demo = {
        let mut conn = store.conn().map_err(|e| e.to_string())?;
        match &declaration {
            Some(declaration) => {
                let report = store::patiently(&mut conn, |conn| {
                    provision::apply_and_invite(conn, declaration, true, &sealer)
                })
                .map_err(|e| {
                    format!(
                        "{}: {e}",
                        args.config
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    )
                })?;
                tracing::info!(%report, "configuration applied");
                None
            }
            None => {
                let (demo, report) = store::patiently(&mut conn, |conn| {
                    provision::ensure_demo_with(conn, &settings.public_url, &sealer)
                })
                .map_err(|e| e.to_string())?;
                if let Some(report) = report {
                    tracing::info!(%report, "demo pool created");
                }
                // A key for trying the JSON API's admin actions, made once per database.
                let secret = store::patiently(&mut conn, |conn| {
                    store::instance::secret(conn, DEMO_API_SECRET, store::now(), || {
                        gatehouse::secrets::random_token(30)
                    })
                })
                .map_err(|e| format!("the demo API key: {e}"))?;
                settings.api_credentials =
                    vec![std::sync::Arc::new(gatehouse::api::ApiCredential {
                        access_key_id: DEMO_API_KEY.to_owned(),
                        secret_access_key: secret,
                        pools: vec![demo.pool_id.clone()],
                        actions: vec!["cognito-idp:*".to_owned()],
                    })];
                Some(demo)
            }
        }
    };
    drop(startup);
    settings.demo = demo.as_ref().map(|demo| DemoApp {
        pool_id: demo.pool_id.clone(),
        client_id: demo.client_id.clone(),
    });
    let state = AppState::new(store, settings.clone())?;
    if let MailSettings::Outbox(path) = &settings.mail {
        tracing::info!(outbox = %path.display(), "emails are written to the outbox file");
    }
    actix_web::rt::System::new().block_on(async move {
        // Before anyone can learn the address: a stop signal is then always a graceful one.
        let termination = app::Termination::install();
        let serving = app::start(state).map_err(|e| e.to_string())?;
        let addrs = serving.addrs.clone();
        let scheme = if settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        for addr in &addrs {
            println!(
                "Gatehouse listening on {scheme}://{addr} (public URL {})",
                settings.public_url
            );
        }
        match (&demo, &declaration) {
            (Some(demo), _) => {
                let secret = settings
                    .api_credentials
                    .first()
                    .map(|key| key.secret_access_key.as_str())
                    .unwrap_or_default();
                print_demo(&settings.public_url, demo, secret)
            }
            (None, Some(declaration)) => print_declared(&settings.public_url, declaration),
            (None, None) => {}
        }
        tracing::info!(startup_ms = started.elapsed().as_millis() as u64, "ready");
        serving
            .run_until_signalled(termination)
            .await
            .map_err(|e| e.to_string())
    })
}

/// Ends the process once the server has stopped gracefully, without the C library's exit
/// handlers: libpq's OpenSSL clean-up could otherwise run while a pool thread is still closing
/// a TLS connection to PostgreSQL, and crash the exit of a clean stop.
fn exit_after_serving() -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` only ends the process; every request has finished and every buffer this
    // program writes to was flushed above.
    unsafe { libc::_exit(0) }
}

/// Every declared pool's issuer and clients, so ids derived from names can be found.
fn print_declared(public_url: &str, declaration: &config::Declaration) {
    for declared in &declaration.pools {
        println!(
            "\nPool {} ({})\n  Issuer:    {public_url}/{}",
            declared.pool.id, declared.pool.name, declared.pool.id
        );
        for client in &declared.clients {
            let kind = if client.is_confidential() {
                "confidential"
            } else {
                "public"
            };
            println!("  Client:    {} ({}, {kind})", client.id, client.name);
        }
    }
    println!();
}

/// The demo's API key id; its secret is made once per database (`DEMO_API_SECRET`).
const DEMO_API_KEY: &str = "AKIAGATEHOUSEDEMO001";
const DEMO_API_SECRET: &str = "demo_api_secret_access_key";

fn print_demo(public_url: &str, demo: &Demo, api_secret: &str) {
    let issuer = format!("{public_url}/{}", demo.pool_id);
    let user = match &demo.password {
        Some(password) => format!("{} / {password}", demo.username),
        None => format!(
            "{} (password changed since the demo was created)",
            demo.username
        ),
    };
    println!(
        "\nDemo pool (no --config given; for local evaluation only)\n  \
         Issuer:    {issuer}\n  \
         Discovery: {issuer}/.well-known/openid-configuration\n  \
         Client id: {} (public client; callback {})\n  \
         Sign in:   {}\n  \
         User:      {user}\n  \
         API key:   AWS_ACCESS_KEY_ID={DEMO_API_KEY} AWS_SECRET_ACCESS_KEY={api_secret} AWS_REGION=local\n  \
         API call:  aws cognito-idp list-users --endpoint-url {public_url} --user-pool-id {}\n",
        demo.client_id, demo.callback_url, demo.start_url, demo.pool_id
    );
}
