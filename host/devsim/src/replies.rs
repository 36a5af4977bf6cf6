//! What a simulated device answers: recorded replies from a directory, or a generated device.
//!
//! A directory is read the way [`nbfacts_host::ReplayDevice`]-style replays read it
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
            None => match unknown_rpc_error(op) {
                DeviceError::Rpc(e) => Answer::Error(e),
                _ => Answer::Error(malformed(op)),
            },
        }
    }

    /// The output of a CLI command, if recorded.
    pub fn cli(&self, command: &str) -> Option<Arc<str>> {
        self.files.get(&cli_file_name(command)).cloned()
    }
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
