//! `include/glou.h` is what cbindgen makes of the crate: regenerated here and compared,
//! so a change to the C API that forgets the header fails the tests.
//! `GLOU_WRITE_HEADER=1 cargo test -p glou-ffi --test header` rewrites it.

use std::path::Path;

#[test]
fn the_committed_header_is_the_generated_one() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut generated);
    let path = crate_dir.join("../../include/glou.h");
    if std::env::var_os("GLOU_WRITE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/glou.h differs from what the source generates: run \
         `GLOU_WRITE_HEADER=1 cargo test -p glou-ffi --test header` and commit it"
    );
}
