//! The wasmtime bindings for `wit/collector.wit`. Generated code; the rest of the crate sees
//! it only through `sandbox.rs` and `convert.rs`.
#![allow(missing_docs, missing_debug_implementations, clippy::all)]

/// The host-side representation of the `session` resource. The store holds the one device
/// session of the call, so the resource carries no data.
#[derive(Debug)]
pub struct SessionHandle;

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../wit",
    imports: { default: async },
    exports: { default: async },
    with: {
        "nbfacts:collector/device.session": SessionHandle,
    },
});
