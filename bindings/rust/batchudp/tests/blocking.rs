//! The calls that block: recv_timeout (data, time-out, shutdown through
//! another handle), send_all (order, partial sends and their count), and
//! the echo of 10,000 datagrams written with them, batched end to end.
//!
//! The wait for room in a full send buffer is tested in the crate's unit
//! tests: a UDP socket's buffer never fills on loopback.

mod common;

use batchudp::{Options, OutgoingDatagram, PartialSend, Socket};
use common::*;
use std::io::ErrorKind;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn recv_timeout_times_out_with_timed_out() {
    for threaded in [false, true] {
        let options = Options::new().threaded(threaded);
        let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "recv_timeout") else {
            continue;
        };
        for timeout in [Duration::ZERO, Duration::from_millis(20)] {
            let e = sock.recv_timeout(timeout).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::TimedOut, "threaded {threaded}: {e}");
            assert_eq!(e.raw_os_error(), None);
        }
    }
}

#[test]
fn recv_timeout_returns_what_is_queued_and_what_comes_later() {
    for threaded in [false, true] {
        let options = Options::new().threaded(threaded).batch_size(8);
        let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "recv_timeout") else {
            continue;
        };
        let me = sock.local_addr().unwrap();

        // Already there: a zero timeout takes it.
        send_all(&sock, &[OutgoingDatagram::to(&b"queued"[..], me)]);
        let mut got = Vec::new();
        while got.is_empty() {
            // In threaded mode the receiver thread may not have it yet.
            match sock.recv_timeout(Duration::ZERO) {
                Ok(batch) => got.extend(batch.iter().map(|d| d.data().to_vec())),
                Err(e) if e.kind() == ErrorKind::TimedOut => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, [b"queued".to_vec()]);

        // Sent while it waits.
        let tx = sock.sender();
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send_all(&[OutgoingDatagram::to(&b"later"[..], me)])
        });
        let batch = sock
            .recv_timeout(PATIENCE)
            .expect("the datagram sent later");
        assert!(!batch.is_empty(), "never an empty batch");
        assert_eq!(batch[0].data(), b"later");
        late.join().unwrap().unwrap();
    }
}

#[test]
fn recv_timeout_returns_ebadf_when_another_handle_shuts_down() {
    for threaded in [false, true] {
        let options = Options::new().threaded(threaded);
        let Some(mut sock) = bind_or_skip("127.0.0.1:0", options, "recv_timeout") else {
            continue;
        };
        let stopper = sock.sender();
        let (done, result) = mpsc::channel();
        let consumer = std::thread::spawn(move || {
            // Far longer than the test's patience: only the shutdown ends it.
            let r = sock
                .recv_timeout(Duration::from_secs(3600))
                .map(|b| b.len());
            done.send(r).unwrap();
        });
        std::thread::sleep(Duration::from_millis(20));
        stopper.shutdown();
        let r = result
            .recv_timeout(PATIENCE)
            .expect("recv_timeout still blocked after the shutdown");
        assert_eq!(
            r.unwrap_err().raw_os_error(),
            Some(errno::EBADF),
            "threaded {threaded}"
        );
        consumer.join().unwrap();
    }
}

#[test]
fn send_all_sends_everything_in_order() {
    let mut server = Socket::bind(
        "127.0.0.1:0",
        Options::new().recv_buffer(ECHO_RECV_BUFFER).batch_size(64),
    )
    .unwrap();
    let client = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = server.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..300).map(|i| payload(i, 100)).collect();
    let datagrams: Vec<OutgoingDatagram> = payloads
        .iter()
        .map(|p| OutgoingDatagram::to(&p[..], to))
        .collect();
    client.send_all(&datagrams).unwrap();
    client.sender().send_all(&datagrams[..0]).unwrap(); // nothing to do
    let stats = client.stats();
    assert_eq!(stats.tx_datagrams, 300);
    assert!(stats.tx_syscalls < 300, "sent in batches: {stats:?}");
    let got = recv_n(&mut server, 300);
    for (i, (data, _, _)) in got.iter().enumerate() {
        assert_eq!(data, &payloads[i], "datagram {i}");
    }
}

#[test]
fn send_all_says_how_many_went_before_an_error() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = sock.local_addr().unwrap();
    let too_long = vec![0u8; 70_000];
    let mut datagrams: Vec<OutgoingDatagram> = (0..5)
        .map(|i| OutgoingDatagram::to(payload(i, 10), to))
        .collect();
    datagrams.push(OutgoingDatagram::to(&too_long[..], to));
    datagrams.push(OutgoingDatagram::to(&b"never sent"[..], to));

    for e in [
        sock.send_all(&datagrams).unwrap_err(),
        sock.sender().send_all(&datagrams).unwrap_err(),
        sock.send_all_timeout(&datagrams, PATIENCE).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        let partial = PartialSend::of(&e).expect("5 were sent first");
        assert_eq!(partial.sent(), 5);
        assert_eq!(partial.error().raw_os_error(), Some(errno::EINVAL));
    }
    // Failing at once: the error as send returns it, errno and all.
    let e = sock.send_all(&datagrams[5..]).unwrap_err();
    assert!(PartialSend::of(&e).is_none());
    assert_eq!(e.raw_os_error(), Some(errno::EINVAL));
    assert_eq!(sock.stats().tx_datagrams, 15);
}

/// The echo of the issue, blocking: a server thread receives a batch and
/// sends the batch back (zero-copy replies through the batch's socket),
/// the client sends windows and checks every echo, in order.
///
/// The server socket is in threaded mode, the mode for a consumer that
/// spends time on each batch: its receiver thread gathers what arrives
/// while the server thread sends, so batches stay large.  Inline, a server
/// thread woken by the first datagram of each window takes what has come
/// so far; when the scheduler lets it keep pace with the client's send
/// call, that is a few datagrams per wake-up (about 300 send calls
/// usually, up to 950 seen in 40 runs on 2 cores).
#[test]
fn echo_10000_datagrams_batched_end_to_end() {
    let options = || {
        Options::new()
            .batch_size(ECHO_WINDOW)
            .recv_buffer(ECHO_RECV_BUFFER)
            .pktinfo(true)
    };
    let Some(mut server) = bind_or_skip("127.0.0.1:0", options().threaded(true), "threaded mode")
    else {
        return;
    };
    let mut client = Socket::bind("127.0.0.1:0", options()).unwrap();
    let server_addr = server.local_addr().unwrap();
    let client_addr = client.local_addr().unwrap();
    let client_counters = client.sender();

    // The server echoes ECHO_COUNT datagrams and ends: its counters are
    // read then, once every send has been counted.
    let echo = std::thread::spawn(move || {
        let mut echoed = 0;
        while echoed < ECHO_COUNT {
            let batch = server
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|e| panic!("server, after {echoed} echoes: {e}"));
            assert!(batch.iter().all(|d| d.peer() == client_addr));
            let replies: Vec<OutgoingDatagram> =
                batch.iter().map(OutgoingDatagram::reply).collect();
            batch.socket().send_all(&replies).expect("server send_all");
            echoed += replies.len();
        }
        server.stats()
    });

    // Up to two windows in flight: while the server sends one back, the
    // next one arrives, so that it finds more than a few datagrams each
    // time it receives.
    let payloads: Vec<Vec<u8>> = (0..ECHO_COUNT).map(echo_payload).collect();
    let datagrams: Vec<OutgoingDatagram> = payloads
        .iter()
        .map(|p| OutgoingDatagram::to(&p[..], server_addr))
        .collect();
    let mut sent = 0;
    let mut received = 0;
    while received < ECHO_COUNT {
        while sent < ECHO_COUNT && sent - received <= ECHO_IN_FLIGHT - ECHO_WINDOW {
            let end = (sent + ECHO_WINDOW).min(ECHO_COUNT);
            client.send_all(&datagrams[sent..end]).unwrap();
            sent = end;
        }
        let batch = client.recv_timeout(PATIENCE).unwrap_or_else(|e| {
            panic!(
                "echo {received} of {ECHO_COUNT}: {e}; {:?}",
                client_counters.stats()
            )
        });
        for d in &batch {
            assert_eq!(d.peer(), server_addr);
            assert_eq!(
                d.data(),
                &payloads[received][..],
                "echo {received}: content and order"
            );
            received += 1;
        }
    }
    let server_stats = echo.join().unwrap();
    let client_stats = client.stats();
    check_echo("blocking", server_stats, client_stats);
}
