//! `gatehouse users import` and `gatehouse users export`: the CSV user import of the API's
//! import jobs, and its inverse, from the command line (docs/migrating.md, "From any system
//! with password hashes").

use crate::DatabaseArgs;
use clap::Subcommand;
use gatehouse::flows::{user_export, user_import};
use gatehouse::store;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Import users from a CSV file in GetCSVHeader's format (plus an optional password_hash
    /// column); prints each line's outcome. Exits non-zero when a line failed.
    Import {
        #[arg(long, value_name = "POOL_ID")]
        pool: String,
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write a pool's users to stdout in the import format.
    Export {
        #[arg(long, value_name = "POOL_ID")]
        pool: String,
        /// Add the password_hash column (PHC strings): whoever holds the file can try passwords
        /// offline, so keep it as safe as the database.
        #[arg(long)]
        include_password_hashes: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub fn run(command: UsersCommand) -> Result<(), String> {
    match command {
        UsersCommand::Import {
            pool,
            file,
            database,
        } => import(&pool, &file, &database.database_url),
        UsersCommand::Export {
            pool,
            include_password_hashes,
            database,
        } => export(&pool, include_password_hashes, &database.database_url),
    }
}

fn pool_of(
    conn: &mut store::AnyConnection,
    id: &str,
) -> Result<gatehouse::model::UserPool, String> {
    store::pools::get(conn, id).map_err(|e| match e {
        store::StoreError::NotFound => format!("no pool `{id}`"),
        other => other.to_string(),
    })
}

fn import(pool_id: &str, file: &Path, url: &str) -> Result<(), String> {
    let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (store, _lock) = crate::open_store(url)?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let pool = pool_of(&mut conn, pool_id)?;
    let counts = user_import::import_file(&mut conn, &pool, &data, |line, outcome| {
        println!("{}", user_import::log_line(line, outcome));
    })
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("{}: {e}", file.display()))?;
    println!(
        "Imported: {}, Skipped: {}, Failed: {}",
        counts.imported, counts.skipped, counts.failed
    );
    if counts.failed > 0 {
        return Err(format!("{} lines failed", counts.failed));
    }
    Ok(())
}

fn export(pool_id: &str, hashes: bool, url: &str) -> Result<(), String> {
    let (store, _lock) = crate::open_store(url)?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let pool = pool_of(&mut conn, pool_id)?;
    let stdout = std::io::stdout().lock();
    let written =
        user_export::export(&mut conn, &pool, hashes, stdout).map_err(|e| e.to_string())?;
    eprintln!("{written} users exported from {pool_id}");
    Ok(())
}
