//! Rebuilds when anything under `web/` changes. Release builds embed the web client's files
//! (src/web_client.rs); the compiler notices an embedded file that changed, but not a new one.

fn main() {
    println!("cargo:rerun-if-changed=web");
}
