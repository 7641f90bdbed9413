//! The commands. Each validates all of its input before it opens a transaction, and makes its change and the
//! history record of it in one transaction: a refused command changes nothing.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use forewarn_core::calendar::ReleaseCalendar;
use forewarn_core::{AdvisoryId, CountryCode, PartnerId, PartnerStatus, Role, Roles, TierName, Username};
use forewarn_server::{AppState, ServerConfig};
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, NewPartner, PartnerFilter};
use forewarn_store::{advisories, credentials, keys, users, MasterKey, Store};
use jiff::Timestamp;
use serde_json::json;

use crate::context::{self, Globals};
use crate::errors::{CliError, CliResult};
use crate::output::{self, print_json, print_table};
use crate::timeparse::{parse_duration, parse_time};

fn staff(u: &users::StaffUser) -> Actor {
    Actor::Staff(u.username.to_string())
}

// ---------------------------------------------------------------------------------------------------------------
// init and serve

#[derive(Debug, Args)]
pub struct InitArgs {
    /// User name of the first administrator.
    #[arg(long, default_value = "admin")]
    pub admin: String,
}

/// What `init` created, for `demo` to build on.
pub struct Initialised {
    pub store: Store,
    pub admin: Username,
    pub admin_password: zeroize::Zeroizing<String>,
}

pub async fn initialise(g: &Globals, admin: &str) -> CliResult<Initialised> {
    let admin = Username::parse(admin)?;
    if g.is_initialised() {
        return Err(CliError::user(format!(
            "{} is already initialised; use it, or choose another --data-dir",
            g.data_dir.display()
        )));
    }
    std::fs::create_dir_all(&g.data_dir)
        .map_err(|e| CliError::user(format!("cannot create {}: {e}", g.data_dir.display())))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&g.data_dir, std::fs::Permissions::from_mode(0o700));
    }
    let key = match keys::candidates(&g.data_dir) {
        Ok(mut found) => found.remove(0),
        Err(keys::KeyError::Missing(path)) => {
            let key = MasterKey::generate()?;
            keys::write_new(&path, &key)?;
            key
        }
        Err(e) => return Err(e.into()),
    };
    let url = g.database_url.clone().unwrap_or_else(|| g.default_database_url());
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let store = store.with_master_key(key);
    let password = credentials::generate_password()?;
    let hash = credentials::hash_password(&password)?;
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    crate::policy_cmd::store_policy(
        &mut tx,
        forewarn_policy::DEFAULT_POLICY,
        "system:init",
        "the shipped default policy",
        now,
    )
    .await?;
    users::insert(&mut tx, &admin, "Administrator", Roles::from_slice(&[Role::Admin]), &hash, now).await?;
    audit::record(
        &mut tx,
        now,
        &Actor::System("init"),
        "program.init",
        "program",
        None,
        json!({"admin": admin.as_str()}),
    )
    .await?;
    tx.commit().await?;
    signing_key(&store, "forewarn demo PSIRT").await?;
    // The config file is written last: its presence is what marks the directory as initialised.
    let config = context::default_config_text(g.database_url.as_deref());
    let tmp = g.data_dir.join("forewarn.toml.tmp");
    std::fs::write(&tmp, config).map_err(|e| CliError::Internal(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, g.config_path()).map_err(|e| CliError::Internal(format!("cannot write the config: {e}")))?;
    Ok(Initialised { store, admin, admin_password: password })
}

pub async fn init(g: &Globals, args: InitArgs) -> CliResult {
    let done = initialise(g, &args.admin).await?;
    let key_origin = if std::env::var(keys::KEY_ENV).is_ok() {
        format!("from {}", keys::KEY_ENV)
    } else {
        format!(
            "{} (mode 0600; back it up: without it the advisories cannot be read)",
            g.data_dir.join(keys::KEY_FILE).display()
        )
    };
    if g.json {
        print_json(&json!({
            "data_dir": g.data_dir.display().to_string(),
            "database_url": g.database_url()?,
            "admin": done.admin.as_str(),
            "admin_password": done.admin_password.as_str(),
        }));
    } else {
        println!("Initialised {}", g.data_dir.display());
        println!("  database:   {}", g.database_url()?);
        println!("  master key: {key_origin}");
        println!("  admin user: {}", done.admin);
        println!("  password:   {}   (shown once; store it now)", done.admin_password.as_str());
    }
    Ok(())
}

fn init_logging(format: Option<&str>, filter: Option<&str>) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let targets: Targets =
        filter.unwrap_or("info").parse().unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let registry = tracing_subscriber::registry().with(targets);
    if format == Some("json") {
        let _ = registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init();
    } else {
        use std::io::IsTerminal;
        let ansi = std::io::stderr().is_terminal();
        let _ = registry.with(tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(std::io::stderr)).try_init();
    }
}

/// The server's settings and the program's public identity.
pub struct Serving {
    pub config: ServerConfig,
    /// Whether the webhook private-address setting was given explicitly (the demo defaults it to allowed).
    pub webhook_private_explicit: bool,
    pub publisher_name: String,
    pub publisher_namespace: String,
    pub public_url: Option<String>,
}

/// Resolves the server configuration: flag, then environment, then forewarn.toml, then defaults.
pub fn server_config(g: &Globals, listen_flag: Option<String>) -> CliResult<Serving> {
    let file = g.file_config()?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    init_logging(
        env("FOREWARN_LOG_FORMAT").or(file.log_format.clone()).as_deref(),
        env("FOREWARN_LOG").or(file.log.clone()).as_deref(),
    );
    let listen =
        listen_flag.or_else(|| env("FOREWARN_LISTEN")).or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut config = ServerConfig {
        listen: listen
            .parse()
            .map_err(|_| CliError::user(format!("{listen:?} is not a listen address; write e.g. 127.0.0.1:8080")))?,
        ..ServerConfig::default()
    };
    if let Some(b) = file.body_limit {
        config.body_limit = b;
    }
    if let Some(t) = file.request_timeout_secs {
        config.request_timeout = std::time::Duration::from_secs(t);
    }
    if let Some(limit) =
        env("FOREWARN_RATE_LIMIT_PER_MINUTE").and_then(|v| v.parse().ok()).or(file.rate_limit_per_minute)
    {
        config.rate_limit_per_minute = limit;
    }
    let proxies: Vec<String> = env("FOREWARN_TRUSTED_PROXIES")
        .map(|v| v.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
        .or(file.trusted_proxies)
        .unwrap_or_default();
    config.trusted_proxies = proxies
        .iter()
        .map(|p| forewarn_core::IpNet::parse(p).map_err(|e| CliError::user(format!("trusted_proxies: {e}"))))
        .collect::<CliResult<_>>()?;
    let allow_private =
        env("FOREWARN_WEBHOOK_ALLOW_PRIVATE").map(|v| v == "true" || v == "1").or(file.webhook_allow_private);
    config.webhooks.allow_private = allow_private.unwrap_or(false);
    if let Some(path) = env("FOREWARN_WEBHOOK_EXTRA_CA").or(file.webhook_extra_ca_file) {
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| CliError::user(format!("cannot read the webhook CA file {path}: {e}")))?;
        config.webhooks.extra_ca_pem = Some(pem);
    }
    let interval = env("FOREWARN_WEBHOOK_INTERVAL_SECS").and_then(|v| v.parse().ok()).or(file.webhook_interval_secs);
    if let Some(secs) = interval {
        if !(1..=3600).contains(&secs) {
            return Err(CliError::user("webhook_interval_secs must be between 1 and 3600"));
        }
        config.webhooks.interval = std::time::Duration::from_secs(secs);
    }
    let public_url = env("FOREWARN_PUBLIC_URL").or(file.public_url).map(|u| u.trim_end_matches('/').to_owned());
    if let Some(u) = &public_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(CliError::user(format!(
                "public_url {u:?} must start with https:// (or http:// for a local test)"
            )));
        }
    }
    Ok(Serving {
        webhook_private_explicit: allow_private.is_some(),
        config,
        publisher_name: env("FOREWARN_PUBLISHER_NAME")
            .or(file.publisher_name)
            .unwrap_or_else(|| "forewarn demo PSIRT".into()),
        publisher_namespace: env("FOREWARN_PUBLISHER_NAMESPACE")
            .or(file.publisher_namespace)
            .unwrap_or_else(|| "https://psirt.example.com".into()),
        public_url,
    })
}

/// The program's OpenPGP signing key, made on first use and kept sealed in the database.
pub async fn signing_key(store: &Store, publisher_name: &str) -> CliResult<forewarn_openpgp::ProgramKey> {
    let mut conn = store.conn().await?;
    let uid = format!("{publisher_name} (forewarn signing key)");
    let stored = forewarn_store::program_keys::get_or_create(
        &mut conn,
        store.master_key()?,
        "openpgp-signing",
        Timestamp::now(),
        || {
            let k = forewarn_openpgp::ProgramKey::generate(&uid).map_err(|e| e.to_string())?;
            let public = k.public_armored().map_err(|e| e.to_string())?;
            let secret = k.to_armored_secret().map_err(|e| e.to_string())?;
            Ok((public, zeroize::Zeroizing::new(secret)))
        },
    )
    .await?;
    forewarn_openpgp::ProgramKey::from_armored_secret(&stored.secret_text)
        .map_err(|e| CliError::Internal(format!("the stored signing key does not load: {e}")))
}

/// The transparency log's signing key, made on first use and kept sealed in the database. Its name — the log's
/// origin, fixed from then on — is the public URL without its scheme, followed by `/log` (C2SP tlog-tiles).
pub async fn log_key(store: &Store, public_url: &str) -> CliResult<forewarn_tlog::note::SignerKey> {
    let host = public_url.split_once("://").map_or(public_url, |(_, rest)| rest).trim_end_matches('/');
    let origin: String = format!("{host}/log").chars().filter(|c| !c.is_whitespace() && *c != '+').collect();
    let mut conn = store.conn().await?;
    Ok(forewarn_store::log::signer(&mut conn, store, &origin, Timestamp::now()).await?)
}

/// The key every copy's fingerprint derives from: 32 random bytes made on first use, sealed by the master key.
pub async fn fingerprint_key(store: &Store) -> CliResult<forewarn_mark::code::Key> {
    let mut conn = store.conn().await?;
    let bytes =
        forewarn_store::program_keys::secret_bytes(&mut conn, store.master_key()?, "fingerprinting", Timestamp::now())
            .await?;
    Ok(forewarn_mark::code::Key::from_bytes(bytes))
}

/// Binds, prints the URL, and serves until SIGTERM / Ctrl-C.
pub async fn serve_store(store: Store, serving: Serving, banner: impl FnOnce(&str)) -> CliResult {
    let Serving { config, publisher_name, publisher_namespace, public_url, .. } = serving;
    let listener = forewarn_server::bind(&config).await.map_err(|e| {
        CliError::user(format!("cannot listen on {}: {e}; choose another with --listen", config.listen))
    })?;
    let addr = listener.local_addr().map_err(|e| CliError::Internal(e.to_string()))?;
    let url = format!("http://{addr}");
    let signing_key = signing_key(&store, &publisher_name).await?;
    let public_url = public_url.unwrap_or_else(|| url.clone());
    let log_key = log_key(&store, &public_url).await?;
    let fingerprint_key = fingerprint_key(&store).await?;
    let program = forewarn_server::Program {
        signing_key,
        log_key,
        fingerprint_key,
        publisher: forewarn_render::csaf::Publisher { name: publisher_name, namespace: publisher_namespace },
        public_url,
        started_at: Timestamp::now(),
    };
    let ready = || {
        banner(&url);
        let _ = std::io::stdout().flush();
        tracing::info!(%url, backend = ?store.backend(), "serving");
    };
    forewarn_server::run(listener, AppState::new(store.clone(), program, &config), &config, ready)
        .await
        .map_err(|e| CliError::Internal(format!("server failed: {e}")))?;
    store.close().await;
    Ok(())
}

pub async fn serve(g: &Globals, listen: Option<String>) -> CliResult {
    let config = server_config(g, listen)?;
    let store = g.open().await?;
    serve_store(store, config, |url| {
        let _ = writeln!(std::io::stdout(), "forewarn listening on {url}");
    })
    .await
}

// ---------------------------------------------------------------------------------------------------------------
// partners

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Add a partner; prints its id and its first API token (shown once).
    Add {
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 code of the partner's jurisdiction.
        #[arg(long)]
        country: String,
        #[arg(long)]
        tier: String,
        /// Id (a slug); default: made from the name.
        #[arg(long)]
        id: Option<String>,
        /// Security contact e-mail; repeat for several.
        #[arg(long = "contact")]
        contacts: Vec<String>,
        /// Flag such as probation; repeat for several.
        #[arg(long = "flag")]
        flags: Vec<String>,
        /// When the partner's agreement (NDA) ends.
        #[arg(long)]
        agreement_expires: Option<String>,
    },
    /// List partners.
    List {
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        tier: Option<String>,
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one partner, its tokens and its recent history.
    Show { id: String },
    /// Cut a partner off from its next request on (reason required).
    Suspend {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a person of the partner a partner-portal login (the password is printed once).
    AddUser {
        /// The partner.
        id: String,
        /// The new user's name (lower case letters, digits, '-', '_', '.').
        username: String,
        /// May manage the organisation's portal users.
        #[arg(long)]
        admin: bool,
    },
    /// Restore a suspended partner.
    Reinstate {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Expel a partner for good; its tokens stop working (reason required).
    Revoke {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Issue a new API token; the old ones keep working for --overlap (default: they stop now).
    TokenRotate {
        id: String,
        #[arg(long, default_value = "0m")]
        overlap: String,
        /// When the new token stops working (default: never, until rotated).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Restrict the addresses a partner's requests may come from (networks such as 192.0.2.0/24); none: anywhere.
    AllowIps { id: String, networks: Vec<String> },
}

pub async fn partner(g: &Globals, command: PartnerCommand) -> CliResult {
    let now = Timestamp::now();
    match command {
        PartnerCommand::Add { name, country, tier, id, contacts, flags, agreement_expires } => {
            let mut new = NewPartner::new(&name, id.as_deref(), &country, &tier, &contacts, &flags)?;
            new.agreement_expires_at = agreement_expires.as_deref().map(|t| parse_time(t, now)).transpose()?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::ProgramManager).await?;
            let mut tx = store.begin().await?;
            let p = partners::insert(&mut tx, &new, now).await?;
            let token = partners::issue(&mut tx, &p.id, "initial", None, now).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "partner.add",
                p.id.as_str(),
                None,
                json!({
                    "name": p.name, "country": p.country.as_str(), "tier": p.tier.as_str(), "token": token.id.as_str(),
                }),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"partner": output::partner_json(&p), "token": token.text.as_str()}));
            } else {
                println!("Added partner {} ({}, {}, tier {})", p.id, p.name, p.country, p.tier);
                println!("API token (shown once): {}", token.text.as_str());
            }
        }
        PartnerCommand::List { country, tier, status } => {
            let filter = PartnerFilter {
                country: country.as_deref().map(CountryCode::parse).transpose()?,
                tier: tier.as_deref().map(TierName::parse).transpose()?,
                status: status.as_deref().map(PartnerStatus::parse).transpose()?,
            };
            let store = g.open().await?;
            let list = partners::list(&mut *store.conn().await?, &filter).await?;
            if g.json {
                print_json(&json!(list.iter().map(output::partner_json).collect::<Vec<_>>()));
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            p.name.clone(),
                            p.country.to_string(),
                            p.tier.to_string(),
                            p.status.to_string(),
                            output::time(p.agreement_expires_at),
                        ]
                    })
                    .collect();
                print_table(&["ID", "NAME", "COUNTRY", "TIER", "STATUS", "AGREEMENT ENDS"], &rows);
                println!("{} partner(s)", list.len());
            }
        }
        PartnerCommand::Show { id } => {
            let id = PartnerId::parse(&id)?;
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let p = partners::get(&mut conn, &id).await?;
            let tokens = partners::tokens(&mut conn, &id).await?;
            let history = audit::list(&mut conn, Some(id.as_str()), 20).await?;
            if g.json {
                print_json(&json!({
                    "partner": output::partner_json(&p),
                    "tokens": tokens.iter().map(|t| output::token_json(t, now)).collect::<Vec<_>>(),
                    "history": history.iter().map(history_json).collect::<Vec<_>>(),
                }));
            } else {
                println!("{} — {}", p.id, p.name);
                println!("  country:   {}", p.country);
                println!("  tier:      {}", p.tier);
                let reason = p.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                println!("  status:    {}{reason} since {}", p.status, output::time(Some(p.status_changed_at)));
                println!("  agreement: ends {}", output::time(p.agreement_expires_at));
                println!("  contacts:  {}", if p.contacts.is_empty() { "-".into() } else { p.contacts.join(", ") });
                if !p.flags.is_empty() {
                    println!("  flags:     {}", p.flags.iter().cloned().collect::<Vec<_>>().join(", "));
                }
                println!("  tokens:");
                for t in &tokens {
                    let state = if t.is_live(now) { "live" } else { "dead" };
                    println!(
                        "    fw_{}_…  {state}  created {}  expires {}",
                        t.id,
                        output::time(Some(t.created_at)),
                        output::time(t.expires_at)
                    );
                }
                print_history(&history);
            }
        }
        PartnerCommand::Suspend { id, reason } => {
            set_status(g, &id, PartnerStatus::Suspended, Some(&reason), now).await?
        }
        PartnerCommand::AddUser { id, username, admin } => {
            let id = PartnerId::parse(&id)?;
            let username = Username::parse(&username)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::ProgramManager).await?;
            let password = credentials::generate_password()?;
            let mut tx = store.begin().await?;
            let u =
                forewarn_store::portal::add_user(&mut tx, &username, &id, &password, admin, me.username.as_str(), now)
                    .await?;
            let detail = json!({"user": u.username.as_str(), "admin": admin});
            audit::record(&mut tx, now, &staff(&me), "portal.user.add", id.as_str(), None, detail).await?;
            tx.commit().await?;
            if g.json {
                print_json(
                    &json!({"user": u.username.as_str(), "partner": id.as_str(), "password": password.as_str()}),
                );
            } else {
                println!("Portal user {} for {id}; password (shown once): {}", u.username, password.as_str());
                println!("They sign in at /portal on the server.");
            }
        }
        PartnerCommand::Reinstate { id, reason } => {
            set_status(g, &id, PartnerStatus::Active, reason.as_deref(), now).await?
        }
        PartnerCommand::Revoke { id, reason } => set_status(g, &id, PartnerStatus::Revoked, Some(&reason), now).await?,
        PartnerCommand::AllowIps { id, networks } => {
            let id = PartnerId::parse(&id)?;
            let nets = networks.iter().map(|n| forewarn_core::IpNet::parse(n)).collect::<Result<Vec<_>, _>>()?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::ProgramManager).await?;
            let mut tx = store.begin().await?;
            partners::set_ip_allow(&mut tx, &id, &nets, now).await?;
            let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
            audit::record(&mut tx, now, &staff(&me), "partner.allow-ips", id.as_str(), None, json!({"networks": list}))
                .await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"partner": id.as_str(), "networks": list}));
            } else if list.is_empty() {
                println!("Partner {id} may connect from anywhere.");
            } else {
                println!("Partner {id} may connect only from {}.", list.join(", "));
            }
        }
        PartnerCommand::TokenRotate { id, overlap, expires } => {
            let id = PartnerId::parse(&id)?;
            let overlap = parse_duration(&overlap)?;
            let expires = expires.as_deref().map(|t| parse_time(t, now)).transpose()?;
            if expires.is_some_and(|t| t <= now) {
                return Err(CliError::user("--expires must be in the future"));
            }
            let store = g.open().await?;
            let me = g.actor(&store, Role::ProgramManager).await?;
            let mut tx = store.begin().await?;
            let token = partners::rotate(&mut tx, &id, overlap, expires, now).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "partner.token-rotate",
                id.as_str(),
                None,
                json!({
                    "token": token.id.as_str(), "overlap_seconds": overlap.as_secs(),
                }),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"partner": id.as_str(), "token": token.text.as_str()}));
            } else {
                println!("New API token for {id} (shown once): {}", token.text.as_str());
                if overlap.is_zero() {
                    println!("Older tokens stopped working now.");
                } else {
                    println!("Older tokens keep working until {}.", output::time(now.checked_add(overlap).ok()));
                }
            }
        }
    }
    Ok(())
}

async fn set_status(g: &Globals, id: &str, status: PartnerStatus, reason: Option<&str>, now: Timestamp) -> CliResult {
    let id = PartnerId::parse(id)?;
    let store = g.open().await?;
    let me = g.actor(&store, Role::ProgramManager).await?;
    let mut tx = store.begin().await?;
    let p = partners::set_status(&mut tx, &id, status, reason, now).await?;
    let action = match status {
        PartnerStatus::Active => "partner.reinstate",
        PartnerStatus::Suspended => "partner.suspend",
        PartnerStatus::Revoked => "partner.revoke",
    };
    audit::record(&mut tx, now, &staff(&me), action, id.as_str(), reason, json!({"status": status.as_str()})).await?;
    tx.commit().await?;
    if g.json {
        print_json(&output::partner_json(&p));
    } else {
        println!("Partner {id} is now {status}; this holds from its next request on.");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// advisories

#[derive(Debug, Subcommand)]
pub enum AdvisoryCommand {
    /// Create an advisory from a Markdown file with front matter (format: docs/advisory-format.md).
    New {
        file: PathBuf,
        /// Id; default: the next ADV-YYYY-NNNN.
        #[arg(long)]
        id: Option<String>,
    },
    /// List advisories with their status and release time.
    List,
    /// How well each section of a revision can name a leaker: variation points, their density, and how long a
    /// verbatim excerpt must be to name one partner at the error rate.
    FingerprintCapacity {
        id: String,
        /// The revision (default: the newest).
        #[arg(long)]
        revision: Option<u32>,
        /// Program-wide probability of accusing an innocent partner.
        #[arg(long, default_value_t = 1e-6)]
        error: f64,
    },
    /// Show an advisory: metadata and sections of a revision (default: the newest).
    Show {
        id: String,
        #[arg(long)]
        revision: Option<u32>,
    },
    /// Replace an advisory's content from a file: a new revision that needs approval.
    Edit {
        id: String,
        file: PathBuf,
        /// What changed and why.
        #[arg(long, default_value = "edited")]
        note: String,
    },
    /// Approve the newest revision (not your own).
    Approve { id: String },
    /// Set or move the release time T.
    Schedule {
        id: String,
        /// Release time, e.g. 2026-12-08T18:00:00Z or 2026-12-08T10:00[America/Los_Angeles].
        #[arg(long, conflicts_with = "patch_tuesday")]
        at: Option<String>,
        /// Patch Tuesday: the next one (no value), or a month as YYYY-MM.
        #[arg(long, num_args = 0..=1, default_missing_value = "next", value_name = "YYYY-MM")]
        patch_tuesday: Option<String>,
        /// Why the time moves (required when it was already scheduled).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Move the release time later (reason required).
    Delay {
        id: String,
        /// The new release time.
        #[arg(long)]
        to: String,
        #[arg(long)]
        reason: String,
    },
    /// Release now: T becomes the present, and everything the policy allows at release is due at once.
    BreakEmbargo {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Withdraw an advisory (final).
    Withdraw {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

fn release_time(
    cal: &ReleaseCalendar,
    at: Option<&str>,
    patch_tuesday: Option<&str>,
    now: Timestamp,
) -> CliResult<Timestamp> {
    match (at, patch_tuesday) {
        (Some(at), None) => parse_time(at, now),
        (None, Some("next")) => cal.next_after(now).ok_or_else(|| CliError::user("no Patch Tuesday found")),
        (None, Some(month)) => {
            let bad = || CliError::user(format!("{month:?} is not a month; write next or YYYY-MM, e.g. 2027-01"));
            let (y, m) = month.split_once('-').ok_or_else(bad)?;
            let (y, m): (i16, i8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            cal.release_of_month(y, m).ok_or_else(bad)
        }
        _ => Err(CliError::user("give the release time with --at TIME or --patch-tuesday next|YYYY-MM")),
    }
}

/// What the author sees on saving: each section's fingerprint points, and how long an excerpt names a leaker.
async fn print_capacity_summary(store: &Store, sections: &forewarn_core::Sections) -> CliResult {
    let partners = partners::list(&mut *store.conn().await?, &Default::default()).await?.len();
    let needed = forewarn_mark::capacity::nats_needed(partners, 1e-6);
    let parts: Vec<String> = sections
        .iter()
        .filter_map(|(kind, body)| {
            let prepared = forewarn_mark::prepare::prepare_with(body, forewarn_mark::Scheme::CURRENT).ok()?;
            let c = forewarn_mark::capacity::capacity(&prepared);
            let reach = match (c.sentences_for(needed), c.lines_for(needed)) {
                (Some(s), _) => format!("{s} sentences"),
                (None, Some(l)) => format!("{l} code lines"),
                (None, None) => "cannot name anyone".into(),
            };
            Some(format!("{kind} {} points ({reach})", c.slots()))
        })
        .collect();
    println!(
        "Fingerprint: {}. One leaker among {partners} partners is named from that much verbatim text; add \
         {{{{one|other}}}} alternatives for more (forewarn advisory fingerprint-capacity).",
        parts.join(", ")
    );
    Ok(())
}

pub async fn advisory(g: &Globals, command: AdvisoryCommand) -> CliResult {
    let now = Timestamp::now();
    match command {
        AdvisoryCommand::New { file, id } => {
            let id = id.as_deref().map(AdvisoryId::parse).transpose()?;
            let content = crate::advisory_file::read(&file)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::Author).await?;
            let mut tx = store.begin().await?;
            let a = advisories::create(&mut tx, store.master_key()?, id, &content, &me.username, now).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "advisory.create",
                a.id.as_str(),
                None,
                json!({
                    "revision": 1,
                    "sections": content.sections.kinds().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "attachments": content.attachments.len(),
                }),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&output::advisory_json(&a, Some(&content.meta.title), now));
            } else {
                println!(
                    "Created {} (draft, revision 1). Next: a second person runs `forewarn advisory approve {}`.",
                    a.id, a.id
                );
                print_capacity_summary(&store, &content.sections).await?;
            }
        }
        AdvisoryCommand::FingerprintCapacity { id, revision, error } => {
            if !(error > 0.0 && error < 1.0) {
                return Err(CliError::user("--error must be a probability between 0 and 1, such as 1e-6"));
            }
            let id = AdvisoryId::parse(&id)?;
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let a = advisories::get(&mut conn, &id).await?;
            let number = revision.unwrap_or(a.current_revision);
            if number == 0 || number > a.current_revision {
                return Err(CliError::user(format!("{id} has revisions 1 to {}", a.current_revision)));
            }
            let content = advisories::revision(&mut conn, store.master_key()?, &id, number).await?.content;
            let sections = content.sections;
            let scheme = forewarn_render::scheme_of(&content.meta).ok_or_else(|| {
                CliError::user(format!("{id} revision {number} uses a fingerprinting scheme this build does not know"))
            })?;
            let partners = partners::list(&mut conn, &Default::default()).await?.len();
            let needed = forewarn_mark::capacity::nats_needed(partners, error);
            let mut rows = Vec::new();
            let mut out = Vec::new();
            for (kind, body) in sections.iter() {
                let prepared = forewarn_mark::prepare::prepare_with(body, scheme)
                    .map_err(|e| CliError::Internal(format!("{id} {kind}: stored markers do not parse: {e}")))?;
                let c = forewarn_mark::capacity::capacity(&prepared);
                let sentences = c.sentences_for(needed);
                let lines = c.lines_for(needed);
                out.push(json!({
                    "section": kind.as_str(), "points": c.slots(), "authored": c.authored, "dictionary": c.dictionary,
                    "serial_comma": c.serial_comma, "list_order": c.list_order, "code": c.code,
                    "bits_per_100_words": c.per_100_words(), "bits_per_100_code_lines": c.per_100_lines(),
                    "prose_nats": c.prose_nats, "code_nats": c.code_nats,
                    "sentences_needed": sentences, "code_lines_needed": lines,
                }));
                rows.push(vec![
                    kind.as_str().to_owned(),
                    c.slots().to_string(),
                    format!("{}/{}/{}/{}/{}", c.authored, c.dictionary, c.serial_comma, c.list_order, c.code),
                    format!("{:.1}", c.per_100_words()),
                    format!("{:.1}", c.per_100_lines()),
                    sentences.map_or("—".into(), |s| s.to_string()),
                    lines.map_or("—".into(), |s| s.to_string()),
                ]);
            }
            // Attachments: each fingerprinted one's points, or why it carries none.
            let mut files = Vec::new();
            let mut notes = Vec::new();
            for a in &content.attachments {
                match forewarn_render::prepare_attachment_file(a, scheme) {
                    Err(why) => {
                        files.push(json!({"attachment": a.name, "points": 0, "carries_nothing_because": why}));
                        notes.push(format!("poc attachment {}: carries nothing ({why})", a.name));
                    }
                    Ok(prepared) => {
                        let c = forewarn_mark::capacity::capacity(&prepared);
                        let lines = String::from_utf8_lossy(&a.bytes).lines().count().max(1);
                        let needed_lines = (c.code_nats > 0.0).then(|| (needed * lines as f64 / c.code_nats).ceil());
                        files.push(json!({"attachment": a.name, "points": c.code, "nats": c.code_nats,
                            "lines": lines, "code_lines_needed": needed_lines}));
                        rows.push(vec![
                            format!("poc attachment {}", a.name),
                            c.code.to_string(),
                            format!("0/0/0/0/{}", c.code),
                            "—".into(),
                            format!("{:.1}", c.code_bits * 100.0 / lines as f64),
                            "—".into(),
                            needed_lines.map_or("—".into(), |n| format!("{n:.0}")),
                        ]);
                    }
                }
            }
            let summary = forewarn_render::fingerprint_summary(
                &content.meta,
                &sections,
                &content.attachments,
                partners,
                error,
                forewarn_render::fingerprint_margin(),
            );
            if g.json {
                print_json(&json!({"advisory": id.as_str(), "revision": number, "partners": partners, "error": error,
                    "scheme": scheme.number(), "nats_needed": needed, "sections": out, "attachments": files,
                    "whole_copy_nats": summary.nats, "below_threshold": summary.low, "summary": summary.sentence}));
            } else {
                println!(
                    "{id} revision {number}: naming one leaker among {partners} partners at {error:e} needs \
                     {needed:.1} nats of evidence (a binary point gives 0.39 on average, a 4-way one 0.89)."
                );
                print_table(
                    &[
                        "SECTION",
                        "POINTS",
                        "AUTH/DICT/COMMA/LIST/CODE",
                        "BITS/100 WORDS",
                        "BITS/100 CODE LINES",
                        "SENTENCES",
                        "CODE LINES",
                    ],
                    &rows,
                );
                for n in notes {
                    println!("{n}");
                }
                println!("{}{}", if summary.low { "BELOW THRESHOLD: " } else { "" }, summary.sentence);
            }
        }
        AdvisoryCommand::List => {
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let list = advisories::list(&mut conn).await?;
            let mut rows = Vec::new();
            let mut items = Vec::new();
            for a in &list {
                let rev = advisories::revision(&mut conn, store.master_key()?, &a.id, a.current_revision).await?;
                let title = rev.content.meta.title;
                let severity = rev.content.meta.cvss.as_ref().and_then(|c| c.severity()).map_or("-", |s| s.as_str());
                let pending =
                    if a.has_pending_revision() && a.approved_revision.is_some() { " (edit pending)" } else { "" };
                rows.push(vec![
                    a.id.to_string(),
                    format!("{}{pending}", a.status(now)),
                    output::time(a.release_at),
                    severity.to_owned(),
                    title.clone(),
                ]);
                items.push(output::advisory_json(a, Some(&title), now));
            }
            if g.json {
                print_json(&json!(items));
            } else {
                print_table(&["ID", "STATUS", "RELEASE (T)", "SEVERITY", "TITLE"], &rows);
                println!("{} advisory(ies)", list.len());
            }
        }
        AdvisoryCommand::Show { id, revision } => {
            let id = AdvisoryId::parse(&id)?;
            let store = g.open().await?;
            let mut conn = store.conn().await?;
            let a = advisories::get(&mut conn, &id).await?;
            let number = revision.unwrap_or(a.current_revision);
            let rev = advisories::revision(&mut conn, store.master_key()?, &id, number).await?;
            if g.json {
                print_json(
                    &json!({"advisory": output::advisory_json(&a, Some(&rev.content.meta.title), now), "revision": output::revision_json(&rev)}),
                );
            } else {
                let m = &rev.content.meta;
                println!("{} — {}", a.id, m.title);
                println!(
                    "  status:    {} (revision {} of {}, approved: {})",
                    a.status(now),
                    number,
                    a.current_revision,
                    a.approved_revision.map_or("none".into(), |r| format!("r{r}"))
                );
                println!("  release T: {}", output::time(a.release_at));
                if let Some(c) = &m.cvss {
                    println!(
                        "  CVSS:      {} ({} {})",
                        c.vector(),
                        c.base_score().map_or("-".into(), |s| format!("{s:.1}")),
                        c.severity().map_or("", |s| s.as_str())
                    );
                }
                println!("  CWE:       {}", m.cwe.as_ref().map_or("-", |c| c.as_str()));
                println!(
                    "  CVE:       {}",
                    if m.cves.is_empty() {
                        "not assigned".into()
                    } else {
                        m.cves.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                    }
                );
                for p in &m.products {
                    println!("  product:   {} — {}", p.name, p.versions.join("; "));
                }
                if !m.flags.is_empty() {
                    println!("  flags:     {}", m.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "));
                }
                println!(
                    "  author:    {} ({}), approved by {}",
                    rev.author,
                    rev.note,
                    rev.approved_by.as_ref().map_or("nobody yet", |u| u.as_str())
                );
                for (kind, body) in rev.content.sections.iter() {
                    println!("\n# {}\n{body}", kind.heading());
                }
                for att in &rev.content.attachments {
                    println!("\n[attachment {} — {}, {} bytes]", att.name, att.media_type, att.bytes.len());
                }
            }
        }
        AdvisoryCommand::Edit { id, file, note } => {
            let id = AdvisoryId::parse(&id)?;
            let content = crate::advisory_file::read(&file)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::Author).await?;
            let mut tx = store.begin().await?;
            let a = advisories::revise(&mut tx, store.master_key()?, &id, &content, &me.username, &note, now).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "advisory.edit",
                id.as_str(),
                Some(&note),
                json!({"revision": a.current_revision}),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&output::advisory_json(&a, Some(&content.meta.title), now));
            } else {
                println!(
                    "{id}: revision {} awaits approval; partners keep getting {}.",
                    a.current_revision,
                    a.approved_revision.map_or("nothing".into(), |r| format!("revision {r}"))
                );
                print_capacity_summary(&store, &content.sections).await?;
            }
        }
        AdvisoryCommand::Approve { id } => {
            let id = AdvisoryId::parse(&id)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::Approver).await?;
            let mut tx = store.begin().await?;
            let a = advisories::approve(&mut tx, &id, &me.username, now).await?;
            let content = advisories::revision(&mut tx, store.master_key()?, &id, a.current_revision).await?.content;
            let partners = partners::list(&mut tx, &Default::default()).await?.len();
            let summary = forewarn_render::fingerprint_summary(
                &content.meta,
                &content.sections,
                &content.attachments,
                partners,
                1e-6,
                forewarn_render::fingerprint_margin(),
            );
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "advisory.approve",
                id.as_str(),
                None,
                json!({"revision": a.current_revision}),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&output::advisory_json(&a, None, now));
            } else {
                println!("Approved revision {} of {id}.", a.current_revision);
                if summary.low {
                    eprintln!("warning: {}", summary.sentence);
                } else {
                    println!("{}", summary.sentence);
                }
            }
        }
        AdvisoryCommand::Schedule { id, at, patch_tuesday, reason } => {
            let id = AdvisoryId::parse(&id)?;
            let store = g.open().await?;
            let (_, policy) = crate::policy_cmd::active_policy(&mut *store.conn().await?).await?;
            let at = release_time(&policy.calendar(), at.as_deref(), patch_tuesday.as_deref(), now)?;
            let me = g.actor(&store, Role::Approver).await?;
            let mut tx = store.begin().await?;
            let mut a = advisories::get(&mut tx, &id).await?;
            let previous = a.release_at;
            let change = a.schedule(at, reason.as_deref(), now)?;
            advisories::save_lifecycle(&mut tx, &a).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                &format!("advisory.{}", change.as_str()),
                id.as_str(),
                reason.as_deref(),
                json!({
                    "release_at": at.to_string(), "previous": previous.map(|t| t.to_string()),
                }),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&output::advisory_json(&a, None, now));
            } else {
                println!("{id} {} for {}.", change.as_str(), output::time(Some(at)));
            }
        }
        AdvisoryCommand::Delay { id, to, reason } => {
            let id = AdvisoryId::parse(&id)?;
            let to = parse_time(&to, now)?;
            reschedule(g, &id, Reschedule::Delay(to), &reason, now).await?;
        }
        AdvisoryCommand::BreakEmbargo { id, reason } => {
            let id = AdvisoryId::parse(&id)?;
            reschedule(g, &id, Reschedule::Now, &reason, now).await?;
        }
        AdvisoryCommand::Withdraw { id, reason } => {
            let id = AdvisoryId::parse(&id)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::Approver).await?;
            let mut tx = store.begin().await?;
            let mut a = advisories::get(&mut tx, &id).await?;
            a.withdraw(&reason, now)?;
            advisories::save_lifecycle(&mut tx, &a).await?;
            audit::record(&mut tx, now, &staff(&me), "advisory.withdraw", id.as_str(), Some(&reason), json!({}))
                .await?;
            tx.commit().await?;
            if g.json {
                print_json(&output::advisory_json(&a, None, now));
            } else {
                println!("{id} withdrawn.");
            }
        }
    }
    Ok(())
}

enum Reschedule {
    Delay(Timestamp),
    Now,
}

/// Delays an advisory or breaks its embargo, checking that the move goes the way the command says.
async fn reschedule(g: &Globals, id: &AdvisoryId, how: Reschedule, reason: &str, now: Timestamp) -> CliResult {
    if reason.trim().is_empty() {
        return Err(CliError::user("a reason is required (--reason)"));
    }
    let store = g.open().await?;
    let me = g.actor(&store, Role::Approver).await?;
    let mut tx = store.begin().await?;
    let mut a = advisories::get(&mut tx, id).await?;
    let Some(old) = a.release_at.filter(|_| a.state == forewarn_core::AdvisoryState::Scheduled) else {
        return Err(CliError::user(format!("{id} is not scheduled; schedule it with `forewarn advisory schedule`")));
    };
    let (to, action) = match how {
        Reschedule::Delay(to) if to <= old => {
            return Err(CliError::user(format!(
                "{} is not later than the current release time {}; to release earlier use break-embargo",
                output::time(Some(to)),
                output::time(Some(old))
            )))
        }
        Reschedule::Delay(to) => (to, "advisory.delayed"),
        Reschedule::Now => (now, "advisory.embargo-broken"),
    };
    a.schedule(to, Some(reason), now)?;
    advisories::save_lifecycle(&mut tx, &a).await?;
    audit::record(
        &mut tx,
        now,
        &staff(&me),
        action,
        id.as_str(),
        Some(reason),
        json!({
            "release_at": to.to_string(), "previous": old.to_string(),
        }),
    )
    .await?;
    tx.commit().await?;
    if g.json {
        print_json(&output::advisory_json(&a, None, now));
    } else if matches!(how, Reschedule::Now) {
        println!(
            "{id}: embargo broken; released now ({}). Every section the policy allows at release is due.",
            output::time(Some(to))
        );
    } else {
        println!("{id} delayed to {}.", output::time(Some(to)));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// users, keys, history, bench

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff user; prints a generated password once.
    Add {
        username: String,
        /// Comma-separated: admin, author, approver, program-manager, investigator, auditor.
        #[arg(long)]
        roles: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List staff users.
    List,
    /// Disable a staff user.
    Disable { username: String },
    /// Issue an API token for the admin API (`fws_...`, shown once). Admins may issue for anyone, others for themselves.
    Token {
        username: String,
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub async fn user(g: &Globals, command: UserCommand) -> CliResult {
    let now = Timestamp::now();
    match command {
        UserCommand::Add { username, roles, display_name } => {
            let username = Username::parse(&username)?;
            let roles = Roles::parse(&roles)?;
            let display = display_name.unwrap_or_else(|| username.to_string());
            if display.trim().is_empty() || display.len() > 100 || display.chars().any(char::is_control) {
                return Err(CliError::user("the display name must be one line of 1-100 characters"));
            }
            let store = g.open().await?;
            let me = g.actor(&store, Role::Admin).await?;
            let password = credentials::generate_password()?;
            let hash = credentials::hash_password(&password)?;
            let mut tx = store.begin().await?;
            let u = users::insert(&mut tx, &username, &display, roles, &hash, now).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "user.add",
                username.as_str(),
                None,
                json!({"roles": roles.to_string()}),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"user": output::user_json(&u), "password": password.as_str()}));
            } else {
                println!("Added user {username} ({roles}).");
                println!("Password (shown once): {}", password.as_str());
            }
        }
        UserCommand::List => {
            let store = g.open().await?;
            let list = users::list(&mut *store.conn().await?).await?;
            if g.json {
                print_json(&json!(list.iter().map(output::user_json).collect::<Vec<_>>()));
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|u| {
                        vec![
                            u.username.to_string(),
                            u.display_name.clone(),
                            u.roles.to_string(),
                            if u.disabled_at.is_some() { "disabled".into() } else { "active".into() },
                        ]
                    })
                    .collect();
                print_table(&["USER", "NAME", "ROLES", "STATE"], &rows);
            }
        }
        UserCommand::Token { username, expires, label } => {
            let username = Username::parse(&username)?;
            let expires = expires.as_deref().map(|t| parse_time(t, now)).transpose()?;
            if expires.is_some_and(|t| t <= now) {
                return Err(CliError::user("--expires must be in the future"));
            }
            let store = g.open().await?;
            let me = g
                .actor(&store, Role::Author)
                .await
                .or(g.actor(&store, Role::Auditor).await)
                .or(g.actor(&store, Role::Investigator).await)
                .or(g.actor(&store, Role::ProgramManager).await)
                .or(g.actor(&store, Role::Approver).await)?;
            if me.username != username && !me.roles.allows(Role::Admin) {
                return Err(CliError::user(format!(
                    "only an admin can issue a token for {username}; act as yourself or ask an admin"
                )));
            }
            let mut tx = store.begin().await?;
            let token = users::issue_token(&mut tx, &username, &label, expires, now).await?;
            audit::record(
                &mut tx,
                now,
                &staff(&me),
                "user.token",
                username.as_str(),
                None,
                json!({"token": token.id.as_str(), "label": label}),
            )
            .await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"username": username.as_str(), "token": token.text.as_str()}));
            } else {
                println!("Admin API token for {username} (shown once): {}", token.text.as_str());
            }
        }
        UserCommand::Disable { username } => {
            let username = Username::parse(&username)?;
            let store = g.open().await?;
            let me = g.actor(&store, Role::Admin).await?;
            if me.username == username {
                return Err(CliError::user("you cannot disable yourself; ask another admin"));
            }
            let mut tx = store.begin().await?;
            users::disable(&mut tx, &username, now).await?;
            audit::record(&mut tx, now, &staff(&me), "user.disable", username.as_str(), None, json!({})).await?;
            tx.commit().await?;
            if g.json {
                print_json(&json!({"username": username.as_str(), "disabled": true}));
            } else {
                println!("User {username} disabled.");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new master key and re-wrap every advisory's data key with it.
    Rotate,
    /// Print the program's OpenPGP signing key (public half) and its fingerprint.
    Program,
}

pub async fn keys(g: &Globals, command: KeysCommand) -> CliResult {
    if let KeysCommand::Program = command {
        let store = g.open().await?;
        let name = server_config(g, None)?.publisher_name;
        let key = signing_key(&store, &name).await?;
        let public = key.public_armored().map_err(|e| CliError::Internal(e.to_string()))?;
        if g.json {
            print_json(&json!({"fingerprint": key.fingerprint(), "public_key": public}));
        } else {
            println!("fingerprint {}\n{public}", key.fingerprint());
        }
        return Ok(());
    }
    let now = Timestamp::now();
    let store = g.open().await?;
    let me = g.actor(&store, Role::Admin).await?;
    let old = store.master_key()?;
    let new = MasterKey::generate()?;
    let from_env = std::env::var(keys::KEY_ENV).is_ok();
    if !from_env {
        keys::write_new(&g.data_dir.join(keys::NEXT_KEY_FILE), &new)?;
    }
    let mut tx = store.begin().await?;
    let count = advisories::rewrap_all(&mut tx, old, &new).await?;
    let program_keys = forewarn_store::program_keys::rewrap_all(&mut tx, old, &new).await?
        + forewarn_store::webhooks::rewrap_all(&mut tx, old, &new).await?;
    audit::record(
        &mut tx,
        now,
        &staff(&me),
        "keys.rotate",
        "master-key",
        None,
        json!({"from": old.id(), "to": new.id(), "rewrapped": count, "program_keys": program_keys}),
    )
    .await?;
    tx.commit().await?;
    if from_env {
        let text = keys::encode(&new);
        println!(
            "Re-wrapped {count} data key(s). Set {}={} before the next start (shown once).",
            keys::KEY_ENV,
            text.as_str()
        );
    } else {
        keys::promote_next(&g.data_dir)?;
        if g.json {
            print_json(&json!({"rewrapped": count, "program_keys": program_keys, "key_id": new.id()}));
        } else {
            println!(
                "Re-wrapped {count} data key(s) and {program_keys} program key(s) under master key {}; master.key replaced.",
                new.id()
            );
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only changes to this subject (a partner id, an advisory id, a user name).
    #[arg(long)]
    subject: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: i64,
}

fn history_json(e: &audit::AuditEvent) -> serde_json::Value {
    json!({"seq": e.seq, "at": e.at.to_string(), "actor": e.actor, "action": e.action, "subject": e.subject, "reason": e.reason, "detail": e.detail})
}

fn print_history(events: &[audit::AuditEvent]) {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                output::time(Some(e.at)),
                e.actor.clone(),
                e.action.clone(),
                e.subject.clone(),
                e.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_table(&["SEQ", "WHEN", "WHO", "WHAT", "SUBJECT", "WHY"], &rows);
}

pub async fn history(g: &Globals, args: HistoryArgs) -> CliResult {
    if !(1..=10_000).contains(&args.limit) {
        return Err(CliError::user("--limit must be between 1 and 10000"));
    }
    let store = g.open().await?;
    let events = audit::list(&mut *store.conn().await?, args.subject.as_deref(), args.limit).await?;
    if g.json {
        print_json(&json!(events.iter().map(history_json).collect::<Vec<_>>()));
    } else {
        print_history(&events);
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    #[arg(long)]
    partner: Option<String>,
    #[arg(long)]
    advisory: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: i64,
}

pub async fn deliveries(g: &Globals, args: DeliveriesArgs) -> CliResult {
    if !(1..=100_000).contains(&args.limit) {
        return Err(CliError::user("--limit must be between 1 and 100000"));
    }
    let partner = args.partner.as_deref().map(PartnerId::parse).transpose()?;
    let advisory = args.advisory.as_deref().map(AdvisoryId::parse).transpose()?;
    let store = g.open().await?;
    let list = forewarn_store::deliveries::list(
        &mut *store.conn().await?,
        partner.as_ref().map(PartnerId::as_str),
        advisory.as_ref().map(AdvisoryId::as_str),
        args.limit,
    )
    .await?;
    if g.json {
        print_json(&json!(list
            .iter()
            .map(|d| json!({
                "seq": d.seq, "at": d.at.to_string(), "partner": d.partner_id, "advisory": d.advisory_id,
                "revision": d.revision, "sections": d.sections, "channel": d.channel, "sha256": d.digest,
            }))
            .collect::<Vec<_>>()));
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|d| {
                vec![
                    d.seq.to_string(),
                    output::time(Some(d.at)),
                    d.partner_id.clone(),
                    d.advisory_id.clone(),
                    format!("r{}", d.revision),
                    d.channel.clone(),
                    d.sections.join(","),
                    d.digest.get(..16).unwrap_or(&d.digest).to_owned(),
                ]
            })
            .collect();
        print_table(&["SEQ", "WHEN", "PARTNER", "ADVISORY", "REV", "CHANNEL", "SECTIONS", "SHA256"], &rows);
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Policy decisions per second on one core, with the default policy and synthetic partners and advisories.
    Policy {
        #[arg(long, default_value_t = 10_000)]
        partners: usize,
        #[arg(long, default_value_t = 100)]
        advisories: usize,
    },
    /// Seed a data directory for the release-burst benchmark: PARTNERS partners (tokens in bench-tokens.txt) and
    /// ADVISORIES advisories, all released an hour ago.
    Seed {
        #[arg(long, default_value_t = 5000)]
        partners: usize,
        #[arg(long, default_value_t = 50)]
        advisories: usize,
    },
    /// Commit `count` history events one transaction each, printing `ack N` after each commit returns.
    Writes {
        #[arg(long, default_value_t = 1000)]
        count: u64,
    },
    /// Fingerprinting: simulated detection rates for single leakers and coalitions, false accusations over many
    /// innocent trials, and the time to trace a 2 KB excerpt against PARTNERS partners and 100 advisories.
    Trace(crate::trace_cmd::BenchTrace),
    /// The transparency log: append `count` events in transactions of `batch` while the sequencer integrates them
    /// (durable appends per second, end to end), then make and verify inclusion proofs from the stored tiles.
    Log {
        #[arg(long, default_value_t = 200_000)]
        count: u64,
        #[arg(long, default_value_t = 1000)]
        batch: u64,
    },
}

async fn bench_log(g: &Globals, count: u64, batch: u64) -> CliResult {
    use forewarn_store::log;
    let store = g.open().await?;
    let signer = log::signer(&mut *store.conn().await?, &store, "forewarn.bench/log", Timestamp::now()).await?;
    let start_size = log::size(&mut *store.conn().await?).await?;
    let started = std::time::Instant::now();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut written = 0u64;
            while written < count {
                let n = batch.min(count - written);
                let bodies: Vec<String> = (written..written + n)
                    .map(|i| {
                        json!({"type": "delivery", "at": Timestamp::now().to_string(), "partner": "bench-partner",
                            "advisory": "BENCH-00001", "revision": 1, "sections": ["summary", "details"],
                            "channel": "csaf", "sha256": format!("{i:064x}")})
                        .to_string()
                    })
                    .collect();
                let events: Vec<log::NewEvent<'_>> = bodies
                    .into_iter()
                    .map(|body| log::NewEvent {
                        at: Timestamp::now(),
                        kind: "bench",
                        partner: Some("bench-partner"),
                        advisory: None,
                        body,
                    })
                    .collect();
                let mut tx = store.begin().await?;
                log::append(&mut tx, &events).await?;
                tx.commit().await.map_err(forewarn_store::StoreError::from)?;
                written += n;
            }
            Ok::<_, forewarn_store::StoreError>(std::time::Instant::now())
        })
    };
    let mut cache = None;
    let mut checkpoints = 0u64;
    let target = start_size + count;
    loop {
        match log::integrate(&store, &signer, &mut cache, 16_384, Timestamp::now()).await? {
            Some(done) => {
                checkpoints += 1;
                if done.size >= target {
                    break;
                }
            }
            None => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    }
    let integrated = started.elapsed().as_secs_f64();
    let appended = writer.await.map_err(|e| CliError::Internal(e.to_string()))??.duration_since(started).as_secs_f64();
    println!(
        "appended {count} events in transactions of {batch}: {:.0}/s durable ({appended:.2} s)",
        count as f64 / appended
    );
    println!(
        "integrated into the tree, with tiles and {checkpoints} signed checkpoints: {:.0}/s end to end ({integrated:.2} s)",
        count as f64 / integrated
    );
    // Proofs for random entries, from the stored tiles (a read per tile), and their verification.
    let size = log::size(&mut *store.conn().await?).await?;
    let (_, note) = log::latest_checkpoint(&mut *store.conn().await?)
        .await?
        .ok_or_else(|| CliError::Internal("no checkpoint".into()))?;
    let root = forewarn_tlog::checkpoint::Checkpoint::open(&note, &signer.verifier())
        .map_err(|e| CliError::Internal(e.to_string()))?
        .root;
    let rounds = 2000u64;
    let mut conn = store.conn().await?;
    let cache = log::TileCache::default();
    let mut proofs = Vec::new();
    let t = std::time::Instant::now();
    for r in 0..rounds {
        let index = r.wrapping_mul(2_654_435_761) % size;
        proofs.push((index, cache.inclusion_proof(&mut conn, size, index).await?));
    }
    let cold = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let t = std::time::Instant::now();
    for r in 0..rounds {
        let index = r.wrapping_mul(2_654_435_761) % size;
        std::hint::black_box(cache.inclusion_proof(&mut conn, size, index).await?);
    }
    let warm = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let mut leaves = Vec::new();
    for (index, _) in &proofs {
        let e = log::event_at(&mut conn, *index).await?.ok_or_else(|| CliError::Internal("missing entry".into()))?;
        leaves.push(forewarn_tlog::hash::leaf(&e.commitment));
    }
    let t = std::time::Instant::now();
    for ((index, proof), leaf) in proofs.iter().zip(&leaves) {
        forewarn_tlog::tree::verify_inclusion(*leaf, *index, size, proof, root)
            .map_err(|e| CliError::Internal(e.to_string()))?;
    }
    let verified = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    println!(
        "inclusion proof in a tree of {size}: made in {cold:.1} µs while the tile cache fills (database reads), \
         {warm:.1} µs from the cache; verified in {verified:.2} µs"
    );
    Ok(())
}

pub async fn bench(g: &Globals, command: BenchCommand) -> CliResult {
    let count = match command {
        BenchCommand::Policy { partners, advisories } => {
            if partners == 0 || advisories == 0 || partners > 1_000_000 || advisories > 100_000 {
                return Err(CliError::user("--partners must be 1-1000000 and --advisories 1-100000"));
            }
            return crate::policy_cmd::bench_policy(partners, advisories);
        }
        BenchCommand::Seed { partners, advisories } => {
            if partners == 0 || advisories == 0 || partners > 100_000 || advisories > 10_000 {
                return Err(CliError::user("--partners must be 1-100000 and --advisories 1-10000"));
            }
            return crate::demo::seed_bench(g, partners, advisories).await;
        }
        BenchCommand::Writes { count } => count,
        BenchCommand::Trace(args) => return crate::trace_cmd::bench(args),
        BenchCommand::Log { count, batch } => {
            if count == 0 || batch == 0 || batch > 100_000 {
                return Err(CliError::user("--count must be at least 1 and --batch 1-100000"));
            }
            return bench_log(g, count, batch).await;
        }
    };
    let store = g.open().await?;
    let started = std::time::Instant::now();
    let mut out = std::io::stdout().lock();
    for i in 1..=count {
        let mut tx = store.begin().await?;
        audit::record(
            &mut tx,
            Timestamp::now(),
            &Actor::System("bench"),
            "bench.write",
            &format!("bench-{i}"),
            None,
            json!({"n": i}),
        )
        .await?;
        tx.commit().await?;
        writeln!(out, "ack {i}").and_then(|()| out.flush()).map_err(|e| CliError::Internal(e.to_string()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("{count} durable commits in {secs:.2} s ({:.0}/s)", count as f64 / secs.max(1e-9));
    Ok(())
}
