//! Socket::dispatch: the closure sees every datagram in order, and a panic
//! in it is caught at the C boundary and resumed after budp_dispatch.

mod common;

use batchudp::{Options, OutgoingDatagram, Socket};
use common::*;
use std::net::UdpSocket;
use std::panic::{self, AssertUnwindSafe};

fn fill(sock: &Socket, n: usize) {
    let me = sock.local_addr().unwrap();
    let datagrams: Vec<OutgoingDatagram> = (0..n)
        .map(|i| OutgoingDatagram::to(payload(i, 32), me))
        .collect();
    send_all(sock, &datagrams);
}

/// Dispatches until `n` datagrams were handed over; returns their payloads.
fn dispatch_n(sock: &mut Socket, n: usize, max: usize) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    while got.len() < n {
        let before = got.len();
        let count = sock
            .dispatch(max, |batch| {
                assert!(!batch.is_empty(), "the callback gets n >= 1");
                got.extend(batch.iter().map(|d| d.data().to_vec()));
            })
            .unwrap();
        assert_eq!(
            count,
            got.len() - before,
            "returned count = datagrams handed over"
        );
        assert!(count <= max, "{count} over max {max}");
        if count == 0 {
            assert!(sock.wait(Some(PATIENCE)).unwrap(), "nothing arrived");
        }
    }
    got
}

#[test]
fn dispatch_hands_over_everything_in_order() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new().batch_size(8)).unwrap();
    assert_eq!(sock.dispatch(8, |_| panic!("nothing queued")).unwrap(), 0);
    fill(&sock, 50);
    let got = dispatch_n(&mut sock, 50, 5);
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p, &payload(i, 32));
    }
}

#[test]
fn dispatch_then_recv_interleave() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new().batch_size(4)).unwrap();
    fill(&sock, 12);
    let mut got = dispatch_n(&mut sock, 4, 4);
    got.extend(recv_n(&mut sock, 8).into_iter().map(|g| g.0));
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p, &payload(i, 32), "datagram {i}");
    }
}

#[test]
fn replies_from_inside_dispatch_through_a_sender() {
    let mut server = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let tx = server.sender();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    for i in 0..5 {
        client
            .send_to(&payload(i, 20), server.local_addr().unwrap())
            .unwrap();
    }
    let mut echoed = 0;
    while echoed < 5 {
        echoed += server
            .dispatch(32, |batch| {
                let replies: Vec<OutgoingDatagram> =
                    batch.iter().map(OutgoingDatagram::reply).collect();
                assert_eq!(tx.send(&replies).unwrap(), replies.len());
            })
            .unwrap();
        if echoed < 5 {
            server.wait(Some(PATIENCE)).unwrap();
        }
    }
    let mut buf = [0u8; 64];
    for i in 0..5 {
        let n = client.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &payload(i, 20)[..]);
    }
}

#[test]
fn a_panic_in_the_callback_resumes_after_dispatch() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new().batch_size(16)).unwrap();
    fill(&sock, 3);
    assert!(sock.wait(Some(PATIENCE)).unwrap());
    let mut calls = 0;
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        sock.dispatch(16, |batch| {
            calls += 1;
            assert_eq!(batch[0].data(), &payload(0, 32)[..]);
            panic!("boom in the callback");
        })
    }));
    let payload_msg = result.expect_err("the panic resumes in the caller");
    let msg = payload_msg
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload_msg.downcast_ref::<String>().cloned())
        .unwrap();
    assert_eq!(msg, "boom in the callback");
    assert_eq!(calls, 1, "not called again after panicking");

    // The socket is intact afterwards: new datagrams arrive, through both
    // dispatch and recv.
    let me = sock.local_addr().unwrap();
    send_all(&sock, &[OutgoingDatagram::to(&b"after the panic"[..], me)]);
    let mut seen = Vec::new();
    while !seen.iter().any(|p: &Vec<u8>| p == b"after the panic") {
        let n = sock
            .dispatch(16, |b| seen.extend(b.iter().map(|d| d.data().to_vec())))
            .unwrap();
        if n == 0 {
            assert!(sock.wait(Some(PATIENCE)).unwrap());
        }
    }
    send_all(&sock, &[OutgoingDatagram::to(&b"recv too"[..], me)]);
    assert_eq!(recv_n(&mut sock, 1)[0].0, b"recv too");
}

#[test]
fn a_panic_with_a_non_string_payload() {
    #[derive(Debug, PartialEq)]
    struct Custom(u32);
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    fill(&sock, 1);
    assert!(sock.wait(Some(PATIENCE)).unwrap());
    let err = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = sock.dispatch(1, |_| panic::panic_any(Custom(7)));
    }))
    .unwrap_err();
    assert_eq!(err.downcast_ref::<Custom>(), Some(&Custom(7)));
}
