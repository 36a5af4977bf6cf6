//! Interoperability: the simulator against clients nobody here wrote (OpenSSH's `ssh`,
//! ncclient, NAPALM 5.2's junos driver), and nbfacts's sessions against a server nobody here
//! wrote (OpenSSH's `sshd`).
//!
//! The tools come from `scripts/interop-setup` (Debian's OpenSSH, a venv with NAPALM and
//! ncclient at `$NBFACTS_VENV`). A missing tool fails the test with a message saying so;
//! `NBFACTS_SKIP_INTEROP=1` skips these tests instead. The Python side lives in
//! `tests/interop/*.py`: each script takes the device on its command line, the password in
//! `NBFACTS_INTEROP_PASSWORD`, and prints JSON.
//!
//! Host keys: `ssh` and ncclient verify the simulator's key against a known-hosts file written
//! from it (and are shown to refuse a wrong one); NAPALM cannot verify keys at all (PyEZ calls
//! ncclient with `hostkey_verify=False`), see `tests/interop/napalm_getters.py`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nbfacts_devsim::{AuthConfig, Simulator};
use nbfacts_host::session::{
    CredentialProfile, Credentials, HostKeyError, HostKeyPolicy, HostKeyVerifier, Secret,
    SessionError, SshTarget,
};
use nbfacts_host::{CollectRequest, DeviceSession, ReplayDevice};
use nbfacts_sdk::napalm;
use russh::keys::PublicKey;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::support::*;

const STEP: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// OpenSSH's client against the simulator
// ---------------------------------------------------------------------------------------------

/// `ssh -s … netconf` with key authentication and strict host-key checking against `kh`.
fn openssh_netconf(tools: &Interop, port: u16, key: &Path, kh: &Path) -> Child {
    Command::new(&tools.ssh)
        .args(["-F", "/dev/null", "-s", "-p", &port.to_string(), "-i"])
        .arg(key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=10",
            "nbfacts@127.0.0.1",
            "netconf",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Reads from `out` until `buf` holds `end`; returns everything up to it and keeps the rest.
async fn read_until(out: &mut ChildStdout, buf: &mut Vec<u8>, end: &[u8]) -> String {
    let read = async {
        loop {
            if let Some(at) = buf.windows(end.len()).position(|w| w == end) {
                let message: Vec<u8> = buf.drain(..at + end.len()).take(at).collect();
                return String::from_utf8(message).unwrap();
            }
            let mut chunk = [0u8; 8192];
            let n = out.read(&mut chunk).await.unwrap();
            assert!(
                n > 0,
                "ssh closed its output; so far: {}",
                String::from_utf8_lossy(buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(STEP, read)
        .await
        .expect("no NETCONF message from ssh in time")
}

/// One NETCONF 1.1 (chunked) message: parses the chunk headers of what precedes `\n##\n`.
async fn read_chunked(out: &mut ChildStdout, buf: &mut Vec<u8>) -> String {
    let framed = read_until(out, buf, b"\n##\n").await;
    let mut rest = framed.as_str();
    let mut message = String::new();
    while !rest.is_empty() {
        let header = rest.strip_prefix("\n#").expect("chunk header");
        let nl = header.find('\n').unwrap();
        let len: usize = header[..nl].parse().unwrap();
        message.push_str(&header[nl + 1..nl + 1 + len]);
        rest = &header[nl + 1 + len..];
    }
    message
}

async fn send(stdin: &mut ChildStdin, bytes: &str) {
    stdin.write_all(bytes.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
}

fn chunk(message: &str) -> String {
    format!("\n#{}\n{message}\n##\n", message.len())
}

const HELLO_1_0: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>\
    <capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>";
const HELLO_1_1: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities>\
    <capability>urn:ietf:params:netconf:base:1.0</capability>\
    <capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>]]>]]>";

fn rpc(id: u32, body: &str) -> String {
    format!(
        "<rpc xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" message-id=\"{id}\">{body}</rpc>"
    )
}

fn assert_software_reply(reply: &str, id: u32) {
    assert!(reply.contains(&format!("message-id=\"{id}\"")), "{reply}");
    assert!(reply.contains("<host-name>edge1</host-name>"), "{reply}");
    assert!(
        reply.contains("<junos-version>21.4R3-S4.9</junos-version>"),
        "{reply}"
    );
}

async fn finish(child: Child) -> (std::process::ExitStatus, String) {
    let out = tokio::time::timeout(STEP, child.wait_with_output())
        .await
        .expect("ssh did not exit")
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A simulator for the example device that accepts only `public` (an OpenSSH key line).
async fn key_only_simulator(public: &str) -> Simulator {
    let mut auth = AuthConfig::password("nbfacts", "unused")
        .with_key(PublicKey::from_openssh(public).unwrap());
    auth.password = None;
    example_simulator(|c| c.with_auth(auth)).await
}

fn write_known_hosts(dir: &Path, name: &str, line: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{line}\n")).unwrap();
    path
}

#[tokio::test]
async fn interop_openssh_client_speaks_netconf_1_0_and_1_1_with_the_simulator() {
    let Some(tools) = interop() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = ssh_keygen(&tools, tmp.path(), "id_ed25519").await;
    let sim = key_only_simulator(&public).await;
    let dev = &sim.devices()[0];
    let port = dev.addr.port();
    let kh = write_known_hosts(tmp.path(), "known_hosts", &dev.known_hosts_line());

    // NETCONF 1.0: end-of-message framing.
    let mut ssh = openssh_netconf(&tools, port, &key, &kh);
    let (mut stdin, mut stdout) = (ssh.stdin.take().unwrap(), ssh.stdout.take().unwrap());
    let mut buf = Vec::new();
    let hello = read_until(&mut stdout, &mut buf, b"]]>]]>").await;
    assert!(
        hello.contains("urn:ietf:params:netconf:base:1.0"),
        "{hello}"
    );
    assert!(
        hello.contains("urn:ietf:params:netconf:base:1.1"),
        "{hello}"
    );
    assert!(hello.contains("<session-id>"), "{hello}");
    send(&mut stdin, HELLO_1_0).await;
    send(
        &mut stdin,
        &format!("{}]]>]]>", rpc(101, "<get-software-information/>")),
    )
    .await;
    assert_software_reply(&read_until(&mut stdout, &mut buf, b"]]>]]>").await, 101);
    send(
        &mut stdin,
        &format!("{}]]>]]>", rpc(102, "<get-nothing-at-all/>")),
    )
    .await;
    let error = read_until(&mut stdout, &mut buf, b"]]>]]>").await;
    assert!(
        error.contains("<rpc-error>") && error.contains("syntax error"),
        "{error}"
    );
    send(
        &mut stdin,
        &format!("{}]]>]]>", rpc(103, "<close-session/>")),
    )
    .await;
    let ok = read_until(&mut stdout, &mut buf, b"]]>]]>").await;
    assert!(
        ok.contains("message-id=\"103\"") && ok.contains("<ok/>"),
        "{ok}"
    );
    drop(stdin);
    ssh.stdout = Some(stdout);
    let (status, stderr) = finish(ssh).await;
    assert!(status.success(), "ssh: {status}: {stderr}");

    // NETCONF 1.1: chunked framing once both hellos offered base:1.1.
    let mut ssh = openssh_netconf(&tools, port, &key, &kh);
    let (mut stdin, mut stdout) = (ssh.stdin.take().unwrap(), ssh.stdout.take().unwrap());
    let mut buf = Vec::new();
    read_until(&mut stdout, &mut buf, b"]]>]]>").await;
    send(&mut stdin, HELLO_1_1).await;
    send(&mut stdin, &chunk(&rpc(201, "<get-software-information/>"))).await;
    assert_software_reply(&read_chunked(&mut stdout, &mut buf).await, 201);
    send(&mut stdin, &chunk(&rpc(202, "<close-session/>"))).await;
    assert!(read_chunked(&mut stdout, &mut buf).await.contains("<ok/>"));
    drop(stdin);
    ssh.stdout = Some(stdout);
    let (status, stderr) = finish(ssh).await;
    assert!(status.success(), "ssh: {status}: {stderr}");
    assert_eq!(dev.stats().netconf_sessions, 2);
    assert_eq!(dev.stats().rpcs, 5);

    // A known-hosts file with another key for the device: ssh refuses before logging in.
    let (_, other) = ssh_keygen(&tools, tmp.path(), "other").await;
    let wrong = write_known_hosts(
        tmp.path(),
        "wrong_known_hosts",
        &format!("[127.0.0.1]:{port} {other}"),
    );
    let mut ssh = openssh_netconf(&tools, port, &key, &wrong);
    drop(ssh.stdin.take());
    let (status, stderr) = finish(ssh).await;
    assert!(!status.success());
    assert!(stderr.contains("Host key verification failed"), "{stderr}");
    assert_eq!(dev.stats().netconf_sessions, 2);
    assert_eq!(dev.stats().auth_failures, 0);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// ncclient and NAPALM against the simulator
// ---------------------------------------------------------------------------------------------

const PASSWORD: &str = "interop-Pw-1";

#[tokio::test]
async fn interop_ncclient_exchanges_hellos_and_rpcs_and_checks_the_host_key() {
    let Some(tools) = interop() else { return };
    let sim = example_simulator(|c| c.with_auth(AuthConfig::password("nbfacts", PASSWORD))).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let kh = write_known_hosts(tmp.path(), "known_hosts", &dev.known_hosts_line());
    let args = |kh: &Path| {
        vec![
            "127.0.0.1".to_string(),
            dev.addr.port().to_string(),
            "nbfacts".to_string(),
            kh.display().to_string(),
        ]
    };
    let out = run_python(&tools, "ncclient_session.py", &args(&kh), PASSWORD).await;
    assert_eq!(out.get("error"), None, "{out}");
    assert!(
        out["session_id"].as_str().unwrap().parse::<u32>().is_ok(),
        "{out}"
    );
    let caps: Vec<&str> = out["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for cap in [
        "urn:ietf:params:netconf:base:1.0",
        "urn:ietf:params:netconf:base:1.1",
        "http://xml.juniper.net/netconf/junos/1.0",
    ] {
        assert!(caps.contains(&cap), "{caps:?}");
    }
    assert_eq!(out["software"]["host-name"], "edge1", "{out}");
    assert_eq!(out["software"]["junos-version"], "21.4R3-S4.9", "{out}");
    assert_eq!(out["unknown_rpc"]["message"], "syntax error", "{out}");
    assert_eq!(out["unknown_rpc"]["severity"], "error", "{out}");
    // Two RPCs and the close-session.
    assert_eq!(dev.stats().rpcs, 3);

    // ncclient verifies the key: an empty known-hosts file makes it refuse the device.
    let empty = write_known_hosts(tmp.path(), "empty_known_hosts", "");
    let out = run_python(&tools, "ncclient_session.py", &args(&empty), PASSWORD).await;
    assert_eq!(out["error"], "SSHUnknownHostError", "{out}");
    assert_eq!(dev.stats().rpcs, 3);
    sim.shutdown().await;
}

/// NAPALM getters checked against nbfacts, and the collector that answers each.
const NAPALM_GETTERS: &[(&str, &str)] = &[
    ("get_facts", "inventory"),
    ("get_lldp_neighbors_detail", "lldp"),
    ("get_arp_table", "arp"),
];

#[tokio::test]
async fn interop_napalm_junos_getters_equal_nbfacts_napalm_output() {
    let Some(tools) = interop() else { return };
    let sim = example_simulator(|c| c.with_auth(AuthConfig::password("nbfacts", PASSWORD))).await;
    let dev = &sim.devices()[0];
    let mut args = vec![
        "127.0.0.1".to_string(),
        dev.addr.port().to_string(),
        "nbfacts".to_string(),
    ];
    args.extend(NAPALM_GETTERS.iter().map(|(g, _)| g.to_string()));
    let from_napalm = run_python(&tools, "napalm_getters.py", &args, PASSWORD).await;

    // nbfacts: the same device, the built-in Junos plugin over nbfacts's own SSH session.
    let tmp = tempfile::tempdir().unwrap();
    let credentials = Arc::new(Credentials::password("nbfacts", Secret::new(PASSWORD)));
    let s = Arc::new(session(
        dev,
        credentials,
        trusting(tmp.path(), &[dev]),
        options(),
    ));
    let registry = junos_registry().await;
    for (getter, collector) in NAPALM_GETTERS {
        let expected = &from_napalm[getter];
        assert!(
            expected.get("error").is_none(),
            "NAPALM's {getter} failed: {expected}"
        );
        let facts = registry
            .collect("junos", CollectRequest::new(collector), s.clone())
            .await
            .unwrap();
        let actual = napalm::to_napalm(getter, &facts).unwrap();
        let diffs = napalm::compare(expected, &actual);
        assert!(
            diffs.is_empty(),
            "{getter}: nbfacts differs from NAPALM:\n  {}\nNAPALM: {expected}\nnbfacts: {actual}",
            diffs.join("\n  ")
        );
    }
    // Not vacuous: the device's facts came through.
    assert_eq!(from_napalm["get_facts"]["hostname"], "edge1");
    assert_eq!(from_napalm["get_facts"]["fqdn"], "edge1");
    assert_eq!(from_napalm["get_facts"]["uptime"], 8_697_600.0);
    assert!(
        !from_napalm["get_lldp_neighbors_detail"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    assert!(!from_napalm["get_arp_table"].as_array().unwrap().is_empty());
    s.close().await;
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// nbfacts against OpenSSH's sshd
// ---------------------------------------------------------------------------------------------

/// The `nbfacts` binary whose `devsim --stdio` serves NETCONF behind sshd: `$NBFACTS_BIN`, else
/// the one next to this test's profile directory (`target/debug/nbfacts`).
fn nbfacts_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("NBFACTS_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/all-HASH
    let profile = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile.join("nbfacts");
    assert!(
        bin.is_file(),
        "{} is missing: the sshd test serves NETCONF with `nbfacts devsim --stdio`; build it \
         first (cargo build -p nbfacts-cli --bin nbfacts) or set NBFACTS_BIN",
        bin.display()
    );
    bin
}

/// An sshd of our own on a loopback port, with a temporary configuration.
struct Sshd {
    child: Child,
    port: u16,
    /// Its host key, as an OpenSSH public-key line.
    host_key: String,
    /// Its log so far (sshd -e), for failure messages.
    log: Arc<Mutex<String>>,
}

impl Sshd {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// The account sshd authenticates.
struct Login {
    user: String,
    /// Set when sshd can check a password for `user` (see [`start_sshd`]).
    password: Option<String>,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// Starts sshd with its own host key, `authorized` as the only authorized key, and the
/// `netconf` subsystem served by `nbfacts devsim --stdio --replay <example device>`.
///
/// How sshd can authenticate depends on who runs the test:
///
/// * **Not root:** sshd runs as the current user and can only log that user in. Password
///   authentication is impossible: sshd checks passwords through PAM or the shadow file
///   (`UsePAM no`), both need root, and the user's real password is not ours to know. Only
///   key authentication is tested to succeed.
/// * **Root:** sshd runs in a private mount namespace (`unshare --mount`) in which
///   `/etc/passwd` and `/etc/shadow` are bind-mounted copies that add a throwaway account
///   (uid 0, password hashed with `openssl passwd -6`), and `/run` is a fresh tmpfs for sshd's
///   privilege-separation directory. Key and password authentication both work; nothing
///   outside the namespace changes.
async fn start_sshd(tools: &Interop, dir: &Path, authorized: &str) -> (Sshd, Login) {
    let root = is_root();
    let login = if root {
        Login {
            user: "nbfacts-interop".to_string(),
            password: Some("interop-Sshd-pw-7".to_string()),
        }
    } else {
        let out = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        Login {
            user: String::from_utf8(out.stdout).unwrap().trim().to_string(),
            password: None,
        }
    };
    let (host_key, host_pub) = ssh_keygen(tools, dir, "ssh_host_ed25519_key").await;
    let authorized_keys = dir.join("authorized_keys");
    std::fs::write(&authorized_keys, format!("{authorized}\n")).unwrap();
    let port = free_port();
    let home = dir.join("nbfacts-home");
    let subsystem = format!(
        "{} --home {} devsim --stdio --replay {}",
        nbfacts_bin().display(),
        home.display(),
        example_dir().canonicalize().unwrap().display()
    );
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {}\n\
             PidFile none\n\
             UsePAM no\n\
             StrictModes no\n\
             AuthorizedKeysFile {}\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication {}\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin {}\n\
             LogLevel VERBOSE\n\
             Subsystem netconf {subsystem}\n",
            host_key.display(),
            authorized_keys.display(),
            if login.password.is_some() {
                "yes"
            } else {
                "no"
            },
            if root { "yes" } else { "no" },
        ),
    )
    .unwrap();
    if !root {
        // As root, sshd -t needs the privilege-separation directory made below.
        let check = Command::new(&tools.sshd)
            .arg("-t")
            .arg("-f")
            .arg(&config)
            .output()
            .await
            .unwrap();
        assert!(
            check.status.success(),
            "sshd -t: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let mut command = if let Some(password) = &login.password {
        let passwd = dir.join("passwd");
        let mut users = std::fs::read_to_string("/etc/passwd").unwrap();
        users.push_str(&format!(
            "{}:x:0:0:nbfacts interop:{}:/bin/sh\n",
            login.user,
            dir.display()
        ));
        std::fs::write(&passwd, users).unwrap();
        let mut openssl = Command::new("openssl")
            .args(["passwd", "-6", "-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl (for the password hash) is missing: run scripts/interop-setup");
        let mut stdin = openssl.stdin.take().unwrap();
        stdin.write_all(password.as_bytes()).await.unwrap();
        drop(stdin);
        let hash = openssl.wait_with_output().await.unwrap();
        assert!(hash.status.success());
        let hash = String::from_utf8(hash.stdout).unwrap();
        let shadow = dir.join("shadow");
        std::fs::write(
            &shadow,
            format!("{}:{}:19000:0:99999:7:::\n", login.user, hash.trim()),
        )
        .unwrap();
        let script = format!(
            "set -e; mount --bind {} /etc/passwd; mount --bind {} /etc/shadow; \
             mount -t tmpfs -o mode=755 tmpfs /run; mkdir -m 755 /run/sshd; \
             {sshd} -t -f {config}; exec {sshd} -D -e -f {config}",
            passwd.display(),
            shadow.display(),
            sshd = tools.sshd.display(),
            config = config.display()
        );
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new(&tools.sshd);
        c.arg("-D").arg("-e").arg("-f").arg(&config);
        c
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Ready when sshd says it listens; its log is kept for failure messages.
    let log = Arc::new(Mutex::new(String::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = format!("Server listening on 127.0.0.1 port {port}");
    let ready = tokio::time::timeout(STEP, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.lock().unwrap().push_str(&format!("{line}\n"));
            if line.contains(&listening) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(ready, Ok(true)),
        "sshd did not start listening: {}",
        log.lock().unwrap()
    );
    let keep = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            keep.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    (
        Sshd {
            child,
            port,
            host_key: host_pub,
            log,
        },
        login,
    )
}

fn sshd_session(
    sshd: &Sshd,
    credentials: Credentials,
    verifier: Arc<HostKeyVerifier>,
) -> nbfacts_host::session::NetconfSession {
    nbfacts_host::session::NetconfSession::new(
        SshTarget::new("sshd-edge1", "127.0.0.1", sshd.port),
        "junos",
        Arc::new(credentials),
        verifier,
        options(),
    )
}

#[tokio::test]
async fn interop_nbfacts_collects_through_openssh_sshd_and_refuses_a_changed_key() {
    let Some(tools) = interop() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (client_key, client_pub) = ssh_keygen(&tools, tmp.path(), "id_ed25519").await;
    let (mut sshd, login) = start_sshd(&tools, tmp.path(), &client_pub).await;
    let kh = write_known_hosts(
        tmp.path(),
        "known_hosts",
        &format!("[127.0.0.1]:{} {}", sshd.port, sshd.host_key),
    );
    let strict = Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, &kh));
    let registry = junos_registry().await;
    let replay = Arc::new(ReplayDevice::new(example_dir(), "junos"));
    let expected = registry
        .collect("junos", CollectRequest::new("inventory"), replay)
        .await
        .unwrap();

    // Key authentication; every collector call shares one connection and NETCONF channel.
    let by_key = CredentialProfile::new(login.user.clone())
        .with_key_file(&client_key, None)
        .resolve(&|_| None)
        .unwrap();
    let s = Arc::new(sshd_session(&sshd, by_key, strict.clone()));
    let reply = s.netconf_rpc("<get-software-information/>").await;
    let reply = reply.unwrap_or_else(|e| panic!("{e:?}\nsshd log:\n{}", sshd.log()));
    assert!(reply.contains("<host-name>edge1</host-name>"), "{reply}");
    let facts = registry
        .collect("junos", CollectRequest::new("inventory"), s.clone())
        .await
        .unwrap();
    assert_eq!(facts, expected);
    let stats = s.stats();
    assert_eq!(
        (stats.connections, stats.netconf_channels),
        (1, 1),
        "{stats:?}"
    );
    s.close().await;

    // Password authentication.
    let wrong = Credentials::password(login.user.clone(), Secret::new("not-the-Pw-42"));
    let err = sshd_session(&sshd, wrong, strict.clone())
        .connect()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SessionError::Auth { .. }), "{text}");
    assert!(
        text.contains("sshd-edge1")
            && text.contains(&login.user)
            && !text.contains("not-the-Pw-42"),
        "{text}"
    );
    match &login.password {
        Some(password) => {
            let right = Credentials::password(login.user.clone(), Secret::new(password.clone()));
            let s = sshd_session(&sshd, right, strict.clone());
            let reply = s.netconf_rpc("<get-chassis-inventory/>").await;
            let reply = reply.unwrap_or_else(|e| panic!("{e:?}\nsshd log:\n{}", sshd.log()));
            assert!(reply.contains("<chassis-inventory"), "{reply}");
            s.close().await;
            assert!(text.contains("password"), "{text}");
        }
        None => eprintln!(
            "sshd runs unprivileged: password authentication can only be refused (see \
             start_sshd)"
        ),
    }

    // A known-hosts file with another key for the device: refused before any credential is
    // sent, naming the device and both fingerprints.
    let (_, other) = ssh_keygen(&tools, tmp.path(), "other").await;
    let wrong_kh = write_known_hosts(
        tmp.path(),
        "wrong_known_hosts",
        &format!("[127.0.0.1]:{} {other}", sshd.port),
    );
    let fp =
        |line: &str| nbfacts_host::session::fingerprint(&PublicKey::from_openssh(line).unwrap());
    let verifier = Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, &wrong_kh));
    let by_key = CredentialProfile::new(login.user.clone())
        .with_key_file(&client_key, None)
        .resolve(&|_| None)
        .unwrap();
    let err = sshd_session(&sshd, by_key, verifier)
        .connect()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, SessionError::HostKey(h) if matches!(**h, HostKeyError::Mismatch { .. })),
        "{text}"
    );
    assert!(text.contains("sshd-edge1"), "{text}");
    assert!(
        text.contains(&fp(&other)) && text.contains(&fp(&sshd.host_key)),
        "{text}"
    );
    let _ = sshd.child.kill().await;
}
