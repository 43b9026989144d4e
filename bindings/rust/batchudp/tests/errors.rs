//! Errors surface as std::io::Error carrying the C library's errno.

mod common;

use batchudp::{Options, OutgoingDatagram, Socket};
use common::*;
use std::io::ErrorKind;
use std::net::UdpSocket;

#[test]
fn bad_options_fail_at_bind_with_einval() {
    let cases = [
        ("batch_size 0", Options::new().batch_size(0)),
        ("batch_size 1025", Options::new().batch_size(1025)),
        ("max_datagram 0", Options::new().max_datagram(0)),
        ("max_datagram 65536", Options::new().max_datagram(65536)),
        ("ring_capacity 1", Options::new().ring_capacity(1)),
        (
            "ring_capacity 3 (not a power of two)",
            Options::new().ring_capacity(3),
        ),
        ("ring_capacity 131072", Options::new().ring_capacity(131072)),
        ("recv_buffer 2 GiB", Options::new().recv_buffer(2 << 30)),
        (
            "batch_size usize::MAX",
            Options::new().batch_size(usize::MAX),
        ),
    ];
    for (what, options) in cases {
        let err = Socket::bind("127.0.0.1:0", options).expect_err(what);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err}");
        assert_eq!(err.raw_os_error(), Some(errno::EINVAL), "{what}: {err}");

        // The same check when wrapping an fd; the socket is closed then.
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = Socket::from_udp_socket(udp, options).expect_err(what);
        assert_eq!(err.raw_os_error(), Some(errno::EINVAL), "{what}: {err}");
    }
    // Bounds are inclusive.
    for options in [
        Options::new().batch_size(1),
        Options::new().batch_size(1024),
        Options::new().max_datagram(1),
        Options::new().max_datagram(65535),
    ] {
        Socket::bind("127.0.0.1:0", options).expect("in bounds");
    }
}

#[test]
fn options_over_the_memory_limit_fail_with_einval() {
    assert_eq!(batchudp_sys::BUDP_MEMORY_LIMIT, 256 << 20);
    // 65536 GRO slots of 64 KiB: 4 GiB.
    let options = Options::new().threaded(true).ring_capacity(65536).gro(true);
    let err = Socket::bind("127.0.0.1:0", options).unwrap_err();
    if err.raw_os_error() == Some(errno::ENOTSUP) {
        return skip(&format!(
            "threaded mode: the library returned ENOTSUP ({err})"
        ));
    }
    assert_eq!(err.raw_os_error(), Some(errno::EINVAL), "{err}");
    // The automatic ring size (0, the default) fits.
    let options = Options::new().threaded(true).ring_capacity(0);
    if let Some(sock) = bind_or_skip("127.0.0.1:0", options, "threaded mode") {
        drop(sock);
    }
}

#[test]
fn address_in_use() {
    let a = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let err = Socket::bind(a.local_addr().unwrap(), Options::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
}

#[test]
fn hostnames_resolve_through_to_socket_addrs() {
    let sock = Socket::bind("localhost:0", Options::new()).unwrap();
    assert!(sock.local_addr().unwrap().ip().is_loopback());
    let none: &[std::net::SocketAddr] = &[];
    let err = Socket::bind(none, Options::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn from_raw_fd_rejects_what_is_not_a_udp_socket() {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: the listener outlives the (failed) call.
    let err = unsafe { Socket::from_raw_fd(tcp.as_raw_fd(), Options::new()) }.unwrap_err();
    assert!(err.raw_os_error().is_some(), "{err}");
    // SAFETY: -1 is never an open fd; the library rejects it.
    let err = unsafe { Socket::from_raw_fd(-1, Options::new()) }.unwrap_err();
    assert!(err.raw_os_error().is_some(), "{err}");
}

#[test]
fn connection_refused_on_a_connected_socket() {
    // A port with nobody listening: bind one, note it, close it.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    sock.connect(closed).unwrap();
    // The ICMP port-unreachable comes back asynchronously: the error shows
    // on a later send or receive.  Bounded by attempts, not by time.
    let mut refused = None;
    for _ in 0..50 {
        match sock.send(&[OutgoingDatagram::connected(&b"anyone?"[..])]) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                refused = Some(("send", e));
                break;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("unexpected send error {e}"),
            Ok(_) => {}
        }
        let _ = sock
            .wait(Some(std::time::Duration::from_millis(100)))
            .unwrap();
        match sock.recv() {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                refused = Some(("recv", e));
                break;
            }
            Err(e) => panic!("unexpected recv error {e}"),
            Ok(batch) => assert!(batch.is_empty()),
        }
    }
    let (call, err) = refused.expect("ECONNREFUSED reported within 50 attempts");
    assert_eq!(
        err.raw_os_error(),
        Some(errno::ECONNREFUSED),
        "{call}: {err}"
    );
    println!("ECONNREFUSED reported by {call}");
    // Not fatal: the socket still works.
    let mut peer = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    sock.connect(peer.local_addr().unwrap()).unwrap();
    send_all(&sock, &[OutgoingDatagram::connected(&b"after"[..])]);
    assert_eq!(recv_n(&mut peer, 1)[0].0, b"after");
}

#[test]
fn send_errors() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let me = sock.local_addr().unwrap();

    assert_eq!(sock.send(&[]).unwrap(), 0, "nothing to send");

    let err = sock
        .send(&[OutgoingDatagram::connected(&b"x"[..])])
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EDESTADDRREQ), "{err}");

    let huge = vec![0u8; 70_000];
    let err = sock
        .send(&[OutgoingDatagram::to(&huge[..], me)])
        .unwrap_err();
    assert!(
        matches!(
            err.raw_os_error(),
            Some(errno::EINVAL) | Some(errno::EMSGSIZE)
        ),
        "{err}"
    );

    // An error after the first datagram is a short count, not an error.
    let n = sock
        .send(&[
            OutgoingDatagram::to(&b"ok"[..], me),
            OutgoingDatagram::to(&huge[..], me),
        ])
        .unwrap();
    assert_eq!(n, 1);

    // Across the binding's internal chunks too.
    let mut many: Vec<OutgoingDatagram> = (0..100)
        .map(|i| OutgoingDatagram::to(payload(i, 10), me))
        .collect();
    many.push(OutgoingDatagram::to(&huge[..], me));
    let n = sock.send(&many).unwrap();
    assert!(n <= 100, "{n}");
}

#[test]
fn recv_with_max_zero_is_einval() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let err = sock.recv_max(0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EINVAL));
}

#[test]
fn set_callback_needs_callback_thread_mode() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let err = sock.set_callback(|_| {}).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EINVAL));
    sock.clear_callback().unwrap();
}
