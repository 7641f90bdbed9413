//! Where the CLI finds its data: the data directory, `forewarn.toml` in it, `FOREWARN_*` environment variables
//! and the global flags, in increasing order of precedence.
//!
//! Data directory layout:
//! - `forewarn.toml` — configuration (see [`FileConfig`]);
//! - `master.key` — the master key (mode 0600), unless `FOREWARN_MASTER_KEY` is set;
//! - `forewarn.db` — the SQLite database, unless `database_url` points elsewhere.

use std::path::{Path, PathBuf};

use forewarn_core::{Role, Username};
use forewarn_store::keys;
use forewarn_store::users::{self, StaffUser};
use forewarn_store::{advisories, MasterKey, Store};
use serde::Deserialize;

use crate::errors::{CliError, CliResult};

pub const CONFIG_FILE: &str = "forewarn.toml";

/// `forewarn.toml`. Each key may be overridden by an environment variable (`FOREWARN_DATABASE_URL`,
/// `FOREWARN_LISTEN`, `FOREWARN_LOG_FORMAT`, `FOREWARN_LOG`, `FOREWARN_PUBLIC_URL`, `FOREWARN_PUBLISHER_NAME`,
/// `FOREWARN_PUBLISHER_NAMESPACE`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `sqlite://...` or `postgres://...`. Default: `forewarn.db` in the data directory.
    pub database_url: Option<String>,
    /// Address the server listens on. Default `127.0.0.1:8080`.
    pub listen: Option<String>,
    /// `text` (default) or `json`.
    pub log_format: Option<String>,
    /// Log filter, e.g. `info` or `forewarn_server=debug,info`. Default `info`.
    pub log: Option<String>,
    /// Largest request body, in bytes. Default 2 MiB.
    pub body_limit: Option<usize>,
    /// Request timeout in seconds. Default 30.
    pub request_timeout_secs: Option<u64>,
    /// The publisher named in CSAF documents. Default "forewarn demo PSIRT".
    pub publisher_name: Option<String>,
    /// A URL identifying the publisher (CSAF `publisher.namespace`). Default https://psirt.example.com.
    pub publisher_namespace: Option<String>,
    /// Send webhooks to private, loopback and link-local addresses too (a lab, a test). Default false; the demo
    /// allows them unless this says otherwise.
    pub webhook_allow_private: Option<bool>,
    /// Reverse proxies (networks) whose `X-Forwarded-For` header is believed for IP allow-lists.
    pub trusted_proxies: Option<Vec<String>>,
    /// Requests per minute per partner API token (bursts of a sixth of it). Default 600; 0 turns the limit off.
    pub rate_limit_per_minute: Option<u32>,
    /// A PEM file of CA certificates to trust for https webhook endpoints, besides the public web PKI roots.
    pub webhook_extra_ca_file: Option<String>,
    /// Seconds between webhook scheduler runs. Default 5.
    pub webhook_interval_secs: Option<u64>,
    /// The base URL partners use to reach this server (behind a TLS proxy: its https URL). Default: the listen
    /// address over http.
    pub public_url: Option<String>,
}

/// The options every command shares.
#[derive(Debug, Clone)]
pub struct Globals {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub json: bool,
    pub actor: String,
}

/// The config file `init` writes. Without a database URL of its own the directory uses `forewarn.db` beside the
/// file, wherever the directory is: a copy or a move of it (a backup restored elsewhere, a staging copy) opens its
/// own database, never the one it was copied from. Only a URL the operator gave is written down.
pub fn default_config_text(database_url: Option<&str>) -> String {
    let database = match database_url {
        Some(url) => format!("database_url = {url:?}\n"),
        None => "# database_url = \"postgres://...\"   (unset: forewarn.db in this directory)\n".to_owned(),
    };
    format!(
        "# forewarn configuration. Every key can be overridden by FOREWARN_<KEY> in the environment.\n\
         {database}\
         listen = \"127.0.0.1:8080\"\n\
         # log_format = \"json\"\n\
         # log = \"info\"\n"
    )
}

impl Globals {
    pub fn config_path(&self) -> PathBuf {
        self.data_dir.join(CONFIG_FILE)
    }

    pub fn is_initialised(&self) -> bool {
        self.config_path().exists()
    }

    pub fn ensure_initialised(&self) -> CliResult<()> {
        if self.is_initialised() {
            Ok(())
        } else {
            Err(CliError::user(format!(
                "{} is not a forewarn data directory (no {CONFIG_FILE}); run `forewarn init --data-dir {}` first, or pass the right --data-dir",
                self.data_dir.display(),
                self.data_dir.display()
            )))
        }
    }

    pub fn file_config(&self) -> CliResult<FileConfig> {
        let path = self.config_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| CliError::user(format!("{}: {}", path.display(), e.message())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
            Err(e) => Err(CliError::Internal(format!("cannot read {}: {e}", path.display()))),
        }
    }

    pub fn default_database_url(&self) -> String {
        let dir = std::fs::canonicalize(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
        forewarn_store::sqlite_url(&dir.join("forewarn.db"))
    }

    /// The database URL: the flag or `FOREWARN_DATABASE_URL`, else the config file, else SQLite in the data dir.
    pub fn database_url(&self) -> CliResult<String> {
        if let Some(u) = &self.database_url {
            return Ok(u.clone());
        }
        Ok(self.file_config()?.database_url.unwrap_or_else(|| self.default_database_url()))
    }

    /// Opens the store of an initialised data directory, with its master key, schema up to date.
    pub async fn open(&self) -> CliResult<Store> {
        self.ensure_initialised()?;
        let store = Store::connect(&self.database_url()?).await?;
        store.migrate().await?;
        let key = select_key(&store, &self.data_dir).await?;
        Ok(store.with_master_key(key))
    }

    /// The staff member the command acts as (`--as`, `FOREWARN_USER`, default `admin`), checked to exist, be
    /// enabled and hold `role` (or admin).
    pub async fn actor(&self, store: &Store, role: Role) -> CliResult<StaffUser> {
        let user = self.me(store).await?;
        if !user.roles.allows(role) {
            return Err(CliError::user(format!(
                "user {} ({}) cannot do this; it needs the {role} role",
                user.username, user.roles
            )));
        }
        Ok(user)
    }

    /// The staff member the command acts as, checked to exist and be enabled, whatever its roles.
    pub async fn me(&self, store: &Store) -> CliResult<StaffUser> {
        let name = Username::parse(&self.actor)?;
        let mut conn = store.conn().await?;
        let user = users::find(&mut conn, &name).await?.ok_or_else(|| {
            CliError::user(format!(
                "there is no user {name}; pass --as USER (or set FOREWARN_USER) to act as an existing user"
            ))
        })?;
        if user.disabled_at.is_some() {
            return Err(CliError::user(format!("user {name} is disabled")));
        }
        Ok(user)
    }
}

/// Picks the master key that the database's data keys are wrapped with, finishing an interrupted rotation.
async fn select_key(store: &Store, data_dir: &Path) -> CliResult<MasterKey> {
    let candidates = keys::candidates(data_dir)?;
    let mut conn = store.conn().await?;
    let in_use = advisories::key_ids(&mut conn).await?;
    drop(conn);
    let Some((wanted, _)) = in_use.first() else {
        return candidates.into_iter().next().ok_or_else(|| CliError::Internal("no master key".into()));
    };
    let from_env = std::env::var(keys::KEY_ENV).is_ok();
    let position = candidates.iter().position(|k| k.id() == wanted);
    match position {
        Some(0) => Ok(candidates.into_iter().next().ok_or_else(|| CliError::Internal("no master key".into()))?),
        Some(_) if !from_env => {
            keys::promote_next(data_dir)?;
            tracing::warn!("completed an interrupted key rotation: master.key.next is now master.key");
            Ok(candidates.into_iter().nth(1).ok_or_else(|| CliError::Internal("no master key".into()))?)
        }
        _ => Err(CliError::user(format!(
            "the configured master key ({}) is not the one the database was encrypted with ({wanted}); restore the right master.key or {}",
            candidates.first().map_or("none", |k| k.id()),
            keys::KEY_ENV
        ))),
    }
}
