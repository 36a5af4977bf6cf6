//! Test support: the compiled test plugins and the shared fixtures directory.
#![forbid(unsafe_code)]

use std::path::PathBuf;

pub mod fault_proxy;

/// The Junos plugin, as shipped.
pub const JUNOS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-junos.wasm"));
/// A plugin whose collectors misbehave on purpose (see `tests/plugins/misbehave`).
pub const MISBEHAVE: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-test-misbehave.wasm"));
/// A plugin built against `nbfacts:collector@0.2.0`.
pub const WRONG_WIT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-test-wrong-wit.wasm"));
/// A plugin that reads the filesystem.
pub const FS_USER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-test-fs-user.wasm"));

/// The shared third-party fixtures: `$NBFACTS_FIXTURES`, default `../shared/fixtures` from the
/// workspace root. Panics with a clear message when the directory is missing, so a suite that
/// depends on it can never pass vacuously.
pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("NBFACTS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/fixtures"
            ))
        });
    #[allow(clippy::panic)]
    if !dir.join("dev").is_dir() {
        panic!(
            "fixtures directory {} not found (set NBFACTS_FIXTURES to the shared fixtures)",
            dir.display()
        );
    }
    dir
}
