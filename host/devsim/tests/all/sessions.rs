//! Sessions against the simulator: replay parity, connection reuse, CLI, NETCONF versions,
//! fleets.

use std::sync::Arc;

use nbfacts_devsim::{DeviceSize, FleetSpec, NetconfVersions, Simulator, SimulatorConfig};
use nbfacts_host::{DeviceSession, ReplayDevice};
use nbfacts_sdk::DeviceError;

use crate::support::*;

/// RPCs as the Junos plugin and NAPALM send them, plus ones the example device cannot answer.
const RPCS: &[&str] = &[
    "<get-software-information/>",
    "<get-chassis-inventory/>",
    "<get-route-engine-information/>",
    "<get-interface-information/>",
    "<get-interface-information><terse/></get-interface-information>",
    "<get-lldp-neighbors-information/>",
    "<get-lldp-interface-neighbors><interface-device>xe-0/0/3</interface-device></get-lldp-interface-neighbors>",
    "<get-lldp-interface-neighbors-information><interface-name>xe-0/0/3</interface-name></get-lldp-interface-neighbors-information>",
    "<get-instance-information/>",
    "<get-bgp-neighbor-information><instance>master</instance><neighbor-address/></get-bgp-neighbor-information>",
    "<get-bgp-summary-information><instance>master</instance></get-bgp-summary-information>",
    "<get-bgp-summary-information><instance>blue</instance></get-bgp-summary-information>",
    "<get-arp-table-information><no-resolve/><expiration-time/></get-arp-table-information>",
    "<get-ipv6-nd-information/>",
    "<get-ethernet-switching-table-information><extensive/></get-ethernet-switching-table-information>",
    "<get-vlan-information/>",
    "<get-configuration><configuration><routing-instances><instance/></routing-instances></configuration></get-configuration>",
    "<get-nothing-at-all/>",
];

#[tokio::test]
async fn answers_exactly_like_replay_over_netconf_1_0_and_1_1() {
    for versions in [
        NetconfVersions::Both,
        NetconfVersions::V1_0,
        NetconfVersions::V1_1,
    ] {
        let sim = example_simulator(|c| c.with_versions(versions)).await;
        let dev = &sim.devices()[0];
        let tmp = tempfile::tempdir().unwrap();
        let session = session(dev, password(), trusting(tmp.path(), &[dev]), options());
        let replay = ReplayDevice::new(example_dir(), "junos");
        for rpc in RPCS {
            let remote = session.netconf_rpc(rpc).await;
            let local = replay.netconf_rpc(rpc).await;
            assert_eq!(remote, local, "{rpc} over {versions:?}");
        }
        for command in ["show version", "show nothing"] {
            assert_eq!(
                session.cli(command).await,
                replay.cli(command).await,
                "{command}"
            );
        }
        // Every collector call and command of the run shared one SSH connection and one
        // NETCONF channel.
        let stats = session.stats();
        assert_eq!(
            (stats.connections, stats.netconf_channels),
            (1, 1),
            "{stats:?}"
        );
        assert_eq!(stats.rpcs, RPCS.len() as u64);
        assert_eq!(dev.stats().connections, 1);
        assert_eq!(dev.stats().rpcs, RPCS.len() as u64);
        session.close().await;
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn info_and_unknown_rpc_error_shape() {
    let sim = example_simulator(|c| c).await;
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let session = session(dev, password(), trusting(tmp.path(), &[dev]), options());
    let info = session.info();
    assert_eq!(info.name, "edge1");
    assert_eq!(info.address, "127.0.0.1");
    assert_eq!(info.transports, "netconf,cli");
    match session.netconf_rpc("<get-nothing/>").await {
        Err(DeviceError::Rpc(e)) => {
            assert_eq!(e.error_path, "get-nothing");
            assert_eq!(e.error_message, "syntax error");
            assert_eq!(e.error_severity, "error");
        }
        other => panic!("expected an rpc-error, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_fleet_of_generated_devices_serves_concurrent_sessions() {
    let spec = FleetSpec::new(6, DeviceSize::new(16, 100, 4, 4, 50, 10));
    let sim = Simulator::start(SimulatorConfig::fleet(&spec))
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let devices: Vec<_> = sim.devices().iter().collect();
    let verifier = trusting(tmp.path(), &devices);
    let mut tasks = Vec::new();
    for dev in sim.devices() {
        let s = Arc::new(session(dev, password(), verifier.clone(), options()));
        tasks.push(tokio::spawn(async move {
            let sw = s.netconf_rpc("<get-software-information/>").await.unwrap();
            let lldp = s
                .netconf_rpc("<get-lldp-neighbors-information/>")
                .await
                .unwrap();
            let arp = s
                .netconf_rpc("<get-arp-table-information><no-resolve/></get-arp-table-information>")
                .await
                .unwrap();
            s.close().await;
            (sw, lldp, arp.matches("<arp-table-entry>").count())
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let (sw, lldp, arp) = task.await.unwrap();
        let name = spec.name(i);
        assert!(
            sw.contains(&format!("<host-name>{name}</host-name>")),
            "{sw}"
        );
        // LLDP names other devices of the fleet.
        let next = spec.name((i + 1) % 6);
        assert!(
            lldp.contains(&format!(
                "<lldp-remote-system-name>{next}</lldp-remote-system-name>"
            )),
            "{lldp}"
        );
        assert_eq!(arp, 50);
    }
    // Three RPCs and a close-session per device.
    assert_eq!(sim.total_rpcs(), 24);
    sim.shutdown().await;
}

#[tokio::test]
async fn large_replies_cross_in_chunks_and_the_size_cap_is_a_limit_error() {
    let spec = FleetSpec::new(1, DeviceSize::new(48, 20_000, 0, 0, 0, 0));
    let sim = Simulator::start(SimulatorConfig::fleet(&spec))
        .await
        .unwrap();
    let dev = &sim.devices()[0];
    let tmp = tempfile::tempdir().unwrap();
    let verifier = trusting(tmp.path(), &[dev]);
    let rpc = "<get-ethernet-switching-table-information><extensive/></get-ethernet-switching-table-information>";
    let s = session(dev, password(), verifier.clone(), options());
    let reply = s.netconf_rpc(rpc).await.unwrap();
    assert!(reply.len() > 5_000_000, "{}", reply.len());
    assert_eq!(reply.matches("<l2ng-l2ald-mac-entry-vlan ").count(), 20_000);

    let mut small = options();
    small.max_reply_bytes = 1_000_000;
    let s = session(dev, password(), verifier, small);
    match s.netconf_rpc(rpc).await {
        Err(DeviceError::Limit(m)) => assert!(m.contains("1000000"), "{m}"),
        other => panic!("expected a limit error, got {:?}", other.map(|r| r.len())),
    }
    // The session recovers for the next, smaller reply.
    assert!(s.netconf_rpc("<get-software-information/>").await.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_listeners() {
    let sim = example_simulator(|c| c).await;
    let addr = sim.devices()[0].addr;
    sim.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
