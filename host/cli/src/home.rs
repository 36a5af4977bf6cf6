//! Where nbfacts keeps its state: `$NBFACTS_HOME`, else the platform data directory.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The state directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// `explicit` (from `--home` or `NBFACTS_HOME`), else `$XDG_DATA_HOME/nbfacts`, else
/// `~/.local/share/nbfacts`. The directory is created if missing.
pub fn resolve(explicit: Option<&Path>) -> anyhow::Result<Home> {
    let root = match explicit {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(xdg) => PathBuf::from(xdg).join("nbfacts"),
            None => {
                let home = std::env::var_os("HOME")
                    .context("neither NBFACTS_HOME nor HOME is set; pass --home DIR")?;
                PathBuf::from(home).join(".local/share/nbfacts")
            }
        },
    };
    std::fs::create_dir_all(&root)
        .with_context(|| format!("cannot create the state directory {}", root.display()))?;
    Ok(Home { root })
}

impl Home {
    /// Compiled-plugin cache.
    pub fn plugin_cache(&self) -> PathBuf {
        self.root.join("cache").join("plugins")
    }

    /// The state directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The embedded store (jobs, reports, plans).
    pub fn store(&self) -> PathBuf {
        self.root.join("store.redb")
    }

    /// Known SSH host keys (OpenSSH format), used when `--known-hosts` is not given.
    pub fn known_hosts(&self) -> PathBuf {
        self.root.join("known_hosts")
    }
}
