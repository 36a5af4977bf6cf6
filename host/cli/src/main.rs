//! `nbfacts`: collect operational facts from network devices and reconcile them into NetBox.
//!
//! This binary parses flags, sets up logging, calls `nbfacts-host` and maps errors to exit
//! codes: 0 success, 1 a collection failed, 2 usage error.

mod config;
mod demo;
mod devsim;
mod home;
mod jobs;
mod output;
mod plans;
mod remote;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use nbfacts_host::{
    CollectRequest, DeviceSession, Limits, Registry, ReplayDevice, Runtime, RuntimeConfig,
};

/// Exit code when a collection failed.
const EXIT_FAILED: u8 = 1;
/// Exit code for usage errors (clap uses the same).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "nbfacts",
    version,
    about = "Collect facts from network devices into NetBox"
)]
struct Cli {
    /// State directory (store, plugin cache). Default: $NBFACTS_HOME or ~/.local/share/nbfacts.
    #[arg(long, global = true, env = "NBFACTS_HOME")]
    home: Option<PathBuf>,

    /// Log filter, e.g. `info` or `nbfacts_host=debug`.
    #[arg(long, global = true, env = "NBFACTS_LOG", default_value = "warn")]
    log: String,

    /// Load this plugin component in addition to the built-in ones (repeatable).
    #[arg(long = "plugin", global = true, value_name = "FILE.wasm")]
    plugins: Vec<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run collectors against one device and print the facts.
    Collect(CollectArgs),
    /// Run simulated devices (SSH + NETCONF) answering from recorded or generated replies.
    Devsim(devsim::DevsimArgs),
    /// Seed a local NetBox with simulated devices, collect everything from them and show
    /// what changed (needs NETBOX_URL and NETBOX_TOKEN; `scripts/demo` sets everything up).
    Demo(demo::DemoArgs),
    /// Collect from devices selected in NetBox and reconcile (apply, report or branch).
    Sync(jobs::SyncArgs),
    /// Prepare NetBox for nbfacts.
    #[command(subcommand)]
    Netbox(jobs::NetBoxCommand),
    /// Review stored change sets (report mode): show, apply, skip.
    #[command(subcommand)]
    Report(jobs::ReportCommand),
    /// Collection plans: add, list, show, edit, enable, disable, remove, apply -f FILE.
    #[command(subcommand)]
    Plan(plans::PlanCommand),
    /// Run a plan now (the manual trigger) and wait for it, with progress.
    Run(plans::RunArgs),
    /// Run the scheduler and the HTTP API (plans, jobs, reports, NetBox link and webhooks).
    Serve(plans::ServeArgs),
    /// Plans with their last and next run, and the last result.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Jobs: list, show, roll back.
    #[command(subcommand)]
    Job(jobs::JobCommand),
    /// List the loaded plugins with their drivers, collectors and versions.
    Plugins {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct CollectArgs {
    /// Answer from recorded replies in DIR (NAPALM mocked-data layout) instead of a device.
    #[arg(long, value_name = "DIR", required_unless_present = "host")]
    replay: Option<PathBuf>,

    #[command(flatten)]
    remote: remote::RemoteArgs,

    /// Driver name or alias (`junos`, `netbox_facts.napalm.junos`).
    #[arg(long)]
    driver: String,

    /// Collector to run (repeatable): inventory, interfaces, ethernet_switching, lldp, bgp,
    /// arp, ndp, l2_circuits, evpn, ospf.
    #[arg(long = "collector", required = true)]
    collectors: Vec<String>,

    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Plugin deadline per collector, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// How facts are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Readable tables.
    Table,
    /// nbfacts's own JSON: `{collector: facts}`.
    Json,
    /// One JSON object keyed by NAPALM getter name, in NAPALM's shapes.
    Napalm,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = home::resolve(cli.home.as_deref())?;
    match &cli.command {
        Command::Plugins { json } => {
            let registry = load_registry(&home, &cli.plugins, Limits::default()).await?;
            output::print_plugins(&registry, *json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Collect(args) => collect(&home, &cli.plugins, args).await,
        Command::Devsim(args) => devsim::run(args).await,
        Command::Demo(args) => {
            let registry = load_registry(&home, &cli.plugins, Limits::default()).await?;
            demo::run(&home, &registry, args).await
        }
        Command::Sync(args) => {
            let registry = load_registry(&home, &cli.plugins, Limits::default()).await?;
            jobs::sync(&home, &registry, args).await
        }
        Command::Netbox(command) => jobs::netbox(command).await,
        Command::Report(command) => jobs::report(&home, command).await,
        Command::Job(command) => jobs::job(&home, command).await,
        Command::Plan(command) => plans::plan(&home, command),
        Command::Status { json } => plans::status(&home, *json),
        Command::Serve(args) => {
            let registry = load_registry(&home, &cli.plugins, Limits::default()).await?;
            plans::serve(&home, registry, args).await
        }
        Command::Run(args) => {
            let registry = load_registry(&home, &cli.plugins, Limits::default()).await?;
            plans::run(&home, registry, args).await
        }
    }
}

async fn load_registry(
    home: &home::Home,
    extra: &[PathBuf],
    limits: Limits,
) -> anyhow::Result<Registry> {
    let runtime = Runtime::new(RuntimeConfig {
        limits,
        cache_dir: Some(home.plugin_cache()),
        ..RuntimeConfig::default()
    })?;
    let mut registry = Registry::new();
    for builtin in nbfacts_builtin::ALL {
        let plugin = runtime
            .load(builtin.wasm, &format!("builtin:{}", builtin.name))
            .await?;
        registry.add(plugin)?;
    }
    for path in extra {
        let plugin = runtime
            .load_file(path)
            .await
            .with_context(|| format!("cannot load plugin {}", path.display()))?;
        registry.add(plugin)?;
    }
    Ok(registry)
}

/// Milliseconds to two decimals, for log fields.
fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 1e2
}

async fn collect(
    home: &home::Home,
    plugins: &[PathBuf],
    args: &CollectArgs,
) -> anyhow::Result<ExitCode> {
    if let Some(dir) = args.replay.as_ref().filter(|d| !d.is_dir()) {
        eprintln!(
            "error: --replay {}: not a directory of recorded replies",
            dir.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let limits = Limits {
        deadline: std::time::Duration::from_secs(args.timeout.max(1)),
        ..Limits::default()
    };
    let registry = load_registry(home, plugins, limits).await?;
    // Unknown driver or collector: say so before touching the device.
    for collector in &args.collectors {
        if let Err(e) = registry.resolve(&args.driver, collector) {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    }
    let remote = match (&args.replay, &args.remote.host) {
        (None, Some(host)) => {
            match remote::open(&args.remote, host, &args.driver, home.known_hosts()).await {
                Ok(session) => Some(session),
                Err(remote::OpenError::Usage(e)) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
                Err(remote::OpenError::Device(e)) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EXIT_FAILED));
                }
            }
        }
        _ => None,
    };
    let (session, device): (Arc<dyn DeviceSession>, String) = match (&remote, &args.replay) {
        (Some(s), _) => (s.clone(), s.target().name.clone()),
        (None, Some(dir)) => (
            Arc::new(ReplayDevice::new(dir, &args.driver)),
            dir.display().to_string(),
        ),
        (None, None) => {
            eprintln!("error: give --replay DIR or --host HOST");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let progress = remote::Progress::start(&device, args.collectors.len());
    let mut results = Vec::new();
    for collector in &args.collectors {
        progress.begin(collector);
        let started = std::time::Instant::now();
        let (result, times) = registry
            .collect_timed(
                &args.driver,
                CollectRequest::new(collector),
                session.clone(),
            )
            .await;
        tracing::info!(
            collector = %collector,
            ok = result.is_ok(),
            elapsed_ms = ms(started.elapsed()),
            plugin_ms = ms(times.plugin),
            host_calls_ms = ms(times.host_calls),
            results_ms = ms(times.results),
            "Collection finished."
        );
        results.push((collector.clone(), result));
        progress.end();
    }
    progress.finish();
    if let Some(s) = &remote {
        s.close().await;
    }
    let format = if args.json { Format::Json } else { args.format };
    let failed = results.iter().any(|(_, r)| r.is_err());
    match format {
        Format::Table => output::print_tables(&results)?,
        Format::Json => output::print_json(&results)?,
        Format::Napalm => output::print_napalm(&results)?,
    }
    Ok(if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
