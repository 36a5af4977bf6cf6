//! The plugin's linear memory starts at 32 MiB, which the SDK's call arena uses before it
//! grows memory (see `nbfacts_sdk::arena`): most collections then never grow it.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--initial-memory={}", 32 << 20);
    }
}
