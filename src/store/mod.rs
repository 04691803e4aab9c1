//! Storage on SQLite or PostgreSQL through one code path: a diesel `MultiConnection` over both
//! backends, an r2d2 pool, and `Store::run` to do blocking database work off the async workers.
//!
//! See docs/deployment.md and docs/architecture.md.

pub mod api_sessions;
pub mod cache;
pub mod clients;
pub mod codes;
pub mod directory;
pub mod federation;
pub mod grants;
pub mod groups;
pub mod import_jobs;
pub mod instance;
pub mod keys;
pub mod mail_outbox;
pub mod mfa;
pub mod pools;
pub mod retired;
pub mod schema;
pub mod throttle;
pub mod users;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::{Duration, Instant};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends; queries written once run on either.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs a query on the backend's own connection. The multi-backend layer re-walks every query
/// to collect its binds and writes its SQL again on each call; the statements every token
/// grant runs skip it (`$body` is compiled once per backend).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::AnyConnection::Sqlite($c) => $body,
            $crate::store::AnyConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Runs start-up work (migrations, applying the configuration) on a connection that waits up to
/// a minute for SQLite's write lock rather than 5 s: another process starting on the same file
/// holds it while it generates signing keys and hashes passwords.
pub fn patiently<T>(conn: &mut AnyConnection, work: impl FnOnce(&mut AnyConnection) -> T) -> T {
    let AnyConnection::Sqlite(sqlite) = conn else {
        return work(conn);
    };
    // Best effort: a connection that keeps its usual timeout only fails sooner.
    let _ = sqlite.batch_execute("PRAGMA busy_timeout = 60000");
    let outcome = work(conn);
    if let AnyConnection::Sqlite(sqlite) = conn {
        let _ = sqlite.batch_execute("PRAGMA busy_timeout = 5000");
    }
    outcome
}

/// A transaction that writes. On SQLite it takes the write lock as it begins (`BEGIN
/// IMMEDIATE`), waiting for another writer like any statement does: a plain (deferred)
/// transaction that reads first fails at its first write, without waiting, whenever another
/// connection has committed since that read. Nested in another transaction it is a savepoint of
/// it. On PostgreSQL it is a plain transaction.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    let status = AnsiTransactionManager::transaction_manager_status_mut(sqlite);
    if status.transaction_depth()?.is_some() {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    // Ending it goes through the connection's own manager, which ends the SQLite one's.
    type Manager = <AnyConnection as Connection>::TransactionManager;
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// SQLite's answer when another connection holds the lock a statement needs and the wait
    /// ran out (or, on a connection that does not wait, was not allowed).
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Database(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("database is locked")
                || info.message().contains("database table is locked"))
    }

    /// Maps a unique-constraint violation to `Conflict`, anything else to `Database`.
    pub fn from_write(error: diesel::result::Error, what: impl Into<String>) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict(what.into())
            }
            other => Self::Database(other),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path, or `:memory:`.
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    /// `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or `postgresql://…`. Anything else is an
    /// error: a libpq keyword string must never silently become a SQLite file name.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Invalid("`sqlite://` needs a file path".into()));
            }
            Ok(Self::Sqlite(path.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(StoreError::Invalid(format!(
                "database URL must start with sqlite:// or postgres:// (got `{}`)",
                redact_url(url)
            )))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Opens connections of the backend the URL names, and reports connection errors instead of
/// falling back to another backend (the derived `establish` tries each and hides the errors).
#[derive(Debug, Clone)]
pub struct AnyManager {
    url: DatabaseUrl,
    /// SQLite: how long a statement waits for another connection's write lock.
    busy_timeout_ms: u32,
}

impl ManageConnection for AnyManager {
    type Connection = AnyConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<AnyConnection, StoreError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(|e| StoreError::Unavailable(e.to_string())),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                // busy_timeout first: the WAL switch itself may have to wait for other
                // connections. Each pragma in one batch (sql_query runs only the first).
                // The set-up waits like any connection; the timeout of this one comes last.
                let setup = format!(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = {};",
                    self.busy_timeout_ms
                );
                // Switching a new file to WAL can answer "locked" at once, without waiting,
                // while another process does the same: try again for as long as a statement
                // would wait.
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while let Err(e) = conn.batch_execute(&setup) {
                    let error = StoreError::Database(e);
                    if !error.is_busy() || std::time::Instant::now() > deadline {
                        return Err(StoreError::Unavailable(error.to_string()));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        conn.ping().map_err(StoreError::Database)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}

/// The advisory lock every process of an installation takes for its start-up ("gatehous").
const STARTUP_LOCK_KEY: i64 = 0x6761_7465_686f_7573;

/// See `Store::startup_lock`.
pub struct StartupLock {
    /// PostgreSQL: the session holding the advisory lock; dropping it ends the session.
    _session: Option<PgConnection>,
}

#[derive(diesel::QueryableByName)]
struct Taken {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    taken: bool,
}

/// The database: a pool of connections and the backend it runs on.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<AnyManager>,
    url: DatabaseUrl,
    /// One permit per pooled connection: work waits here, asynchronously, instead of parking
    /// blocking threads on the pool's lock.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// SQLite files only: connections that never wait for another writer (see `try_inline`).
    eager: Option<Eager>,
    /// Where waits for a pooled connection are recorded (`with_pool_wait`).
    pool_wait: PoolWait,
}

/// The histogram of waits for a pooled connection (docs/deployment.md, "Metrics"), if any.
#[derive(Clone, Default)]
struct PoolWait(Option<prometheus_client::metrics::histogram::Histogram>);

impl PoolWait {
    /// Records a wait that began at `since` and ended now, with a connection in hand.
    fn ended(&self, since: Instant) {
        if let Some(histogram) = &self.0 {
            histogram.observe(since.elapsed().as_secs_f64());
        }
    }
}

#[derive(Clone)]
struct Eager {
    pool: r2d2::Pool<AnyManager>,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// Whether a connection is being opened in the background.
    opening: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Eager {
    /// Opens a connection on the blocking pool, for the next caller, unless one is being
    /// opened already or the pool is full.
    fn open_one_more(&self) {
        use std::sync::atomic::Ordering;
        if self.pool.state().connections >= self.pool.max_size()
            || self.opening.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let eager = self.clone();
        actix_web::rt::task::spawn_blocking(move || {
            // Returned to the pool, idle, when dropped.
            drop(eager.pool.get());
            eager.opening.store(false, Ordering::Release);
        });
    }
}

impl Store {
    /// Connects, and fails fast when the database is unreachable.
    pub fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, None)
    }

    /// Like `connect`, with at most `max_connections` pooled connections instead of the
    /// backend's default (docs/configuration.md, `--database-max-connections`).
    pub fn connect_with(url: &str, max_connections: Option<u32>) -> StoreResult<Self> {
        let url = DatabaseUrl::parse(url)?;
        let max_size = match (&url, max_connections) {
            (DatabaseUrl::Sqlite(path), _) if path == ":memory:" => 1,
            (_, Some(0)) => {
                return Err(StoreError::Invalid(
                    "the database needs at least one connection".into(),
                ));
            }
            (_, Some(max)) => max,
            // SQLite takes one writer at a time and makes the others wait by sleeping (1 ms,
            // then longer); connections beyond the cores only add such waits.
            (DatabaseUrl::Sqlite(_), None) => {
                std::thread::available_parallelism().map_or(2, |n| n.get() as u32)
            }
            (DatabaseUrl::Postgres(_), None) => 10,
        };
        let manager = AnyManager {
            url: url.clone(),
            busy_timeout_ms: 5000,
        };
        // Fail fast, with the database's own message, when it is unreachable (the pool would
        // retry until its timeout).
        drop(manager.connect()?);
        // No background connecting: a connect still running in r2d2's thread while the process
        // exits crashes libpq's cleanup. Connections open on demand. A broken connection fails
        // its query and is then dropped (`has_broken`); testing every checkout would cost a
        // round trip per request.
        let builder = || {
            r2d2::Pool::builder()
                .max_size(max_size)
                .min_idle(Some(0))
                .test_on_check_out(false)
        };
        let pool = builder()
            .connection_timeout(Duration::from_secs(10))
            .build_unchecked(manager);
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(max_size as usize));
        let eager = match &url {
            DatabaseUrl::Sqlite(path) if path != ":memory:" => Some(Eager {
                pool: builder()
                    // Connections stay: they are opened off the request path (`try_inline`).
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connection_timeout(Duration::from_secs(2))
                    .build_unchecked(AnyManager {
                        url: url.clone(),
                        busy_timeout_ms: 0,
                    }),
                permits: std::sync::Arc::new(tokio::sync::Semaphore::new(max_size as usize)),
                opening: Default::default(),
            }),
            _ => None,
        };
        Ok(Self {
            pool,
            url,
            permits,
            eager,
            pool_wait: PoolWait::default(),
        })
    }

    /// This store, recording from now on how long each wait for a pooled connection took
    /// (permit and checkout) in `histogram`.
    pub fn with_pool_wait(
        mut self,
        histogram: prometheus_client::metrics::histogram::Histogram,
    ) -> Self {
        self.pool_wait = PoolWait(Some(histogram));
        self
    }

    pub fn backend(&self) -> &'static str {
        self.url.backend()
    }

    /// A pooled connection, for synchronous callers (the CLI, tests, start-up).
    pub fn conn(&self) -> StoreResult<r2d2::PooledConnection<AnyManager>> {
        let since = Instant::now();
        let conn = self.checkout()?;
        self.pool_wait.ended(since);
        Ok(conn)
    }

    fn checkout(&self) -> StoreResult<r2d2::PooledConnection<AnyManager>> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs blocking database work on actix's blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let since = Instant::now();
        let (pool, wait) = (self.pool.clone(), self.pool_wait.clone());
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // Lines logged by the work carry the request's id.
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            wait.ended(since);
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// Runs blocking work that checks a connection out only while it needs one
    /// (`Lease::conn`) and gives it back (`Lease::release`) before slow work that needs none,
    /// such as password hashing: argon2 never holds a pooled connection.
    pub async fn run_leased<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Lease) -> T + Send + 'static,
        T: Send + 'static,
    {
        let since = Instant::now();
        let mut lease = Lease {
            store: self.clone(),
            held: None,
        };
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let conn = lease
                .store
                .pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            lease.store.pool_wait.ended(since);
            lease.held = Some((permit, conn));
            Ok(work(&mut lease))
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// Runs short, read-only work. On SQLite it runs right here, on the async worker: reads in
    /// WAL mode never wait for writers, and a hand-off to the blocking pool (two context
    /// switches) costs more than the reads. On PostgreSQL, whose reads wait on the network, it
    /// goes to the blocking pool like `run`. Never use it for writes or password hashing.
    pub async fn run_read<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        if !matches!(self.url, DatabaseUrl::Sqlite(_)) {
            return self.run(work).await;
        }
        let since = Instant::now();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // A permit is held, so a connection is free and `get` does not block.
        let mut conn = self.checkout()?;
        self.pool_wait.ended(since);
        work(&mut conn)
    }

    /// Runs short work right here, on the async worker, with a SQLite connection that does not
    /// wait for another connection's write lock: a statement that would wait fails at once
    /// with SQLITE_BUSY instead of putting the worker to sleep. `None` when there is no such
    /// connection free (or the database is not a SQLite file): use `run`. The hand-off to the
    /// blocking pool costs more than a short transaction, but only work that never waits on
    /// anything but the database belongs here (no password hashing, no network calls), and the
    /// caller must be ready to run it again on `run` when it failed busy.
    pub fn try_inline<T>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> StoreResult<T>,
    ) -> Option<StoreResult<T>> {
        let eager = self.eager.as_ref()?;
        let _permit = eager.permits.try_acquire().ok()?;
        // Only an idle connection: opening one (file, pragmas) must not happen on the worker.
        let Some(mut conn) = eager.pool.try_get() else {
            eager.open_one_more();
            return None;
        };
        Some(work(&mut conn))
    }

    /// Opens the connections `try_inline` uses, before the server takes requests (SQLite files
    /// only; a failure here only means grants take the blocking pool until one opens).
    pub fn open_inline_connections(&self) {
        let Some(eager) = &self.eager else { return };
        let opened: Vec<_> = (0..eager.pool.max_size())
            .map_while(|_| eager.pool.get().ok())
            .collect();
        drop(opened);
    }

    /// Makes other processes' start-up wait until the returned lock is dropped: hold it while
    /// migrating and applying the file or the demo. On PostgreSQL two processes migrating at
    /// once collide in the catalog (a duplicate key in `pg_type`), and two applying one file
    /// both insert its pool; so this takes a session advisory lock, on a connection of its own
    /// whose closing releases it. SQLite needs none: both steps run in `BEGIN IMMEDIATE`
    /// transactions, which take turns.
    pub fn startup_lock(&self) -> StoreResult<StartupLock> {
        use diesel::RunQueryDsl;
        use diesel::sql_types::BigInt;
        let DatabaseUrl::Postgres(url) = &self.url else {
            return Ok(StartupLock { _session: None });
        };
        let mut session =
            PgConnection::establish(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let taken = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
            .bind::<BigInt, _>(STARTUP_LOCK_KEY)
            .get_result::<Taken>(&mut session)?
            .taken;
        if !taken {
            tracing::info!("waiting for another process to finish starting");
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<BigInt, _>(STARTUP_LOCK_KEY)
                .execute(&mut session)?;
        }
        Ok(StartupLock {
            _session: Some(session),
        })
    }

    /// Applies every pending migration of this backend; returns how many ran. Processes that
    /// may start together hold `startup_lock` around it.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            AnyConnection::Postgresql(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
            // In one write transaction: two processes starting on a new file take turns, and
            // the second finds the migrations done.
            sqlite @ AnyConnection::Sqlite(_) => patiently(sqlite, |sqlite| {
                write_transaction(sqlite, |conn| {
                    let AnyConnection::Sqlite(c) = conn else {
                        return Ok(0);
                    };
                    c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
                })
            }),
        };
        applied.map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    /// Whether the database answers a trivial query.
    pub fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        conn.ping().map_err(StoreError::Database)
    }
}

/// A connection that work running on the blocking pool holds only while it needs it (see
/// `Store::run_leased`). Taking it again waits for a permit like `Store::run` does.
pub struct Lease {
    store: Store,
    held: Option<(
        tokio::sync::OwnedSemaphorePermit,
        r2d2::PooledConnection<AnyManager>,
    )>,
}

impl Lease {
    /// The connection, checked out again if it was released.
    pub fn conn(&mut self) -> StoreResult<&mut AnyConnection> {
        let held = match self.held.take() {
            Some(held) => held,
            None => {
                let since = Instant::now();
                // On the blocking pool: waiting here parks this thread only.
                let permit = tokio::runtime::Handle::current()
                    .block_on(self.store.permits.clone().acquire_owned())
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                let conn = self.store.checkout()?;
                self.store.pool_wait.ended(since);
                (permit, conn)
            }
        };
        Ok(&mut *self.held.insert(held).1)
    }

    /// Gives the connection back to the pool until the next `conn`. Never call it inside a
    /// transaction.
    pub fn release(&mut self) {
        self.held = None;
    }

    /// The store this lease draws from (for work that goes on after the call, such as an
    /// import job's run).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Whether a connection is checked out (for tests of the release points).
    pub fn holds_connection(&self) -> bool {
        self.held.is_some()
    }
}

/// Seconds since 1970, the unit of every stored time.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain types serialize to JSON")
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_their_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://gatehouse.db").unwrap(),
            DatabaseUrl::Sqlite("gatehouse.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/g.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/g.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@localhost/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        let error = DatabaseUrl::parse("host=localhost user=x").unwrap_err();
        assert!(error.to_string().contains("sqlite:// or postgres://"));
        assert_eq!(
            redact_url("postgres://u:secret@localhost/db"),
            "postgres://u:***@localhost/db"
        );
    }
}

/// What a save did: apply reports these, and an unchanged row keeps its `updated_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
    Unchanged,
}
