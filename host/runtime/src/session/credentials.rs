//! Device credentials: where they come from, and keeping them out of logs and errors.
//!
//! A [`CredentialProfile`] says *where* the secret is — an environment variable, a file, a key
//! file, or (for a config file the operator protects) the value itself — and
//! [`CredentialProfile::resolve`] turns it into [`Credentials`]. Nothing here takes a password
//! from the command line: the CLI only names the variable or file.
//!
//! Secrets are held in [`Secret`], whose `Debug` prints `<redacted>` and which has no `Display`;
//! errors name the variable or file that failed, never its content. Memory holding a secret is
//! zeroed when dropped.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::PrivateKey;
use serde::Deserialize;
use zeroize::Zeroizing;

/// A secret string: never printed, zeroed on drop.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself; only the SSH authentication code should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a password (or key passphrase) comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecretSource {
    /// The value of this environment variable.
    Env(String),
    /// The content of this file, without a trailing newline.
    File(PathBuf),
    /// The value itself (from a config file; never from the command line).
    Value(Secret),
}

/// Where the credentials for a set of devices come from.
///
/// In a config file:
///
/// ```toml
/// [credentials.lab]
/// username = "netconf"
/// password = { env = "LAB_PASSWORD" }       # or { file = "/run/secrets/lab" }
/// key_file = "/etc/nbfacts/id_ed25519"      # optional; tried before the password
/// ```
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct CredentialProfile {
    /// The SSH user name.
    pub username: String,
    /// The password, if password authentication is used.
    #[serde(default)]
    pub password: Option<SecretSource>,
    /// An OpenSSH private key file, if key authentication is used.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The key's passphrase, if it is encrypted.
    #[serde(default)]
    pub key_passphrase: Option<SecretSource>,
}

impl CredentialProfile {
    /// A profile for `username` with no secret yet.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: None,
            key_file: None,
            key_passphrase: None,
        }
    }

    /// Uses the password from `source`.
    #[must_use]
    pub fn with_password(mut self, source: SecretSource) -> Self {
        self.password = Some(source);
        self
    }

    /// Uses the private key in `path`, decrypted with `passphrase` if given.
    #[must_use]
    pub fn with_key_file(
        mut self,
        path: impl Into<PathBuf>,
        passphrase: Option<SecretSource>,
    ) -> Self {
        self.key_file = Some(path.into());
        self.key_passphrase = passphrase;
        self
    }

    /// Reads the secrets. `env` looks up environment variables (the library never reads the
    /// process environment itself; the CLI passes `|k| std::env::var(k).ok()`).
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Credentials, CredentialError> {
        if self.username.is_empty() {
            return Err(CredentialError::NoUsername);
        }
        let password = self
            .password
            .as_ref()
            .map(|s| read_secret(s, "password", env))
            .transpose()?;
        let key = match &self.key_file {
            None => None,
            Some(path) => {
                let passphrase = self
                    .key_passphrase
                    .as_ref()
                    .map(|s| read_secret(s, "key passphrase", env))
                    .transpose()?;
                Some(Arc::new(load_key(path, passphrase.as_ref())?))
            }
        };
        if password.is_none() && key.is_none() {
            return Err(CredentialError::NoSecret {
                username: self.username.clone(),
            });
        }
        Ok(Credentials {
            username: self.username.clone(),
            password,
            key,
        })
    }
}

fn read_secret(
    source: &SecretSource,
    what: &'static str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, CredentialError> {
    match source {
        SecretSource::Value(s) => Ok(s.clone()),
        SecretSource::Env(var) => match env(var) {
            Some(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(CredentialError::EnvMissing {
                what,
                var: var.clone(),
            }),
        },
        SecretSource::File(path) => {
            warn_if_readable_by_others(path);
            let text = std::fs::read_to_string(path).map_err(|e| CredentialError::File {
                what,
                path: path.clone(),
                reason: e.kind().to_string(),
            })?;
            let text = Zeroizing::new(text);
            let value = text.strip_suffix('\n').unwrap_or(&text);
            let value = value.strip_suffix('\r').unwrap_or(value);
            if value.is_empty() {
                return Err(CredentialError::File {
                    what,
                    path: path.clone(),
                    reason: "the file is empty".into(),
                });
            }
            Ok(Secret::new(value))
        }
    }
}

fn load_key(path: &Path, passphrase: Option<&Secret>) -> Result<PrivateKey, CredentialError> {
    warn_if_readable_by_others(path);
    russh::keys::load_secret_key(path, passphrase.map(Secret::expose)).map_err(|e| {
        // russh's messages describe the format problem, never the key or passphrase.
        let reason = match e {
            russh::keys::Error::IO(io) => io.kind().to_string(),
            russh::keys::Error::KeyIsEncrypted => {
                "the key is encrypted; give its passphrase".to_string()
            }
            other => other.to_string(),
        };
        CredentialError::Key {
            path: path.to_path_buf(),
            reason,
        }
    })
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "Secret file is accessible by group or others; chmod 600 it."
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Resolved credentials for SSH authentication.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: Option<Secret>,
    key: Option<Arc<PrivateKey>>,
}

impl Credentials {
    /// Password authentication.
    pub fn password(username: impl Into<String>, password: Secret) -> Self {
        Self {
            username: username.into(),
            password: Some(password),
            key: None,
        }
    }

    /// Public-key authentication.
    pub fn key(username: impl Into<String>, key: PrivateKey) -> Self {
        Self {
            username: username.into(),
            password: None,
            key: Some(Arc::new(key)),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn password_secret(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    pub(crate) fn private_key(&self) -> Option<&Arc<PrivateKey>> {
        self.key.as_ref()
    }

    /// The methods these credentials can try, for messages: `publickey, password`.
    pub fn methods(&self) -> String {
        let mut m = Vec::new();
        if self.key.is_some() {
            m.push("publickey");
        }
        if self.password.is_some() {
            m.push("password");
        }
        m.join(", ")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "key",
                &self
                    .key
                    .as_ref()
                    .map(|k| crate::session::known_hosts::fingerprint(k.public_key())),
            )
            .finish()
    }
}

/// Why credentials could not be resolved. Never contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The profile has no user name.
    #[error("no SSH user name given")]
    NoUsername,
    /// Neither a password nor a key.
    #[error(
        "no password or key for user {username}: give --password-env VAR, --password-file FILE \
         or --key FILE"
    )]
    NoSecret {
        /// The user name.
        username: String,
    },
    /// The environment variable is unset or empty.
    #[error("the {what} variable {var} is not set (or empty)")]
    EnvMissing {
        /// `password` or `key passphrase`.
        what: &'static str,
        /// The variable name.
        var: String,
    },
    /// The secret file could not be read.
    #[error("cannot read the {what} file {path}: {reason}")]
    File {
        /// `password` or `key passphrase`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why (an I/O error kind, never content).
        reason: String,
    },
    /// The private key could not be loaded.
    #[error("cannot load the private key {path}: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::{Algorithm, ssh_key::LineEnding};

    const PASSWORD: &str = "hunter2-very-secret";

    #[test]
    fn debug_output_never_shows_the_password() {
        let creds = Credentials::password("admin", Secret::new(PASSWORD));
        let text = format!("{creds:?} {:?}", Secret::new(PASSWORD));
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(
            text.contains("admin") && text.contains("<redacted>"),
            "{text}"
        );
        let profile = CredentialProfile::new("admin")
            .with_password(SecretSource::Value(Secret::new(PASSWORD)));
        assert!(!format!("{profile:?}").contains(PASSWORD));
    }

    #[test]
    fn password_from_env_and_from_file() {
        let env = |k: &str| (k == "DEV_PW").then(|| PASSWORD.to_string());
        let creds = CredentialProfile::new("u")
            .with_password(SecretSource::Env("DEV_PW".into()))
            .resolve(&env)
            .unwrap();
        assert_eq!(creds.password_secret().unwrap().expose(), PASSWORD);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
        let creds = CredentialProfile::new("u")
            .with_password(SecretSource::File(file))
            .resolve(&|_| None)
            .unwrap();
        assert_eq!(creds.password_secret().unwrap().expose(), PASSWORD);
        assert_eq!(creds.methods(), "password");
    }

    #[test]
    fn errors_name_the_source_not_the_secret() {
        let err = CredentialProfile::new("u")
            .with_password(SecretSource::Env("NOPE_PW".into()))
            .resolve(&|_| None)
            .unwrap_err();
        assert!(err.to_string().contains("NOPE_PW"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let bad_key = dir.path().join("id");
        std::fs::write(&bad_key, format!("not a key {PASSWORD}")).unwrap();
        let err = CredentialProfile::new("u")
            .with_key_file(&bad_key, Some(SecretSource::Value(Secret::new(PASSWORD))))
            .resolve(&|_| None)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("id") && !text.contains(PASSWORD), "{text}");

        let err = CredentialProfile::new("u").resolve(&|_| None).unwrap_err();
        assert!(matches!(err, CredentialError::NoSecret { .. }));
    }

    #[test]
    fn key_file_is_loaded_and_debug_shows_only_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_ed25519");
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
        std::fs::write(&path, key.to_openssh(LineEnding::LF).unwrap().as_bytes()).unwrap();
        let creds = CredentialProfile::new("u")
            .with_key_file(&path, None)
            .resolve(&|_| None)
            .unwrap();
        assert_eq!(creds.methods(), "publickey");
        let text = format!("{creds:?}");
        assert!(text.contains("SHA256:"), "{text}");
        assert!(!text.contains("BEGIN OPENSSH"), "{text}");
    }
}
