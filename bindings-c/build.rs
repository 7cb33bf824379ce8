//! Sets the SONAME of the shared library to `libanist.so.<major>`, so that
//! programs linked against it keep working across compatible releases.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libanist.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
