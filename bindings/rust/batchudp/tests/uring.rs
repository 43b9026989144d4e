//! The io_uring backend (`Backend::Uring`) and its zerocopy option.
//!
//! The backend is there in libraries built with liburing, on Linux 6.0 or
//! later; the crate's `bundled` build links no liburing, so there (and on
//! older kernels) asking for it is `ENOTSUP`, and where the kernel forbids
//! io_uring (the `io_uring_disabled` sysctl, a seccomp filter) `EPERM`:
//! the tests that need it print "skipped: ..." then.

mod common;

use batchudp::{Backend, Options, OutgoingDatagram, Socket};
use common::*;
use std::io;

/// A socket on the io_uring backend, or None after printing why there is
/// none here (`ENOTSUP`, `EPERM`).
fn bind_uring(addr: &str, options: Options, what: &str) -> Option<Socket> {
    match Socket::bind(addr, options.backend(Backend::Uring)) {
        Ok(s) => Some(s),
        Err(e)
            if e.raw_os_error() == Some(errno::ENOTSUP)
                || e.kind() == io::ErrorKind::PermissionDenied =>
        {
            skip(&format!("{what}: backend uring not available here ({e})"));
            None
        }
        Err(e)
            if addr.starts_with('[')
                && matches!(
                    e.raw_os_error(),
                    Some(errno::EADDRNOTAVAIL) | Some(errno::EAFNOSUPPORT)
                ) =>
        {
            skip(&format!("{what}: {addr} not available here ({e})"));
            None
        }
        Err(e) => panic!("bind {addr} on uring for {what}: {e}"),
    }
}

#[test]
fn backend_name_reads_uring() {
    let Some(sock) = bind_uring("127.0.0.1:0", Options::new(), "backend name") else {
        return;
    };
    assert_eq!(sock.backend_name(), "uring");
    let reason = sock.backend_reason();
    assert!(reason.starts_with("uring: "), "{reason}");
    assert!(reason.contains("asked for"), "{reason}");
    assert_eq!(sock.sender().backend_name(), "uring");
}

/// Sizes that change from one datagram to the next: no GSO train, each
/// datagram its own send and receive.
fn round_trip(addr: &str) {
    const COUNT: usize = 300;
    let what = format!("round trip through uring on {addr}");
    let Some(mut rx) = bind_uring(addr, Options::new().batch_size(16), &what) else {
        return;
    };
    let tx = bind_uring(addr, Options::new(), &what).expect("a second uring socket");
    let to = rx.local_addr().unwrap();
    let from = tx.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..COUNT).map(|i| payload(i, 20 + (i % 9) * 50)).collect();
    let mut got = Vec::new();
    // 50 at a time: a default-size receive buffer holds them.
    for chunk in payloads.chunks(50) {
        let datagrams: Vec<OutgoingDatagram> = chunk
            .iter()
            .map(|p| OutgoingDatagram::to(&p[..], to))
            .collect();
        send_all(&tx, &datagrams);
        got.extend(recv_n(&mut rx, chunk.len()));
    }
    assert_eq!(got.len(), COUNT);
    for (i, (data, peer, truncated)) in got.iter().enumerate() {
        assert_eq!(data, &payloads[i], "datagram {i}: wrong content or order");
        assert_eq!(*peer, from, "datagram {i}");
        assert!(!truncated, "datagram {i}");
    }
    assert!(rx.recv().unwrap().is_empty());
    let (r, t) = (rx.stats(), tx.stats());
    assert_eq!(r.rx_datagrams, COUNT as u64);
    assert_eq!(
        r.rx_bytes,
        payloads.iter().map(|p| p.len() as u64).sum::<u64>()
    );
    // uring: batches taken from the completion queue.
    assert!((1..=COUNT as u64).contains(&r.rx_syscalls), "{r:?}");
    assert_eq!(t.tx_datagrams, COUNT as u64);
    assert_eq!(t.tx_errors, 0);
}

#[test]
fn round_trip_through_uring_ipv4() {
    round_trip("127.0.0.1:0");
}

#[test]
fn round_trip_through_uring_ipv6() {
    round_trip("[::1]:0");
}

#[test]
fn zerocopy_is_refused_with_another_backend() {
    let mut backends = vec![Backend::Loop];
    if cfg!(any(target_os = "linux", target_os = "freebsd")) {
        backends.push(Backend::Mmsg);
    }
    for backend in backends {
        let err = Socket::bind(
            "127.0.0.1:0",
            Options::new().backend(backend).zerocopy(true),
        )
        .err()
        .unwrap_or_else(|| panic!("{backend:?} took zerocopy"));
        assert_eq!(
            err.raw_os_error(),
            Some(errno::ENOTSUP),
            "{backend:?}: {err}"
        );
        assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{backend:?}");
    }
}

/// One train of 46 datagrams of 1400 bytes (64,400 bytes, above
/// `BUDP_ZEROCOPY_MIN_BYTES`) from one page-aligned buffer: one zero-copy
/// GSO send.  `send` returns once the kernel let go of the pages, so the
/// buffer is overwritten right after and what arrives must not change.
#[test]
fn zerocopy_gso_train_arrives_intact() {
    const COUNT: usize = 46;
    const SIZE: usize = 1400;
    assert!(COUNT * SIZE >= batchudp_sys::BUDP_ZEROCOPY_MIN_BYTES as usize);
    let what = "zero-copy GSO train";
    let Some(tx) = bind_uring(
        "127.0.0.1:0",
        Options::new().zerocopy(true).gso(true).batch_size(64),
        what,
    ) else {
        return;
    };
    let mut rx = Socket::bind(
        "127.0.0.1:0",
        Options::new().batch_size(64).recv_buffer(1 << 20),
    )
    .unwrap();
    let to = rx.local_addr().unwrap();
    // Page-aligned: the train's 64,400 bytes span 16 pages.  (Where they
    // span more than a socket buffer holds pages, the kernel refuses a
    // zero-copy send with EMSGSIZE.)
    let mut storage = vec![0u8; COUNT * SIZE + 4096];
    let start = (4096 - storage.as_ptr() as usize % 4096) % 4096;
    let block = &mut storage[start..start + COUNT * SIZE];
    for (i, b) in block.iter_mut().enumerate() {
        *b = (i / SIZE + i % 251) as u8;
    }
    let expected: Vec<Vec<u8>> = block.chunks(SIZE).map(<[u8]>::to_vec).collect();
    {
        let datagrams: Vec<OutgoingDatagram> = block
            .chunks(SIZE)
            .map(|p| OutgoingDatagram::to(p, to))
            .collect();
        assert_eq!(
            tx.send(&datagrams).unwrap(),
            COUNT,
            "one call sends the train"
        );
    }
    block.fill(0xee);
    let got = recv_n(&mut rx, COUNT);
    for (i, (data, peer, truncated)) in got.iter().enumerate() {
        assert_eq!(data, &expected[i], "datagram {i}");
        assert_eq!(*peer, tx.local_addr().unwrap());
        assert!(!truncated);
    }
    assert!(rx.recv().unwrap().is_empty());
    let s = tx.stats();
    assert_eq!(s.tx_datagrams, COUNT as u64);
    assert_eq!(s.tx_bytes, (COUNT * SIZE) as u64);
    assert_eq!(s.tx_errors, 0);
    assert_eq!(
        (s.tx_coalesced, s.tx_gso_fallbacks),
        (1, 0),
        "one GSO train: {s:?}"
    );
}

/// A library compiled into the test (the `bundled` feature) is built
/// without liburing: uring is `ENOTSUP` there, never `EPERM` or a socket.
#[test]
fn a_bundled_library_has_no_uring() {
    let maps = match std::fs::read_to_string("/proc/self/maps") {
        Ok(m) => m,
        Err(e) => {
            skip(&format!("bundled library check: no /proc/self/maps ({e})"));
            return;
        }
    };
    if maps.contains("libbatchudp") {
        skip("bundled library check: libbatchudp is a shared object here");
        return;
    }
    let err = Socket::bind("127.0.0.1:0", Options::new().backend(Backend::Uring))
        .err()
        .expect("a bundled library has no uring backend");
    assert_eq!(err.raw_os_error(), Some(errno::ENOTSUP), "{err}");
}

/// io_uring forbidden by a seccomp filter, as the io_uring_disabled sysctl
/// or a container's profile forbids it: uring asked for by name (or by
/// BATCHUDP_BACKEND) is `EPERM`, an `io::ErrorKind::PermissionDenied`
/// error; AUTO goes on without it.  The library asks the kernel once per
/// process, so each case runs in a child: this test binary again, running
/// this test alone, with the filter installed on its thread.
#[cfg(target_os = "linux")]
mod refused {
    use super::*;
    use std::ffi::{c_int, c_ulong};
    use std::process::Command;

    const CHILD_VAR: &str = "BATCHUDP_TEST_URING_REFUSED";
    const TEST_NAME: &str = "refused::kernel_refusal_is_permission_denied";

    #[repr(C)]
    struct SockFilter {
        code: u16,
        jt: u8,
        jf: u8,
        k: u32,
    }

    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }

    extern "C" {
        fn prctl(option: c_int, ...) -> c_int;
    }

    /// io_uring_setup fails with EPERM on this thread (and the threads it
    /// creates) from now on.
    fn forbid_io_uring() -> io::Result<()> {
        const PR_SET_SECCOMP: c_int = 22;
        const PR_SET_NO_NEW_PRIVS: c_int = 38;
        const SECCOMP_MODE_FILTER: c_ulong = 2;
        const NR_IO_URING_SETUP: u32 = 425; // every Linux architecture's
        let op = |code, jt, jf, k| SockFilter { code, jt, jf, k };
        let code = [
            op(0x20, 0, 0, 0),                 // ld [nr]
            op(0x15, 0, 1, NR_IO_URING_SETUP), // jeq io_uring_setup
            op(0x06, 0, 0, 0x0005_0000 | 1),   // ret ERRNO(EPERM)
            op(0x06, 0, 0, 0x7fff_0000),       // ret ALLOW
        ];
        let prog = SockFprog {
            len: code.len() as u16,
            filter: code.as_ptr(),
        };
        let none: c_ulong = 0;
        // SAFETY: prctl with these options reads prog, which outlives the call.
        unsafe {
            if prctl(PR_SET_NO_NEW_PRIVS, 1 as c_ulong, none, none, none) != 0
                || prctl(
                    PR_SET_SECCOMP,
                    SECCOMP_MODE_FILTER,
                    &prog as *const SockFprog,
                ) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// The child's part: one line a result, for the parent to check.
    fn child(case: &str) {
        if let Err(e) = forbid_io_uring() {
            println!("RESULT no-filter {e}");
            return;
        }
        let describe = |r: io::Result<Socket>| match r {
            Ok(s) => format!("socket {}", s.backend_name()),
            Err(e) => format!("errno {:?} {:?}", e.raw_os_error(), e.kind()),
        };
        match case {
            "name" => {
                let auto = Socket::bind("127.0.0.1:0", Options::new());
                println!("RESULT auto {}", describe(auto));
                let uring = Socket::bind("127.0.0.1:0", Options::new().backend(Backend::Uring));
                println!("RESULT uring {}", describe(uring));
            }
            _ => {
                let auto = Socket::bind("127.0.0.1:0", Options::new());
                println!("RESULT environment {}", describe(auto));
            }
        }
    }

    fn run_child(case: &str, environment: Option<&str>) -> Vec<String> {
        let mut cmd = Command::new(std::env::current_exe().expect("this test binary"));
        cmd.args([TEST_NAME, "--exact", "--nocapture", "--test-threads", "1"])
            .env(CHILD_VAR, case)
            .env_remove("BATCHUDP_BACKEND");
        if let Some(v) = environment {
            cmd.env("BATCHUDP_BACKEND", v);
        }
        let out = cmd.output().expect("run the child");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "child {case}: {}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            // libtest writes "test NAME ... " ahead of the test's first line.
            .filter_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_string()))
            .collect()
    }

    #[test]
    fn kernel_refusal_is_permission_denied() {
        if let Ok(case) = std::env::var(CHILD_VAR) {
            child(&case);
            return;
        }
        let lines = run_child("name", None);
        if let Some(l) = lines.iter().find(|l| l.starts_with("no-filter")) {
            skip(&format!(
                "kernel refusal: cannot install a seccomp filter ({l})"
            ));
            return;
        }
        assert_eq!(lines.len(), 2, "{lines:?}");
        // AUTO never needed io_uring.
        assert!(
            lines[0] == "auto socket mmsg" || lines[0] == "auto socket loop",
            "{lines:?}"
        );
        if lines[1] == format!("uring errno Some({}) Unsupported", errno::ENOTSUP) {
            skip("kernel refusal: backend uring not in this library (ENOTSUP)");
            return;
        }
        assert_eq!(
            lines[1], "uring errno Some(1) PermissionDenied",
            "{lines:?}"
        );
        // BATCHUDP_BACKEND=uring makes AUTO ask for it by name.
        let lines = run_child("environment", Some("uring"));
        assert_eq!(
            lines,
            ["environment errno Some(1) PermissionDenied"],
            "{lines:?}"
        );
    }
}
