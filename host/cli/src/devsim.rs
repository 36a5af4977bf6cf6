//! `nbfacts devsim`: run simulated devices (see the `nbfacts-devsim` crate).

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nbfacts_devsim::netconf::{DeviceContext, serve_stdio};
use nbfacts_devsim::{
    AuthConfig, DeviceSize, DeviceSpec, Faults, FleetSpec, NetconfVersions, Replies, RpcSelector,
    SimDevice, Simulator, SimulatorConfig,
};
use russh::keys::{Algorithm, PrivateKey, ssh_key::LineEnding};
use serde_json::json;

/// Flags of `nbfacts devsim`.
#[derive(Debug, clap::Args)]
pub struct DevsimArgs {
    /// Serve one device answering from the recorded replies in DIR (the layout `collect
    /// --replay` reads).
    #[arg(long, value_name = "DIR", required_unless_present_any = ["fleet", "stdio"], conflicts_with = "fleet")]
    pub replay: Option<PathBuf>,

    /// Serve N generated devices (names PREFIX000…), each on its own port.
    #[arg(long, value_name = "N")]
    pub fleet: Option<usize>,

    /// Port of the (first) device; fleet devices take consecutive ports. 0: any free port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Device name (default: the replay directory's name).
    #[arg(long)]
    pub name: Option<String>,

    /// Name prefix of fleet devices.
    #[arg(long, default_value = "sim")]
    pub prefix: String,

    /// Physical interfaces per generated device.
    #[arg(long, default_value_t = 48)]
    pub interfaces: usize,
    /// MAC table entries per generated device.
    #[arg(long, default_value_t = 500)]
    pub macs: usize,
    /// LLDP neighbours per generated device (other fleet devices).
    #[arg(long, default_value_t = 8)]
    pub lldp: usize,
    /// BGP peers per generated device.
    #[arg(long, default_value_t = 8)]
    pub bgp: usize,
    /// ARP entries per generated device.
    #[arg(long, default_value_t = 200)]
    pub arp: usize,
    /// IPv6 neighbours per generated device.
    #[arg(long, default_value_t = 50)]
    pub ndp: usize,

    /// User name accepted.
    #[arg(long, default_value = nbfacts_devsim::DEFAULT_USER)]
    pub username: String,

    /// Take the accepted password from this environment variable (default password: nbfacts).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// Turn password authentication off (keys only).
    #[arg(long)]
    pub no_password: bool,

    /// Accept this OpenSSH public key (repeatable; an authorized_keys file works too).
    #[arg(long = "authorized-key", value_name = "FILE")]
    pub authorized_keys: Vec<PathBuf>,

    /// Host key file (OpenSSH private key); created if missing. Default: a new key per device.
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,

    /// NETCONF versions offered.
    #[arg(long, default_value = "both", value_parser = ["1.0", "1.1", "both"])]
    pub netconf: String,

    /// Fault: added latency per RPC, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,

    /// Fault: drop the connection when RPC N+1 of a connection arrives.
    #[arg(long, value_name = "N")]
    pub drop_after: Option<u64>,

    /// Fault: malformed (not well-formed XML) replies to this RPC (`*` for all).
    #[arg(long, value_name = "RPC")]
    pub malformed: Option<String>,

    /// Fault: truncated replies (then a dropped connection) to this RPC (`*` for all).
    #[arg(long, value_name = "RPC")]
    pub truncated: Option<String>,

    /// Fault: refuse every login.
    #[arg(long)]
    pub reject_auth: bool,

    /// Write the devices' known_hosts lines to FILE once they listen.
    #[arg(long, value_name = "FILE")]
    pub known_hosts_out: Option<PathBuf>,

    /// Print the devices as JSON.
    #[arg(long)]
    pub json: bool,

    /// Speak NETCONF on stdin/stdout instead of listening (for OpenSSH's `Subsystem netconf`).
    #[arg(long, conflicts_with_all = ["fleet", "port", "known_hosts_out", "json"])]
    pub stdio: bool,

    /// Run this command once the devices listen, then stop and exit with its status. It gets
    /// NBFACTS_DEVSIM_PORT (first device), NBFACTS_DEVSIM_PORTS (all, comma-separated),
    /// NBFACTS_DEVSIM_KNOWN_HOSTS (a known_hosts file for the devices) and, unless keys only,
    /// NBFACTS_DEVSIM_PASSWORD.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

fn faults(args: &DevsimArgs) -> Faults {
    let mut f = Faults::none().with_latency(Duration::from_millis(args.latency_ms));
    if let Some(n) = args.drop_after {
        f = f.with_drop_after(n);
    }
    if let Some(rpc) = &args.malformed {
        f = f.with_malformed(RpcSelector::parse(rpc));
    }
    if let Some(rpc) = &args.truncated {
        f = f.with_truncated(RpcSelector::parse(rpc));
    }
    if args.reject_auth {
        f = f.with_reject_auth();
    }
    f
}

fn replay_device(args: &DevsimArgs, dir: &Path) -> anyhow::Result<DeviceSpec> {
    let replies = Replies::from_dir(dir)?;
    let name = args.name.clone().unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "device".into())
    });
    Ok(DeviceSpec::new(name, replies))
}

fn load_or_create_host_key(path: &Path) -> anyhow::Result<PrivateKey> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None)
            .with_context(|| format!("cannot load the host key {}", path.display()));
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| anyhow::anyhow!("cannot generate a host key: {e}"))?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the host key: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write the host key {}", path.display()))?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn auth(args: &DevsimArgs) -> anyhow::Result<AuthConfig> {
    let mut auth = AuthConfig::password(args.username.clone(), nbfacts_devsim::DEFAULT_PASSWORD);
    if let Some(var) = &args.password_env {
        let pw = std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .with_context(|| format!("the password variable {var} is not set"))?;
        auth.password = Some(pw);
    }
    if args.no_password {
        auth.password = None;
    }
    for file in &args.authorized_keys {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the public key {}", file.display()))?;
        let mut found = false;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let key = russh::keys::PublicKey::from_openssh(line)
                .with_context(|| format!("{}: not an OpenSSH public key line", file.display()))?;
            auth = auth.with_key(key);
            found = true;
        }
        anyhow::ensure!(found, "{} holds no public key", file.display());
    }
    anyhow::ensure!(
        auth.password.is_some() || !auth.authorized_keys.is_empty(),
        "--no-password needs at least one --authorized-key"
    );
    Ok(auth)
}

fn config(args: &DevsimArgs) -> anyhow::Result<SimulatorConfig> {
    let devices = match (&args.replay, args.fleet) {
        (Some(dir), _) => vec![replay_device(args, dir)?.with_port(args.port)],
        (None, Some(n)) => {
            anyhow::ensure!(n > 0, "--fleet needs at least one device");
            let spec = FleetSpec::new(
                n,
                DeviceSize::new(
                    args.interfaces,
                    args.macs,
                    args.lldp,
                    args.bgp,
                    args.arp,
                    args.ndp,
                ),
            )
            .with_prefix(args.prefix.clone());
            let mut devices = SimulatorConfig::fleet(&spec).devices;
            if args.port != 0 {
                for (i, d) in devices.iter_mut().enumerate() {
                    let port = u16::try_from(usize::from(args.port) + i)
                        .context("--port plus the fleet size exceeds 65535")?;
                    *d = d.clone().with_port(port);
                }
            }
            devices
        }
        (None, None) => anyhow::bail!("give --replay DIR or --fleet N"),
    };
    let mut config = SimulatorConfig::new(devices)
        .with_auth(auth(args)?)
        .with_faults(faults(args))
        .with_versions(NetconfVersions::parse(&args.netconf).unwrap_or_default());
    config.bind = args.bind;
    if let Some(path) = &args.host_key {
        config = config.with_host_key(load_or_create_host_key(path)?);
    }
    Ok(config)
}

/// Runs `nbfacts devsim`.
pub async fn run(args: &DevsimArgs) -> anyhow::Result<ExitCode> {
    if args.stdio {
        return stdio(args).await;
    }
    let sim = Simulator::start(config(args)?).await?;
    let known_hosts = match &args.known_hosts_out {
        Some(path) => Some(write_known_hosts(path, sim.devices())?),
        None if !args.command.is_empty() => {
            let path = std::env::temp_dir()
                .join(format!("nbfacts-devsim-{}.known_hosts", std::process::id()));
            Some(write_known_hosts(&path, sim.devices())?)
        }
        None => None,
    };
    print_devices(args, sim.devices())?;
    let code = if args.command.is_empty() {
        eprintln!("nbfacts devsim: serving; press Ctrl-C to stop");
        wait_for_signal().await;
        ExitCode::SUCCESS
    } else {
        let status = run_command(args, sim.devices(), known_hosts.as_deref()).await;
        if args.known_hosts_out.is_none()
            && let Some(path) = &known_hosts
        {
            let _ = std::fs::remove_file(path);
        }
        status?
    };
    sim.shutdown().await;
    Ok(code)
}

async fn stdio(args: &DevsimArgs) -> anyhow::Result<ExitCode> {
    let spec = match &args.replay {
        Some(dir) => replay_device(args, dir)?,
        None => {
            let spec = FleetSpec::new(
                1,
                DeviceSize::new(
                    args.interfaces,
                    args.macs,
                    args.lldp,
                    args.bgp,
                    args.arp,
                    args.ndp,
                ),
            )
            .with_prefix(args.prefix.clone());
            let device = nbfacts_devsim::generate::device(0, &spec);
            DeviceSpec::new(device.name.clone(), Replies::generated(device))
        }
    };
    let context = Arc::new(DeviceContext {
        name: spec.name,
        replies: spec.replies,
        faults: faults(args),
        versions: NetconfVersions::parse(&args.netconf).unwrap_or_default(),
        stats: Default::default(),
    });
    serve_stdio(context).await?;
    Ok(ExitCode::SUCCESS)
}

fn write_known_hosts(path: &Path, devices: &[SimDevice]) -> anyhow::Result<PathBuf> {
    let text: String = devices
        .iter()
        .map(|d| format!("{}\n", d.known_hosts_line()))
        .collect();
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path.to_path_buf())
}

fn print_devices(args: &DevsimArgs, devices: &[SimDevice]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = devices
            .iter()
            .map(|d| {
                json!({
                    "name": d.name,
                    "host": d.addr.ip().to_string(),
                    "port": d.addr.port(),
                    "fingerprint": d.fingerprint,
                    "known_hosts": d.known_hosts_line(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string(&list)?)?;
    } else {
        for d in devices {
            writeln!(
                out,
                "{}\t{}\tport {}\t{}",
                d.name,
                d.addr.ip(),
                d.addr.port(),
                d.fingerprint
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run_command(
    args: &DevsimArgs,
    devices: &[SimDevice],
    known_hosts: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let Some((program, rest)) = args.command.split_first() else {
        return Ok(ExitCode::SUCCESS);
    };
    let ports: Vec<String> = devices.iter().map(|d| d.addr.port().to_string()).collect();
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest)
        .env(
            "NBFACTS_DEVSIM_PORT",
            ports.first().cloned().unwrap_or_default(),
        )
        .env("NBFACTS_DEVSIM_PORTS", ports.join(","));
    if let Some(path) = known_hosts {
        cmd.env("NBFACTS_DEVSIM_KNOWN_HOSTS", path);
    }
    if !args.no_password {
        // The simulator's own, throwaway password; handed to the child through its environment.
        let pw = match &args.password_env {
            Some(var) => std::env::var(var).unwrap_or_default(),
            None => nbfacts_devsim::DEFAULT_PASSWORD.to_string(),
        };
        cmd.env("NBFACTS_DEVSIM_PASSWORD", pw);
    }
    let status = cmd
        .status()
        .await
        .with_context(|| format!("cannot run {program}"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(1),
    })
}
