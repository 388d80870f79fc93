//! Database access: one connection type over SQLite and PostgreSQL, pools,
//! embedded migrations and the two ways handlers reach the store.

pub mod schema;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseSettings, SqliteSynchronous};
use crate::error::ApiError;

/// The PostgreSQL advisory lock migrations hold (any fixed number; this
/// one spells "NRU" in ASCII).
const MIGRATION_LOCK: i64 = 0x4E_52_55;
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

mod vocabulary;

/// Which backend a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Postgres(String),
    /// A file path (SQLite accepts any path, so the scheme decides, never a trial connect).
    Sqlite(String),
}

impl DbTarget {
    pub fn parse(url: &str) -> DbTarget {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return DbTarget::Postgres(url.to_owned());
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        DbTarget::Sqlite(path.to_owned())
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DbTarget::Sqlite(_))
    }

    fn connect(&self, synchronous: SqliteSynchronous) -> ConnectionResult<DbConnection> {
        match self {
            DbTarget::Postgres(url) => {
                diesel::PgConnection::establish(url).map(DbConnection::Postgresql)
            }
            DbTarget::Sqlite(path) => {
                // Switching a new file to WAL takes an exclusive lock, and a
                // process that meets it (another replica starting on the same
                // file) can be told "database is locked" at once, without the
                // busy timeout: it tries again for as long as that timeout.
                let deadline = std::time::Instant::now() + SQLITE_BUSY_TIMEOUT;
                loop {
                    match open_sqlite(path, synchronous) {
                        Err(e)
                            if e.to_string().contains("database is locked")
                                && std::time::Instant::now() < deadline =>
                        {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        opened => return opened.map(DbConnection::Sqlite),
                    }
                }
            }
        }
    }
}

/// How long a SQLite connection waits for another's lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn open_sqlite(
    path: &str,
    synchronous: SqliteSynchronous,
) -> ConnectionResult<diesel::SqliteConnection> {
    let mut conn = diesel::SqliteConnection::establish(path)?;
    // WAL lets readers run beside the writer; the busy timeout makes a
    // second connection or process wait instead of failing. It comes first:
    // the pool opens connections at once, and switching a new file to WAL
    // takes a lock the others must wait for.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA foreign_keys = ON; PRAGMA synchronous = {};",
        SQLITE_BUSY_TIMEOUT.as_millis(),
        synchronous.as_str()
    ))
    .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// Runs one query, written once, on whichever backend `$conn` holds: `$c`
/// is that backend's own connection in `$run`. For the statements both
/// backends take but diesel's `MultiConnection` cannot build (its backend
/// has no ON CONFLICT and no multi-row VALUES); anything else runs on
/// `DbConnection` directly, and what truly differs between the backends is
/// written out per backend instead.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $run:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $run,
            $crate::db::DbConnection::Sqlite($c) => $run,
        }
    };
}
pub(crate) use on_backend;

/// Inserts a slice of rows in statements of 500, on either backend.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        for chunk in $rows.chunks(500) {
            $crate::db::on_backend!($conn, |c| diesel::insert_into($table)
                .values(chunk)
                .execute(c)?);
        }
    }};
}
pub(crate) use insert_all;

/// r2d2 manager that picks the backend from the URL.
pub struct DbManager {
    target: DbTarget,
    synchronous: SqliteSynchronous,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.target
            .connect(self.synchronous)
            .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type DbPool = Pool<DbManager>;
pub type PooledConn = PooledConnection<DbManager>;

/// The application's database handle.
///
/// On SQLite all writes go through a one-connection pool: SQLite allows a
/// single writer, and queueing in the pool is far faster than lock retries.
/// On PostgreSQL reads and writes share one pool.
#[derive(Clone)]
pub struct Db {
    reader: DbPool,
    writer: DbPool,
    sqlite: bool,
}

impl Db {
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        let target = DbTarget::parse(settings.url.expose());
        if let DbTarget::Sqlite(path) = &target {
            if let Some(parent) = Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        anyhow::anyhow!("database.url: cannot create {}: {e}", parent.display())
                    })?;
                }
            }
        }
        let sqlite = target.is_sqlite();
        // A new file is switched to WAL by this one connection, held open
        // until the pools have theirs: the pools open several at once, and
        // those racing a switch to WAL can fail outright ("database is
        // locked", logged by the pool) instead of waiting.
        let _first = sqlite
            .then(|| target.connect(settings.sqlite_synchronous))
            .transpose()
            .map_err(|e| anyhow::anyhow!("database.url: cannot open: {e}"))?;
        let timeout = Duration::from_secs(settings.connect_timeout_seconds);
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                .connection_timeout(timeout)
                // A SQLite connection is a file handle that cannot go stale;
                // a PostgreSQL one can, so it is checked before each use.
                .test_on_check_out(!target.is_sqlite())
                .build(DbManager {
                    target: target.clone(),
                    synchronous: settings.sqlite_synchronous,
                })
                .map_err(|e| anyhow::anyhow!("database.url: cannot connect: {e}"))
        };
        let reader = build(settings.pool_size)?;
        let writer = if sqlite { build(1)? } else { reader.clone() };
        Ok(Db {
            reader,
            writer,
            sqlite,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Connection counts per pool (one shared pool on PostgreSQL).
    pub fn pool_states(&self) -> Vec<(&'static str, r2d2::State)> {
        if self.sqlite {
            vec![
                ("reader", self.reader.state()),
                ("writer", self.writer.state()),
            ]
        } else {
            vec![("shared", self.reader.state())]
        }
    }

    /// A consistent copy of a SQLite database in a new `file`. `VACUUM INTO`
    /// reads one snapshot, so the service keeps serving and writing while it
    /// runs. PostgreSQL is backed up with pg_dump.
    pub fn backup_to(&self, file: &Path) -> anyhow::Result<()> {
        if file.exists() {
            anyhow::bail!("backup: {} already exists", file.display());
        }
        let target = file
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("backup: the file name is not UTF-8"))?;
        let mut conn = self.reader.get()?;
        match &mut *conn {
            DbConnection::Sqlite(c) => {
                diesel::sql_query("VACUUM INTO ?")
                    .bind::<diesel::sql_types::Text, _>(target)
                    .execute(c)?;
                Ok(())
            }
            DbConnection::Postgresql(_) => anyhow::bail!(
                "backup: the database is PostgreSQL; back it up with pg_dump (docs/operations.md)"
            ),
        }
    }

    /// Applies any pending migrations for this backend. Replicas starting
    /// together take turns: the first applies them while the others wait
    /// for its lock, then find nothing left to do.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.writer.get()?;
        match &mut *conn {
            DbConnection::Postgresql(c) => {
                // A session lock: released by the unlock, or by PostgreSQL
                // if this process dies mid-migration.
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let applied = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|m| m.len());
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                applied.map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
            }
            DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|m| m.len())
                    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
            }),
        }
    }

    /// Runs read-only work on a pooled connection off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.reader.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(ApiError::unavailable)?;
            f(&mut conn)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Runs work in one transaction on the write connection: all of it lands or none.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.writer.clone();
        actix_web::web::block(move || {
            let mut pooled = pool.get().map_err(ApiError::unavailable)?;
            let conn: &mut DbConnection = &mut pooled;
            match conn {
                DbConnection::Sqlite(_) => immediate_transaction(conn, f),
                DbConnection::Postgresql(_) => conn.transaction(f),
            }
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// A connection for synchronous callers (CLI commands, start-up).
    pub fn blocking_writer(&self) -> anyhow::Result<PooledConn> {
        Ok(self.writer.get()?)
    }
}

/// A SQLite transaction begun with `BEGIN IMMEDIATE`: it takes the write
/// lock up front (waiting under the busy timeout), so work that reads before
/// it writes cannot fail to upgrade because another connection (another
/// process on the same file, say) wrote in between.
fn immediate_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    fn sqlite(conn: &mut DbConnection) -> Result<&mut diesel::SqliteConnection, ApiError> {
        match conn {
            DbConnection::Sqlite(c) => Ok(c),
            DbConnection::Postgresql(_) => Err(ApiError::internal("not a SQLite connection")),
        }
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite(conn)?, "BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite(conn)?)?;
            Ok(value)
        }
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite(conn)?)?;
            Err(error)
        }
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(applied.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_chooses_the_backend() {
        assert_eq!(
            DbTarget::parse("postgres://u@h/db"),
            DbTarget::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            DbTarget::parse("postgresql://u@h/db"),
            DbTarget::Postgres("postgresql://u@h/db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite://data/x.db"),
            DbTarget::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite:x.db"),
            DbTarget::Sqlite("x.db".into())
        );
        assert_eq!(
            DbTarget::parse("/tmp/x.db"),
            DbTarget::Sqlite("/tmp/x.db".into())
        );
    }

    fn synchronous_of(db: &Db) -> i32 {
        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            synchronous: i32,
        }
        let mut reader = db.reader.get().expect("reader");
        let mut writer = db.writer.get().expect("writer");
        let modes: Vec<i32> = [&mut *reader, &mut *writer]
            .into_iter()
            .map(|conn| {
                diesel::sql_query("PRAGMA synchronous")
                    .get_result::<Mode>(conn)
                    .expect("pragma")
                    .synchronous
            })
            .collect();
        assert_eq!(modes[0], modes[1], "readers and the writer agree");
        modes[0]
    }

    #[test]
    fn sqlite_commits_are_synced_in_full_unless_normal_is_chosen() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = |file: &str, sqlite_synchronous| DatabaseSettings {
            url: crate::config::Secret::new(format!(
                "sqlite://{}",
                dir.path().join(file).display()
            )),
            pool_size: 2,
            connect_timeout_seconds: 5,
            sqlite_synchronous,
        };
        let default = crate::config::DatabaseSettings {
            sqlite_synchronous: SqliteSynchronous::default(),
            ..settings("default.db", SqliteSynchronous::Normal)
        };
        // PRAGMA synchronous reads 2 for FULL and 1 for NORMAL.
        assert_eq!(synchronous_of(&Db::connect(&default).expect("db")), 2);
        let normal = settings("normal.db", SqliteSynchronous::Normal);
        assert_eq!(synchronous_of(&Db::connect(&normal).expect("db")), 1);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// A PostgreSQL URL is kept whole; anything else is a SQLite path,
            /// with a `sqlite:` or `sqlite://` prefix taken off.
            #[test]
            fn any_url_names_one_backend(rest in any::<String>(), scheme in prop::sample::select(vec!["postgres://", "postgresql://", "sqlite://", "sqlite:", ""])) {
                let url = format!("{scheme}{rest}");
                let expected = match scheme {
                    "postgres://" | "postgresql://" => DbTarget::Postgres(url.clone()),
                    "sqlite://" => DbTarget::Sqlite(rest.clone()),
                    "sqlite:" if !rest.starts_with("//") => DbTarget::Sqlite(rest.clone()),
                    "sqlite:" => DbTarget::Sqlite(rest[2..].to_owned()),
                    _ => return Ok(()),
                };
                prop_assert_eq!(DbTarget::parse(&url), expected);
            }
        }
    }
}
