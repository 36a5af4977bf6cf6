//! Device sessions as the host sees them.
//!
//! [`DeviceSession`] is what a plugin's `session` resource is backed by. This module has the
//! replay implementation, [`ReplayDevice`], which answers from a directory of recorded replies
//! laid out like NAPALM's junos mocked data (see [`nbfacts_sdk::testing`] for the naming rules,
//! which it shares with the SDK's native test double).

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use nbfacts_sdk::testing::{cli_file_name, operation_name, reply_file_name, unknown_rpc_error};
use nbfacts_sdk::{DeviceError, DeviceInfo};

/// A boxed future, as returned by [`DeviceSession`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An open session to one device.
///
/// Implementations own the connection, the credentials and the timeouts. Errors never carry
/// credentials.
pub trait DeviceSession: Send + Sync {
    /// Sends one NETCONF RPC (the operation element) and returns the payload of the reply.
    fn netconf_rpc<'a>(&'a self, rpc: &'a str) -> BoxFuture<'a, Result<String, DeviceError>>;

    /// Runs one CLI command and returns its output.
    fn cli<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, DeviceError>>;

    /// What the host knows about the device.
    fn info(&self) -> DeviceInfo;

    /// Ends the session (for example `<close-session/>` and an SSH disconnect). The default
    /// does nothing, which suits sessions without a connection.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A device that answers from recorded replies in a directory.
///
/// An RPC is answered from the file named after it (`get-foo-information` →
/// `get-foo-information.xml`, with the value of an `instance` argument appended, as NAPALM's
/// test double does); an RPC with no file gets the `rpc-error` a Junos device returns for an
/// unknown command, so plugin fallbacks behave as on a device.
#[derive(Debug, Clone)]
pub struct ReplayDevice {
    source: Source,
    info: DeviceInfo,
}

#[derive(Debug, Clone)]
enum Source {
    Dir(PathBuf),
    /// File name → content, for generated devices and benchmarks.
    Memory(Arc<HashMap<String, Arc<str>>>),
}

impl ReplayDevice {
    /// A replay device for `dir`, named after the directory.
    pub fn new(dir: impl Into<PathBuf>, driver: &str) -> Self {
        let dir = dir.into();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "replay".to_string());
        Self {
            info: DeviceInfo {
                name,
                driver: driver.to_string(),
                address: String::new(),
                transports: "netconf,cli".to_string(),
                extra: vec![("replay-dir".to_string(), dir.display().to_string())],
            },
            source: Source::Dir(dir),
        }
    }

    /// A replay device that answers from memory: `files` maps reply file names
    /// (`get-arp-table-information.xml`) to their content.
    pub fn from_memory(name: &str, driver: &str, files: HashMap<String, Arc<str>>) -> Self {
        Self {
            info: DeviceInfo {
                name: name.to_string(),
                driver: driver.to_string(),
                address: String::new(),
                transports: "netconf,cli".to_string(),
                extra: Vec::new(),
            },
            source: Source::Memory(Arc::new(files)),
        }
    }

    /// The directory replies are read from, if they come from one.
    pub fn dir(&self) -> Option<&Path> {
        match &self.source {
            Source::Dir(d) => Some(d),
            Source::Memory(_) => None,
        }
    }

    async fn read(&self, file: &str) -> Result<Option<String>, DeviceError> {
        let dir = match &self.source {
            Source::Memory(files) => return Ok(files.get(file).map(|s| s.to_string())),
            Source::Dir(dir) => dir,
        };
        let path = dir.join(file);
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DeviceError::Transport(format!(
                "cannot read recorded reply {}: {e}",
                path.display()
            ))),
        }
    }
}

impl DeviceSession for ReplayDevice {
    fn netconf_rpc<'a>(&'a self, rpc: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        Box::pin(async move {
            let Some(file) = reply_file_name(rpc) else {
                return Err(DeviceError::Transport(
                    "the RPC has no operation element".to_string(),
                ));
            };
            match self.read(&file).await? {
                Some(reply) => Ok(reply),
                None => Err(unknown_rpc_error(&operation_name(rpc).unwrap_or_default())),
            }
        })
    }

    fn cli<'a>(&'a self, command: &'a str) -> BoxFuture<'a, Result<String, DeviceError>> {
        Box::pin(async move {
            match self.read(&cli_file_name(command)).await? {
                Some(out) => Ok(out),
                None => Err(DeviceError::NotSupported(format!(
                    "no recorded output for the command '{command}'"
                ))),
            }
        })
    }

    fn info(&self) -> DeviceInfo {
        self.info.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replay_answers_by_file_name_and_errors_like_junos() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("get-bgp-summary-informationblue.xml"),
            "<x/>",
        )
        .unwrap();
        let dev = ReplayDevice::new(dir.path(), "junos");
        let rpc =
            "<get-bgp-summary-information><instance>blue</instance></get-bgp-summary-information>";
        assert_eq!(dev.netconf_rpc(rpc).await.unwrap(), "<x/>");
        match dev.netconf_rpc("<get-nothing/>").await {
            Err(DeviceError::Rpc(e)) => assert_eq!(e.error_path, "get-nothing"),
            other => panic!("expected rpc-error, got {other:?}"),
        }
    }
}
