//! Logging to the host's log. The host attaches the device and collector to every line.
//!
//! Never log secrets or whole device replies.

pub use crate::__bindings::nbfacts::collector::log::Level;

/// Logs `message` at `level` through the host. In native builds (tests) messages at `Warn`
/// and above go to standard error and the rest are dropped.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__bindings::nbfacts::collector::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    if matches!(level, Level::Warn | Level::Error) {
        eprintln!("[{level:?}] {message}");
    }
}

/// Logs at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}
