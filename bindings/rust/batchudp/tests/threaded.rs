//! Threaded mode (receiver thread + ring) and callback-thread mode.  Where
//! the library does not offer them (budp_bind returns ENOTSUP) each test
//! says it is skipped and why.

mod common;

use batchudp::{Options, OutgoingDatagram, Overflow, Socket};
use common::*;
use std::os::fd::{AsFd, AsRawFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Instant;

#[test]
fn threaded_round_trip_and_burst() {
    let options = Options::new()
        .threaded(true)
        .batch_size(8)
        .ring_capacity(64);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "threaded mode") else {
        return;
    };
    let poll = sock.poll_fd().unwrap().as_raw_fd();
    let udp = sock.socket_fd().as_raw_fd();
    assert_ne!(poll, udp, "threaded mode polls the notify fd");
    // AsFd and AsRawFd give the UDP socket, as for a std UdpSocket.
    assert_eq!(sock.as_raw_fd(), udp);
    assert_eq!(sock.as_fd().as_raw_fd(), udp);

    let me = sock.local_addr().unwrap();
    const N: usize = 500;
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut got = Vec::new();
    // Send in rounds of 50 so the ring (64) and the kernel queue never
    // have to hold everything at once.
    for round in 0..N / 50 {
        for i in round * 50..(round + 1) * 50 {
            client.send_to(&payload(i, 64), me).unwrap();
        }
        got.extend(recv_n(&mut sock, 50));
    }
    for (i, (data, peer, _)) in got.iter().enumerate() {
        assert_eq!(data, &payload(i, 64), "datagram {i}");
        assert_eq!(*peer, client.local_addr().unwrap());
    }
    assert_eq!(sock.stats().rx_datagrams, N as u64);
}

#[test]
fn threaded_send_and_dispatch() {
    let Some(mut sock) = bind_or_skip(
        "127.0.0.1:0",
        Options::new().threaded(true),
        "threaded mode",
    ) else {
        return;
    };
    let me = sock.local_addr().unwrap();
    let datagrams: Vec<OutgoingDatagram> = (0..20)
        .map(|i| OutgoingDatagram::to(payload(i, 10), me))
        .collect();
    send_all(&sock, &datagrams);
    let mut got = Vec::new();
    while got.len() < 20 {
        let n = sock
            .dispatch(32, |b| got.extend(b.iter().map(|d| d.data().to_vec())))
            .unwrap();
        if n == 0 {
            assert!(sock.wait(Some(PATIENCE)).unwrap(), "nothing arrived");
        }
    }
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p, &payload(i, 10));
    }
}

#[test]
fn threaded_overflow_drop_conserves_datagrams() {
    // GSO and GRO off: the kernel counts its drops in packets, and only
    // with one datagram per packet do the books balance exactly.
    let options = Options::new()
        .threaded(true)
        .ring_capacity(2)
        .overflow(Overflow::Drop)
        .gso(false)
        .gro(false);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "threaded mode") else {
        return;
    };
    let me = sock.local_addr().unwrap();
    const N: u64 = 200;
    let datagrams: Vec<OutgoingDatagram> = (0..N as usize)
        .map(|i| OutgoingDatagram::to(payload(i, 10), me))
        .collect();
    send_all(&sock, &datagrams);
    // Every datagram is delivered, dropped by the ring, or dropped by the
    // kernel; keep receiving until the books balance.
    let deadline = Instant::now() + PATIENCE;
    let mut delivered = 0u64;
    loop {
        delivered += sock.recv().unwrap().len() as u64;
        let s = sock.stats();
        assert_eq!(s.rx_datagrams, delivered);
        if delivered + s.rx_dropped + s.rx_kernel_drops >= N {
            assert_eq!(delivered + s.rx_dropped + s.rx_kernel_drops, N, "{s:?}");
            println!(
                "delivered {delivered}, ring drops {}, kernel drops {}",
                s.rx_dropped, s.rx_kernel_drops
            );
            break;
        }
        assert!(Instant::now() < deadline, "books never balanced: {s:?}");
        sock.wait(Some(std::time::Duration::from_millis(50)))
            .unwrap();
    }
}

#[test]
fn callback_thread_delivers_on_the_receiver_thread() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    // Not a consumer-driven socket: no recv, dispatch or poll fd (wait
    // reports the receiver thread's errors: see the test below).
    assert_eq!(sock.recv().unwrap_err().raw_os_error(), Some(errno::EINVAL));
    assert_eq!(
        sock.dispatch(8, |_| {}).unwrap_err().raw_os_error(),
        Some(errno::EINVAL)
    );
    assert_eq!(
        sock.poll_fd().unwrap_err().raw_os_error(),
        Some(errno::ENOTSUP)
    );
    assert_eq!(sock.as_raw_fd(), sock.socket_fd().as_raw_fd());

    let (tx, rx) = mpsc::channel();
    let here = std::thread::current().id();
    sock.set_callback(move |batch| {
        assert_ne!(std::thread::current().id(), here);
        for d in batch {
            tx.send(d.data().to_vec()).unwrap();
        }
    })
    .unwrap();
    let me = sock.local_addr().unwrap();
    let datagrams: Vec<OutgoingDatagram> = (0..30)
        .map(|i| OutgoingDatagram::to(payload(i, 16), me))
        .collect();
    send_all(&sock, &datagrams);
    for i in 0..30 {
        let p = rx
            .recv_timeout(PATIENCE)
            .expect("datagram from the callback");
        assert_eq!(p, payload(i, 16));
    }
    sock.clear_callback().unwrap();
}

#[test]
fn callback_thread_panic_resumes_at_clear_callback() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let (tx, rx) = mpsc::channel();
    sock.set_callback(move |_| {
        tx.send(()).unwrap();
        panic!("boom on the receiver thread");
    })
    .unwrap();
    let me = sock.local_addr().unwrap();
    send_all(&sock, &[OutgoingDatagram::to(&b"x"[..], me)]);
    rx.recv_timeout(PATIENCE).expect("the callback ran");
    let err = panic::catch_unwind(AssertUnwindSafe(|| sock.clear_callback())).unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(msg, "boom on the receiver thread");
    // A new callback works after that.
    let (tx, rx) = mpsc::channel();
    sock.set_callback(move |b| tx.send(b.len()).unwrap())
        .unwrap();
    send_all(&sock, &[OutgoingDatagram::to(&b"y"[..], me)]);
    assert!(rx.recv_timeout(PATIENCE).expect("new callback ran") >= 1);
}

/// The trampoline answers BUDP_CALLBACK_CONTINUE: the receiver thread goes
/// on reading after each batch, a panicking one too (a PAUSE would leave
/// the later datagrams in the kernel's queue, uncounted).
#[test]
fn callback_thread_keeps_reading_after_each_batch_and_after_a_panic() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let me = sock.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    sock.set_callback(move |batch| {
        for d in batch {
            assert_eq!(d.time_ns(), None, "timestamps are off");
            tx.send(d.data().to_vec()).unwrap();
        }
    })
    .unwrap();
    for p in [&b"first"[..], &b"second"[..]] {
        send_all(&sock, &[OutgoingDatagram::to(p, me)]);
        assert_eq!(rx.recv_timeout(PATIENCE).expect("delivered"), p);
    }

    let (tx, rx) = mpsc::channel();
    sock.set_callback(move |_| {
        tx.send(()).unwrap();
        panic!("boom");
    })
    .unwrap();
    send_all(&sock, &[OutgoingDatagram::to(&b"x"[..], me)]);
    rx.recv_timeout(PATIENCE).expect("the callback ran");
    // Dropped after the panic, but read: the receiver did not pause.
    send_all(&sock, &[OutgoingDatagram::to(&b"y"[..], me)]);
    let deadline = Instant::now() + PATIENCE;
    while sock.stats().rx_datagrams < 4 {
        assert!(Instant::now() < deadline, "the receiver stopped reading");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let err = panic::catch_unwind(AssertUnwindSafe(|| sock.clear_callback())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>().copied(), Some("boom"));
}

#[test]
fn callback_holding_a_sender_does_not_keep_the_socket_alive() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let addr = sock.local_addr().unwrap();
    let tx = sock.sender();
    sock.set_callback(move |batch| {
        let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
        let _ = tx.send(&replies);
    })
    .unwrap();
    drop(sock);
    // The port is free again: the socket was really closed.
    Socket::bind(addr, Options::new()).expect("port released on drop");
}

#[test]
fn callback_thread_reentry_is_refused() {
    use std::sync::{Arc, Mutex};
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    // The socket is reachable from its own callback through a shared cell:
    // changing the callback from in there is EBUSY, dropping it closes it.
    let me = sock.local_addr().unwrap();
    let holder: Arc<Mutex<Option<Socket>>> = Arc::new(Mutex::new(None));
    let (tx, rx) = mpsc::channel();
    let inside = Arc::clone(&holder);
    let mut sock = sock;
    sock.set_callback(move |_| {
        let Some(mut s) = inside.lock().unwrap().take() else {
            return;
        };
        let set = s.set_callback(|_| {}).unwrap_err().raw_os_error();
        let clear = s.clear_callback().unwrap_err().raw_os_error();
        drop(s); // closes the socket from inside its own callback
        tx.send((set, clear)).unwrap();
    })
    .unwrap();
    *holder.lock().unwrap() = Some(sock);
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(b"close yourself", me).unwrap();
    let (set, clear) = rx.recv_timeout(PATIENCE).expect("the callback ran");
    assert_eq!(set, Some(errno::EBUSY));
    assert_eq!(clear, Some(errno::EBUSY));
    // The port is released once the close completes (after the callback
    // returned); retry a bounded number of times.
    let deadline = Instant::now() + PATIENCE;
    while Socket::bind(me, Options::new()).is_err() {
        assert!(Instant::now() < deadline, "port never released");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn callback_thread_wait_reports_receiver_errors() {
    use std::io::ErrorKind;
    use std::time::Duration;

    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let (tx, rx) = mpsc::channel();
    sock.set_callback(move |batch| {
        for d in batch {
            tx.send(d.data().to_vec()).unwrap();
        }
    })
    .unwrap();
    // Nothing wrong yet: a wait times out, and never says "ready".
    assert!(!sock.wait(Some(Duration::from_millis(20))).unwrap());

    // A port with nobody listening: the ICMP port-unreachable reaches the
    // receiver thread, which hands the error to wait.  A send may take it
    // first; bounded by attempts, not by time.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    sock.connect(closed).unwrap();
    let mut refused = None;
    for _ in 0..50 {
        match sock.send(&[OutgoingDatagram::connected(&b"anyone?"[..])]) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("unexpected send error {e}"),
            Ok(_) => {}
        }
        match sock.wait(Some(Duration::from_millis(100))) {
            Ok(ready) => assert!(!ready, "wait said ready in callback-thread mode"),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("wait reported ECONNREFUSED within 50 attempts");
    assert_eq!(err.raw_os_error(), Some(errno::ECONNREFUSED), "{err}");
    assert!(sock.stats().rx_errors >= 1);

    // Transient: the receiver thread goes on delivering.
    let peer = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    sock.connect(peer.local_addr().unwrap()).unwrap();
    send_all(
        &peer,
        &[OutgoingDatagram::to(
            &b"still here"[..],
            sock.local_addr().unwrap(),
        )],
    );
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), b"still here");

    // A shutdown through another handle wakes a waiting thread.
    let stopper = sock.sender();
    let waiter = std::thread::spawn(move || sock.wait(None));
    std::thread::sleep(Duration::from_millis(50));
    stopper.shutdown();
    let err = waiter.join().unwrap().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EBADF));
}
