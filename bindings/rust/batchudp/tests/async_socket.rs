//! AsyncSocket on tokio (the `tokio` feature): the echo of 10,000
//! datagrams written the natural async way, batched end to end, on one
//! thread and on two; shutdowns from other threads and tasks waking the
//! waiters; the registrations and the inner socket.
//!
//! Waiting for room in a full send buffer is tested in the crate's unit
//! tests (a UDP socket's buffer never fills on loopback).
#![cfg(feature = "tokio")]

mod common;

use batchudp::{AsyncSocket, Options, OutgoingDatagram, Socket, Stats};
use common::*;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::timeout;

fn echo_options() -> Options {
    Options::new()
        .batch_size(ECHO_WINDOW)
        .recv_buffer(ECHO_RECV_BUFFER)
        .pktinfo(true)
}

/// The server of the echo: receive a batch, send it back, until
/// `count` datagrams were echoed; returns its counters.
async fn echo_server(mut server: AsyncSocket, count: usize) -> io::Result<Stats> {
    // The replies borrow the batch, which borrows `server`: they go out
    // through a sender.
    let tx = server.sender();
    let mut echoed = 0;
    while echoed < count {
        let batch = server.recv().await?;
        let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
        tx.send_all(&replies).await?;
        echoed += replies.len();
    }
    Ok(server.stats())
}

/// The client: sends `ECHO_COUNT` datagrams, at most `ECHO_IN_FLIGHT` at a
/// time in windows, and checks each echo for content and order.
async fn echo_client(mut client: AsyncSocket, server: SocketAddr) -> io::Result<Stats> {
    let payloads: Vec<Vec<u8>> = (0..ECHO_COUNT).map(echo_payload).collect();
    let datagrams: Vec<OutgoingDatagram> = payloads
        .iter()
        .map(|p| OutgoingDatagram::to(&p[..], server))
        .collect();
    let (mut sent, mut received) = (0, 0);
    while received < ECHO_COUNT {
        while sent < ECHO_COUNT && sent - received <= ECHO_IN_FLIGHT - ECHO_WINDOW {
            let end = (sent + ECHO_WINDOW).min(ECHO_COUNT);
            client.send_all(&datagrams[sent..end]).await?;
            sent = end;
        }
        for d in &client.recv().await? {
            assert_eq!(d.peer(), server);
            assert_eq!(
                d.data(),
                &payloads[received][..],
                "echo {received}: content and order"
            );
            received += 1;
        }
    }
    Ok(client.stats())
}

/// Server and client as tasks of one thread, inline mode (one fd for
/// readability and writability).
#[tokio::test]
async fn echo_10000_datagrams_on_one_thread() {
    let server = AsyncSocket::new(Socket::bind("127.0.0.1:0", echo_options()).unwrap()).unwrap();
    let client = AsyncSocket::new(Socket::bind("127.0.0.1:0", echo_options()).unwrap()).unwrap();
    let addr = server.local_addr().unwrap();
    let server = tokio::spawn(echo_server(server, ECHO_COUNT));
    let client = timeout(4 * PATIENCE, echo_client(client, addr))
        .await
        .expect("the echo hung")
        .unwrap();
    check_echo("async, one thread", server.await.unwrap().unwrap(), client);
}

/// Server and client on two worker threads; the server socket in
/// threaded mode (two fds: the notify fd for readability, the UDP socket
/// for writability), which keeps its batches large while the server task
/// sends (see the blocking echo).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_10000_datagrams_on_two_threads() {
    let Some(server) = bind_or_skip(
        "127.0.0.1:0",
        echo_options().threaded(true),
        "threaded mode",
    ) else {
        return;
    };
    let server = AsyncSocket::new(server).unwrap();
    let client = AsyncSocket::new(Socket::bind("127.0.0.1:0", echo_options()).unwrap()).unwrap();
    let addr = server.local_addr().unwrap();
    let server = tokio::spawn(echo_server(server, ECHO_COUNT));
    let client = tokio::spawn(timeout(4 * PATIENCE, echo_client(client, addr)));
    let client = client.await.unwrap().expect("the echo hung").unwrap();
    check_echo("async, two threads", server.await.unwrap().unwrap(), client);
}

/// A shutdown through a blocking `Sender` on another OS thread wakes a
/// task waiting in recv, in both modes: inline the fd does not change
/// with it, only the socket's own signal wakes the task.
#[tokio::test]
async fn a_shutdown_from_another_thread_wakes_recv() {
    for threaded in [false, true] {
        let options = Options::new().threaded(threaded);
        let Some(sock) = bind_or_skip("127.0.0.1:0", options, "threaded mode") else {
            continue;
        };
        let mut sock = AsyncSocket::new(sock).unwrap();
        let stopper = sock.get_ref().sender();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            stopper.shutdown();
        });
        let r = timeout(PATIENCE, sock.recv())
            .await
            .expect("recv still waiting after the shutdown")
            .map(|b| b.len());
        assert_eq!(
            r.unwrap_err().raw_os_error(),
            Some(errno::EBADF),
            "threaded {threaded}"
        );
        thread.join().unwrap();
        // And every later call, at once.
        let e = sock.recv().await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(errno::EBADF));
        let to = sock.local_addr();
        assert_eq!(to.unwrap_err().raw_os_error(), Some(errno::EBADF));
    }
}

/// A shutdown through an AsyncSender, from another task, wakes recv; sends
/// fail with the closed error afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_from_another_task_wakes_recv_and_stops_sends() {
    let mut sock = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new()).unwrap()).unwrap();
    let me = sock.local_addr().unwrap();
    let tx = sock.sender();
    let stopper = tx.clone();
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        stopper.shutdown();
    });
    let e = timeout(PATIENCE, sock.recv())
        .await
        .expect("recv still waiting")
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(errno::EBADF));
    task.await.unwrap();
    let d = [OutgoingDatagram::to(&b"after"[..], me)];
    assert_eq!(
        tx.send(&d).await.unwrap_err().raw_os_error(),
        Some(errno::EBADF)
    );
    assert_eq!(
        tx.send_all(&d).await.unwrap_err().raw_os_error(),
        Some(errno::EBADF)
    );
    assert_eq!(
        sock.send(&d).await.unwrap_err().raw_os_error(),
        Some(errno::EBADF)
    );
}

/// The futures are Send: the server runs under tokio::spawn on a
/// multi-threaded runtime (a compile-time check as much as a run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_moves_between_worker_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let mut sock = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new()).unwrap()).unwrap();
    let me = sock.local_addr().unwrap();
    assert_send(&sock.recv());
    assert_send(&sock.send(&[]));
    assert_send(&sock.sender().send_all(&[]));
    let receiver = tokio::spawn(async move {
        let batch = sock.recv().await?;
        Ok::<_, io::Error>(batch[0].data().to_vec())
    });
    let client = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new()).unwrap()).unwrap();
    client
        .send_all(&[OutgoingDatagram::to(&b"moved"[..], me)])
        .await
        .unwrap();
    let got = timeout(PATIENCE, receiver)
        .await
        .expect("hung")
        .unwrap()
        .unwrap();
    assert_eq!(got, b"moved");
}

/// A callback-thread socket has nothing to poll: refused with ENOTSUP.
#[tokio::test]
async fn a_callback_thread_socket_is_refused() {
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(sock) = bind_or_skip("127.0.0.1:0", options, "callback-thread mode") else {
        return;
    };
    let e = AsyncSocket::new(sock).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(errno::ENOTSUP));
}

/// into_inner takes the fds off the reactor: the socket can be put on it
/// again (a second registration of a registered fd fails with EEXIST).
#[tokio::test]
async fn into_inner_gives_the_fds_back() {
    for threaded in [false, true] {
        let options = Options::new().threaded(threaded);
        let Some(sock) = bind_or_skip("127.0.0.1:0", options, "threaded mode") else {
            continue;
        };
        let sock = AsyncSocket::new(sock).unwrap();
        let sock = sock.into_inner();
        let mut sock = AsyncSocket::new(sock).expect("registered again");
        let me = sock.local_addr().unwrap();
        sock.send_all(&[OutgoingDatagram::to(&b"again"[..], me)])
            .await
            .unwrap();
        let batch = timeout(PATIENCE, sock.recv()).await.expect("hung").unwrap();
        assert_eq!(batch[0].data(), b"again");
    }
}

/// Datagrams the library holds without the poll fd being readable (the
/// rest of a batch received through get_mut) come with the next recv,
/// without waiting for more traffic.
#[tokio::test]
async fn what_the_library_holds_comes_without_waiting() {
    let sock = Socket::bind("127.0.0.1:0", Options::new().batch_size(4)).unwrap();
    let mut sock = AsyncSocket::new(sock).unwrap();
    let me = sock.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..3).map(|i| payload(i, 1000)).collect();
    let datagrams: Vec<OutgoingDatagram> = payloads
        .iter()
        .map(|p| OutgoingDatagram::to(&p[..], me))
        .collect();
    sock.send_all(&datagrams).await.unwrap();
    // One through the inner socket; with GRO the other two may now be held
    // by the library, not the kernel.
    let first = loop {
        let batch = sock.get_mut().recv_max(1).unwrap();
        if let Some(d) = batch.first() {
            break d.data().to_vec();
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(first, payloads[0]);
    let mut rest = Vec::new();
    while rest.len() < 2 {
        let batch = timeout(PATIENCE, sock.recv())
            .await
            .expect("held datagrams not handed out")
            .unwrap();
        rest.extend(batch.iter().map(|d| d.data().to_vec()));
    }
    assert_eq!(rest, payloads[1..]);
}

/// The sender outlives the socket: its registration and the fd stay until
/// it goes, and it still sends.
#[tokio::test]
async fn a_sender_outlives_the_socket() {
    let receiver = Socket::bind("127.0.0.1:0", Options::new()).unwrap();
    let to = receiver.local_addr().unwrap();
    let mut receiver = AsyncSocket::new(receiver).unwrap();
    let tx = {
        let sock = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new()).unwrap()).unwrap();
        sock.sender()
    };
    tx.send_all(&[OutgoingDatagram::to(&b"orphan"[..], to)])
        .await
        .unwrap();
    let batch = timeout(PATIENCE, receiver.recv())
        .await
        .expect("hung")
        .unwrap();
    assert_eq!(batch[0].data(), b"orphan");
    assert_eq!(tx.stats().tx_datagrams, 1);
}

/// Error events on an AsyncSocket, inline and threaded: an event does not
/// disturb the next `recv`, and `recv_errors` reads it.
#[tokio::test]
async fn error_events_beside_recv() {
    use batchudp::ErrorEvent;
    for threaded in [false, true] {
        let closed = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let options = Options::new().errors(true).threaded(threaded);
        let Some(sock) = bind_or_skip("127.0.0.1:0", options, "errors") else {
            return;
        };
        let mut sock = AsyncSocket::new(sock).unwrap();
        let me = sock.local_addr().unwrap();
        sock.send(&[OutgoingDatagram::to(&b"lost"[..], closed)])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        sock.send(&[OutgoingDatagram::to(&b"self"[..], me)])
            .await
            .unwrap();
        let batch = timeout(PATIENCE, sock.recv()).await.unwrap().unwrap();
        assert_eq!(batch[0].data(), b"self");
        let _ = batch;
        let mut events = [ErrorEvent::default(); 4];
        let mut n = 0;
        for _ in 0..500 {
            n = sock.recv_errors(&mut events).unwrap();
            if n > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(n, 1, "threaded {threaded}");
        assert_eq!(events[0].destination, closed);
        assert_eq!(events[0].errno, errno::ECONNREFUSED);
        assert_eq!(sock.stats().error_events, 1);
    }
}

/// The members of a socket group, each an `AsyncSocket` on a task of its
/// own: key steering sends key k to member k mod 3, and each task echoes
/// what reaches it.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_members_as_tasks() {
    use batchudp::{Group, Steering};
    const KEYS: u8 = 30;
    let options = Options::new().steering(Steering::Key {
        offset: 0,
        length: 1,
    });
    let mut group = Group::bind("127.0.0.1:0", 3, options).unwrap();
    let to = group.local_addr();
    let tasks: Vec<_> = group
        .take_members()
        .into_iter()
        .map(|(i, sock)| {
            let mut sock = AsyncSocket::new(sock).unwrap();
            tokio::spawn(async move {
                let tx = sock.sender();
                let mut echoed = 0;
                while echoed < usize::from(KEYS) / 3 {
                    let batch = sock.recv().await?;
                    for d in &batch {
                        assert_eq!(usize::from(d.data()[0]) % 3, i, "member {i}");
                    }
                    let replies: Vec<OutgoingDatagram> =
                        batch.iter().map(OutgoingDatagram::reply).collect();
                    tx.send_all(&replies).await?;
                    echoed += replies.len();
                }
                io::Result::Ok(echoed)
            })
        })
        .collect();
    let mut client =
        AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new()).unwrap()).unwrap();
    // One datagram per send call: a GSO send is steered as one packet.
    for k in 0..KEYS {
        client
            .send_all(&[OutgoingDatagram::to(vec![k], to)])
            .await
            .unwrap();
    }
    let mut echoes = Vec::new();
    while echoes.len() < usize::from(KEYS) {
        let batch = timeout(PATIENCE, client.recv()).await.unwrap().unwrap();
        for d in &batch {
            assert_eq!(d.peer(), to);
            echoes.push(d.data()[0]);
        }
    }
    echoes.sort_unstable();
    assert_eq!(echoes, (0..KEYS).collect::<Vec<_>>());
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), usize::from(KEYS) / 3);
    }
    assert_eq!(group.dropped(), 0);
}
