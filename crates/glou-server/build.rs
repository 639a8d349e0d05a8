//! The web UI (`web/dist/`) is embedded in the binary: rebuild when any of its files is
//! added, removed or changed, not only when a file already embedded changes.

fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
}
