//! Compiles the plugins the tests load (the Junos plugin and the misbehaving fixtures).
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

include!("../host/builtin/build_plugins.rs");

fn main() {
    let built = build_plugins(
        &[
            "nbfacts-junos",
            "nbfacts-test-misbehave",
            "nbfacts-test-wrong-wit",
            "nbfacts-test-fs-user",
        ],
        "plugins",
    );
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    for (package, file) in built {
        std::fs::copy(&file, out.join(format!("{package}.wasm"))).expect("copy the plugin");
    }
}
