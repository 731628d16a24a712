//! What every run pays before its work: the shared libraries the binary
//! loads. Each costs a mapping, relocations and its constructors at every
//! start; a run on a small file is mostly start-up.

/// The binary loads libc alone: the unwinder is linked in (build.rs) and
/// nothing needs libm (the progress bar's rate is measured, not smoothed
/// with `pow` as indicatif did).
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn only_libc_is_loaded() {
    let out = std::process::Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_rsync-tool"))
        .output()
        .expect("ldd runs");
    assert!(out.status.success(), "{out:?}");
    let libs = String::from_utf8(out.stdout).unwrap();
    assert!(libs.contains("libc.so"), "{libs}");
    for unwanted in ["libgcc_s", "libm.so", "libstdc++"] {
        assert!(!libs.contains(unwanted), "{unwanted} is loaded:\n{libs}");
    }
}
