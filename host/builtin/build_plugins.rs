// Shared by build scripts that need plugins compiled to WebAssembly components
// (`include!`d, so it has no crate of its own). Builds workspace packages for wasm32-wasip2
// with a nested cargo and its own target directory, the way wasmtime's test-programs do.

#[allow(dead_code)]
fn build_plugins(packages: &[&str], target_subdir: &str) -> Vec<(String, std::path::PathBuf)> {
    use std::path::PathBuf;
    use std::process::Command;

    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .ancestors()
        .find(|p| p.join("wit").join("collector.wit").exists())
        .expect("workspace root with wit/collector.wit")
        .to_path_buf();
    // Outside the outer build's target dir lock, but shared between builds so incremental
    // rebuilds are fast.
    let target_dir = std::env::var_os("NBFACTS_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target").join(target_subdir));

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .arg("build")
        .arg("--target=wasm32-wasip2")
        .arg("--profile=plugin")
        .arg("--target-dir")
        .arg(&target_dir);
    for p in packages {
        cmd.arg("-p").arg(p);
    }
    // Do not leak the outer build's settings into the wasm build.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_ENCODED_RUSTFLAGS")
            || key == "RUSTFLAGS"
            || key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key == "CARGO_TARGET_DIR"
            || key.starts_with("CARGO_CFG_")
            || key == "RUSTC_WRAPPER"
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key == "CARGO_MAKEFLAGS"
            || key == "MAKEFLAGS"
            || key == "MFLAGS"
        {
            cmd.env_remove(&key);
        }
    }
    let status = cmd.status().expect("run cargo for the wasm plugins");
    if !status.success() {
        panic!(
            "building the wasm plugins {packages:?} failed; is the target installed? \
             Run: rustup target add wasm32-wasip2"
        );
    }
    let mut out = Vec::new();
    for p in packages {
        let file = target_dir
            .join("wasm32-wasip2")
            .join("plugin")
            .join(format!("{}.wasm", p.replace('-', "_")));
        assert!(file.exists(), "missing {}", file.display());
        out.push((p.to_string(), file));
    }

    // Rebuild when any plugin or SDK source changes.
    for dir in ["wit", "sdk", "vendor-plugins", "tests/plugins"] {
        let path = workspace.join(dir);
        if path.exists() {
            rerun_if_changed_dir(&path);
        }
    }
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    // The wasm target's rustflags live there.
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join(".cargo").join("config.toml").display()
    );
    println!("cargo:rerun-if-env-changed=NBFACTS_PLUGIN_TARGET_DIR");
    out
}

#[allow(dead_code)]
fn rerun_if_changed_dir(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rerun_if_changed_dir(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
