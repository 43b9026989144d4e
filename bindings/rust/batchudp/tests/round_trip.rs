//! Datagrams through real loopback sockets: IPv4, IPv6, bursts larger than
//! a batch, GSO/GRO, truncation, packet info, ECN, wrapped fds, senders on
//! other threads.

mod common;

use batchudp::{Backend, Options, OutgoingDatagram, Socket};
use common::*;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Instant;

fn round_trip(addr: &str) -> Option<()> {
    let mut server = match Socket::bind(addr, Options::new()) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(errno::EADDRNOTAVAIL) | Some(errno::EAFNOSUPPORT)
            ) =>
        {
            skip(&format!("{addr} not available here: {e}"));
            return None;
        }
        Err(e) => panic!("bind {addr}: {e}"),
    };
    let client = Socket::bind(addr, Options::new()).expect("bind client");
    let to = server.local_addr().unwrap();
    assert_eq!(to.ip(), addr.parse::<SocketAddr>().unwrap().ip());
    let payloads = [&b"first"[..], b"", b"third, a bit longer"];
    let datagrams: Vec<OutgoingDatagram> = payloads
        .iter()
        .map(|p| OutgoingDatagram::to(*p, to))
        .collect();
    send_all(&client, &datagrams);
    let got = recv_n(&mut server, 3);
    for (i, (data, peer, truncated)) in got.iter().enumerate() {
        assert_eq!(&data[..], payloads[i], "datagram {i}");
        assert_eq!(*peer, client.local_addr().unwrap());
        assert!(!truncated);
    }
    let (rx, tx) = (server.stats(), client.stats());
    assert_eq!(rx.rx_datagrams, 3);
    assert_eq!(
        rx.rx_bytes,
        payloads.iter().map(|p| p.len() as u64).sum::<u64>()
    );
    assert_eq!(tx.tx_datagrams, 3);
    Some(())
}

#[test]
fn round_trip_ipv4() {
    round_trip("127.0.0.1:0").expect("IPv4 loopback is always there");
}

#[test]
fn round_trip_ipv6() {
    round_trip("[::1]:0");
}

#[test]
fn burst_bigger_than_the_batch_from_std() {
    let mut server = Socket::bind("127.0.0.1:0", Options::new().batch_size(4)).unwrap();
    assert_eq!(server.batch_size(), 4);
    let to = server.local_addr().unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    const N: usize = 100;
    for i in 0..N {
        client.send_to(&payload(i, 40 + i), to).unwrap();
    }
    let got = recv_n(&mut server, N);
    for (i, (data, peer, _)) in got.iter().enumerate() {
        assert_eq!(data, &payload(i, 40 + i), "datagram {i} in order");
        assert_eq!(*peer, client.local_addr().unwrap());
    }
    assert!(server.stats().rx_syscalls >= (N / 4) as u64);
}

/// Equal-size datagrams to one destination: GSO on send and GRO on receive
/// where the kernel has them; the receiver must see the same datagrams.
#[test]
fn burst_of_equal_sizes_through_both_sides() {
    for (gro, gso) in [(true, true), (false, false), (true, false), (false, true)] {
        let mut server =
            Socket::bind("127.0.0.1:0", Options::new().batch_size(8).gro(gro)).unwrap();
        let client = Socket::bind("127.0.0.1:0", Options::new().batch_size(64).gso(gso)).unwrap();
        let to = server.local_addr().unwrap();
        const N: usize = 200;
        let payloads: Vec<Vec<u8>> = (0..N).map(|i| payload(i, 1200)).collect();
        let datagrams: Vec<OutgoingDatagram> = payloads
            .iter()
            .map(|p| OutgoingDatagram::to(&p[..], to))
            .collect();
        // Rounds of 40 (48 KB) so the kernel's default receive buffer
        // always has room: a drop there would not be the library's.
        let mut got = Vec::new();
        for round in datagrams.chunks(40) {
            send_all(&client, round);
            got.extend(recv_n(&mut server, round.len()));
        }
        for (i, (data, _, truncated)) in got.iter().enumerate() {
            assert_eq!(data, &payloads[i], "gro={gro} gso={gso}: datagram {i}");
            assert!(!truncated);
        }
        let rx = server.stats();
        let tx = client.stats();
        assert_eq!(tx.tx_datagrams, N as u64);
        assert_eq!(rx.rx_datagrams, N as u64);
        println!(
            "gro={gro} gso={gso}: {} send calls ({} GSO), {} receive calls ({} GRO), backend {}",
            tx.tx_syscalls,
            tx.tx_coalesced,
            rx.rx_syscalls,
            rx.rx_coalesced,
            server.backend_name()
        );
    }
}

#[test]
fn truncation_is_flagged_and_counted() {
    for gro in [true, false] {
        let mut sock =
            Socket::bind("127.0.0.1:0", Options::new().max_datagram(64).gro(gro)).unwrap();
        let me = sock.local_addr().unwrap();
        let long = payload(1, 300);
        let exact = payload(2, 64);
        send_all(
            &sock,
            &[
                OutgoingDatagram::to(&long[..], me),
                OutgoingDatagram::to(&exact[..], me),
            ],
        );
        let got = recv_n(&mut sock, 2);
        assert_eq!(got[0].0, long[..64], "gro={gro}: the first 64 bytes kept");
        assert!(got[0].2, "gro={gro}: truncated flag");
        assert_eq!(got[1].0, exact, "gro={gro}");
        assert!(
            !got[1].2,
            "gro={gro}: a datagram of exactly max_datagram is whole"
        );
        assert_eq!(sock.stats().rx_truncated, 1, "gro={gro}");
    }
}

#[test]
fn pktinfo_reports_the_destination() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new().pktinfo(true)).unwrap();
    let me = sock.local_addr().unwrap();
    send_all(&sock, &[OutgoingDatagram::to(&b"x"[..], me)]);
    sock.wait(Some(PATIENCE)).unwrap();
    let batch = sock.recv().unwrap();
    assert_eq!(batch[0].local().map(|a| a.ip()), Some(me.ip()));

    // Without the option there is no local address.
    let mut plain = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = plain.local_addr().unwrap();
    send_all(&plain, &[OutgoingDatagram::to(&b"x"[..], to)]);
    plain.wait(Some(PATIENCE)).unwrap();
    assert_eq!(plain.recv().unwrap()[0].local(), None);
}

#[test]
fn reply_from_the_received_destination() {
    // OutgoingDatagram::reply carries the pktinfo address as source.
    let mut server = Socket::bind("127.0.0.1:0", Options::new().pktinfo(true)).unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client
        .send_to(b"ping", server.local_addr().unwrap())
        .unwrap();
    server.wait(Some(PATIENCE)).unwrap();
    let batch = server.recv().unwrap();
    let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
    assert!(replies[0].local().is_some());
    assert_eq!(batch.socket().send(&replies).unwrap(), 1);
    let mut buf = [0u8; 16];
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from, server.local_addr().unwrap());
}

#[test]
fn ecn_codepoints_round_trip() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new().ecn(true)).unwrap();
    let me = sock.local_addr().unwrap();
    let datagrams: Vec<OutgoingDatagram> = (0..4u8)
        .map(|e| OutgoingDatagram::to(vec![e; 10], me).with_ecn(e))
        .collect();
    send_all(&sock, &datagrams);
    let mut seen = Vec::new();
    while seen.len() < 4 {
        assert!(sock.wait(Some(PATIENCE)).unwrap());
        for d in &sock.recv().unwrap() {
            seen.push((d.data()[0], d.ecn()));
        }
    }
    for (e, ecn) in seen {
        assert_eq!(ecn, Some(e), "ECN codepoint {e}");
    }
}

#[test]
fn backends_can_be_chosen() {
    let mut names = vec![("loop", Backend::Loop)];
    if cfg!(any(target_os = "linux", target_os = "freebsd")) {
        names.push(("mmsg", Backend::Mmsg));
    }
    for (name, backend) in names {
        let mut sock = Socket::bind("127.0.0.1:0", Options::new().backend(backend)).unwrap();
        assert_eq!(sock.backend_name(), name);
        let reason = sock.backend_reason();
        assert!(reason.starts_with(&format!("{name}: ")), "{reason}");
        assert!(reason.contains("asked for"), "{reason}");
        let me = sock.local_addr().unwrap();
        let datagrams: Vec<OutgoingDatagram> = (0..10)
            .map(|i| OutgoingDatagram::to(payload(i, 30), me))
            .collect();
        send_all(&sock, &datagrams);
        let got = recv_n(&mut sock, 10);
        assert_eq!(got[9].0, payload(9, 30), "backend {name}");
    }
    let auto = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    assert!(["mmsg", "msgx", "loop"].contains(&auto.backend_name()));
    let reason = auto.backend_reason();
    assert!(
        reason.starts_with(&format!("{}: ", auto.backend_name())) && reason.len() > 6,
        "{reason}"
    );
    assert_eq!(auto.sender().backend_reason(), reason);
    // Only Apple's sendmsg_x leaves sends unconfirmed.
    auto.send_all(&[OutgoingDatagram::to(&b"x"[..], auto.local_addr().unwrap())])
        .unwrap();
    assert_eq!(auto.stats().tx_unconfirmed, 0);
}

#[test]
fn connected_socket_sends_without_destination() {
    let mut a = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let mut b = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    send_all(&a, &[OutgoingDatagram::connected(&b"to b"[..])]);
    let got = recv_n(&mut b, 1);
    assert_eq!(got[0].0, b"to b");
    assert_eq!(got[0].1, a.local_addr().unwrap());

    // Only the connected peer's datagrams arrive at a.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    stranger
        .send_to(b"stranger", a.local_addr().unwrap())
        .unwrap();
    send_all(
        &b,
        &[OutgoingDatagram::to(
            &b"from b"[..],
            a.local_addr().unwrap(),
        )],
    );
    let got = recv_n(&mut a, 1);
    assert_eq!(got[0].0, b"from b");
}

#[test]
fn wraps_a_caller_fd_without_closing_it() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    {
        // SAFETY: `udp` outlives the socket.
        let mut sock = unsafe { Socket::from_raw_fd(udp.as_raw_fd(), Options::new()) }.unwrap();
        assert_eq!(sock.local_addr().unwrap(), addr);
        assert_eq!(sock.socket_fd().as_raw_fd(), udp.as_raw_fd());
        assert_eq!(sock.as_raw_fd(), udp.as_raw_fd());
        send_all(&sock, &[OutgoingDatagram::to(&b"self"[..], addr)]);
        assert_eq!(recv_n(&mut sock, 1)[0].0, b"self");
    }
    // Still open and usable after the Socket is gone.
    udp.send_to(b"still open", addr).unwrap();
    let mut buf = [0u8; 32];
    udp.set_read_timeout(Some(PATIENCE)).unwrap();
    let n = udp.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"still open");
}

#[test]
fn takes_ownership_of_a_std_socket() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    let mut sock = Socket::from_udp_socket(udp, Options::new().batch_size(2)).unwrap();
    assert_eq!(sock.local_addr().unwrap(), addr);
    let datagrams: Vec<OutgoingDatagram> = (0..5)
        .map(|i| OutgoingDatagram::to(payload(i, 20), addr))
        .collect();
    send_all(&sock, &datagrams);
    assert_eq!(recv_n(&mut sock, 5).len(), 5);
}

#[test]
fn poll_fd_is_the_socket_inline() {
    let sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    assert_eq!(sock.as_raw_fd(), sock.socket_fd().as_raw_fd());
    assert_eq!(
        sock.as_fd().as_raw_fd(),
        sock.poll_fd().unwrap().as_raw_fd()
    );
    assert!(format!("{sock:?}").contains("127.0.0.1"));
}

#[test]
fn sender_on_another_thread_while_receiving() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Socket>();
    assert_send_sync::<batchudp::Sender>();
    assert_send_sync::<batchudp::Datagram<'static>>();
    assert_send_sync::<OutgoingDatagram<'static>>();

    let mut sock = Socket::bind("127.0.0.1:0", Options::new().batch_size(16)).unwrap();
    let me = sock.local_addr().unwrap();
    const N: usize = 300;
    // Flow control: at most 64 datagrams in flight, so that the kernel's
    // receive buffer never overflows however the threads are scheduled.
    let sent = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..3)
        .map(|t| {
            let tx = sock.sender();
            let (sent, received) = (Arc::clone(&sent), Arc::clone(&received));
            std::thread::spawn(move || {
                let deadline = Instant::now() + PATIENCE;
                for i in 0..N / 3 {
                    while sent.load(SeqCst) >= received.load(SeqCst) + 64 {
                        assert!(Instant::now() < deadline, "receiver stalled");
                        std::thread::yield_now();
                    }
                    sent.fetch_add(1, SeqCst);
                    let d = [OutgoingDatagram::to(payload(t * 1000 + i, 50), me)];
                    loop {
                        match tx.send(&d) {
                            Ok(1) => break,
                            Ok(_) => continue,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                std::thread::yield_now()
                            }
                            Err(e) => panic!("send: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    let mut got = Vec::new();
    while got.len() < N {
        let batch = sock.recv().unwrap();
        if batch.is_empty() {
            assert!(
                sock.wait(Some(PATIENCE)).unwrap(),
                "stalled at {}: {:?}",
                got.len(),
                sock.stats()
            );
            continue;
        }
        got.extend(
            batch
                .iter()
                .map(|d| (d.data().to_vec(), d.peer(), d.truncated())),
        );
        received.store(got.len(), SeqCst);
    }
    for t in senders {
        t.join().unwrap();
    }
    // Each thread's datagrams arrive whole and in that thread's order.
    let mut next = [0usize; 3];
    for (data, _, _) in &got {
        let n: usize = std::str::from_utf8(&data[9..15]).unwrap().parse().unwrap();
        let (t, i) = (n / 1000, n % 1000);
        assert_eq!(i, next[t], "thread {t} order");
        assert_eq!(data, &payload(n, 50));
        next[t] += 1;
    }
    assert_eq!(next, [N / 3; 3]);
    assert_eq!(sock.stats().tx_datagrams, N as u64);
}

#[test]
fn socket_moves_to_another_thread() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let me = sock.local_addr().unwrap();
    send_all(&sock, &[OutgoingDatagram::to(&b"moved"[..], me)]);
    let got = std::thread::spawn(move || recv_n(&mut sock, 1))
        .join()
        .unwrap();
    assert_eq!(got[0].0, b"moved");
}

#[test]
fn a_batch_can_be_shared_with_scoped_threads() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let me = sock.local_addr().unwrap();
    let datagrams: Vec<OutgoingDatagram> = (0..8)
        .map(|i| OutgoingDatagram::to(vec![1u8; i + 1], me))
        .collect();
    send_all(&sock, &datagrams);
    let mut total = 0;
    while total < (1..=8).sum::<usize>() {
        assert!(sock.wait(Some(PATIENCE)).unwrap());
        let batch = sock.recv().unwrap();
        let (left, right) = batch.split_at(batch.len() / 2);
        total += std::thread::scope(|s| {
            let a = s.spawn(|| left.iter().map(|d| d.data().len()).sum::<usize>());
            let b = s.spawn(|| right.iter().map(|d| d.data().len()).sum::<usize>());
            a.join().unwrap() + b.join().unwrap()
        });
    }
    assert_eq!(total, 36);
}

/// The names before 0.2 still compile (deprecated) and mean the new ones.
#[test]
#[allow(deprecated)]
fn the_former_names_are_aliases() {
    let mut sock = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let me = sock.local_addr().unwrap();
    let d = OutgoingDatagram::to(&b"old"[..], me).with_source(me);
    assert_eq!((d.payload(), d.source()), (d.data(), d.local()));
    send_all(&sock, &[OutgoingDatagram::to(&b"old"[..], me)]);
    let batch: batchudp::Batch = sock.recv_timeout(PATIENCE).unwrap();
    let first: &batchudp::RecvDatagram = &batch[0];
    assert_eq!(first.data(), b"old");
}
