//! NAPALM parity through the WebAssembly plugin (filled in with the Junos collectors).
