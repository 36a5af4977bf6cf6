//! Injected faults: what a simulated device does wrong, on purpose.

use std::time::Duration;

/// Faults a simulated device injects. The default injects none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// Added before every RPC reply (the device's think time).
    pub latency: Duration,
    /// Drop the connection when the `N+1`-th RPC of a connection arrives, without answering
    /// it: the client sees the connection die mid-RPC after `N` good replies.
    pub drop_after: Option<u64>,
    /// Send replies that are well framed but not well-formed XML, for these RPCs.
    pub malformed: Option<RpcSelector>,
    /// Send half of the reply, then drop the connection, for these RPCs.
    pub truncated: Option<RpcSelector>,
    /// Refuse every authentication attempt.
    pub reject_auth: bool,
}

/// Which RPCs a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpcSelector {
    /// Every RPC (except `close-session`).
    All,
    /// RPCs whose operation has this name (`get-arp-table-information`).
    Operation(String),
}

impl RpcSelector {
    /// Parses `*`/`all` or an operation name.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "*" | "all" => RpcSelector::All,
            op => RpcSelector::Operation(op.to_string()),
        }
    }

    /// Whether the selector applies to `operation`.
    pub fn matches(&self, operation: &str) -> bool {
        match self {
            RpcSelector::All => operation != "close-session",
            RpcSelector::Operation(op) => op == operation,
        }
    }
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// With `latency` per RPC.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Dropping the connection after `n` RPCs.
    #[must_use]
    pub fn with_drop_after(mut self, n: u64) -> Self {
        self.drop_after = Some(n);
        self
    }

    /// Malformed replies for `selector`.
    #[must_use]
    pub fn with_malformed(mut self, selector: RpcSelector) -> Self {
        self.malformed = Some(selector);
        self
    }

    /// Truncated replies for `selector`.
    #[must_use]
    pub fn with_truncated(mut self, selector: RpcSelector) -> Self {
        self.truncated = Some(selector);
        self
    }

    /// Refusing all authentication.
    #[must_use]
    pub fn with_reject_auth(mut self) -> Self {
        self.reject_auth = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert!(RpcSelector::parse("*").matches("get-x"));
        assert!(!RpcSelector::parse("all").matches("close-session"));
        assert!(RpcSelector::parse("get-x").matches("get-x"));
        assert!(!RpcSelector::parse("get-x").matches("get-y"));
    }
}
