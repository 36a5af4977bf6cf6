//! The plugin's linear memory starts at 16 MiB, which the SDK's call arena uses before it
//! grows memory (see `nbfacts_sdk::arena`): collections of a few megabytes
//! then never grow it.
//!
//! Not more: after each call the pooled slot zeroes every page the instance left resident,
//! and that can be all of the initial memory once a big collection has touched it. With 32
//! MiB, an LLDP collection run after a 50,000-entry MAC table took 10–11% longer than with 16
//! MiB (plugin_runtime bench, both builds in one process); the big collections, which grow
//! past either, did not change.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--initial-memory={}", 16 << 20);
    }
}
