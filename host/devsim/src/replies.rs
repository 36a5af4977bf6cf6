//! What a simulated device answers: recorded replies from a directory, or a generated device.
//!
//! A directory is read the way `nbfacts_host::ReplayDevice`-style replays read it
//! (`nbfacts_sdk::testing::reply_file_name`): an RPC `get-foo` is answered from `get-foo.xml`
//! (with the value of an `instance` argument appended), a CLI command from its sanitised name
//! plus `.txt`, and an RPC with no file gets the same `rpc-error` a Junos device sends for an
//! unknown command ([`nbfacts_sdk::testing::unknown_rpc_error`]). Collecting through the
//! simulator therefore gives exactly what `--replay` gives for the same directory.
//!
//! The directory is read once, when the simulator starts: replies are served from memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nbfacts_sdk::testing::{cli_file_name, reply_file_name, unknown_rpc_error};
use nbfacts_sdk::{DeviceError, RpcError};

use crate::generate::GeneratedDevice;

/// How a device answers one RPC.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Answer {
    /// The payload of the `<rpc-reply>`.
    Reply(Arc<str>),
    /// An `<rpc-error>`.
    Error(RpcError),
    /// `<ok/>`.
    Ok,
}

/// The replies of one simulated device.
#[derive(Debug, Clone)]
pub struct Replies {
    files: HashMap<String, Arc<str>>,
    /// Generated devices answer per-interface LLDP detail and terse listings by argument.
    lldp_detail: HashMap<String, Arc<str>>,
    interfaces_terse: Option<Arc<str>>,
    source: String,
}

/// A recorded-reply directory could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepliesError {
    /// The directory (or a file in it) could not be read.
    #[error("cannot read recorded replies from {path}: {source}")]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory holds no reply files.
    #[error("{path} holds no recorded replies (*.xml or *.txt files)")]
    Empty {
        /// The directory.
        path: PathBuf,
    },
}

impl Replies {
    /// Reads every `*.xml` and `*.txt` file of `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self, RepliesError> {
        let read_err = |path: &Path, source| RepliesError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(|e| read_err(dir, e))? {
            let entry = entry.map_err(|e| read_err(dir, e))?;
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !(name.ends_with(".xml") || name.ends_with(".txt")) || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
            files.insert(name.to_string(), Arc::<str>::from(text));
        }
        if files.is_empty() {
            return Err(RepliesError::Empty {
                path: dir.to_path_buf(),
            });
        }
        Ok(Self {
            files,
            lldp_detail: HashMap::new(),
            interfaces_terse: None,
            source: dir.display().to_string(),
        })
    }

    /// Replies from memory: reply file name → content.
    pub fn from_files(name: &str, files: HashMap<String, Arc<str>>) -> Self {
        Self {
            files,
            lldp_detail: HashMap::new(),
            interfaces_terse: None,
            source: format!("memory:{name}"),
        }
    }

    /// The replies of a generated device.
    pub fn generated(device: GeneratedDevice) -> Self {
        Self {
            source: format!("generated:{}", device.name),
            files: device.files,
            lldp_detail: device.lldp_detail,
            interfaces_terse: Some(device.interfaces_terse),
        }
    }

    /// Where the replies come from (a directory, or `generated:NAME`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The number of reply files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when there are no replies.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Answers `operation` (the operation element, e.g.
    /// `<get-bgp-summary-information><instance>master</instance></get-bgp-summary-information>`).
    ///
    /// `arguments` are the operation's child elements, used by generated devices for
    /// per-interface LLDP detail and terse interface listings.
    pub fn rpc(&self, op: &str, operation: &str, arguments: &[(String, String)]) -> Answer {
        let arg = |name: &str| {
            arguments
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        match op {
            "close-session" | "kill-session" | "lock" | "unlock" | "discard-changes" => {
                return Answer::Ok;
            }
            "get-lldp-interface-neighbors" | "get-lldp-interface-neighbors-information"
                if !self.lldp_detail.is_empty() =>
            {
                let port = arg("interface-device").or_else(|| arg("interface-name"));
                if let Some(text) = port.and_then(|p| self.lldp_detail.get(p)) {
                    return Answer::Reply(text.clone());
                }
                return Answer::Reply(Arc::from(
                    "<lldp-neighbors-information style=\"detail\">\n</lldp-neighbors-information>\n",
                ));
            }
            "get-interface-information" if arg("terse").is_some() => {
                if let Some(terse) = &self.interfaces_terse {
                    return Answer::Reply(terse.clone());
                }
            }
            _ => {}
        }
        let Some(file) = reply_file_name(operation) else {
            return Answer::Error(malformed(op));
        };
        match self.files.get(&file) {
            Some(text) => Answer::Reply(text.clone()),
            None => match self.derived(op, operation) {
                Some(text) => Answer::Reply(Arc::from(text)),
                None => match unknown_rpc_error(op) {
                    DeviceError::Rpc(e) => Answer::Error(e),
                    _ => Answer::Error(malformed(op)),
                },
            },
        }
    }

    /// Answers that every Junos device gives and that follow from the recorded replies, for
    /// RPCs a recording may lack. PyEZ (and so NAPALM's `get_facts`) needs them to succeed:
    ///
    /// * `get-system-uptime-information`: the boot time and uptime of the master routing
    ///   engine, from `get-route-engine-information` (PyEZ's `Device.uptime`);
    /// * the `system/domain-name` configuration query of PyEZ's `domain`/`fqdn` facts: a
    ///   recording without it is a device with no domain name configured, which answers
    ///   with an empty configuration (nbfacts's Junos plugin makes the same assumption: its
    ///   FQDN is the host name).
    ///
    /// The Junos plugin sends neither, so collecting through the simulator still gives
    /// exactly what `--replay` gives.
    fn derived(&self, op: &str, operation: &str) -> Option<String> {
        match op {
            "get-system-uptime-information" => {
                let engines = self.files.get("get-route-engine-information.xml")?;
                uptime_reply(master_uptime(engines)?)
            }
            "get-configuration" => {
                let compact: String = operation.split_whitespace().collect();
                (compact
                    == "<get-configuration><configuration><system><domain-name/></system>\
                        </configuration></get-configuration>")
                    .then(|| "<configuration>\n</configuration>\n".to_string())
            }
            _ => None,
        }
    }

    /// The output of a CLI command, if recorded.
    pub fn cli(&self, command: &str) -> Option<Arc<str>> {
        self.files.get(&cli_file_name(command)).cloned()
    }
}

/// The `up-time` seconds of the master routing engine (else the first) in a
/// `get-route-engine-information` reply.
fn master_uptime(engines: &str) -> Option<u64> {
    let mut first = None;
    for engine in engines.split("<route-engine>").skip(1) {
        let seconds = engine.find("<up-time").and_then(|at| {
            let tag = engine.get(at..)?;
            let tag = tag.get(..tag.find('>')?)?;
            let value = tag.get(tag.find("seconds=\"")? + 9..)?;
            value.get(..value.find('"')?)?.parse::<u64>().ok()
        });
        if engine.contains(">master</mastership-state>") && seconds.is_some() {
            return seconds;
        }
        first = first.or(seconds);
    }
    first
}

/// A `get-system-uptime-information` reply (the shape Junos 21.4 sends) for a device up
/// `uptime` seconds.
fn uptime_reply(uptime: u64) -> Option<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let booted = now.saturating_sub(uptime);
    let (weeks, days) = (uptime / 604_800, uptime % 604_800 / 86_400);
    let (hours, minutes) = (uptime % 86_400 / 3_600, uptime % 3_600 / 60);
    Some(format!(
        "<system-uptime-information>\n\
         <current-time><date-time junos:seconds=\"{now}\">{}</date-time></current-time>\n\
         <time-source> NTP CLOCK </time-source>\n\
         <system-booted-time><date-time junos:seconds=\"{booted}\">{}</date-time>\
         <time-length junos:seconds=\"{uptime}\">{weeks}w{days}d {hours:02}:{minutes:02}</time-length>\
         </system-booted-time>\n\
         </system-uptime-information>\n",
        utc(now),
        utc(booted),
    ))
}

/// `YYYY-MM-DD hh:mm:ss UTC` for Unix time `t` (Howard Hinnant's `civil_from_days`).
fn utc(t: u64) -> String {
    let days = t / 86_400;
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

fn malformed(op: &str) -> RpcError {
    RpcError {
        error_type: "protocol".into(),
        error_tag: "malformed-message".into(),
        error_severity: "error".into(),
        error_message: "the RPC has no operation element".into(),
        error_path: op.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_replies_follow_the_replay_rules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("get-bgp-summary-informationblue.xml"),
            "<x/>",
        )
        .unwrap();
        std::fs::write(dir.path().join("show_version.txt"), "Junos 21.4").unwrap();
        std::fs::write(dir.path().join("notes.md"), "ignored").unwrap();
        let r = Replies::from_dir(dir.path()).unwrap();
        assert_eq!(r.len(), 2);
        let op =
            "<get-bgp-summary-information><instance>blue</instance></get-bgp-summary-information>";
        assert_eq!(
            r.rpc("get-bgp-summary-information", op, &[]),
            Answer::Reply(Arc::from("<x/>"))
        );
        let Answer::Error(e) = r.rpc("get-nothing", "<get-nothing/>", &[]) else {
            panic!("expected an rpc-error");
        };
        assert_eq!(DeviceError::Rpc(e), unknown_rpc_error("get-nothing"));
        assert_eq!(r.cli("show version").as_deref(), Some("Junos 21.4"));
        assert_eq!(r.cli("show nothing"), None);
        assert_eq!(r.rpc("close-session", "<close-session/>", &[]), Answer::Ok);
    }

    #[test]
    fn uptime_and_the_domain_name_query_are_derived_when_not_recorded() {
        let mut files = HashMap::new();
        files.insert(
            "get-route-engine-information.xml".to_string(),
            Arc::<str>::from(
                "<route-engine-information><route-engine><slot>0</slot>\
                 <mastership-state>backup</mastership-state><up-time seconds=\"5\">5 s</up-time>\
                 </route-engine><route-engine><slot>1</slot>\
                 <mastership-state>master</mastership-state>\
                 <up-time junos:seconds=\"8697600\">100 days</up-time></route-engine>\
                 </route-engine-information>",
            ),
        );
        let r = Replies::from_files("r1", files);
        let Answer::Reply(up) = r.rpc(
            "get-system-uptime-information",
            "<get-system-uptime-information></get-system-uptime-information>",
            &[],
        ) else {
            panic!("no uptime");
        };
        assert!(
            up.contains("<time-length junos:seconds=\"8697600\">14w2d 16:00</time-length>"),
            "{up}"
        );
        let domain = "<get-configuration><configuration>\n <system><domain-name/></system>\n\
                      </configuration></get-configuration>";
        assert_eq!(
            r.rpc("get-configuration", domain, &[]),
            Answer::Reply(Arc::from("<configuration>\n</configuration>\n"))
        );
        // Other configuration queries stay unanswered, as in a replay.
        let other = "<get-configuration><configuration><routing-instances/></configuration>\
                     </get-configuration>";
        assert!(matches!(
            r.rpc("get-configuration", other, &[]),
            Answer::Error(_)
        ));
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn an_empty_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Replies::from_dir(dir.path()),
            Err(RepliesError::Empty { .. })
        ));
        assert!(matches!(
            Replies::from_dir(&dir.path().join("missing")),
            Err(RepliesError::Read { .. })
        ));
    }

    #[test]
    fn generated_devices_answer_per_interface_and_terse() {
        let spec =
            crate::generate::FleetSpec::new(4, crate::generate::DeviceSize::new(8, 2, 4, 2, 2, 2));
        let r = Replies::generated(crate::generate::device(0, &spec));
        let args = vec![("interface-device".to_string(), "xe-0/0/1".to_string())];
        let Answer::Reply(detail) = r.rpc(
            "get-lldp-interface-neighbors",
            "<get-lldp-interface-neighbors/>",
            &args,
        ) else {
            panic!("no detail");
        };
        assert!(detail.contains("<lldp-local-interface>xe-0/0/1</lldp-local-interface>"));
        let terse = vec![("terse".to_string(), String::new())];
        let Answer::Reply(t) = r.rpc(
            "get-interface-information",
            "<get-interface-information><terse/></get-interface-information>",
            &terse,
        ) else {
            panic!("no terse");
        };
        assert!(t.starts_with("<interface-information style=\"terse\">"));
    }
}
