//! Helpers shared by the integration tests.
#![allow(dead_code)]

use batchudp::{Datagram, Options, Socket};
use std::io;
use std::time::{Duration, Instant};

// errno values: Linux, and the BSD family (Apple, FreeBSD).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod errno {
    pub const EBADF: i32 = 9;
    pub const EINVAL: i32 = 22;
    pub const EBUSY: i32 = 16;
    pub const ENOTSUP: i32 = 95;
    pub const EMSGSIZE: i32 = 90;
    pub const EDESTADDRREQ: i32 = 89;
    pub const ECONNREFUSED: i32 = 111;
    pub const EADDRNOTAVAIL: i32 = 99;
    pub const EAFNOSUPPORT: i32 = 97;
}
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub mod errno {
    pub const EBADF: i32 = 9;
    pub const EINVAL: i32 = 22;
    pub const EBUSY: i32 = 16;
    pub const ENOTSUP: i32 = 45;
    pub const EMSGSIZE: i32 = 40;
    pub const EDESTADDRREQ: i32 = 39;
    pub const ECONNREFUSED: i32 = 61;
    pub const EADDRNOTAVAIL: i32 = 49;
    pub const EAFNOSUPPORT: i32 = 47;
}

/// Upper bound on any wait in the tests: generous, never a timing assertion,
/// just what turns a hang into a failure.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Reports a test that cannot run here, past the test harness's output
/// capture so that it shows in every run.
pub fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// Prints a measurement past the output capture, so that it shows in every
/// run (and in the suite's log).
pub fn report(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{what}");
}

/// Binds or explains why the test cannot run: Some(socket), or None after
/// printing "skipped: ..." when the mode is not available (ENOTSUP).
pub fn bind_or_skip(addr: &str, options: Options, what: &str) -> Option<Socket> {
    match Socket::bind(addr, options) {
        Ok(s) => Some(s),
        Err(e) if e.raw_os_error() == Some(errno::ENOTSUP) => {
            skip(&format!("{what}: the library returned ENOTSUP ({e})"));
            None
        }
        Err(e) => panic!("bind {addr} for {what}: {e}"),
    }
}

/// Sends all datagrams, resending the rest after a short count.
pub fn send_all(sock: &Socket, datagrams: &[Datagram<'_>]) {
    let deadline = Instant::now() + PATIENCE;
    let mut sent = 0;
    while sent < datagrams.len() {
        match sock.send(&datagrams[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => panic!("send: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "send stalled at {sent}/{}",
            datagrams.len()
        );
    }
}

/// Receives until `count` datagrams arrived, returning (payload, peer,
/// truncated) for each; checks every batch holds at most `max` datagrams.
pub fn recv_n(sock: &mut Socket, count: usize) -> Vec<(Vec<u8>, std::net::SocketAddr, bool)> {
    let max = sock.batch_size();
    let mut out = Vec::new();
    while out.len() < count {
        let batch = sock.recv().expect("recv");
        assert!(
            batch.len() <= max,
            "batch of {} over batch size {max}",
            batch.len()
        );
        if batch.is_empty() {
            let ready = sock.wait(Some(PATIENCE)).expect("wait");
            assert!(
                ready,
                "nothing arrived in {PATIENCE:?}; got {}/{count}; {:?}",
                out.len(),
                sock.stats()
            );
            continue;
        }
        for d in &batch {
            out.push((d.data().to_vec(), d.peer(), d.truncated()));
        }
    }
    out
}

/// A distinct payload for datagram i.
pub fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut p = format!("datagram {i:06} ").into_bytes();
    p.resize(len.max(p.len()), (i % 251) as u8);
    p
}
