//! Counters a simulated device keeps, for tests and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters of one device.
#[derive(Debug, Default)]
pub struct DeviceStats {
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// Authentication attempts refused.
    pub auth_failures: AtomicU64,
    /// NETCONF sessions started.
    pub netconf_sessions: AtomicU64,
    /// RPCs received (answered or not).
    pub rpcs: AtomicU64,
    /// Exec commands run.
    pub commands: AtomicU64,
}

/// A copy of [`DeviceStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// TCP connections accepted.
    pub connections: u64,
    /// Authentication attempts refused.
    pub auth_failures: u64,
    /// NETCONF sessions started.
    pub netconf_sessions: u64,
    /// RPCs received.
    pub rpcs: u64,
    /// Exec commands run.
    pub commands: u64,
}

impl DeviceStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            auth_failures: self.auth_failures.load(Ordering::Relaxed),
            netconf_sessions: self.netconf_sessions.load(Ordering::Relaxed),
            rpcs: self.rpcs.load(Ordering::Relaxed),
            commands: self.commands.load(Ordering::Relaxed),
        }
    }
}
