//! NAPALM-shaped output (placeholder, being written).
