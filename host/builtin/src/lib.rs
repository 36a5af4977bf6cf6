//! The plugins built into the `nbfacts` binary, so that a plain `cargo build --release` gives a
//! binary that collects from Junos devices with no bundle to install.
//!
//! The build script compiles `vendor-plugins/junos` for `wasm32-wasip2` (profile `plugin`:
//! opt-level 3, LTO, stripped) with its own target directory and embeds the component.
#![forbid(unsafe_code)]

/// A plugin embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Short name, used as `builtin:NAME` in messages.
    pub name: &'static str,
    /// The component bytes.
    pub wasm: &'static [u8],
}

/// The Junos plugin.
pub const JUNOS: Builtin = Builtin {
    name: "junos",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/nbfacts-junos.wasm")),
};

/// Every built-in plugin.
pub const ALL: &[Builtin] = &[JUNOS];
