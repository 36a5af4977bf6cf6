//! Injected faults and timeouts: each fails the RPC in flight with a clear error, and the next
//! call reconnects.

use std::time::Duration;

use nbfacts_devsim::{Faults, RpcSelector};
use nbfacts_host::DeviceSession;
use nbfacts_host::session::SessionError;
use nbfacts_sdk::DeviceError;

use crate::support::*;

const SW: &str = "<get-software-information/>";

#[tokio::test]
async fn a_dropped_connection_fails_the_rpc_and_the_next_call_reconnects() {
    let sim = example_simulator(|c| c.with_faults(Faults::none().with_drop_after(2))).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let s = session(dev, password(), trusting(tmp.path(), &[dev]), options());
    s.netconf_rpc(SW).await.unwrap();
    s.netconf_rpc(SW).await.unwrap();
    match s.netconf_rpc("<get-chassis-inventory/>").await {
        Err(DeviceError::Transport(m)) => {
            assert!(
                m.contains("edge1") && m.contains("get-chassis-inventory"),
                "{m}"
            );
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    // The next call (the next run) connects again.
    s.netconf_rpc(SW).await.unwrap();
    assert_eq!(s.stats().connections, 2);
    assert_eq!(dev.stats().connections, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_and_malformed_replies_are_transport_errors() {
    let faults = Faults::none()
        .with_truncated(RpcSelector::parse("get-chassis-inventory"))
        .with_malformed(RpcSelector::parse("get-route-engine-information"));
    let sim = example_simulator(|c| c.with_faults(faults)).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let s = session(dev, password(), trusting(tmp.path(), &[dev]), options());

    match s.netconf_rpc("<get-route-engine-information/>").await {
        Err(DeviceError::Transport(m)) => assert!(m.contains("protocol error"), "{m}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    s.netconf_rpc(SW).await.unwrap();
    match s.netconf_rpc("<get-chassis-inventory/>").await {
        Err(DeviceError::Transport(m)) => assert!(m.contains("dropped"), "{m}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    s.netconf_rpc(SW).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn rpc_timeout_is_a_timeout_error() {
    let sim =
        example_simulator(|c| c.with_faults(Faults::none().with_latency(Duration::from_secs(3))))
            .await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options();
    o.rpc_timeout = Duration::from_millis(300);
    let s = session(dev, password(), trusting(tmp.path(), &[dev]), o);
    // The hello exchange has no latency; the RPC does.
    s.connect().await.unwrap();
    match s.netconf_rpc(SW).await {
        Err(DeviceError::Timeout(m)) => assert!(
            m.contains("edge1") && m.contains("get-software-information"),
            "{m}"
        ),
        other => panic!("expected a timeout, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn connect_timeout_and_refused_connection() {
    // A listener that accepts TCP but never speaks SSH.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let verifier = std::sync::Arc::new(nbfacts_host::session::HostKeyVerifier::new(
        nbfacts_host::session::HostKeyPolicy::AcceptNew,
        tmp.path().join("kh"),
    ));
    let mut o = options();
    o.connect_timeout = Duration::from_millis(300);
    let target = nbfacts_host::session::SshTarget::new("silent-1", "127.0.0.1", port);
    let s = nbfacts_host::session::NetconfSession::new(
        target,
        "junos",
        password(),
        verifier.clone(),
        o.clone(),
    );
    let err = s.connect().await.unwrap_err();
    assert!(matches!(err, SessionError::ConnectTimeout { .. }), "{err}");
    assert!(err.to_string().contains("silent-1"));
    hold.abort();

    // A closed port: bind, note the port, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let target = nbfacts_host::session::SshTarget::new("gone-1", "127.0.0.1", port);
    let s = nbfacts_host::session::NetconfSession::new(target, "junos", password(), verifier, o);
    let err = s.netconf_rpc(SW).await.unwrap_err();
    assert!(
        matches!(&err, DeviceError::Transport(m) if m.contains("gone-1") && m.contains("cannot connect")),
        "{err:?}"
    );
}
