//! Closing and threads: shutdown wakes a consumer blocked without a
//! timeout, every call after it fails with EBADF, shutdown from inside
//! callbacks, the socket is freed when the last handle goes, and sends from
//! many threads at once without a lock in the binding.
//!
//! Hangs become failures through a 5 s guard (a channel's recv_timeout);
//! latencies are printed, never asserted.

mod common;

use batchudp::{Options, OutgoingDatagram, Sender, Socket};
use common::*;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a thread woken by a shutdown may take before the test calls it
/// a hang.
const HANG_GUARD: Duration = Duration::from_secs(5);

fn assert_closed<T: std::fmt::Debug>(what: &str, r: io::Result<T>) {
    match r {
        Err(e) => assert_eq!(e.raw_os_error(), Some(errno::EBADF), "{what}: {e}"),
        Ok(v) => panic!("{what} succeeded after the shutdown: {v:?}"),
    }
}

/// The port of a closed socket can be bound again; retried for a while,
/// since a close from inside a callback completes once the callback returns.
fn assert_port_released(addr: SocketAddr) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match UdpSocket::bind(addr) {
            Ok(_) => return,
            Err(e) => assert!(
                Instant::now() < deadline,
                "{addr} still bound {PATIENCE:?} after the last handle went: {e}"
            ),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[derive(Clone, Copy, Debug)]
enum Consumer {
    /// recv, and wait(None) when nothing is queued.
    RecvLoop,
    /// dispatch, and wait(None) when nothing came.
    DispatchLoop,
}

/// Runs `consumer` on a thread with no timeout, shuts the socket down
/// through a Sender from this thread, and checks that the consumer returns
/// EBADF promptly; then that the socket is freed with the last handle.
fn shutdown_wakes(options: Options, consumer: Consumer, label: &str) {
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, label) else {
        return;
    };
    let addr = sock.local_addr().unwrap();
    let tx = sock.sender();
    let (to_main, from_consumer) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        to_main.send(None).unwrap(); // about to block
        let err = loop {
            let got = match consumer {
                Consumer::RecvLoop => sock.recv().map(|b| b.len()),
                Consumer::DispatchLoop => sock.dispatch(32, |_| {}),
            };
            match got {
                Ok(0) => {
                    if let Err(e) = sock.wait(None) {
                        break e;
                    }
                }
                Ok(n) => panic!("{n} datagrams on a socket nobody sends to"),
                Err(e) => break e,
            }
        };
        let returned = Instant::now();
        // Further receiving calls fail the same way, without blocking.
        let again = sock.wait(None).map_err(|e| e.raw_os_error());
        to_main.send(Some((err, returned, again))).unwrap();
        // The consumer leaves: its handle goes with the thread.
    });
    assert!(from_consumer.recv().unwrap().is_none());
    // Let it fall asleep in wait; it must wake whenever the shutdown comes.
    std::thread::sleep(Duration::from_millis(50));
    let shut = Instant::now();
    tx.shutdown();
    let Ok(Some((err, returned, again))) = from_consumer.recv_timeout(HANG_GUARD) else {
        panic!("{label}: the consumer still blocked {HANG_GUARD:?} after the shutdown");
    };
    thread.join().unwrap();
    report(&format!(
        "{label}: shutdown to return from wait(None): {:?}",
        returned.saturating_duration_since(shut)
    ));
    assert_eq!(err.raw_os_error(), Some(errno::EBADF), "{label}: {err}");
    assert_eq!(again, Err(Some(errno::EBADF)), "{label}: wait after");
    // The Sender is the last handle now: the socket is still open (the
    // port taken) until it goes.
    assert_closed(
        "send through the Sender",
        tx.send(&[OutgoingDatagram::to(&b"x"[..], addr)]),
    );
    assert!(
        UdpSocket::bind(addr).is_err(),
        "{label}: freed before the last handle went"
    );
    drop(tx);
    assert_port_released(addr);
}

#[test]
fn shutdown_wakes_an_inline_consumer_blocked_in_wait() {
    shutdown_wakes(Options::new(), Consumer::RecvLoop, "inline, recv loop");
}

#[test]
fn shutdown_wakes_a_threaded_consumer_blocked_in_wait() {
    shutdown_wakes(
        Options::new().threaded(true),
        Consumer::RecvLoop,
        "threaded, recv loop",
    );
}

#[test]
fn shutdown_wakes_a_dispatch_loop() {
    shutdown_wakes(
        Options::new(),
        Consumer::DispatchLoop,
        "inline, dispatch loop",
    );
    shutdown_wakes(
        Options::new().threaded(true),
        Consumer::DispatchLoop,
        "threaded, dispatch loop",
    );
}

#[test]
fn shutdown_from_many_threads_at_once() {
    let Some(mut sock) = bind_or_skip(
        "127.0.0.1:0",
        Options::new().threaded(true),
        "threaded mode",
    ) else {
        return;
    };
    let senders: Vec<Sender> = (0..8).map(|_| sock.sender()).collect();
    let (done, finished) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let r = sock.wait(None).map_err(|e| e.raw_os_error());
        done.send(r).unwrap();
    });
    let shutters: Vec<_> = senders
        .into_iter()
        .map(|tx| {
            std::thread::spawn(move || {
                for _ in 0..10 {
                    tx.shutdown();
                }
            })
        })
        .collect();
    for t in shutters {
        t.join().unwrap();
    }
    let r = finished
        .recv_timeout(HANG_GUARD)
        .expect("the consumer still blocked after the shutdowns");
    assert_eq!(r, Err(Some(errno::EBADF)));
    consumer.join().unwrap();
}

fn check_calls_after_shutdown(options: Options, label: &str) {
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, label) else {
        return;
    };
    let me = sock.local_addr().unwrap();
    let tx = sock.sender();
    send_all(&sock, &[OutgoingDatagram::to(&b"before"[..], me)]);
    assert_eq!(recv_n(&mut sock, 1)[0].0, b"before");
    let before = sock.stats();
    assert_eq!(
        (before.tx_datagrams, before.rx_datagrams),
        (1, 1),
        "{label}"
    );
    let fd = sock.socket_fd().as_raw_fd();
    let backend = sock.backend_name().to_string();
    assert!(!backend.is_empty());
    assert!(sock.backend_reason().starts_with(&backend));

    sock.shutdown();
    sock.shutdown(); // again: nothing happens
    tx.shutdown(); // through another handle too

    let d = [OutgoingDatagram::to(&b"after"[..], me)];
    assert_closed("recv", sock.recv().map(|b| b.len()));
    assert_closed("recv_max", sock.recv_max(1).map(|b| b.len()));
    assert_closed("wait(0)", sock.wait(Some(Duration::ZERO)));
    assert_closed("wait(None)", sock.wait(None));
    assert_closed(
        "dispatch",
        sock.dispatch(8, |_| panic!("called after shutdown")),
    );
    assert_closed("recv_timeout", sock.recv_timeout(PATIENCE).map(|b| b.len()));
    assert_closed("send", sock.send(&d));
    assert_closed("Sender::send", tx.send(&d));
    assert_closed("send_all", sock.send_all(&d));
    assert_closed("send_all_timeout", sock.send_all_timeout(&d, PATIENCE));
    assert_closed("Sender::send_all", tx.send_all(&d));
    assert_closed("connect", sock.connect(me));
    assert_closed("local_addr", sock.local_addr());
    assert_closed("Sender::local_addr", tx.local_addr());
    assert_closed("poll_fd", sock.poll_fd());
    assert_eq!(sock.backend_name(), "");
    assert_eq!(tx.backend_name(), "");
    assert_eq!(sock.backend_reason(), "");
    assert_eq!(tx.backend_reason(), "");
    // What stays: the counters of the moment of the shutdown, and the fd,
    // open until the last handle goes.
    assert_eq!(sock.stats(), before, "{label}");
    assert_eq!(tx.stats(), before, "{label}");
    assert_eq!(sock.socket_fd().as_raw_fd(), fd);
    assert_eq!(tx.socket_fd().as_raw_fd(), fd);
    assert_eq!(sock.as_raw_fd(), fd);
    let _ = format!("{sock:?} {tx:?}");

    drop(sock);
    assert!(
        UdpSocket::bind(me).is_err(),
        "{label}: freed before the Sender went"
    );
    drop(tx);
    assert_port_released(me);
}

#[test]
fn calls_after_shutdown_fail_with_ebadf_inline() {
    check_calls_after_shutdown(Options::new(), "inline");
}

#[test]
fn calls_after_shutdown_fail_with_ebadf_threaded() {
    check_calls_after_shutdown(Options::new().threaded(true), "threaded");
}

#[test]
fn set_callback_after_shutdown_fails_with_ebadf() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let me = sock.local_addr().unwrap();
    // A first callback, set before the shutdown; its closure holds a
    // Sender, which must not keep the socket alive once it is refused.
    let tx = sock.sender();
    sock.set_callback(move |_| {
        let _ = tx.stats();
    })
    .unwrap();
    sock.shutdown();
    // The closure given is dropped at once.
    let held = Arc::new(());
    let in_closure = Arc::clone(&held);
    let err = sock
        .set_callback(move |_| drop(Arc::clone(&in_closure)))
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EBADF));
    assert_eq!(Arc::strong_count(&held), 1, "the refused closure is kept");
    assert_closed("clear_callback", sock.clear_callback());
    assert!(sock.clear_callback().is_ok(), "nothing left to clear");
    drop(sock);
    assert_port_released(me);
}

fn check_shutdown_inside_dispatch(options: Options, label: &str) {
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, label) else {
        return;
    };
    let me = sock.local_addr().unwrap();
    let tx = sock.sender();
    let datagrams: Vec<OutgoingDatagram> = (0..5)
        .map(|i| OutgoingDatagram::to(payload(i, 16), me))
        .collect();
    send_all(&sock, &datagrams);
    assert!(
        sock.wait(Some(PATIENCE)).unwrap(),
        "{label}: nothing arrived"
    );
    let mut seen = 0;
    let mut calls = 0;
    let n = sock
        .dispatch(32, |batch| {
            calls += 1;
            seen += batch.len();
            tx.shutdown();
            // As often as wanted.
            tx.shutdown();
            // The views stay valid for the rest of the callback.
            assert_eq!(batch[0].data(), &payload(0, 16)[..]);
        })
        .expect("the dispatch that was running when the shutdown came");
    // The batch it took was handed over whole.
    assert_eq!(calls, 1, "{label}");
    assert!(n >= 1, "{label}");
    assert_eq!(n, seen, "{label}");
    assert_closed(
        "dispatch after",
        sock.dispatch(32, |_| panic!("called after shutdown")),
    );
    assert_closed("recv after", sock.recv().map(|b| b.len()));
    assert_closed("wait after", sock.wait(Some(PATIENCE)));
    assert_closed("send after", tx.send(&datagrams[..1]));
    drop(sock);
    drop(tx);
    assert_port_released(me);
}

#[test]
fn shutdown_inside_a_dispatch_callback_inline() {
    check_shutdown_inside_dispatch(Options::new(), "inline");
}

#[test]
fn shutdown_inside_a_dispatch_callback_threaded() {
    check_shutdown_inside_dispatch(Options::new().threaded(true), "threaded");
}

#[test]
fn shutdown_inside_the_receiver_thread_callback() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let me = sock.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let (called, first_call) = mpsc::channel();
    let tx = sock.sender();
    let counter = Arc::clone(&calls);
    sock.set_callback(move |batch| {
        counter.fetch_add(1, SeqCst);
        tx.shutdown();
        // The views outlive the shutdown until the callback returns.
        let _ = called.send(batch[0].data().to_vec());
    })
    .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(b"stop", me).unwrap();
    let first = first_call.recv_timeout(PATIENCE).expect("the callback ran");
    assert_eq!(first, b"stop");
    assert_closed("send", sock.send(&[OutgoingDatagram::to(&b"x"[..], me)]));
    assert_closed("local_addr", sock.local_addr());
    // More datagrams: the receiver stopped reading, nothing reaches the
    // closure any more.  (The pause gives a receiver that did not stop the
    // time to show it; it is not a timing assertion.)
    for _ in 0..5 {
        client.send_to(b"ignored", me).unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    // Clearing waits for a call in progress; the socket is shut down.
    assert_closed("clear_callback", sock.clear_callback());
    assert_eq!(calls.load(SeqCst), 1, "the callback ran after the shutdown");
    // The Sender in the closure went with it: dropping the Socket frees
    // the socket.
    drop(sock);
    assert_port_released(me);
}

#[test]
fn socket_dropped_inside_its_callback_is_freed_though_the_closure_holds_a_sender() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let me = sock.local_addr().unwrap();
    let holder: Arc<Mutex<Option<Socket>>> = Arc::new(Mutex::new(None));
    let inside = Arc::clone(&holder);
    let tx = sock.sender();
    let (dropped, was_dropped) = mpsc::channel();
    sock.set_callback(move |batch| {
        // Replies go through the Sender the closure owns.
        let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
        let _ = tx.send(&replies);
        if let Some(s) = inside.lock().unwrap().take() {
            drop(s);
            let _ = dropped.send(());
        }
    })
    .unwrap();
    *holder.lock().unwrap() = Some(sock);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.send_to(b"drop yourself", me).unwrap();
    was_dropped
        .recv_timeout(PATIENCE)
        .expect("the callback ran");
    let mut buf = [0u8; 32];
    let n = client.recv(&mut buf).expect("the reply");
    assert_eq!(&buf[..n], b"drop yourself");
    // The Sender in the closure was the last handle: once the callback
    // returned, the closure is dropped and the socket freed.
    assert_port_released(me);
}

#[test]
fn dropping_the_socket_alone_leaves_senders_working() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let addr = sock.local_addr().unwrap();
    let tx = sock.sender();
    drop(sock);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(
        tx.send(&[OutgoingDatagram::to(
            &b"still here"[..],
            peer.local_addr().unwrap()
        )])
        .unwrap(),
        1
    );
    let mut buf = [0u8; 32];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"still here"[..], addr));
    assert!(UdpSocket::bind(addr).is_err(), "freed while a Sender lives");
    drop(tx);
    assert_port_released(addr);
}

#[test]
fn sends_racing_a_shutdown_end_with_ebadf() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = sink.local_addr().unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let (ended, results) = mpsc::channel();
    const THREADS: usize = 6;
    for _ in 0..THREADS {
        let tx = sock.sender();
        let (started, ended) = (Arc::clone(&started), ended.clone());
        std::thread::spawn(move || {
            let d: Vec<OutgoingDatagram> = (0..8)
                .map(|i| OutgoingDatagram::to(payload(i, 32), to))
                .collect();
            started.fetch_add(1, SeqCst);
            let mut sent = 0u64;
            let err = loop {
                match tx.send(&d) {
                    Ok(n) => sent += n as u64,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                    Err(e) => break e,
                }
            };
            let _ = ended.send((err.raw_os_error(), sent));
        });
    }
    while started.load(SeqCst) < THREADS {
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(20));
    sock.shutdown();
    let mut total = 0;
    for _ in 0..THREADS {
        let (err, sent) = results
            .recv_timeout(HANG_GUARD)
            .expect("a sender still running after the shutdown");
        assert_eq!(err, Some(errno::EBADF));
        total += sent;
    }
    // The counters stop at the shutdown; sends already inside the library
    // when it came may still finish after the snapshot.
    let counted = sock.stats().tx_datagrams;
    assert!(counted <= total, "counted {counted}, sent {total}");
    report(&format!("{THREADS} senders racing a shutdown: {total} datagrams sent, {counted} counted at the shutdown"));
}

/// Sends from many threads at once, through Sender clones and through a
/// shared `&Socket`, with no lock in the binding: every datagram arrives
/// whole, in each thread's order, or is counted as dropped by the kernel.
#[test]
fn concurrent_sends_from_many_threads() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 400;
    const TOTAL: usize = THREADS * PER_THREAD;
    // Datagrams in flight at most (plus one batch per thread), so the
    // receive buffer need not hold everything.
    const WINDOW: usize = 256;
    // One datagram per packet both ways, so that the kernel's drop count
    // (in packets) balances the books exactly.
    let out = Socket::bind("127.0.0.1:0", Options::new().gso(false)).unwrap();
    let mut inbox = Socket::bind(
        "127.0.0.1:0",
        Options::new()
            .gro(false)
            .batch_size(64)
            .recv_buffer(4 << 20),
    )
    .unwrap();
    let to = inbox.local_addr().unwrap();
    let sent = AtomicUsize::new(0);
    let received = AtomicUsize::new(0);
    let stalled = AtomicBool::new(false);
    let mut got: Vec<Vec<u8>> = Vec::with_capacity(TOTAL);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (out, sent, received, stalled) = (&out, &sent, &received, &stalled);
            // Half the threads send through their own Sender, half through
            // the shared &Socket.
            let tx = (t % 2 == 0).then(|| out.sender());
            scope.spawn(move || {
                let send = |d: &[OutgoingDatagram]| match &tx {
                    Some(tx) => tx.send(d),
                    None => out.send(d),
                };
                let deadline = Instant::now() + PATIENCE;
                let mut i = 0;
                while i < PER_THREAD {
                    // Batches of 1 to 16, of varying sizes.
                    let n = (1 + (i + t) % 16).min(PER_THREAD - i);
                    while sent.load(SeqCst) >= received.load(SeqCst) + WINDOW {
                        if Instant::now() > deadline || stalled.load(SeqCst) {
                            stalled.store(true, SeqCst);
                            return;
                        }
                        std::thread::yield_now();
                    }
                    let batch: Vec<OutgoingDatagram> = (i..i + n)
                        .map(|k| OutgoingDatagram::to(payload(t * 1000 + k, 20 + k % 200), to))
                        .collect();
                    let mut done = 0;
                    while done < n {
                        match send(&batch[done..]) {
                            Ok(k) => {
                                sent.fetch_add(k, SeqCst);
                                done += k;
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                std::thread::yield_now()
                            }
                            Err(e) => panic!("thread {t}: send: {e}"),
                        }
                    }
                    i += n;
                }
            });
        }
        // This thread receives until every datagram is accounted for.
        let deadline = Instant::now() + PATIENCE;
        loop {
            let drops = inbox.stats().rx_kernel_drops as usize;
            if got.len() + drops >= TOTAL {
                break;
            }
            if Instant::now() > deadline {
                stalled.store(true, SeqCst);
                break;
            }
            let batch = inbox.recv().unwrap();
            if batch.is_empty() {
                inbox.wait(Some(Duration::from_millis(100))).unwrap();
                continue;
            }
            got.extend(batch.iter().map(|d| d.data().to_vec()));
            received.store(got.len() + drops, SeqCst);
        }
    });
    let elapsed = started.elapsed();
    let drops = inbox.stats().rx_kernel_drops as usize;
    assert!(
        !stalled.load(SeqCst),
        "stalled: {} sent, {} received, {drops} dropped by the kernel",
        sent.load(SeqCst),
        got.len()
    );
    assert_eq!(sent.load(SeqCst), TOTAL);
    assert_eq!(
        out.stats().tx_datagrams,
        TOTAL as u64,
        "every datagram sent is counted"
    );
    assert_eq!(
        got.len() + drops,
        TOTAL,
        "delivered + dropped by the kernel"
    );
    // Each datagram whole, each thread's in order, none twice.
    let mut next = [0usize; THREADS];
    for data in &got {
        let n: usize = std::str::from_utf8(&data[9..15]).unwrap().parse().unwrap();
        let (t, k) = (n / 1000, n % 1000);
        assert_eq!(
            data,
            &payload(n, 20 + k % 200),
            "datagram {k} of thread {t}"
        );
        assert!(k >= next[t], "thread {t}: {k} after {}", next[t]);
        next[t] = k + 1;
    }
    if drops == 0 {
        assert_eq!(next, [PER_THREAD; THREADS]);
    }
    report(&format!(
        "{THREADS} threads sent {TOTAL} datagrams at once in {elapsed:?}; {drops} dropped by the kernel"
    ));
}
