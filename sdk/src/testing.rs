//! Native test doubles: run a plugin's parsers in plain `cargo test` against recorded replies.
//!
//! [`FakeDevice`] answers RPCs and CLI commands from memory or from a directory laid out the way
//! NAPALM's junos test double lays out its mocked data:
//!
//! * an RPC is answered from the file named after its operation element, with the value of an
//!   `<instance>` argument appended: `<get-bgp-neighbor-information><instance>blue</instance>…`
//!   reads `get-bgp-neighbor-informationblue.xml`; all other arguments are ignored;
//! * `<get-configuration>` with a filter reads the file named after the filter with every
//!   character that is not a letter or digit replaced by `_` (NAPALM's rule);
//! * an RPC with no file gets the `rpc-error` a Junos device returns for an unknown command, so
//!   plugin fallbacks behave as on a device;
//! * a CLI command is answered from the file named after the command with every character that
//!   is not a letter or digit replaced by `_`, plus `.txt`.
//!
//! The host's replay device uses the same functions ([`reply_file_name`],
//! [`unknown_rpc_error`]), so a plugin behaves the same in native tests and in the sandbox.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{Device, DeviceError, DeviceInfo, RpcError};

/// A device that replays recorded replies.
#[derive(Debug, Default)]
pub struct FakeDevice {
    dir: Option<PathBuf>,
    rpcs: HashMap<String, String>,
    cli: HashMap<String, String>,
    info: Option<DeviceInfo>,
    calls: RefCell<Vec<String>>,
}

impl FakeDevice {
    /// A device that knows no RPCs and no commands.
    pub fn new() -> Self {
        Self::default()
    }

    /// A device that answers from a NAPALM-style case directory.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::default()
        }
    }

    /// Answers the RPC whose reply file would be `key` (`get-arp-table-information`, or with an
    /// instance suffix such as `get-bgp-summary-informationmaster`) with `reply`.
    #[must_use]
    pub fn with_reply(mut self, key: &str, reply: &str) -> Self {
        self.rpcs
            .insert(key.trim_end_matches(".xml").to_string(), reply.to_string());
        self
    }

    /// Answers the CLI command `command` with `output`.
    #[must_use]
    pub fn with_cli(mut self, command: &str, output: &str) -> Self {
        self.cli.insert(command.to_string(), output.to_string());
        self
    }

    /// Sets what [`Device::info`] returns.
    #[must_use]
    pub fn with_info(mut self, info: DeviceInfo) -> Self {
        self.info = Some(info);
        self
    }

    /// Every RPC and command asked for so far, in order (RPCs as their reply file key).
    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Device for FakeDevice {
    fn netconf_rpc(&self, rpc: &str) -> Result<String, DeviceError> {
        let Some(file) = reply_file_name(rpc) else {
            return Err(DeviceError::Transport(format!(
                "not an RPC element: {}",
                rpc.chars().take(80).collect::<String>()
            )));
        };
        let key = file.trim_end_matches(".xml").to_string();
        self.calls.borrow_mut().push(key.clone());
        if let Some(reply) = self.rpcs.get(&key) {
            return Ok(reply.clone());
        }
        if let Some(dir) = &self.dir
            && let Some(reply) = read_reply(dir, &file)?
        {
            return Ok(reply);
        }
        Err(unknown_rpc_error(&operation_name(rpc).unwrap_or_default()))
    }

    fn cli(&self, command: &str) -> Result<String, DeviceError> {
        self.calls.borrow_mut().push(command.to_string());
        if let Some(out) = self.cli.get(command) {
            return Ok(out.clone());
        }
        if let Some(dir) = &self.dir
            && let Some(out) = read_reply(dir, &cli_file_name(command))?
        {
            return Ok(out);
        }
        Err(DeviceError::Rpc(RpcError {
            error_type: "protocol".into(),
            error_tag: "operation-failed".into(),
            error_severity: "error".into(),
            error_message: format!("syntax error, expecting <command>: {command}"),
            error_path: String::new(),
        }))
    }

    fn info(&self) -> DeviceInfo {
        self.info.clone().unwrap_or_else(|| DeviceInfo {
            name: "fake".into(),
            driver: "fake".into(),
            address: String::new(),
            transports: "netconf,cli".into(),
            extra: Vec::new(),
        })
    }
}

fn read_reply(dir: &Path, file: &str) -> Result<Option<String>, DeviceError> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DeviceError::Transport(format!(
            "cannot read recorded reply {}: {e}",
            path.display()
        ))),
    }
}

/// The `rpc-error` a Junos device returns for an RPC it does not know.
pub fn unknown_rpc_error(operation: &str) -> DeviceError {
    DeviceError::Rpc(RpcError {
        error_type: "protocol".into(),
        error_tag: "operation-failed".into(),
        error_severity: "error".into(),
        error_message: "syntax error".into(),
        error_path: operation.to_string(),
    })
}

/// The local name of the RPC's operation element (`get-arp-table-information`), skipping an
/// XML declaration, comments and an `<rpc>` wrapper.
pub fn operation_name(rpc: &str) -> Option<String> {
    let mut rest = rpc;
    loop {
        let start = rest.find('<')?;
        rest = rest.get(start + 1..)?;
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest.get(..end)?;
        let local = name.rsplit(':').next().unwrap_or(name);
        if local == "rpc" {
            continue;
        }
        return (!local.is_empty()).then(|| local.to_string());
    }
}

/// The text of the first `<name>…</name>` argument inside `rpc`, trimmed.
pub fn argument(rpc: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = rpc.find(&open)? + open.len();
    let len = rpc.get(start..)?.find(&close)?;
    rpc.get(start..start + len).map(|v| v.trim().to_string())
}

/// The recorded-reply file that answers `rpc` (see the module documentation), or `None` if
/// `rpc` has no operation element.
pub fn reply_file_name(rpc: &str) -> Option<String> {
    let op = operation_name(rpc)?;
    if op == "get-configuration" {
        let open_end = rpc.find("get-configuration")?;
        let body_start = open_end + rpc.get(open_end..)?.find('>')? + 1;
        let body_end = rpc.rfind("</").filter(|&e| e >= body_start);
        if let Some(body) = body_end.and_then(|e| rpc.get(body_start..e)) {
            let compact: String = body.split_whitespace().collect();
            if !compact.is_empty() {
                return Some(format!("{}.xml", sanitize(&compact)));
            }
        }
        return Some("get-configuration.xml".to_string());
    }
    let instance = argument(rpc, "instance").unwrap_or_default();
    Some(format!("{op}{instance}.xml"))
}

/// The recorded-output file for a CLI command.
pub fn cli_file_name(command: &str) -> String {
    format!("{}.txt", sanitize(command.trim()))
}

fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_file_follows_napalm_naming() {
        assert_eq!(
            reply_file_name("<get-arp-table-information><no-resolve/></get-arp-table-information>")
                .as_deref(),
            Some("get-arp-table-information.xml")
        );
        assert_eq!(
            reply_file_name(
                "<get-bgp-neighbor-information><instance>frontend</instance><neighbor-address/></get-bgp-neighbor-information>"
            )
            .as_deref(),
            Some("get-bgp-neighbor-informationfrontend.xml")
        );
        assert_eq!(
            reply_file_name(
                "<?xml version=\"1.0\"?><rpc message-id=\"1\"><get-software-information/></rpc>"
            )
            .as_deref(),
            Some("get-software-information.xml")
        );
    }

    #[test]
    fn configuration_filter_is_sanitised_like_napalm() {
        let rpc = "<get-configuration>\n  <configuration><routing-instances><instance/></routing-instances></configuration>\n</get-configuration>";
        assert_eq!(
            reply_file_name(rpc).as_deref(),
            Some(
                "_configuration__routing_instances__instance____routing_instances___configuration_.xml"
            )
        );
    }

    #[test]
    fn unknown_rpc_gets_a_junos_rpc_error() {
        let dev = FakeDevice::new().with_reply("get-foo", "<foo/>");
        assert_eq!(dev.netconf_rpc("<get-foo/>").unwrap(), "<foo/>");
        match dev.netconf_rpc("<get-bar/>") {
            Err(DeviceError::Rpc(e)) => {
                assert_eq!(e.error_message, "syntax error");
                assert_eq!(e.error_path, "get-bar");
            }
            other => panic!("expected an rpc-error, got {other:?}"),
        }
        assert_eq!(dev.calls(), vec!["get-foo", "get-bar"]);
    }
}
