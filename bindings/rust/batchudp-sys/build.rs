//! Finds libbatchudp for the linker.
//!
//! Order:
//! 1. `BATCHUDP_LIB_DIR`: the directory holding `libbatchudp.so` (or
//!    `.dylib`); used as is, pkg-config is not asked for the library.
//! 2. the `pkg-config` program (or the one named by `PKG_CONFIG`), which
//!    honours `PKG_CONFIG_PATH`: `pkg-config --libs-only-L batchudp` and
//!    `pkg-config --libs-only-l batchudp`.  In a build tree of the C
//!    library, `PKG_CONFIG_PATH=BUILDDIR/lib` finds the uninstalled
//!    `batchudp-uninstalled.pc`.
//!
//! The directory of `batchudp.h` (for the layout test, and exported to
//! dependent build scripts as `DEP_BATCHUDP_INCLUDE`) comes from
//! `BATCHUDP_INCLUDE_DIR`, else from `pkg-config --cflags-only-I batchudp`.

use std::env;
use std::process::Command;

const LIB_DIR_VAR: &str = "BATCHUDP_LIB_DIR";
const INCLUDE_DIR_VAR: &str = "BATCHUDP_INCLUDE_DIR";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={LIB_DIR_VAR}");
    println!("cargo:rerun-if-env-changed={INCLUDE_DIR_VAR}");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");

    let lib_dir = non_empty_env(LIB_DIR_VAR);
    match &lib_dir {
        Some(dir) => {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:rustc-link-lib=dylib=batchudp");
            println!("cargo:lib_dir={dir}");
        }
        None => link_with_pkg_config(),
    }

    let include_dir = non_empty_env(INCLUDE_DIR_VAR).or_else(|| {
        pkg_config(&["--cflags-only-I"])
            .ok()
            .and_then(|out| flag_values(&out, "-I").into_iter().next())
    });
    let include_dir = include_dir.unwrap_or_default();
    // Read by the layout test (tests/layout.rs); empty when unknown.
    println!("cargo:rustc-env=BATCHUDP_SYS_INCLUDE_DIR={include_dir}");
    if !include_dir.is_empty() {
        println!("cargo:include={include_dir}");
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn link_with_pkg_config() {
    let search = pkg_config(&["--libs-only-L"]);
    let libs = pkg_config(&["--libs-only-l"]);
    let (search, libs) = match (search, libs) {
        (Ok(s), Ok(l)) => (s, l),
        (Err(e), _) | (_, Err(e)) => panic!(
            "\n\nbatchudp-sys: cannot find libbatchudp.\n\
             pkg-config failed: {e}\n\
             Either set PKG_CONFIG_PATH to the directory holding batchudp.pc \
             (an installed prefix's lib/pkgconfig, or BUILDDIR/lib of an \
             uninstalled build tree, which holds batchudp-uninstalled.pc), \
             or set {LIB_DIR_VAR} to the directory holding libbatchudp.so \
             (e.g. BUILDDIR/lib/.libs).\n\
             PKG_CONFIG_PATH={:?}, {LIB_DIR_VAR}={:?}\n\n",
            env::var("PKG_CONFIG_PATH").unwrap_or_default(),
            env::var(LIB_DIR_VAR).unwrap_or_default(),
        ),
    };
    for dir in flag_values(&search, "-L") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:lib_dir={dir}");
    }
    let names = flag_values(&libs, "-l");
    if names.is_empty() {
        println!("cargo:rustc-link-lib=dylib=batchudp");
    }
    for name in names {
        println!("cargo:rustc-link-lib=dylib={name}");
    }
}

/// Runs pkg-config with `args` for the batchudp module and returns its
/// standard output, or a description of what went wrong.
fn pkg_config(args: &[&str]) -> Result<String, String> {
    let program = non_empty_env("PKG_CONFIG").unwrap_or_else(|| "pkg-config".to_string());
    let output = Command::new(&program)
        .args(args)
        .arg("batchudp")
        .output()
        .map_err(|e| format!("could not run `{program}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{program} {} batchudp` exited with {}: {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("`{program}` printed non-UTF-8: {e}"))
}

/// The values of the `flag` options (`-L`, `-l`, `-I`) in a pkg-config
/// output line.  Paths with spaces are not supported.
fn flag_values(out: &str, flag: &str) -> Vec<String> {
    out.split_whitespace()
        .filter_map(|tok| tok.strip_prefix(flag))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}
