//! NetBox-facing commands: `netbox init`, `sync`, `report …` and `job …`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use nbfacts_host::job::{
    self, CollectionResult, Connector, Decision, Job, Mode, ReplayConnector, ReportSelection,
    RunSpec, Sink, SshConnector, Store, StoreError,
};
use nbfacts_host::netbox::{
    AddressPreference, DeviceFilter, InitStep, NetBox, NetBoxConfig, PlatformMap, Secret,
    ensure_setup, resolve_targets,
};
use nbfacts_host::reconcile::{EntryState, Operation};
use nbfacts_host::session::{
    CredentialProfile, HostKeyPolicy, HostKeyVerifier, SecretSource, SessionOptions,
};

use crate::home::Home;
use crate::remote::PolicyArg;

/// The seven standard collectors, in the order a run performs them (inventory first: it
/// creates what the others refer to).
pub const STANDARD_COLLECTORS: &[&str] = &[
    "inventory",
    "interfaces",
    "ethernet_switching",
    "lldp",
    "bgp",
    "arp",
    "ndp",
];

/// How to reach NetBox. The token is read from an environment variable, never a flag.
#[derive(Debug, Clone, clap::Args)]
pub struct NetBoxArgs {
    /// NetBox base URL.
    #[arg(long = "netbox-url", env = "NETBOX_URL", value_name = "URL")]
    pub url: Option<String>,

    /// Environment variable holding the NetBox API token.
    #[arg(
        long = "netbox-token-env",
        default_value = "NETBOX_TOKEN",
        value_name = "VAR"
    )]
    pub token_env: String,
}

impl NetBoxArgs {
    /// A client, or a message saying what to set.
    pub fn client(&self) -> anyhow::Result<NetBox> {
        let url = self.url.clone().context(
            "no NetBox URL: set NETBOX_URL or pass --netbox-url (for a local NetBox: \
             scripts/netbox up; eval \"$(scripts/netbox env)\")",
        )?;
        let token = std::env::var(&self.token_env)
            .ok()
            .filter(|t| !t.is_empty())
            .with_context(|| {
                format!(
                    "no NetBox token: the environment variable {} is not set",
                    self.token_env
                )
            })?;
        Ok(NetBox::new(NetBoxConfig::new(url, Secret::new(token)))?)
    }
}

/// `nbfacts netbox …`
#[derive(Debug, clap::Subcommand)]
pub enum NetBoxCommand {
    /// Create the tag and custom fields nbfacts needs (idempotent) and say what was done.
    Init {
        #[command(flatten)]
        netbox: NetBoxArgs,
        /// Also install the "Collect facts" link on device pages, pointing at the nbfacts API
        /// at this base URL (e.g. http://nbfacts.example.net:8080).
        #[arg(long, value_name = "URL")]
        custom_link: Option<String>,
        /// Environment variable with the token to put into the link (an API link token;
        /// default: none, the browser must then send a token itself).
        #[arg(long, value_name = "VAR", requires = "custom_link")]
        link_token_env: Option<String>,
        /// Also create the webhook and event rule that notify nbfacts of device changes, to
        /// this URL (e.g. http://nbfacts.example.net:8080/api/v1/webhooks/netbox).
        #[arg(long, value_name = "URL", requires = "webhook_secret_env")]
        webhook: Option<String>,
        /// Environment variable with the webhook's shared secret.
        #[arg(long, value_name = "VAR")]
        webhook_secret_env: Option<String>,
    },
}

/// Which devices to collect from (AND of every option given; values of one option are
/// alternatives).
#[derive(Debug, Clone, clap::Args)]
pub struct SelectArgs {
    /// Device name (repeatable).
    #[arg(long = "device", value_name = "NAME")]
    pub devices: Vec<String>,
    /// Site slug (repeatable).
    #[arg(long = "site", value_name = "SLUG")]
    pub sites: Vec<String>,
    /// Role slug (repeatable).
    #[arg(long = "role", value_name = "SLUG")]
    pub roles: Vec<String>,
    /// Platform slug (repeatable).
    #[arg(long = "platform", value_name = "SLUG")]
    pub platforms: Vec<String>,
    /// Tag slug (repeatable).
    #[arg(long = "tag", value_name = "SLUG")]
    pub tags: Vec<String>,
    /// Status (repeatable), e.g. active.
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<String>,
}

impl SelectArgs {
    fn filter(&self) -> DeviceFilter {
        DeviceFilter {
            devices: self.devices.clone(),
            sites: self.sites.clone(),
            roles: self.roles.clone(),
            platforms: self.platforms.clone(),
            tags: self.tags.clone(),
            statuses: self.statuses.clone(),
            ..DeviceFilter::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.filter() == DeviceFilter::default()
    }
}

/// SSH settings for every device of a run.
#[derive(Debug, Clone, clap::Args)]
pub struct SshArgs {
    /// SSH port of the devices.
    #[arg(long = "ssh-port", default_value_t = 830)]
    pub port: u16,
    /// SSH user name.
    #[arg(long, env = "NBFACTS_USERNAME")]
    pub username: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// OpenSSH private key for public-key authentication.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Known-hosts file. Default: $NBFACTS_HOME/known_hosts.
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// What to do with a host key that is not in the known-hosts file.
    #[arg(long, value_enum, default_value_t = PolicyArg::Strict)]
    pub host_key_policy: PolicyArg,
    /// Seconds for one RPC.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub rpc_timeout: u64,
}

/// `nbfacts sync`: collect from devices selected in NetBox and reconcile.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub netbox: NetBoxArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Collector (repeatable). Default: the seven standard collectors.
    #[arg(long = "collector")]
    pub collectors: Vec<String>,
    /// apply: write to NetBox; report: store for review; branch: write into a NetBox branch.
    #[arg(long, value_enum, default_value_t = ModeArg::Apply)]
    pub mode: ModeArg,
    /// Only interfaces matching this regular expression are considered.
    #[arg(long, value_name = "REGEX")]
    pub interface_regex: Option<String>,
    /// Use this driver instead of the one the device's platform maps to.
    #[arg(long)]
    pub driver: Option<String>,
    /// Answer from recorded replies: device NAME from DIR/NAME (no SSH).
    #[arg(long, value_name = "DIR")]
    pub replay_root: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Print the job as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The write mode flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Write to NetBox.
    Apply,
    /// Store the change set for review.
    Report,
    /// Write into a NetBox branch.
    Branch,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Apply => Mode::Apply,
            ModeArg::Report => Mode::Report,
            ModeArg::Branch => Mode::Branch,
        }
    }
}

/// `nbfacts report …`
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Show a job's change sets entry by entry.
    Show {
        /// Job id.
        job: u64,
        /// Also list confirmed entries.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a report's pending entries (all, or those given) to NetBox.
    Apply {
        /// Job id.
        job: u64,
        /// Entry reference DEVICE/COLLECTOR/ID as `report show` prints it (repeatable).
        #[arg(long = "entry", value_name = "REF")]
        entries: Vec<String>,
        #[command(flatten)]
        netbox: NetBoxArgs,
    },
    /// Mark entries as skipped: they will not be applied.
    Skip {
        /// Job id.
        job: u64,
        /// Entry reference DEVICE/COLLECTOR/ID (repeatable).
        #[arg(long = "entry", value_name = "REF", required = true)]
        entries: Vec<String>,
    },
}

/// `nbfacts job …`
#[derive(Debug, clap::Subcommand)]
pub enum JobCommand {
    /// List jobs, newest first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one job: results per device and collector, and its log.
    Show {
        /// Job id.
        job: u64,
        /// Print JSON (the whole record, change sets and writes included).
        #[arg(long)]
        json: bool,
    },
    /// Undo a job's writes: restore what it changed, delete what it created.
    Rollback {
        /// Job id.
        job: u64,
        #[command(flatten)]
        netbox: NetBoxArgs,
    },
}

/// Opens the store in the state directory.
pub fn store(home: &Home) -> anyhow::Result<Store> {
    Ok(Store::open(home.store())?)
}

/// `nbfacts netbox init`.
pub async fn netbox(command: &NetBoxCommand) -> anyhow::Result<ExitCode> {
    match command {
        NetBoxCommand::Init {
            netbox,
            custom_link,
            link_token_env,
            webhook,
            webhook_secret_env,
        } => {
            let nb = netbox.client()?;
            let mut report = ensure_setup(&nb).await?;
            if let Some(url) = custom_link {
                let token = link_token_env.as_deref().map(secret_from_env).transpose()?;
                let step =
                    nbfacts_host::netbox::ensure_custom_link(&nb, url, token.as_ref()).await?;
                report
                    .steps
                    .push(("custom link".into(), "Collect facts".into(), step));
            }
            if let (Some(url), Some(var)) = (webhook, webhook_secret_env) {
                let secret = secret_from_env(var)?;
                report
                    .steps
                    .extend(nbfacts_host::netbox::ensure_webhook(&nb, url, &secret).await?);
            }
            for (kind, name, step) in &report.steps {
                let step = match step {
                    InitStep::Created => "created",
                    InitStep::Found => "found",
                    InitStep::Updated => "updated",
                };
                println!("{step:<8} {kind} {name}");
            }
            println!("NetBox {} is ready for nbfacts.", nb.url());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A secret from an environment variable (named in errors, never shown).
pub fn secret_from_env(var: &str) -> anyhow::Result<Secret> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .with_context(|| format!("the environment variable {var} is not set"))
}

/// `nbfacts sync`.
pub async fn sync(
    home: &Home,
    registry: &nbfacts_host::Registry,
    args: &SyncArgs,
) -> anyhow::Result<ExitCode> {
    if args.select.is_empty() {
        bail!("select devices: --device, --site, --role, --platform, --tag or --status");
    }
    let nb = args.netbox.client()?;
    let interface_filter = args
        .interface_regex
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .context("--interface-regex")?;
    let collectors: Vec<String> = if args.collectors.is_empty() {
        STANDARD_COLLECTORS.iter().map(|c| c.to_string()).collect()
    } else {
        args.collectors.clone()
    };
    let connector: Box<dyn Connector> = match &args.replay_root {
        Some(root) => Box::new(ReplayConnector::new(root)),
        None => Box::new(ssh_connector(home, &args.ssh)?),
    };
    let mut spec = RunSpec::new(collectors);
    spec.interface_filter = interface_filter;
    spec.driver_override = args.driver.clone();
    let store = store(home)?;
    let job = run_job(
        &store,
        registry,
        connector.as_ref(),
        &nb,
        &args.select.filter(),
        &spec,
        args.mode.into(),
        "sync",
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&job)?);
    } else {
        print_summary(&job);
    }
    Ok(exit_for(&job))
}

/// Builds an SSH connector from the flags.
pub fn ssh_connector(home: &Home, args: &SshArgs) -> anyhow::Result<SshConnector> {
    let username = args
        .username
        .clone()
        .context("--username is required to reach devices over SSH (or set NBFACTS_USERNAME)")?;
    let mut profile = CredentialProfile::new(username);
    if let Some(var) = &args.password_env {
        profile = profile.with_password(SecretSource::Env(var.clone()));
    }
    if let Some(key) = &args.key {
        profile = profile.with_key_file(key, None);
    }
    let credentials = profile.resolve(&|var| std::env::var(var).ok())?;
    let policy: HostKeyPolicy = args.host_key_policy.into();
    let known_hosts = args
        .known_hosts
        .clone()
        .unwrap_or_else(|| home.known_hosts());
    let mut options = SessionOptions::default();
    options.rpc_timeout = Duration::from_secs(args.rpc_timeout.max(1));
    Ok(SshConnector::new(
        Arc::new(credentials),
        Arc::new(HostKeyVerifier::new(policy, known_hosts)),
        options,
        args.port,
    ))
}

/// Resolves targets, runs a job and stores it (before and after running).
#[allow(clippy::too_many_arguments)]
pub async fn run_job(
    store: &Store,
    registry: &nbfacts_host::Registry,
    connector: &dyn Connector,
    nb: &NetBox,
    filter: &DeviceFilter,
    spec: &RunSpec,
    mode: Mode,
    name: &str,
) -> anyhow::Result<Job> {
    let mut job = Job::new(name, mode);
    store.create_job(&mut job)?;
    let targets = match resolve_targets(
        nb,
        filter,
        &PlatformMap::default(),
        AddressPreference::PrimaryThenOob,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            job.state = job::JobState::Errored;
            job.log("error", format!("cannot list devices in NetBox: {e}"));
            store.put_job(&job)?;
            bail!("job {}: cannot list devices in NetBox: {e}", job.id);
        }
    };
    if targets.is_empty() {
        job.state = job::JobState::Errored;
        job.log("error", "no device in NetBox matches the selection");
        store.put_job(&job)?;
        bail!("job {}: no device in NetBox matches the selection", job.id);
    }
    let writer = match job::writer_for(&mut job, nb).await {
        Ok(w) => w,
        Err(e) => {
            job.state = job::JobState::Errored;
            job.log("error", &e);
            store.put_job(&job)?;
            bail!("job {}: {e}", job.id);
        }
    };
    let sink = Sink::new(nb.clone(), writer).with_store(store.clone());
    store.put_job(&job)?;
    job::run(&mut job, registry, connector, &sink, &targets, spec).await;
    store.put_job(&job)?;
    Ok(job)
}

/// Exit code 0 when every collection succeeded, else 1.
pub fn exit_for(job: &Job) -> ExitCode {
    if job.state == job::JobState::Completed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    }
}

/// A table of results and a closing line.
pub fn print_summary(job: &Job) {
    println!(
        "{:<12} {:<20} {:>6} {:>8} {:>10} {:>6} {:>8} {:>8}",
        "device", "collector", "new", "changed", "confirmed", "stale", "skipped", "written"
    );
    for r in &job.results {
        match (&r.error, &r.counts) {
            (None, Some(c)) => {
                println!(
                    "{:<12} {:<20} {:>6} {:>8} {:>10} {:>6} {:>8} {:>8}",
                    r.device,
                    r.collector,
                    c.new,
                    c.changed,
                    c.confirmed,
                    c.stale,
                    c.skipped,
                    r.written.len()
                );
                for note in &r.notes {
                    println!("{:<12} {:<20} note: {note}", "", "");
                }
            }
            (error, _) => println!(
                "{:<12} {:<20} FAILED: {}",
                r.device,
                r.collector,
                error.as_deref().unwrap_or("no change set")
            ),
        }
        for refused in &r.refused {
            println!(
                "{:<12} {:<20} refused entry {}: {}",
                "", "", refused.entry, refused.message
            );
        }
    }
    let writes = job.writes();
    let failed = job.results.iter().filter(|r| !r.ok()).count();
    println!(
        "job {} ({} mode) {}: {}; {} object(s) written{}",
        job.id,
        job.mode,
        job.state,
        job.counts(),
        writes,
        if failed > 0 {
            format!("; {failed} collection(s) failed")
        } else {
            String::new()
        }
    );
    if job.mode == Mode::Apply && writes == 0 && failed == 0 {
        println!("NetBox already matched the devices: nothing was changed.");
    }
    if let Some((branch, _)) = &job.branch {
        println!("changes are in the NetBox branch {branch}: review and merge them in NetBox");
    }
    if job.mode == Mode::Report {
        println!(
            "review with `nbfacts report show {0}`, then `nbfacts report apply {0}`",
            job.id
        );
    }
}

/// `nbfacts report …`.
pub async fn report(home: &Home, command: &ReportCommand) -> anyhow::Result<ExitCode> {
    let store = store(home)?;
    match command {
        ReportCommand::Show { job, all, json } => {
            // One change set in memory at a time: a report can hold millions of entries.
            let job = store.job_summary(*job)?;
            let sets = job.results.iter().map(|r| {
                let set = match &r.changeset {
                    Some(set) => Some(set.clone()),
                    None if r.counts.is_some() => {
                        store.changeset(job.id, &r.device, &r.collector)?
                    }
                    None => None,
                };
                Ok::<_, StoreError>((r, set))
            });
            if *json {
                // A JSON array of results, each with its change set, written as it is read.
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                out.write_all(b"[")?;
                for (i, item) in sets.enumerate() {
                    let (r, set) = item?;
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    let r = CollectionResult {
                        changeset: set,
                        ..r.without_changeset()
                    };
                    serde_json::to_writer(&mut out, &r)?;
                }
                out.write_all(b"]\n")?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            for item in sets {
                let (r, set) = item?;
                if let Some(e) = &r.error {
                    println!("{}/{}: FAILED: {e}", r.device, r.collector);
                }
                for note in &r.notes {
                    println!("{}/{}: note: {note}", r.device, r.collector);
                }
                let Some(set) = set else { continue };
                for e in &set.entries {
                    if e.state == EntryState::Confirmed && !all {
                        continue;
                    }
                    let decision = match r.decisions.get(&e.id) {
                        Some(Decision::Applied) => "applied",
                        Some(Decision::Refused) => "refused",
                        Some(Decision::Skipped) => "skipped",
                        None if matches!(e.operation, Operation::None) => "-",
                        None => "pending",
                    };
                    println!(
                        "{}/{}/{:<5} {:<9} {:<8} {:<22} {} — {}",
                        r.device,
                        r.collector,
                        e.id,
                        format!("{:?}", e.state).to_lowercase(),
                        decision,
                        e.object_type,
                        e.label,
                        e.reason
                    );
                }
            }
            println!("job {} ({} mode): {}", job.id, job.mode, job.counts());
            Ok(ExitCode::SUCCESS)
        }
        ReportCommand::Apply {
            job,
            entries,
            netbox,
        } => {
            let nb = netbox.client()?;
            let mut record = store.job(*job)?;
            let select = if entries.is_empty() {
                None
            } else {
                Some(ReportSelection::parse(entries).map_err(anyhow::Error::msg)?)
            };
            let result = job::apply_report(&mut record, &nb, select.as_ref()).await;
            record.log(
                "info",
                format!("report apply: {}", entries.join(" ").trim()),
            );
            store.put_job(&record)?;
            let applied = result.map_err(anyhow::Error::msg)?;
            let refused: usize = record.results.iter().map(|r| r.refused.len()).sum();
            println!("job {}: {applied} object(s) written", record.id);
            if refused > 0 {
                println!(
                    "{refused} entr(y/ies) refused by NetBox: see `nbfacts report show {}`",
                    record.id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ReportCommand::Skip { job, entries } => {
            let mut record = store.job(*job)?;
            let select = ReportSelection::parse(entries).map_err(anyhow::Error::msg)?;
            let n = job::skip_report(&mut record, &select);
            store.put_job(&record)?;
            println!("job {}: {n} entr(y/ies) skipped", record.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `nbfacts job …`.
pub async fn job(home: &Home, command: &JobCommand) -> anyhow::Result<ExitCode> {
    let store = store(home)?;
    match command {
        JobCommand::List { json } => {
            let jobs = store.jobs()?;
            if *json {
                let rows: Vec<serde_json::Value> = jobs
                    .iter()
                    .map(|j| {
                        serde_json::json!({
                            "id": j.id, "name": j.name, "mode": j.mode, "state": j.state,
                            "created": j.created, "finished": j.finished,
                            "results": j.results.len(), "written": j.writes(),
                            "rolled_back": j.rolled_back,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:>5} {:<10} {:<7} {:<10} {:<21} {:>8} {:>8}",
                    "id", "name", "mode", "state", "created", "results", "written"
                );
                for j in &jobs {
                    println!(
                        "{:>5} {:<10} {:<7} {:<10} {:<21} {:>8} {:>8}{}",
                        j.id,
                        j.name,
                        j.mode,
                        j.state,
                        j.created,
                        j.results.len(),
                        j.writes(),
                        if j.rolled_back.is_some() {
                            " (rolled back)"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        JobCommand::Show { job, json } => {
            // Change sets stay in the store: `nbfacts report show` lists their entries.
            let job = store.job_summary(*job)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&job)?);
            } else {
                print_summary(&job);
                for line in &job.log {
                    println!("  {line}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        JobCommand::Rollback { job, netbox } => {
            let nb = netbox.client()?;
            let mut record = store.job(*job)?;
            if let Some(when) = &record.rolled_back {
                bail!("job {} was already rolled back at {when}", record.id);
            }
            if let Some((branch, _)) = &record.branch {
                bail!(
                    "job {} wrote into the NetBox branch {branch}, not into NetBox itself: \
                     discard the branch in NetBox (or revert it there after a merge)",
                    record.id
                );
            }
            let report = job::rollback(&nb, &mut record).await;
            store.put_job(&record)?;
            let report = report?;
            for d in &report.deleted {
                println!("deleted   {d}");
            }
            for r in &report.restored {
                println!("restored  {r}");
            }
            for r in &report.recreated {
                println!("recreated {r}");
            }
            for r in &report.refused {
                println!("left      {r}");
            }
            if report.complete() {
                println!("job {} rolled back", record.id);
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "job {}: rollback incomplete, {} object(s) left as they are",
                    record.id,
                    report.refused.len()
                );
                Ok(ExitCode::from(crate::EXIT_FAILED))
            }
        }
    }
}
