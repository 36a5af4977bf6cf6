//! `nbfacts plan …`, `nbfacts run` and `nbfacts status`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use nbfacts_host::host::{Devices, Enqueued, Host, JobEvent, Trigger, next_due};
use nbfacts_host::job::{JobState, Store};
use nbfacts_host::netbox::AddressPreference;
use nbfacts_host::plan::{Plan, PlanFile, Priority, format_interval, parse_interval};

use crate::home::Home;
use crate::jobs::{ModeArg, NetBoxArgs, SelectArgs, print_summary};

/// Plan settings shared by `plan add` and `plan edit` (every one optional for `edit`).
#[derive(Debug, Clone, clap::Args)]
pub struct PlanFlags {
    /// Collector (repeatable).
    #[arg(long = "collector")]
    pub collectors: Vec<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Run every INTERVAL (30m, 1h, 1d); `0` for manual runs only.
    #[arg(long)]
    pub interval: Option<String>,
    /// apply, report or branch.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Queue priority.
    #[arg(long, value_enum)]
    pub priority: Option<PriorityArg>,
    /// Credentials profile (config.toml `[credentials.NAME]`).
    #[arg(long)]
    pub credentials: Option<String>,
    /// Which management address to use.
    #[arg(long, value_enum)]
    pub connection: Option<ConnectionArg>,
    /// Only interfaces matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub interface_regex: Option<String>,
    /// Driver instead of the platform's.
    #[arg(long)]
    pub driver: Option<String>,
    /// Seconds for one RPC.
    #[arg(long, value_name = "SECS")]
    pub rpc_timeout: Option<u64>,
}

/// Priority flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PriorityArg {
    /// First.
    High,
    /// Normal.
    Default,
    /// Last.
    Low,
}

/// Connection flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConnectionArg {
    /// Primary IP.
    Primary,
    /// Out-of-band IP.
    Oob,
    /// Primary, else out-of-band.
    PrimaryThenOob,
    /// Out-of-band, else primary.
    OobThenPrimary,
}

/// `nbfacts plan …`
#[derive(Debug, clap::Subcommand)]
pub enum PlanCommand {
    /// Add a plan.
    Add {
        /// Plan name.
        name: String,
        #[command(flatten)]
        flags: PlanFlags,
        /// Create it disabled (no scheduled runs).
        #[arg(long)]
        disabled: bool,
    },
    /// List plans.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one plan (TOML, as `plan apply` reads it).
    Show {
        /// Plan name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change settings of a plan (only the flags given).
    Edit {
        /// Plan name.
        name: String,
        #[command(flatten)]
        flags: PlanFlags,
    },
    /// Enable scheduled runs.
    Enable {
        /// Plan name.
        name: String,
    },
    /// Disable scheduled runs.
    Disable {
        /// Plan name.
        name: String,
    },
    /// Remove a plan.
    Remove {
        /// Plan name.
        name: String,
    },
    /// Make the stored plans match a TOML file (`[[plan]]` tables): idempotent.
    Apply {
        /// The file.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Also remove stored plans the file does not have.
        #[arg(long)]
        prune: bool,
    },
}

fn apply_flags(plan: &mut Plan, f: &PlanFlags) -> anyhow::Result<()> {
    if !f.collectors.is_empty() {
        plan.collectors = f.collectors.clone();
    }
    let s = &f.select;
    let filter = &mut plan.filter;
    for (dst, src) in [
        (&mut filter.devices, &s.devices),
        (&mut filter.sites, &s.sites),
        (&mut filter.roles, &s.roles),
        (&mut filter.platforms, &s.platforms),
        (&mut filter.tags, &s.tags),
        (&mut filter.statuses, &s.statuses),
    ] {
        if !src.is_empty() {
            *dst = src.clone();
        }
    }
    if let Some(i) = &f.interval {
        plan.interval = if i.trim() == "0" {
            None
        } else {
            Some(parse_interval(i).map_err(anyhow::Error::msg)?)
        };
    }
    if let Some(m) = f.mode {
        plan.mode = m.into();
    }
    if let Some(p) = f.priority {
        plan.priority = match p {
            PriorityArg::High => Priority::High,
            PriorityArg::Default => Priority::Default,
            PriorityArg::Low => Priority::Low,
        };
    }
    if let Some(c) = &f.credentials {
        plan.credentials = c.clone();
    }
    if let Some(c) = f.connection {
        plan.connection = match c {
            ConnectionArg::Primary => AddressPreference::Primary,
            ConnectionArg::Oob => AddressPreference::Oob,
            ConnectionArg::PrimaryThenOob => AddressPreference::PrimaryThenOob,
            ConnectionArg::OobThenPrimary => AddressPreference::OobThenPrimary,
        };
    }
    if let Some(r) = &f.interface_regex {
        plan.interface_regex = Some(r.clone()).filter(|r| !r.is_empty());
    }
    if let Some(d) = &f.driver {
        plan.driver = Some(d.clone()).filter(|d| !d.is_empty());
    }
    if let Some(t) = f.rpc_timeout {
        plan.rpc_timeout = t;
    }
    plan.validate().map_err(anyhow::Error::msg)
}

fn plan_toml(plan: &Plan) -> anyhow::Result<String> {
    Ok(toml::to_string(&PlanFile {
        plan: vec![plan.clone()],
    })?)
}

/// `nbfacts plan …` (works on the store directly; no NetBox needed).
pub fn plan(home: &Home, command: &PlanCommand) -> anyhow::Result<ExitCode> {
    let store = Store::open(home.store())?;
    let get = |name: &str| -> anyhow::Result<Plan> {
        store
            .plan(name)?
            .with_context(|| format!("no plan named `{name}` (see `nbfacts plan list`)"))
    };
    match command {
        PlanCommand::Add {
            name,
            flags,
            disabled,
        } => {
            if store.plan(name)?.is_some() {
                bail!("plan `{name}` exists; use `nbfacts plan edit {name}`");
            }
            let mut plan = Plan::new(name.clone(), Vec::<String>::new());
            plan.enabled = !disabled;
            apply_flags(&mut plan, flags)?;
            store.put_plan(&plan)?;
            println!("plan {name} added");
        }
        PlanCommand::List { json } => {
            let plans = store.plans()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&plans)?);
            } else {
                println!(
                    "{:<20} {:<8} {:<9} {:<7} {:<8} collectors",
                    "name", "enabled", "interval", "mode", "priority"
                );
                for p in &plans {
                    println!(
                        "{:<20} {:<8} {:<9} {:<7} {:<8} {}",
                        p.name,
                        if p.enabled { "yes" } else { "no" },
                        p.interval
                            .map(format_interval)
                            .unwrap_or_else(|| "-".into()),
                        p.mode,
                        format!("{:?}", p.priority).to_lowercase(),
                        p.collectors.join(",")
                    );
                }
            }
        }
        PlanCommand::Show { name, json } => {
            let plan = get(name)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print!("{}", plan_toml(&plan)?);
            }
        }
        PlanCommand::Edit { name, flags } => {
            let mut plan = get(name)?;
            apply_flags(&mut plan, flags)?;
            store.put_plan(&plan)?;
            println!("plan {name} updated");
        }
        PlanCommand::Enable { name } | PlanCommand::Disable { name } => {
            let mut plan = get(name)?;
            plan.enabled = matches!(command, PlanCommand::Enable { .. });
            store.put_plan(&plan)?;
            println!(
                "plan {name} {}",
                if plan.enabled { "enabled" } else { "disabled" }
            );
        }
        PlanCommand::Remove { name } => {
            if !store.remove_plan(name)? {
                bail!("no plan named `{name}`");
            }
            println!("plan {name} removed");
        }
        PlanCommand::Apply { file, prune } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let wanted: PlanFile =
                toml::from_str(&text).with_context(|| format!("{}", file.display()))?;
            let mut seen = std::collections::HashSet::new();
            for p in &wanted.plan {
                p.validate().map_err(anyhow::Error::msg)?;
                if !seen.insert(p.name.clone()) {
                    bail!("{}: plan `{}` appears twice", file.display(), p.name);
                }
            }
            let (mut created, mut updated, mut unchanged, mut removed) = (0, 0, 0, 0);
            for p in &wanted.plan {
                match store.plan(&p.name)? {
                    Some(current) if current == *p => unchanged += 1,
                    Some(_) => {
                        store.put_plan(p)?;
                        updated += 1;
                        println!("updated   {}", p.name);
                    }
                    None => {
                        store.put_plan(p)?;
                        created += 1;
                        println!("created   {}", p.name);
                    }
                }
            }
            if *prune {
                for p in store.plans()? {
                    if !seen.contains(&p.name) {
                        store.remove_plan(&p.name)?;
                        removed += 1;
                        println!("removed   {}", p.name);
                    }
                }
            }
            println!(
                "{created} created, {updated} updated, {unchanged} unchanged, {removed} removed"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `nbfacts status`: plans with their last and next run.
pub fn status(home: &Home, json: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(home.store())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut rows = Vec::new();
    for plan in store.plans()? {
        let state = store.plan_state(&plan.name)?;
        let next = next_due(&plan, &state, now);
        rows.push((plan, state, next));
    }
    let stamp = |t: Option<u64>| {
        t.map(|t| nbfacts_host::reconcile::rfc3339(std::time::UNIX_EPOCH + Duration::from_secs(t)))
    };
    if json {
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|(p, s, n)| {
                serde_json::json!({
                    "plan": p.name, "enabled": p.enabled,
                    "interval": p.interval.map(format_interval),
                    "last_run": stamp(s.last_run), "last_job": s.last_job,
                    "last_result": s.last_result, "next_run": stamp(*n),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<8} {:<21} {:<10} {:<6} {:<21}",
        "plan", "enabled", "last run", "result", "job", "next run"
    );
    for (p, s, n) in &rows {
        println!(
            "{:<20} {:<8} {:<21} {:<10} {:<6} {:<21}",
            p.name,
            if p.enabled { "yes" } else { "no" },
            stamp(s.last_run).unwrap_or_else(|| "never".into()),
            s.last_result
                .map(|r| r.to_string())
                .unwrap_or_else(|| if s.last_run.is_some() { "running" } else { "-" }.into()),
            s.last_job
                .map(|j| j.to_string())
                .unwrap_or_else(|| "-".into()),
            match n {
                Some(t) if *t <= now => "due now".to_string(),
                Some(t) => stamp(Some(*t)).unwrap_or_default(),
                None => "-".into(),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `nbfacts run PLAN` flags.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Plan name.
    pub plan: String,
    /// Only this device of the plan (repeatable).
    #[arg(long = "device", value_name = "NAME")]
    pub devices: Vec<String>,
    /// Wait for the job and print its summary (runs in this process always wait).
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub netbox: NetBoxArgs,
}

/// Builds a host from the home's config and store.
pub fn build_host(
    home: &Home,
    registry: nbfacts_host::Registry,
    netbox: &NetBoxArgs,
) -> anyhow::Result<Host> {
    let config = crate::config::load(home)?;
    let mut netbox = netbox.clone();
    if netbox.url.is_none() {
        netbox.url = config.netbox.url.clone();
    }
    if let Some(env) = &config.netbox.token_env
        && netbox.token_env == "NETBOX_TOKEN"
    {
        netbox.token_env = env.clone();
    }
    let nb = netbox.client()?;
    Ok(Host::new(
        config.host_config(),
        Store::open(home.store())?,
        nb,
        Arc::new(registry),
        Arc::new(config.connectors(home)?),
    ))
}

/// `nbfacts run PLAN`: the manual trigger, through the same queue as the schedule.
pub async fn run(
    home: &Home,
    registry: nbfacts_host::Registry,
    args: &RunArgs,
) -> anyhow::Result<ExitCode> {
    let host = build_host(home, registry, &args.netbox)?;
    let mut events = host.subscribe();
    host.start_workers();
    let devices = (!args.devices.is_empty()).then(|| Devices::Names(args.devices.clone()));
    let queued = host.enqueue(&args.plan, Trigger::Manual, devices)?;
    let job = queued.job();
    if let Enqueued::AlreadyPending(_) = queued {
        eprintln!("nbfacts: job {job} for this plan is already pending; waiting for it");
    }
    let tty = std::io::stderr().is_terminal();
    let (mut total, mut done, mut failed) = (0usize, 0usize, 0usize);
    let waiter = host.wait(job);
    tokio::pin!(waiter);
    let record = loop {
        tokio::select! {
            finished = &mut waiter => break finished?,
            event = events.recv() => match event {
                Ok(JobEvent::Started { job: j, devices }) if j == job => total = devices,
                Ok(JobEvent::Device { job: j, ok, .. }) if j == job => {
                    done += 1;
                    if !ok { failed += 1; }
                    if tty {
                        let width = 30usize;
                        let filled = (done * width).checked_div(total).unwrap_or(0).min(width);
                        let mut err = std::io::stderr().lock();
                        let _ = write!(err, "\r\x1b[2K[{}{}] {done}/{total} devices, {failed} failed", "#".repeat(filled), " ".repeat(width - filled));
                        let _ = err.flush();
                    }
                }
                _ => {}
            },
        }
    };
    if tty && done > 0 {
        eprintln!();
    }
    host.shutdown(Duration::from_secs(1)).await;
    print_summary(&record);
    Ok(if record.state == JobState::Completed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}

/// `nbfacts serve` flags.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default: config `[api] listen`, else 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub netbox: NetBoxArgs,
    /// Seconds running jobs get to finish on shutdown before they are cancelled.
    #[arg(long, default_value_t = 30)]
    pub grace: u64,
}

/// `nbfacts serve`: the scheduler and the HTTP API until SIGINT/SIGTERM.
pub async fn serve(
    home: &Home,
    registry: nbfacts_host::Registry,
    args: &ServeArgs,
) -> anyhow::Result<ExitCode> {
    use nbfacts_host::api::ApiConfig;
    let config = crate::config::load(home)?;
    let host = build_host(home, registry, &args.netbox)?;
    let env_secret = |var: &Option<String>, default: &str| {
        let var = var.clone().unwrap_or_else(|| default.to_string());
        std::env::var(&var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(nbfacts_host::netbox::Secret::new)
    };
    let token = env_secret(&config.api.token_env, "NBFACTS_API_TOKEN");
    if token.is_none() {
        eprintln!(
            "nbfacts serve: no API token (set NBFACTS_API_TOKEN or [api] token_env): /api/v1 \
             refuses every call; /healthz and /metrics stay open"
        );
    }
    let ignore_user = match &config.api.ignore_user {
        Some(u) => Some(u.clone()),
        None => nbfacts_host::netbox::token_user(host.netbox()).await.ok(),
    };
    let api = ApiConfig {
        token,
        link_token: env_secret(&None, "NBFACTS_LINK_TOKEN"),
        webhook_secret: env_secret(&config.api.webhook_secret_env, "NBFACTS_WEBHOOK_SECRET"),
        ignore_user,
        platforms: config.host_config().platforms,
    };
    let listen = args
        .listen
        .clone()
        .or(config.api.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    eprintln!(
        "nbfacts serve: API on http://{} (NetBox {}, store {})",
        listener.local_addr()?,
        host.netbox().url(),
        home.store().display()
    );
    host.start();
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    };
    nbfacts_host::api::serve(listener, host.clone(), api, shutdown).await?;
    eprintln!("nbfacts serve: stopping; running jobs get {} s", args.grace);
    host.shutdown(Duration::from_secs(args.grace)).await;
    Ok(ExitCode::SUCCESS)
}
