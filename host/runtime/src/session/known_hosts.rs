//! Host-key verification: OpenSSH `known_hosts` files and pinned fingerprints.
//!
//! A device's host key is checked before any credential is sent. Three policies:
//!
//! * [`HostKeyPolicy::Strict`] (the default): the key must be recorded in the known-hosts file;
//!   an unknown host is refused with a message that says how to trust it.
//! * [`HostKeyPolicy::AcceptNew`]: trust on first use. An unknown host's key is appended to the
//!   file (`[host]:port ssh-ed25519 AAAA…`); a host whose recorded key differs is refused, as
//!   with `strict`.
//! * [`HostKeyPolicy::Pinned`]: the key's `SHA256:` fingerprint must be one of a given list;
//!   the file is not consulted.
//!
//! The file format is OpenSSH's (`sshd(8)`, "SSH_KNOWN_HOSTS FILE FORMAT"): comma-separated host
//! patterns with `*`/`?` wildcards and `!` negation, `[host]:port` for ports other than 22,
//! hashed names (`|1|salt|hmac`), and the `@revoked` marker (`@cert-authority` lines are
//! skipped: host certificates are not used). A host with a recorded key of *another* algorithm
//! and none matching is a mismatch, not a new host: a server that suddenly presents a different
//! key type is refused rather than silently learned.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{HashAlg, PublicKey};
use sha1::Sha1;

/// How a device's host key is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HostKeyPolicy {
    /// The key must be recorded in the known-hosts file.
    #[default]
    Strict,
    /// Trust on first use: record unknown hosts, refuse changed keys.
    AcceptNew,
    /// The key's SHA-256 fingerprint (`SHA256:…`) must be one of these.
    Pinned(Vec<String>),
}

impl HostKeyPolicy {
    /// The policy's name as the command line spells it.
    pub fn name(&self) -> &'static str {
        match self {
            HostKeyPolicy::Strict => "strict",
            HostKeyPolicy::AcceptNew => "accept-new",
            HostKeyPolicy::Pinned(_) => "pinned",
        }
    }
}

/// What verification concluded about an accepted key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The key is recorded in the known-hosts file.
    Known,
    /// The host was unknown and its key was recorded (`accept-new`).
    Learned,
    /// The key matches a pinned fingerprint.
    Pinned,
}

/// Why a host key was refused, or could not be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostKeyError {
    /// The device presented a key other than the recorded one.
    #[error(
        "host key mismatch for device {device} ({host}): {path}:{line} records {expected}, but the \
         device presented {presented}. This may be an attack, or the device was re-keyed; if you \
         know it was, remove that line and connect again"
    )]
    Mismatch {
        /// Device name.
        device: String,
        /// `host` or `[host]:port`, as looked up.
        host: String,
        /// The known-hosts file.
        path: PathBuf,
        /// 1-based line of the recorded key.
        line: usize,
        /// Fingerprint of the recorded key.
        expected: String,
        /// Fingerprint of the presented key.
        presented: String,
    },
    /// `strict` policy and the host is not in the file.
    #[error(
        "host key of device {device} ({host}) is not known: {presented} is not recorded in {path}. \
         Verify the fingerprint out of band, then add the key to that file or connect once with \
         --host-key-policy accept-new"
    )]
    Unknown {
        /// Device name.
        device: String,
        /// `host` or `[host]:port`, as looked up.
        host: String,
        /// The known-hosts file.
        path: PathBuf,
        /// Fingerprint of the presented key.
        presented: String,
    },
    /// `pinned` policy and the fingerprint is not one of the pinned ones.
    #[error(
        "host key mismatch for device {device} ({host}): expected one of the pinned fingerprints \
         [{expected}], but the device presented {presented}"
    )]
    NotPinned {
        /// Device name.
        device: String,
        /// `host` or `[host]:port`.
        host: String,
        /// The pinned fingerprints, comma-separated.
        expected: String,
        /// Fingerprint of the presented key.
        presented: String,
    },
    /// The presented key is marked `@revoked`.
    #[error("host key {presented} of device {device} ({host}) is revoked in {path}:{line}")]
    Revoked {
        /// Device name.
        device: String,
        /// `host` or `[host]:port`.
        host: String,
        /// The known-hosts file.
        path: PathBuf,
        /// 1-based line of the `@revoked` entry.
        line: usize,
        /// Fingerprint of the presented key.
        presented: String,
    },
    /// The known-hosts file could not be read.
    #[error("cannot read the known-hosts file {path}: {source}")]
    Read {
        /// The known-hosts file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A new host's key could not be recorded.
    #[error("cannot record the host key of device {device} in {path}: {source}")]
    Write {
        /// Device name.
        device: String,
        /// The known-hosts file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The `SHA256:…` fingerprint of `key`, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The name a host is recorded under: `host` for port 22, `[host]:port` otherwise.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks host keys against a policy and a known-hosts file; shared by every session of a run.
pub struct HostKeyVerifier {
    policy: HostKeyPolicy,
    path: PathBuf,
    /// Serialises read-check-append, so concurrent first connections record a host once.
    append: Mutex<()>,
}

impl fmt::Debug for HostKeyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostKeyVerifier")
            .field("policy", &self.policy)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl HostKeyVerifier {
    /// A verifier using `known_hosts` (which need not exist yet) under `policy`.
    pub fn new(policy: HostKeyPolicy, known_hosts: impl Into<PathBuf>) -> Self {
        Self {
            policy,
            path: known_hosts.into(),
            append: Mutex::new(()),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &HostKeyPolicy {
        &self.policy
    }

    /// The known-hosts file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `key`, presented by `device` at `host`:`port`.
    ///
    /// Blocking file I/O: call it from a blocking context or accept a short stall (the file is
    /// small and read once per connection).
    pub fn verify(
        &self,
        device: &str,
        host: &str,
        port: u16,
        key: &PublicKey,
    ) -> Result<Verdict, HostKeyError> {
        let lookup = host_pattern(host, port);
        let presented = fingerprint(key);
        if let HostKeyPolicy::Pinned(pins) = &self.policy {
            let want = normalise_fingerprint(&presented);
            if pins.iter().any(|p| normalise_fingerprint(p) == want) {
                return Ok(Verdict::Pinned);
            }
            return Err(HostKeyError::NotPinned {
                device: device.to_string(),
                host: lookup,
                expected: pins.join(", "),
                presented,
            });
        }
        // Hold the lock across check and append (accept-new) so two sessions to the same new
        // host do not both append. A poisoned lock only means another check panicked.
        let _guard = self.append.lock().unwrap_or_else(|p| p.into_inner());
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(HostKeyError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        match check(&text, &lookup, key) {
            Lookup::Found => Ok(Verdict::Known),
            Lookup::Revoked { line } => Err(HostKeyError::Revoked {
                device: device.to_string(),
                host: lookup,
                path: self.path.clone(),
                line,
                presented,
            }),
            Lookup::Changed { line, recorded } => Err(HostKeyError::Mismatch {
                device: device.to_string(),
                host: lookup,
                path: self.path.clone(),
                line,
                expected: recorded,
                presented,
            }),
            Lookup::NotFound => match self.policy {
                HostKeyPolicy::AcceptNew => {
                    self.append(&text, &lookup, key)
                        .map_err(|source| HostKeyError::Write {
                            device: device.to_string(),
                            path: self.path.clone(),
                            source,
                        })?;
                    tracing::info!(
                        device = %device,
                        host = %lookup,
                        fingerprint = %presented,
                        path = %self.path.display(),
                        "Recorded a new host key (accept-new)."
                    );
                    Ok(Verdict::Learned)
                }
                _ => Err(HostKeyError::Unknown {
                    device: device.to_string(),
                    host: lookup,
                    path: self.path.clone(),
                    presented,
                }),
            },
        }
    }

    fn append(&self, existing: &str, lookup: &str, key: &PublicKey) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut encoded = key.clone();
        encoded.set_comment("");
        let openssh = encoded
            .to_openssh()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        let mut line = String::new();
        if !existing.is_empty() && !existing.ends_with('\n') {
            line.push('\n');
        }
        line.push_str(lookup);
        line.push(' ');
        line.push_str(openssh.trim_end());
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(line.as_bytes())?;
        file.flush()
    }
}

/// What the known-hosts text says about a host and key.
#[derive(Debug, PartialEq, Eq)]
enum Lookup {
    Found,
    NotFound,
    Revoked { line: usize },
    Changed { line: usize, recorded: String },
}

fn check(text: &str, lookup: &str, key: &PublicKey) -> Lookup {
    let mut changed: Option<(usize, String)> = None;
    let mut found = false;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let Some(entry) = parse_line(raw) else {
            continue;
        };
        if entry.marker == Some(Marker::CertAuthority) || !hosts_match(entry.hosts, lookup) {
            continue;
        }
        if entry.marker == Some(Marker::Revoked) {
            if same_key(&entry.key, key) {
                return Lookup::Revoked { line: line_no };
            }
            continue;
        }
        if same_key(&entry.key, key) {
            found = true;
        } else if changed.is_none() {
            changed = Some((line_no, fingerprint(&entry.key)));
        }
    }
    match (found, changed) {
        (true, _) => Lookup::Found,
        (false, Some((line, recorded))) => Lookup::Changed { line, recorded },
        (false, None) => Lookup::NotFound,
    }
}

fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    a.key_data() == b.key_data()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Revoked,
    CertAuthority,
}

struct Entry<'a> {
    marker: Option<Marker>,
    hosts: &'a str,
    key: PublicKey,
}

/// One known-hosts line; `None` for blank lines, comments and lines that do not parse (OpenSSH
/// skips those too).
fn parse_line(raw: &str) -> Option<Entry<'_>> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Some(Marker::Revoked),
        "@cert-authority" => Some(Marker::CertAuthority),
        m if m.starts_with('@') => return None,
        _ => None,
    };
    if marker.is_some() {
        first = fields.next()?;
    }
    let algorithm = fields.next()?;
    let blob = fields.next()?;
    let key = PublicKey::from_openssh(&format!("{algorithm} {blob}")).ok()?;
    Some(Entry {
        marker,
        hosts: first,
        key,
    })
}

/// OpenSSH's host matching: any positive pattern matches and no negated one does.
fn hosts_match(patterns: &str, lookup: &str) -> bool {
    let mut positive = false;
    for pattern in patterns.split(',') {
        if let Some(hashed) = pattern.strip_prefix("|1|") {
            if hashed_match(hashed, lookup) {
                positive = true;
            }
        } else if let Some(negated) = pattern.strip_prefix('!') {
            if glob(negated, lookup) {
                return false;
            }
        } else if glob(pattern, lookup) {
            positive = true;
        }
    }
    positive
}

/// `salt|hash` (both base64): HMAC-SHA1 of the looked-up name keyed by the salt.
fn hashed_match(hashed: &str, lookup: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(lookup.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// Case-insensitive glob with `*` and `?`, as OpenSSH's `match_pattern`.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// `SHA256:abc=` and `abc` compare equal: OpenSSH prints no padding, users paste either.
fn normalise_fingerprint(fp: &str) -> String {
    let fp = fp.trim();
    let body = fp.strip_prefix("SHA256:").unwrap_or(fp);
    body.trim_end_matches('=').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::{Algorithm, PrivateKey};

    fn key() -> PublicKey {
        PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
            .unwrap()
            .public_key()
            .clone()
    }

    fn line(host: &str, key: &PublicKey) -> String {
        let mut k = key.clone();
        k.set_comment("");
        format!("{host} {}\n", k.to_openssh().unwrap())
    }

    fn hashed(host: &str, key: &PublicKey) -> String {
        let salt = [7u8; 20];
        let mac = Hmac::<Sha1>::new_from_slice(&salt)
            .unwrap()
            .chain_update(host.as_bytes())
            .finalize()
            .into_bytes();
        line(
            &format!("|1|{}|{}", BASE64.encode(&salt), BASE64.encode(&mac)),
            key,
        )
    }

    #[test]
    fn strict_accepts_a_recorded_key_and_refuses_an_unknown_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let k = key();
        std::fs::write(&path, line("[10.0.0.1]:830", &k)).unwrap();
        let v = HostKeyVerifier::new(HostKeyPolicy::Strict, &path);
        assert_eq!(v.verify("r1", "10.0.0.1", 830, &k).unwrap(), Verdict::Known);
        let err = v.verify("r2", "10.0.0.2", 830, &k).unwrap_err();
        assert!(matches!(err, HostKeyError::Unknown { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("r2") && text.contains(&fingerprint(&k)),
            "{text}"
        );
        // Port 22 is recorded without brackets.
        assert!(v.verify("r1", "10.0.0.1", 22, &k).is_err());
    }

    #[test]
    fn mismatch_names_the_device_and_both_fingerprints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let (old, new) = (key(), key());
        std::fs::write(&path, format!("# comment\n\n{}", line("[h]:2222", &old))).unwrap();
        for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
            let v = HostKeyVerifier::new(policy, &path);
            let err = v.verify("spine-1", "h", 2222, &new).unwrap_err();
            let HostKeyError::Mismatch { line, .. } = &err else {
                panic!("expected a mismatch, got {err}");
            };
            assert_eq!(*line, 3);
            let text = err.to_string();
            assert!(text.contains("spine-1"), "{text}");
            assert!(text.contains(&fingerprint(&old)), "{text}");
            assert!(text.contains(&fingerprint(&new)), "{text}");
        }
    }

    #[test]
    fn accept_new_records_once_then_knows_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        let k = key();
        let v = HostKeyVerifier::new(HostKeyPolicy::AcceptNew, &path);
        assert_eq!(
            v.verify("d", "127.0.0.1", 2830, &k).unwrap(),
            Verdict::Learned
        );
        assert_eq!(
            v.verify("d", "127.0.0.1", 2830, &k).unwrap(),
            Verdict::Known
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("[127.0.0.1]:2830 ssh-ed25519 "), "{text}");
        // The file is OpenSSH's format: a strict verifier reads what accept-new wrote.
        let strict = HostKeyVerifier::new(HostKeyPolicy::Strict, &path);
        assert_eq!(
            strict.verify("d", "127.0.0.1", 2830, &k).unwrap(),
            Verdict::Known
        );
    }

    #[test]
    fn a_key_of_another_type_is_a_mismatch_not_a_new_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let ecdsa = PrivateKey::random(
            &mut rand::rng(),
            Algorithm::Ecdsa {
                curve: russh::keys::EcdsaCurve::NistP256,
            },
        )
        .unwrap()
        .public_key()
        .clone();
        std::fs::write(&path, line("h", &ecdsa)).unwrap();
        let v = HostKeyVerifier::new(HostKeyPolicy::AcceptNew, &path);
        assert!(matches!(
            v.verify("d", "h", 22, &key()),
            Err(HostKeyError::Mismatch { .. })
        ));
    }

    #[test]
    fn patterns_hashes_negation_and_revocation() {
        let k = key();
        let text = format!(
            "{}{}{}",
            line("*.lab,!bad.lab", &k),
            hashed("[secret]:830", &k),
            line("other", &key())
        );
        assert_eq!(check(&text, "r1.lab", &k), Lookup::Found);
        assert_eq!(check(&text, "R1.LAB", &k), Lookup::Found);
        assert_eq!(check(&text, "bad.lab", &k), Lookup::NotFound);
        assert_eq!(check(&text, "[secret]:830", &k), Lookup::Found);
        assert_eq!(check(&text, "[secret]:831", &k), Lookup::NotFound);
        assert!(matches!(
            check(&text, "other", &k),
            Lookup::Changed { line: 3, .. }
        ));
        let revoked = format!("@revoked * {}", line("", &k).trim_start());
        assert_eq!(
            check(&format!("{text}{revoked}"), "r1.lab", &k),
            Lookup::Revoked { line: 4 }
        );
    }

    #[test]
    fn glob_matches_like_openssh() {
        assert!(glob("10.0.0.?", "10.0.0.7"));
        assert!(!glob("10.0.0.?", "10.0.0.17"));
        assert!(glob("*", "anything"));
        assert!(glob("r*-*.lab", "r1-spine.lab"));
        assert!(!glob("r*-*.lab", "r1spine.lab"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn pinned_fingerprints_with_or_without_padding() {
        let k = key();
        let fp = fingerprint(&k);
        let v = HostKeyVerifier::new(
            HostKeyPolicy::Pinned(vec!["SHA256:nope".into(), format!("{fp}=")]),
            "/nonexistent/known_hosts",
        );
        assert_eq!(v.verify("d", "h", 22, &k).unwrap(), Verdict::Pinned);
        let other = key();
        let err = v.verify("d", "h", 22, &other).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&fp) && text.contains(&fingerprint(&other)),
            "{text}"
        );
    }
}
