//! Compiles the built-in plugins to WebAssembly components and embeds them.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

include!("build_plugins.rs");

fn main() {
    let built = build_plugins(&["nbfacts-junos"], "plugins");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    for (package, file) in built {
        let dest = out.join(format!("{package}.wasm"));
        std::fs::copy(&file, &dest).expect("copy the plugin");
    }
}
