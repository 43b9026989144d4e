//! Provides libbatchudp to the linker, one of two ways.
//!
//! Bundled (the `bundled` feature, on by default): the C sources of the
//! repository holding this crate (`../../../lib` and `../../../include`
//! from here) are compiled with the `cc` crate into a static library that
//! is linked into the crate, so nothing has to be installed.  No configure
//! step runs: `lib/build_config.h` takes the platform's facts from the
//! compiler's predefined macros.  The `cc` crate honours `CC` and `CFLAGS`;
//! `CFLAGS=-DBUDP_WITHOUT_MSGX` leaves out the backend that looks up
//! Apple's private calls (configure's `--disable-msgx`).  The io_uring
//! backend needs liburing, which this build does not link:
//! `lib/backend_uring.c` compiles to nothing (`BUDP_WITH_URING` is not
//! defined), and asking for `BUDP_BACKEND_URING` gives `-ENOTSUP`.
//!
//! System (without the feature, or with `BATCHUDP_SYSTEM=1`, or with
//! `BATCHUDP_LIB_DIR` set): a built or installed libbatchudp is linked
//! dynamically, found in this order:
//! 1. `BATCHUDP_LIB_DIR`: the directory holding `libbatchudp.so` (or
//!    `.dylib`); used as is, pkg-config is not asked for the library.
//! 2. the `pkg-config` program (or the one named by `PKG_CONFIG`), which
//!    honours `PKG_CONFIG_PATH`: `pkg-config --libs-only-L batchudp` and
//!    `pkg-config --libs-only-l batchudp`.  In a build tree of the C
//!    library, `PKG_CONFIG_PATH=BUILDDIR/lib` finds the uninstalled
//!    `batchudp-uninstalled.pc`.
//!
//! The directory of `batchudp.h` (for the layout test, and exported to
//! dependent build scripts as `DEP_BATCHUDP_INCLUDE`) is, when bundled, the
//! repository's `include/`: the header the library was compiled with.  For
//! a system library it comes from `BATCHUDP_INCLUDE_DIR`, else from
//! `pkg-config --cflags-only-I batchudp`.

use std::env;
use std::process::Command;

const LIB_DIR_VAR: &str = "BATCHUDP_LIB_DIR";
const INCLUDE_DIR_VAR: &str = "BATCHUDP_INCLUDE_DIR";
const SYSTEM_VAR: &str = "BATCHUDP_SYSTEM";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={LIB_DIR_VAR}");
    println!("cargo:rerun-if-env-changed={INCLUDE_DIR_VAR}");
    println!("cargo:rerun-if-env-changed={SYSTEM_VAR}");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");

    let include_dir = match bundled::build() {
        Some(dir) => dir,
        None => link_system(),
    };
    // Read by the layout test (tests/layout.rs); empty when unknown.
    println!("cargo:rustc-env=BATCHUDP_SYS_INCLUDE_DIR={include_dir}");
    if !include_dir.is_empty() {
        println!("cargo:include={include_dir}");
    }
}

#[cfg(feature = "bundled")]
mod bundled {
    use super::{non_empty_env, LIB_DIR_VAR, SYSTEM_VAR};
    use std::env;
    use std::fs;
    use std::path::{Path, PathBuf};

    /// Whether the environment asks for a system library although the
    /// feature is on: a dependency's default features are hard to turn off
    /// from a final project, an environment variable is not.
    fn system_requested() -> bool {
        let system = non_empty_env(SYSTEM_VAR).is_some_and(|v| v.trim() != "0");
        system || non_empty_env(LIB_DIR_VAR).is_some()
    }

    /// Compiles the repository's C library into a static library linked
    /// into this crate and returns the directory of its `batchudp.h`; None
    /// when the environment asks for a system library instead.
    pub fn build() -> Option<String> {
        if system_requested() {
            return None;
        }
        let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
        let top = manifest_dir.join("../../..");
        let (lib, include) = (top.join("lib"), top.join("include"));
        if !lib.join("build_config.h").is_file() || !include.join("batchudp.h").is_file() {
            panic!(
                "\n\nbatchudp-sys: the `bundled` feature compiles the C library from \
                 the libbatchudp repository holding this crate, but {} has no \
                 lib/build_config.h and include/batchudp.h.\n\
                 Use this crate from a checkout of the repository, or link an \
                 installed library: `default-features = false` or BATCHUDP_SYSTEM=1.\n\n",
                top.display()
            );
        }
        let include = include.canonicalize().expect("canonical include/");
        let lib = lib.canonicalize().expect("canonical lib/");

        let sources = files_ending(&lib, ".c");
        for file in sources
            .iter()
            .chain(&files_ending(&lib, ".h"))
            .chain(&files_ending(&include, ".h"))
        {
            println!("cargo:rerun-if-changed={}", file.display());
        }
        // A new source file is listed there too, so adding one reruns this.
        println!("cargo:rerun-if-changed={}", lib.join("local.mk").display());
        // Read by cc, which (in 1.0) does not ask cargo to watch them.
        println!("cargo:rerun-if-env-changed=CC");
        println!("cargo:rerun-if-env-changed=CFLAGS");

        cc::Build::new()
            .files(&sources)
            .include(&include)
            .include(&lib)
            .define("BUDP_BUILDING_LIBRARY", None)
            .flag("-std=c11")
            .flag("-pthread")
            // Only budp_* stays visible, as in the shared library, also when
            // this ends up inside another shared object.
            .flag_if_supported("-fvisibility=hidden")
            .compile("batchudp");

        // The receiver thread needs libpthread and the msgx backend's dlsym
        // libdl: both are outside libc on glibc before 2.34.
        let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
        if target_os == "linux" {
            println!("cargo:rustc-link-lib=dylib=pthread");
            println!("cargo:rustc-link-lib=dylib=dl");
        }
        Some(include.to_string_lossy().into_owned())
    }

    /// The files in `dir` whose names end with `suffix`, sorted so that the
    /// archive does not depend on the directory's order.
    fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        let mut files: Vec<PathBuf> = entries
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.to_str().is_some_and(|p| p.ends_with(suffix)))
            .collect();
        files.sort();
        files
    }
}

#[cfg(not(feature = "bundled"))]
mod bundled {
    pub fn build() -> Option<String> {
        None
    }
}

/// Links the system library and returns the directory of its header, or
/// an empty string when unknown.
fn link_system() -> String {
    match non_empty_env(LIB_DIR_VAR) {
        Some(dir) => {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:rustc-link-lib=dylib=batchudp");
            println!("cargo:lib_dir={dir}");
        }
        None => link_with_pkg_config(),
    }
    non_empty_env(INCLUDE_DIR_VAR)
        .or_else(|| {
            pkg_config(&["--cflags-only-I"])
                .ok()
                .and_then(|out| flag_values(&out, "-I").into_iter().next())
        })
        .unwrap_or_default()
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
             (e.g. BUILDDIR/lib/.libs).  Or compile the library into the \
             crate: the `bundled` feature, without {SYSTEM_VAR} and {LIB_DIR_VAR}.\n\
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
