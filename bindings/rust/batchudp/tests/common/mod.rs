//! Helpers shared by the integration tests.
#![allow(dead_code)]

use batchudp::{Options, OutgoingDatagram, Socket, Stats};
use std::time::Duration;

// errno values: Linux, and the BSD family (Apple, FreeBSD).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod errno {
    pub const EPERM: i32 = 1;
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
    pub const EPERM: i32 = 1;
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

/// Sends all datagrams ([`Socket::send_all_timeout`]), panicking on error.
pub fn send_all(sock: &Socket, datagrams: &[OutgoingDatagram<'_>]) {
    if let Err(e) = sock.send_all_timeout(datagrams, PATIENCE) {
        panic!("send_all of {} datagrams: {e}", datagrams.len());
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

/// The echo tests: datagrams sent, verified when they come back.
pub const ECHO_COUNT: usize = 10_000;

/// The echo tests' client sends windows of this many datagrams (one send
/// call each), also the batch size of both sockets.
pub const ECHO_WINDOW: usize = 64;

/// The echo tests' client keeps at most this many datagrams in flight, so
/// that no receive buffer overflows on loopback, where a full one drops:
/// 128 datagrams of up to 1400 bytes take less than 400 KiB of buffer
/// (with the kernel's overhead), which `ECHO_RECV_BUFFER` gives even where
/// the system caps it at Linux's usual 208 KiB (doubled by the kernel).
pub const ECHO_IN_FLIGHT: usize = 2 * ECHO_WINDOW;

/// The receive buffer the echo sockets ask for.
pub const ECHO_RECV_BUFFER: usize = 1 << 20;

/// The echo tests' send calls must stay below this, on each side: batching
/// end to end (10,000 datagrams in windows of 64 make 157 client sends).
pub const ECHO_MAX_TX_SYSCALLS: u64 = 1_000;

/// The payload of echo datagram i: every size from 0 to 1400 bytes comes
/// once in every 1401 datagrams (577 and 1401 are coprime), in a mixed
/// order, with bytes that depend on i.
pub fn echo_payload(i: usize) -> Vec<u8> {
    let len = (i * 577) % 1401;
    (0..len).map(|k| (i.wrapping_mul(31) + k) as u8).collect()
}

/// Reports an echo's system calls and checks its counts: every datagram
/// received and echoed, and fewer than `ECHO_MAX_TX_SYSCALLS` send calls on
/// each side.
pub fn check_echo(label: &str, server: Stats, client: Stats) {
    report(&format!(
        "{label} echo of {ECHO_COUNT}: server {} receive and {} send calls, client {} and {}",
        server.rx_syscalls, server.tx_syscalls, client.rx_syscalls, client.tx_syscalls
    ));
    assert_eq!(server.rx_datagrams, ECHO_COUNT as u64);
    assert_eq!(server.tx_datagrams, ECHO_COUNT as u64);
    assert_eq!(client.rx_datagrams, ECHO_COUNT as u64);
    assert!(
        server.tx_syscalls < ECHO_MAX_TX_SYSCALLS,
        "{label}: {server:?}"
    );
    assert!(
        client.tx_syscalls < ECHO_MAX_TX_SYSCALLS,
        "{label}: {client:?}"
    );
}
