//! Checks the Rust declarations against the C header: sizes, alignments,
//! field offsets and field sizes of every public struct, the value of every
//! public constant, and that every exported function is declared.  A tiny C
//! program (tests/layout.c) compiled against the header prints the C side's
//! values.

use batchudp_sys::*;
use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};
use std::path::Path;
use std::process::Command;

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! ty {
    ($m:ident, $t:ident) => {
        $m.insert(format!("size {}", stringify!($t)), size_of::<$t>() as i64);
        $m.insert(format!("align {}", stringify!($t)), align_of::<$t>() as i64);
    };
}

macro_rules! field {
    ($m:ident, $t:ident, $f:ident) => {
        $m.insert(
            format!("offset {}.{}", stringify!($t), stringify!($f)),
            offset_of!($t, $f) as i64,
        );
        $m.insert(
            format!("fieldsize {}.{}", stringify!($t), stringify!($f)),
            field_size(|x: &$t| &x.$f) as i64,
        );
    };
}

macro_rules! constant {
    ($m:ident, $c:ident) => {
        $m.insert(format!("const {}", stringify!($c)), $c as i64);
    };
}

fn rust_side() -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    ty!(m, budp_addr);
    field!(m, budp_addr, family);
    field!(m, budp_addr, port);
    field!(m, budp_addr, scope_id);
    field!(m, budp_addr, bytes);

    ty!(m, budp_datagram);
    field!(m, budp_datagram, data);
    field!(m, budp_datagram, len);
    field!(m, budp_datagram, flags);
    field!(m, budp_datagram, peer);
    field!(m, budp_datagram, local);
    field!(m, budp_datagram, time_ns);
    field!(m, budp_datagram, segment_size);
    field!(m, budp_datagram, ecn);
    field!(m, budp_datagram, reserved);

    ty!(m, budp_stats);
    field!(m, budp_stats, rx_datagrams);
    field!(m, budp_stats, rx_bytes);
    field!(m, budp_stats, rx_syscalls);
    field!(m, budp_stats, rx_truncated);
    field!(m, budp_stats, rx_kernel_drops);
    field!(m, budp_stats, rx_ring_full);
    field!(m, budp_stats, rx_dropped);
    field!(m, budp_stats, rx_errors);
    field!(m, budp_stats, tx_datagrams);
    field!(m, budp_stats, tx_bytes);
    field!(m, budp_stats, tx_syscalls);
    field!(m, budp_stats, tx_errors);
    field!(m, budp_stats, rx_coalesced);
    field!(m, budp_stats, tx_coalesced);
    field!(m, budp_stats, tx_gso_fallbacks);
    field!(m, budp_stats, rx_control_truncated);
    field!(m, budp_stats, kernel_anomalies);
    field!(m, budp_stats, tx_unconfirmed);
    field!(m, budp_stats, error_events);
    field!(m, budp_stats, error_events_dropped);

    ty!(m, budp_error_event);
    field!(m, budp_error_event, destination);
    field!(m, budp_error_event, offender);
    field!(m, budp_error_event, error);
    field!(m, budp_error_event, mtu);
    field!(m, budp_error_event, origin);
    field!(m, budp_error_event, icmp_type);
    field!(m, budp_error_event, icmp_code);
    field!(m, budp_error_event, reserved);

    constant!(m, BUDP_VERSION_MAJOR);
    constant!(m, BUDP_VERSION_MINOR);
    constant!(m, BUDP_VERSION_PATCH);
    constant!(m, BUDP_VERSION);
    constant!(m, BUDP_AF_UNSPEC);
    constant!(m, BUDP_AF_INET);
    constant!(m, BUDP_AF_INET6);
    constant!(m, BUDP_DGRAM_TRUNCATED);
    constant!(m, BUDP_DGRAM_COALESCED);
    constant!(m, BUDP_DGRAM_HAS_LOCAL);
    constant!(m, BUDP_DGRAM_HAS_ECN);
    constant!(m, BUDP_DGRAM_CONTROL_TRUNCATED);
    constant!(m, BUDP_DGRAM_HAS_TIME);
    constant!(m, BUDP_OPT_BATCH_SIZE);
    constant!(m, BUDP_OPT_MAX_DATAGRAM);
    constant!(m, BUDP_OPT_BACKEND);
    constant!(m, BUDP_OPT_THREADED);
    constant!(m, BUDP_OPT_RING_CAPACITY);
    constant!(m, BUDP_OPT_OVERFLOW);
    constant!(m, BUDP_OPT_GRO);
    constant!(m, BUDP_OPT_GSO);
    constant!(m, BUDP_OPT_PKTINFO);
    constant!(m, BUDP_OPT_ECN);
    constant!(m, BUDP_OPT_RECV_BUFFER);
    constant!(m, BUDP_OPT_CALLBACK_THREAD);
    constant!(m, BUDP_OPT_TIMESTAMPS);
    constant!(m, BUDP_OPT_PACING);
    constant!(m, BUDP_OPT_ERRORS);
    constant!(m, BUDP_OPT_STEERING);
    constant!(m, BUDP_OPT_STEER_OFFSET);
    constant!(m, BUDP_OPT_STEER_LENGTH);
    constant!(m, BUDP_OPT_ZEROCOPY);
    constant!(m, BUDP_ZEROCOPY_MIN_BYTES);
    constant!(m, BUDP_STEER_HASH);
    constant!(m, BUDP_STEER_KEY);
    constant!(m, BUDP_STEER_CPU);
    constant!(m, BUDP_STEER_PAYLOAD_MAX);
    constant!(m, BUDP_PACING_OFF);
    constant!(m, BUDP_PACING_MONOTONIC);
    constant!(m, BUDP_PACING_TAI);
    constant!(m, BUDP_PACING_GRANULARITY_NS);
    constant!(m, BUDP_ERROR_ORIGIN_LOCAL);
    constant!(m, BUDP_ERROR_ORIGIN_ICMP);
    constant!(m, BUDP_ERROR_ORIGIN_ICMP6);
    constant!(m, BUDP_ERROR_QUEUE_EVENTS);
    constant!(m, BUDP_MEMORY_LIMIT);
    constant!(m, BUDP_APPLE_SEND_BUFFER);
    constant!(m, BUDP_BACKEND_AUTO);
    constant!(m, BUDP_BACKEND_MMSG);
    constant!(m, BUDP_BACKEND_MSGX);
    constant!(m, BUDP_BACKEND_LOOP);
    constant!(m, BUDP_BACKEND_URING);
    constant!(m, BUDP_OVERFLOW_WAIT);
    constant!(m, BUDP_OVERFLOW_DROP);
    constant!(m, BUDP_CALLBACK_CONTINUE);
    constant!(m, BUDP_CALLBACK_PAUSE);
    constant!(m, BUDP_GROUP_MAX_MEMBERS);
    m
}

/// Compiles and runs tests/layout.c; None when the header's directory is
/// unknown (neither BATCHUDP_INCLUDE_DIR nor pkg-config gave it at build
/// time).
fn c_side() -> Option<BTreeMap<String, i64>> {
    let include = env!("BATCHUDP_SYS_INCLUDE_DIR");
    if include.is_empty() {
        return None;
    }
    assert!(
        Path::new(include).join("batchudp.h").is_file(),
        "batchudp.h not found in {include}"
    );
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/layout.c");
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("batchudp-layout");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-I", include, src, "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "`{cc}` failed to compile {src}: {status}");
    let out = Command::new(&exe).output().expect("run the layout program");
    assert!(
        out.status.success(),
        "layout program failed: {}",
        out.status
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let (key, value) = line.rsplit_once(' ').expect("KEY VALUE line");
        m.insert(key.to_string(), value.parse().expect("a number"));
    }
    Some(m)
}

#[test]
fn layout_and_constants_match_the_c_header() {
    let Some(c) = c_side() else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: layout check: the directory of batchudp.h is unknown (set \
             BATCHUDP_INCLUDE_DIR, or make `pkg-config --cflags batchudp` work)"
        );
        return;
    };
    let rust = rust_side();
    let mut problems = Vec::new();
    for (key, cv) in &c {
        match rust.get(key) {
            Some(rv) if rv == cv => {}
            Some(rv) => problems.push(format!("{key}: C {cv}, Rust {rv}")),
            None => problems.push(format!("{key}: in C ({cv}), not checked in Rust")),
        }
    }
    for key in rust.keys().filter(|k| !c.contains_key(*k)) {
        problems.push(format!("{key}: in Rust, not printed by layout.c"));
    }
    assert!(
        problems.is_empty(),
        "layout mismatches:\n{}",
        problems.join("\n")
    );
    println!("{} layout and constant values match the C header", c.len());
}

/// The constants the header defines: `#define BUDP_X ...` lines and
/// `BUDP_X = ...` enum members.
fn header_constants(header: &str) -> std::collections::BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = std::collections::BTreeSet::new();
    for line in header.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = ident(rest);
            if name.starts_with("BUDP_") {
                names.insert(name);
            }
        } else if line.trim_start().starts_with("BUDP_") {
            let trimmed = line.trim_start();
            let name = ident(trimmed);
            if trimmed[name.len()..].trim_start().starts_with('=') {
                names.insert(name);
            }
        }
    }
    names
}

#[test]
fn every_header_constant_is_declared() {
    // Each constant of the header is printed by layout.c, so the test
    // above compares it with this crate's (a new one cannot be missed).
    let include = env!("BATCHUDP_SYS_INCLUDE_DIR");
    if include.is_empty() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: header constant check: the directory of batchudp.h is unknown"
        );
        return;
    }
    let header =
        std::fs::read_to_string(Path::new(include).join("batchudp.h")).expect("read batchudp.h");
    let in_header = header_constants(&header);
    for name in [
        "BUDP_OPT_ZEROCOPY",
        "BUDP_ZEROCOPY_MIN_BYTES",
        "BUDP_BACKEND_URING",
    ] {
        assert!(
            in_header.contains(name),
            "{name} not parsed from the header"
        );
    }
    let printed: std::collections::BTreeSet<String> = rust_side()
        .keys()
        .filter_map(|k| k.strip_prefix("const "))
        .map(str::to_string)
        .collect();
    let missing: Vec<_> = in_header.difference(&printed).collect();
    assert!(
        missing.is_empty(),
        "header constants not checked by layout.c/layout.rs: {missing:?}"
    );
    assert_eq!(BUDP_BACKEND_URING, 4);
    assert_eq!(BUDP_OPT_ZEROCOPY, 19);
    assert_eq!(BUDP_ZEROCOPY_MIN_BYTES, 16384);
}

#[test]
fn documented_sizes_on_64_bit() {
    assert_eq!(size_of::<budp_addr>(), 24);
    if size_of::<usize>() == 8 {
        // The 0.2.0 layout: time_ns inserted before segment_size, reserved
        // grown to 21 bytes (checked without a C compiler too).
        assert_eq!(size_of::<budp_datagram>(), 96);
        assert_eq!(offset_of!(budp_datagram, peer), 16);
        assert_eq!(offset_of!(budp_datagram, local), 40);
        assert_eq!(offset_of!(budp_datagram, time_ns), 64);
        assert_eq!(offset_of!(budp_datagram, segment_size), 72);
        assert_eq!(offset_of!(budp_datagram, ecn), 74);
        assert_eq!(offset_of!(budp_datagram, reserved), 75);
        assert_eq!(field_size(|d: &budp_datagram| &d.reserved), 21);
    }
    assert_eq!(size_of::<budp_stats>() % 8, 0);
    assert_eq!(size_of::<budp_stats>(), 20 * 8);
    assert_eq!(offset_of!(budp_stats, error_events_dropped), 19 * 8);
    // budp_error_event: 64 bytes everywhere.
    assert_eq!(size_of::<budp_error_event>(), 64);
    assert_eq!(offset_of!(budp_error_event, offender), 24);
    assert_eq!(offset_of!(budp_error_event, error), 48);
    assert_eq!(offset_of!(budp_error_event, mtu), 52);
    assert_eq!(offset_of!(budp_error_event, origin), 56);
    assert_eq!(offset_of!(budp_error_event, icmp_type), 57);
    assert_eq!(offset_of!(budp_error_event, icmp_code), 58);
    assert_eq!(offset_of!(budp_error_event, reserved), 59);
}

/// Every function the crate declares, as (name, address): taking the
/// address makes the linker resolve each one against the library.
macro_rules! functions {
    ($($f:ident),* $(,)?) => {
        [$((stringify!($f), $f as *const ())),*]
    };
}

fn rust_functions() -> Vec<(&'static str, *const ())> {
    functions![
        budp_version,
        budp_version_string,
        budp_strerror,
        budp_options_new,
        budp_options_set,
        budp_options_get,
        budp_options_bounds,
        budp_options_free,
        budp_bind,
        budp_open,
        budp_connect,
        budp_local_addr,
        budp_socket_fd,
        budp_poll_fd,
        budp_backend_name,
        budp_backend_reason,
        budp_addr_from_string,
        budp_addr_to_string,
        budp_shutdown,
        budp_close,
        budp_recv,
        budp_recv_packed,
        budp_wait,
        budp_set_callback,
        budp_dispatch,
        budp_send,
        budp_recv_errors,
        budp_pacing_support,
        budp_group_bind,
        budp_group_size,
        budp_group_socket,
        budp_group_close_member,
        budp_group_dropped,
        budp_group_close,
        budp_get_stats,
    ]
    .to_vec()
}

/// The names of the functions a source declares: after `marker` on a line,
/// the identifier before the first `(`.
fn declared_names(source: &str, marker: &str) -> std::collections::BTreeSet<String> {
    source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix(marker))
        .filter_map(|rest| rest.split('(').next())
        .filter_map(|head| head.split_whitespace().last())
        .map(|name| name.trim_start_matches('*').to_string())
        .filter(|name| name.starts_with("budp_"))
        .collect()
}

#[test]
fn every_header_function_is_declared() {
    let listed: std::collections::BTreeSet<String> = rust_functions()
        .into_iter()
        .map(|(name, addr)| {
            assert!(!addr.is_null(), "{name} resolved to NULL");
            name.to_string()
        })
        .collect();
    // The list above against the crate's own declarations.
    let lib_rs = include_str!("../src/lib.rs");
    let in_crate = declared_names(lib_rs, "pub fn ");
    assert_eq!(
        in_crate, listed,
        "the list in this test and the functions in src/lib.rs differ"
    );
    // ... and against the header's exported functions.
    let include = env!("BATCHUDP_SYS_INCLUDE_DIR");
    if include.is_empty() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: header function check: the directory of batchudp.h is unknown"
        );
        return;
    }
    let header =
        std::fs::read_to_string(Path::new(include).join("batchudp.h")).expect("read batchudp.h");
    let in_header = declared_names(&header, "BUDP_EXPORT ");
    assert!(
        in_header.len() > 20,
        "too few functions parsed: {in_header:?}"
    );
    let missing: Vec<_> = in_header.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&in_header).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "declared in the header only: {missing:?}; in Rust only: {extra:?}"
    );
    println!("{} functions declared as in the header", listed.len());
}
