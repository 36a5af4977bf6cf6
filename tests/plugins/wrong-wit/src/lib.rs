//! A plugin built against `nbfacts:collector@0.2.0`.
#![allow(unsafe_code, missing_docs)]

wit_bindgen::generate!({ world: "plugin", path: "wit" });

pub struct Wrong;

impl exports::nbfacts::collector::collector::Guest for Wrong {
    fn describe() -> String {
        "wrong-wit 0.0.1".into()
    }

    fn collect(collector: String) -> Result<String, String> {
        Err(collector)
    }
}

#[cfg(target_arch = "wasm32")]
export!(Wrong);
