//! The `glou` binary: parses the command line, installs logging, and hands over to the
//! library crates. `serve` runs the server; `bench` drives load against one; `user` and
//! `stats` administer accounts and statistics; `admin` operates a running server; `peers` shows federation links; `servers` lists or follows a running server's game servers; `browse` is a terminal game browser; `import-ggz` converts GGZ's files.

mod admin;
mod bench;
mod browse;
mod manage;
mod peers;
mod serve;
mod servers;

use clap::{Parser, Subcommand};

/// mimalloc keeps many small allocations (a million listings' strings) compact.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Glou: a game lounge server — metaserver, lobby and community for every game.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Log filter, as RUST_LOG (e.g. `info`, `glou_server=debug`). Overrides RUST_LOG.
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (no configuration needed: SQLite in ./glou-data, HTTP on 127.0.0.1:5680).
    Serve(serve::ServeArgs),
    /// Measure: load a running server (loopback only) or the registry in-process.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Manage accounts (GGZ's ggzduedit): add, list, show, passwd, perm, ban, gag, delete.
    User(admin::UserArgs),
    /// Show or reset players' statistics.
    Stats(admin::StatsArgs),
    /// Operate a running server through its admin API: reload, rooms, game types,
    /// tables, players, bans, announcements, the log filter, the audit log.
    Admin(manage::AdminArgs),
    /// Show a running server's federation links: state, sequence, lag.
    Peers(peers::PeersArgs),
    /// List a running server's game servers, optionally following changes live.
    Servers(servers::ServersArgs),
    /// Browse a running server's game servers in the terminal, live, and join one.
    Browse(browse::BrowseArgs),
    /// Print GGZ game descriptions and rooms (DIR/games/*.dsc, DIR/rooms/*.room) as
    /// Glou configuration, to paste into glou.toml.
    ImportGgz {
        /// A GGZ configuration directory (ggzd's ConfDir).
        dir: std::path::PathBuf,
    },
    /// Run a game program shipped with Glou, as the lobby does for each table (it
    /// expects GGZ's ggzdmod socket on fd 3). `tictactoe` is the only one.
    Module {
        name: String,
        /// The program's own arguments (`glou module tictactoe -- --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Module { name, args } = cli.command {
        anyhow::ensure!(
            name == "tictactoe",
            "module: expected \"tictactoe\", got {name:?}"
        );
        let code = glou_tictactoe::program::main(args);
        std::process::exit(i32::from(code != std::process::ExitCode::SUCCESS));
    }
    let log_filter = init_logging(cli.log.as_deref());
    // Many players and game servers mean many sockets: use all the descriptors allowed.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %e, "could not raise the open-file limit");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args, cli.log, log_filter).await,
            Command::Bench { command } => bench::run(command).await,
            Command::User(args) => admin::user(args).await,
            Command::Servers(args) => servers::run(args).await,
            Command::Browse(args) => browse::run(args).await,
            Command::Stats(args) => admin::stats(args).await,
            Command::Admin(args) => manage::run(args).await,
            Command::Peers(args) => peers::run(args).await,
            Command::ImportGgz { dir } => admin::import_ggz(&dir),
            Command::Module { .. } => unreachable!("handled before the runtime starts"),
        }
    })
}

/// Installs logging to stderr; returns what replaces the filter while running (for
/// `glou serve`'s reloads and the admin API).
fn init_logging(filter: Option<&str>) -> glou_server::ops::LogFilter {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{EnvFilter, reload};
    let filter = match filter {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(ansi),
        )
        .init();
    std::sync::Arc::new(move |directives: &str| {
        let filter = EnvFilter::try_new(directives).map_err(|e| format!("{directives:?}: {e}"))?;
        handle.reload(filter).map_err(|e| e.to_string())
    })
}
