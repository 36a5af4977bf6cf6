//! Host keys and authentication.

use std::sync::Arc;

use nbfacts_devsim::{AuthConfig, Faults};
use nbfacts_host::DeviceSession;
use nbfacts_host::session::{
    CredentialProfile, Credentials, HostKeyError, HostKeyPolicy, HostKeyVerifier, Secret,
    SessionError,
};
use russh::keys::{Algorithm, PrivateKey, ssh_key::LineEnding};

use crate::support::*;

fn unwrap_host_key(e: SessionError) -> HostKeyError {
    match e {
        SessionError::HostKey(h) => *h,
        other => panic!("expected a host-key error, got {other}"),
    }
}

#[tokio::test]
async fn strict_refuses_an_unknown_device_and_accept_new_records_it() {
    let sim = example_simulator(|c| c).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("known_hosts");

    let strict = Arc::new(HostKeyVerifier::new(HostKeyPolicy::Strict, &path));
    let err = session(dev, password(), strict.clone(), options())
        .connect()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(unwrap_host_key(err), HostKeyError::Unknown { .. }));
    assert!(
        text.contains("edge1") && text.contains(&dev.fingerprint),
        "{text}"
    );
    assert!(!path.exists(), "strict must not write the file");

    let tofu = Arc::new(HostKeyVerifier::new(HostKeyPolicy::AcceptNew, &path));
    session(dev, password(), tofu, options())
        .connect()
        .await
        .unwrap();
    let recorded = std::fs::read_to_string(&path).unwrap();
    assert_eq!(recorded.trim(), dev.known_hosts_line(), "{recorded}");

    // Now strict accepts it.
    let s = session(dev, password(), strict, options());
    assert!(s.netconf_rpc("<get-software-information/>").await.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_changed_host_key_is_refused_before_any_credential_is_sent() {
    // The device refuses every login: if credentials were sent we would see an auth error.
    let sim = example_simulator(|c| c.with_faults(Faults::none().with_reject_auth())).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("known_hosts");
    let old = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let mut old_pub = old.public_key().clone();
    old_pub.set_comment("");
    let old_fp = nbfacts_host::session::fingerprint(&old_pub);
    std::fs::write(
        &path,
        format!(
            "[127.0.0.1]:{} {}\n",
            dev.addr.port(),
            old_pub.to_openssh().unwrap()
        ),
    )
    .unwrap();
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        let verifier = Arc::new(HostKeyVerifier::new(policy, &path));
        let err = session(dev, password(), verifier, options())
            .connect()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(unwrap_host_key(err), HostKeyError::Mismatch { .. }),
            "{text}"
        );
        assert!(text.contains("edge1"), "{text}");
        assert!(
            text.contains(&old_fp) && text.contains(&dev.fingerprint),
            "{text}"
        );
    }
    assert_eq!(
        dev.stats().auth_failures,
        0,
        "no credentials may reach a device with a wrong key"
    );
    // accept-new did not overwrite the recorded key.
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn pinned_fingerprints() {
    let sim = example_simulator(|c| c).await;
    let dev = &sim.devices()[0];
    let good = Arc::new(HostKeyVerifier::new(
        HostKeyPolicy::Pinned(vec![dev.fingerprint.clone()]),
        "/nonexistent/known_hosts",
    ));
    session(dev, password(), good, options())
        .connect()
        .await
        .unwrap();
    let bad = Arc::new(HostKeyVerifier::new(
        HostKeyPolicy::Pinned(vec![
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        ]),
        "/nonexistent/known_hosts",
    ));
    let err = session(dev, password(), bad, options())
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(
        unwrap_host_key(err),
        HostKeyError::NotPinned { .. }
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn password_and_key_authentication_and_refusals_without_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let client_key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let key_file = tmp.path().join("id_ed25519");
    std::fs::write(
        &key_file,
        client_key.to_openssh(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    let auth =
        AuthConfig::password("nbfacts", "s3cret-pw").with_key(client_key.public_key().clone());
    let sim = example_simulator(|c| c.with_auth(auth)).await;
    let dev = &sim.devices()[0];
    let verifier = trusting(tmp.path(), &[dev]);

    let ok = Arc::new(Credentials::password("nbfacts", Secret::new("s3cret-pw")));
    session(dev, ok, verifier.clone(), options())
        .connect()
        .await
        .unwrap();

    let by_key = CredentialProfile::new("nbfacts")
        .with_key_file(&key_file, None)
        .resolve(&|_| None)
        .unwrap();
    session(dev, Arc::new(by_key), verifier.clone(), options())
        .connect()
        .await
        .unwrap();

    let wrong = Arc::new(Credentials::password(
        "nbfacts",
        Secret::new("wrong-pw-123"),
    ));
    let err = session(dev, wrong, verifier.clone(), options())
        .connect()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SessionError::Auth { .. }), "{text}");
    assert!(text.contains("nbfacts") && text.contains("edge1"), "{text}");
    assert!(!text.contains("wrong-pw-123"), "{text}");
    assert!(
        text.contains("password") && text.contains("publickey"),
        "{text}"
    );

    // Through the DeviceSession interface the failure is a transport error naming the device.
    let wrong = Arc::new(Credentials::password(
        "nbfacts",
        Secret::new("wrong-pw-123"),
    ));
    let err = session(dev, wrong, verifier, options())
        .netconf_rpc("<get-software-information/>")
        .await
        .unwrap_err();
    let text = format!("{err:?}");
    assert!(
        text.contains("authentication failed") && !text.contains("wrong-pw-123"),
        "{text}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_authentication_failure() {
    let sim = example_simulator(|c| c.with_faults(Faults::none().with_reject_auth())).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let err = session(dev, password(), trusting(tmp.path(), &[dev]), options())
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::Auth { .. }), "{err}");
    assert!(err.is_trust_failure());
    assert!(dev.stats().auth_failures >= 1);
    sim.shutdown().await;
}
