//! Receive timestamps, paced sends and error events
//! (`Options::timestamps`, `pacing`, `errors`), on loopback.  The three
//! need Linux (the library returns ENOTSUP elsewhere, and these tests skip).

mod common;

use batchudp::{ErrorEvent, ErrorOrigin, Options, OutgoingDatagram, Pacing, Socket};
use common::{bind_or_skip, errno, recv_n, PATIENCE};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A UDP port on 127.0.0.1 that nothing listens on: bound, noted, released.
fn closed_port() -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("local_addr")
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64
}

/// Whether `ns` is a wall-clock time within a second of now.
fn near_now(ns: Option<u64>) -> bool {
    ns.is_some_and(|ns| now_ns().abs_diff(ns) < 1_000_000_000)
}

#[test]
fn sockets_open_with_every_new_option() {
    for pacing in [Pacing::Off, Pacing::Monotonic, Pacing::Tai] {
        let options = Options::new().timestamps(true).pacing(pacing).errors(true);
        let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "timestamps, pacing, errors")
        else {
            return;
        };
        assert!(sock.recv().expect("recv").is_empty());
        let mut events = [ErrorEvent::default(); 4];
        assert_eq!(sock.recv_errors(&mut events).expect("recv_errors"), 0);
    }
    // Options compare by value: the builder keeps what it is given.
    assert_eq!(
        Options::new().pacing(Pacing::Tai),
        Options::new().pacing(Pacing::Tai)
    );
    assert_ne!(
        Options::new().pacing(Pacing::Tai),
        Options::new().pacing(Pacing::Monotonic)
    );
    assert_ne!(Options::new().timestamps(true), Options::new());
    assert_ne!(Options::new().errors(true), Options::new());
}

#[test]
fn timestamps_present_when_on() {
    let Some(mut rx) = bind_or_skip("127.0.0.1:0", Options::new().timestamps(true), "timestamps")
    else {
        return;
    };
    let tx = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = rx.local_addr().unwrap();
    tx.send(&[OutgoingDatagram::to(&b"stamped"[..], to)])
        .unwrap();
    let batch = rx.recv_timeout(PATIENCE).expect("a datagram");
    let d = &batch[0];
    assert_eq!(d.data(), b"stamped");
    assert_ne!(d.flags() & batchudp_sys::BUDP_DGRAM_HAS_TIME, 0);
    assert!(near_now(d.time_ns()), "{:?} vs {}", d.time_ns(), now_ns());
    let at = d.time().expect("a time");
    let age = SystemTime::now()
        .duration_since(at)
        .unwrap_or_else(|e| e.duration());
    assert!(age < Duration::from_secs(1), "{age:?}");
    let _ = batch;

    // Through a callback too.
    tx.send(&[OutgoingDatagram::to(&b"callback"[..], to)])
        .unwrap();
    assert!(rx.wait(Some(PATIENCE)).unwrap());
    let mut times = Vec::new();
    rx.dispatch(8, |batch| times.extend(batch.iter().map(|d| d.time_ns())))
        .unwrap();
    assert_eq!(times.len(), 1);
    assert!(near_now(times[0]));
}

#[test]
fn timestamps_absent_when_off() {
    let mut rx = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = rx.local_addr().unwrap();
    rx.send(&[OutgoingDatagram::to(&b"plain"[..], to)]).unwrap();
    let batch = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(batch[0].time_ns(), None);
    assert_eq!(batch[0].time(), None);
    assert_eq!(batch[0].flags() & batchudp_sys::BUDP_DGRAM_HAS_TIME, 0);
}

#[test]
fn timestamps_in_threaded_mode_and_on_gro_segments() {
    let options = Options::new()
        .timestamps(true)
        .threaded(true)
        .batch_size(64);
    let Some(mut rx) = bind_or_skip("127.0.0.1:0", options, "threaded timestamps") else {
        return;
    };
    let tx = Socket::bind("127.0.0.1:0", Options::new().gso(true)).unwrap();
    let to = rx.local_addr().unwrap();
    // Equal sizes: one GSO send, received as GRO segments where the kernel
    // coalesces them; each must carry a time either way.
    let out: Vec<OutgoingDatagram> = (0..20u8)
        .map(|i| OutgoingDatagram::to(vec![i; 100], to))
        .collect();
    assert_eq!(tx.send(&out).unwrap(), 20);
    let mut got = 0;
    let deadline = Instant::now() + PATIENCE;
    while got < 20 && Instant::now() < deadline {
        let batch = match rx.recv_timeout(PATIENCE) {
            Ok(batch) => batch,
            Err(e) => panic!("after {got}: {e}"),
        };
        for d in &batch {
            assert_eq!(d.data(), [got as u8; 100]);
            assert!(near_now(d.time_ns()), "datagram {got}: {:?}", d.time_ns());
            got += 1;
        }
    }
    assert_eq!(got, 20);
}

/// `sock` sent one datagram to `dest`, a closed port: exactly its port
/// unreachable event comes, once.
fn expect_refused(sock: &mut Socket, dest: SocketAddr) {
    let mut events = [ErrorEvent::default(); 8];
    let deadline = Instant::now() + PATIENCE;
    let mut n = 0;
    while n == 0 && Instant::now() < deadline {
        assert!(
            sock.wait(Some(PATIENCE)).unwrap(),
            "no event woke the socket"
        );
        n = sock.recv_errors(&mut events).unwrap();
    }
    assert_eq!(n, 1, "{:?}", &events[..n]);
    let e = events[0];
    assert_eq!(e.destination, dest);
    assert_eq!(e.errno, errno::ECONNREFUSED);
    assert_eq!(e.error().kind(), std::io::ErrorKind::ConnectionRefused);
    assert_eq!(e.error().raw_os_error(), Some(errno::ECONNREFUSED));
    assert_eq!(e.origin, ErrorOrigin::Icmp);
    assert_eq!((e.icmp_type, e.icmp_code), (3, 3)); // port unreachable
    assert_eq!(e.offender.map(|a| a.ip()), Some(dest.ip()));
    assert_eq!(e.mtu, None);
    assert_eq!(sock.recv_errors(&mut events).unwrap(), 0);
    assert_eq!(sock.stats().error_events, 1);
}

#[test]
fn port_unreachable_comes_as_an_event() {
    let dest = closed_port();
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", Options::new().errors(true), "errors") else {
        return;
    };
    assert_eq!(
        sock.send(&[OutgoingDatagram::to(&b"anyone?"[..], dest)])
            .unwrap(),
        1
    );
    expect_refused(&mut sock, dest);
    // The error does not fail the receive.
    assert!(sock.recv().unwrap().is_empty());
    assert_eq!(sock.stats().rx_errors, 0);
}

#[test]
fn port_unreachable_event_in_threaded_mode_through_a_sender() {
    let dest = closed_port();
    let options = Options::new().errors(true).threaded(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "threaded errors") else {
        return;
    };
    let tx = sock.sender();
    tx.send(&[OutgoingDatagram::to(&b"anyone?"[..], dest)])
        .unwrap();
    expect_refused(&mut sock, dest);
    let mut events = [ErrorEvent::default(); 2];
    assert_eq!(tx.recv_errors(&mut events).unwrap(), 0);
    assert_eq!(tx.stats().error_events_dropped, 0);
}

#[test]
fn recv_timeout_sets_error_events_aside() {
    // A waiting event keeps the socket ready: recv_timeout moves it aside
    // (else it would spin until its timeout) and recv_errors returns it.
    let dest = closed_port();
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", Options::new().errors(true), "errors") else {
        return;
    };
    sock.send(&[OutgoingDatagram::to(&b"lost"[..], dest)])
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let err = sock.recv_timeout(Duration::from_millis(300)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    // It slept: the ready socket did not make it return before its time.
    assert!(!sock.wait(Some(Duration::ZERO)).unwrap());
    let mut events = [ErrorEvent::default(); 4];
    assert_eq!(sock.recv_errors(&mut events).unwrap(), 1);
    assert_eq!(events[0].destination, dest);
    let stats = sock.stats();
    assert_eq!((stats.error_events, stats.error_events_dropped), (1, 0));
}

#[test]
fn recv_errors_needs_the_option() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let mut events = [ErrorEvent::default(); 4];
    let err = sock.recv_errors(&mut events).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EINVAL));
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    // An empty buffer is EINVAL too.
    assert_eq!(
        sock.recv_errors(&mut []).unwrap_err().raw_os_error(),
        Some(errno::EINVAL)
    );
    sock.shutdown();
    assert_eq!(
        sock.recv_errors(&mut events).unwrap_err().raw_os_error(),
        Some(errno::EBADF)
    );
}

#[test]
fn departure_time_refused_without_pacing() {
    let mut rx = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let tx = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = rx.local_addr().unwrap();
    let timed = OutgoingDatagram::to(&b"timed"[..], to).with_time_ns(1_000_000);
    assert_eq!(timed.time_ns(), 1_000_000);
    let err = tx.send(&[timed]).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EINVAL));
    assert_eq!(tx.stats().tx_datagrams, 0);
    // A zero time is "now", and goes.
    let now = OutgoingDatagram::to(&b"now"[..], to).with_time_ns(0);
    assert_eq!(tx.send(&[now]).unwrap(), 1);
    assert_eq!(recv_n(&mut rx, 1)[0].0, b"now");
}

#[test]
fn paced_datagram_is_accepted_and_arrives() {
    let Some(tx) = bind_or_skip(
        "127.0.0.1:0",
        Options::new().pacing(Pacing::Monotonic),
        "pacing",
    ) else {
        return;
    };
    let mut rx = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = rx.local_addr().unwrap();
    let soon = Pacing::Monotonic.now_ns().unwrap() + 5_000_000;
    let out = [
        OutgoingDatagram::to(&b"later"[..], to).with_time_ns(soon),
        OutgoingDatagram::to(&b"now"[..], to),
        OutgoingDatagram::to(&b"later too"[..], to).with_time_ns(soon + 1_000_000),
    ];
    tx.send_all(&out).unwrap();
    let mut got: Vec<Vec<u8>> = recv_n(&mut rx, 3).into_iter().map(|d| d.0).collect();
    got.sort();
    assert_eq!(got, [&b"later"[..], b"later too", b"now"]);
    assert_eq!(tx.stats().tx_datagrams, 3);
}

#[test]
fn pacing_clock_reads() {
    if !cfg!(target_os = "linux") {
        return common::skip("Pacing::now_ns: Linux only");
    }
    let a = Pacing::Monotonic.now_ns().unwrap();
    std::thread::sleep(Duration::from_millis(2));
    let b = Pacing::Monotonic.now_ns().unwrap();
    assert!(b - a >= 2_000_000, "{a} {b}");
    // TAI runs ahead of UTC by whole seconds (37 today, 0 if unset).
    let tai = Pacing::Tai.now_ns().unwrap();
    assert!(tai + 1_000_000_000 >= now_ns());
    assert_eq!(
        Pacing::Off.now_ns().unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[test]
fn pacing_support_on_loopback() {
    let Some(mut sock) = bind_or_skip(
        "127.0.0.1:0",
        Options::new().pacing(Pacing::Monotonic),
        "pacing",
    ) else {
        return;
    };
    let dest: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let (honoured, detail) = sock.pacing_support(Some(dest)).unwrap();
    assert!(!honoured, "{detail}"); // loopback has no fq or etf
    assert!(detail.contains("lo"), "{detail}");
    assert!(!detail.contains('\n'));
    // None: the connected peer, EINVAL before a connect.
    assert_eq!(
        sock.pacing_support(None).unwrap_err().raw_os_error(),
        Some(errno::EINVAL)
    );
    sock.connect(dest).unwrap();
    let (honoured, detail) = sock.sender().pacing_support(None).unwrap();
    assert!(!honoured && detail.contains("lo"), "{detail}");
}

#[test]
fn stats_have_the_error_event_counters() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let st = sock.stats();
    assert_eq!((st.error_events, st.error_events_dropped), (0, 0));
}
