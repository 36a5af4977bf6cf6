//! End-to-end tests: nbfacts's SSH/NETCONF sessions against the device simulator, over real
//! SSH on loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod faults;
mod interop;
mod sessions;
mod support;
mod trust;
