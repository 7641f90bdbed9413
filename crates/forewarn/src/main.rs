//! `forewarn`: the command line over everything. See `forewarn --help`.

mod advisory_file;
mod bench_corpus;
mod commands;
mod context;
mod csaf_cmd;
mod demo;
mod errors;
mod log_cmd;
mod output;
mod policy_cmd;
mod timeparse;
mod trace_cmd;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::context::Globals;

/// mimalloc instead of the system allocator: serving a copy allocates and frees many short-lived buffers on two
/// threads, and glibc's allocator took about 13 % of the server's CPU in the release-burst profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// forewarn: advance vulnerability notification with per-section, per-partner release, fingerprinting and a
/// transparency log.
#[derive(Debug, Parser)]
#[command(name = "forewarn", version, about, max_term_width = 110)]
struct Cli {
    /// Data directory: configuration, master key and (by default) the SQLite database.
    /// [default: ./forewarn-data; ./forewarn-demo for `demo`]
    #[arg(long, global = true, env = "FOREWARN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH or postgres://...); overrides forewarn.toml.
    #[arg(long, global = true, env = "FOREWARN_DATABASE_URL")]
    database_url: Option<String>,
    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
    /// The staff user this command acts as.
    #[arg(long = "as", global = true, env = "FOREWARN_USER", default_value = "admin", value_name = "USER")]
    actor: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: configuration, master key, database, default tiers and the first admin.
    Init(commands::InitArgs),
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Create (or reuse) ./forewarn-demo with a realistic program, and serve it.
    Demo(demo::DemoArgs),
    /// Manage partners.
    #[command(subcommand)]
    Partner(commands::PartnerCommand),
    /// Write, approve, schedule and withdraw advisories.
    #[command(subcommand)]
    Advisory(commands::AdvisoryCommand),
    /// Show, check, set and question the policy: who sees which section when, and why.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// CSAF documents: export every partner's personalised copies for review or validation.
    #[command(subcommand)]
    Csaf(csaf_cmd::CsafCommand),
    /// The release calendar.
    #[command(subcommand)]
    Calendar(policy_cmd::CalendarCommand),
    /// Manage staff users.
    #[command(subcommand)]
    User(commands::UserCommand),
    /// Manage the master key.
    #[command(subcommand)]
    Keys(commands::KeysCommand),
    /// Trace leaked material to the partner whose copy it came from, with a stated error probability
    /// (investigator role).
    Trace(trace_cmd::TraceArgs),
    /// The transparency log: checkpoint, key, verification, receipts.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// Show the history of administrative changes.
    History(commands::HistoryArgs),
    /// Show the record of copies delivered to partners: who received what, when, through which channel.
    Deliveries(commands::DeliveriesArgs),
    /// Measure: policy decisions per second, durable writes per second.
    #[command(subcommand)]
    Bench(commands::BenchCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides forewarn.toml and FOREWARN_LISTEN).
    #[arg(long)]
    listen: Option<String>,
}

fn main() {
    // `forewarn ... | head` closes stdout early: end quietly, as other command-line tools do, instead of
    // reporting a panic. (SIGPIPE is ignored by Rust programs, so the write fails and println! panics.)
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let globals = Globals {
        data_dir: cli.data_dir.unwrap_or_else(|| {
            PathBuf::from(if matches!(cli.command, Command::Demo(_)) { "./forewarn-demo" } else { "./forewarn-data" })
        }),
        database_url: cli.database_url,
        json: cli.output == Format::Json,
        actor: cli.actor,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => commands::init(&globals, args).await,
            Command::Serve(args) => commands::serve(&globals, args.listen).await,
            Command::Demo(args) => demo::run(&globals, args).await,
            Command::Partner(c) => commands::partner(&globals, c).await,
            Command::Advisory(c) => commands::advisory(&globals, c).await,
            Command::Policy(c) => policy_cmd::policy(&globals, c).await,
            Command::Calendar(c) => policy_cmd::calendar(&globals, c).await,
            Command::Csaf(c) => csaf_cmd::csaf(&globals, c).await,
            Command::User(c) => commands::user(&globals, c).await,
            Command::Keys(c) => commands::keys(&globals, c).await,
            Command::Log(c) => log_cmd::log(&globals, c).await,
            Command::Trace(a) => trace_cmd::trace(&globals, a).await,
            Command::History(args) => commands::history(&globals, args).await,
            Command::Deliveries(args) => commands::deliveries(&globals, args).await,
            Command::Bench(c) => commands::bench(&globals, c).await,
        }
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
