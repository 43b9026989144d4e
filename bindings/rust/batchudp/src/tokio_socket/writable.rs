//! The loop of an async send: try, and while the send buffer is full wait
//! for the fd's writability (or the socket's shutdown), never spinning;
//! while the interface's queue is full (`ENOBUFS`, which writability does
//! not report clearing), sleep a little longer each time (see `backoff`).

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;

use tokio::io::unix::AsyncFd;
use tokio::sync::futures::Notified;

use super::ready::{closed_error, ready_or_closed, Woken};
use crate::backoff::{is_no_buffer_space, Backoff};

/// Calls `attempt` (a non-blocking send returning how many went) when `fd`
/// is writable, until it sends something or fails with another error than
/// a full buffer or a full interface queue; returns its count.  `closed`
/// completes at the socket's shutdown, which ends a wait or a sleep with
/// the closed error.  The sleeps use tokio's timer: the runtime needs its
/// time driver (`#[tokio::main]` and `Builder::enable_all` turn it on).
///
/// Generic over the fd and the send so that it can be tested with a send
/// buffer or an interface queue that fills up, which a UDP socket on
/// loopback never does.
pub(super) async fn send_when_writable<T: AsRawFd>(
    fd: &AsyncFd<T>,
    mut closed: Pin<&mut Notified<'_>>,
    mut attempt: impl FnMut() -> io::Result<usize>,
) -> io::Result<usize> {
    let mut backoff = Backoff::new();
    loop {
        // tokio's writability guard, taken before the attempt: clearing it
        // after a refusal forgets that readiness only, not one that came
        // during the attempt (no wake-up lost).
        let mut guard = match ready_or_closed(fd.writable(), closed.as_mut()).await? {
            Woken::Ready(guard) => guard,
            Woken::Closed => return Err(closed_error()),
        };
        match attempt() {
            Ok(n) if n > 0 => return Ok(n),
            // A full buffer (or nothing taken): wait for the next
            // writability.
            Ok(_) => guard.clear_ready(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
            // Nothing went, and the fd stays writable: sleep, then try
            // the same datagrams again.
            Err(e) if is_no_buffer_space(&e) => {
                drop(guard);
                let sleep = async {
                    tokio::time::sleep(backoff.next_delay()).await;
                    Ok(())
                };
                if let Woken::Closed = ready_or_closed(sleep, closed.as_mut()).await? {
                    return Err(closed_error());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::os::unix::net::UnixDatagram;
    use std::pin::pin;
    use std::sync::Arc;
    use tokio::io::Interest;
    use tokio::sync::Notify;

    /// A datagram socket whose writability tokio has seen (so that there
    /// is a readiness the loop must clear, not loop on), then filled (its
    /// peer reads nothing), and that peer.
    async fn full_pair() -> (AsyncFd<UnixDatagram>, UnixDatagram) {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let a = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
        a.writable().await.unwrap().retain_ready();
        while a.get_ref().send(&[0u8; 512]).is_ok() {}
        (a, b)
    }

    fn drain(b: &UnixDatagram) {
        let mut buf = [0u8; 512];
        while b.recv(&mut buf).is_ok() {}
    }

    #[tokio::test]
    async fn waits_for_room_without_spinning() {
        let (fd, b) = full_pair().await;
        let notify = Notify::new();
        let closed = pin!(notify.notified());
        let attempts = Cell::new(0);
        let send = send_when_writable(&fd, closed, || {
            attempts.set(attempts.get() + 1);
            fd.get_ref().send(b"x")
        });
        let mut send = pin!(send);
        // Let it run until it waits: the other task yields many times, and
        // a spinning send would try at each.
        tokio::select! {
            _ = send.as_mut() => panic!("sent into a full buffer"),
            _ = async { for _ in 0..100 { tokio::task::yield_now().await } } => {}
        }
        assert!(
            attempts.get() <= 2,
            "{} attempts while full",
            attempts.get()
        );
        drain(&b);
        assert_eq!(send.await.unwrap(), 1);
        assert!(attempts.get() <= 3, "{} attempts in all", attempts.get());
    }

    #[tokio::test]
    async fn a_shutdown_ends_the_wait_with_ebadf() {
        let (fd, _b) = full_pair().await;
        let notify = Arc::new(Notify::new());
        let closed = notify.notified();
        let waker = Arc::clone(&notify);
        tokio::spawn(async move { waker.notify_waiters() });
        let e = send_when_writable(&fd, pin!(closed), || fd.get_ref().send(b"x"))
            .await
            .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(9));
    }

    fn enobufs() -> io::Error {
        io::Error::from_raw_os_error(crate::backoff::ENOBUFS)
    }

    #[tokio::test]
    async fn a_full_interface_queue_is_slept_out_and_the_send_tried_again() {
        // A socket with room: writability says nothing about the queue.
        let (a, b) = UnixDatagram::pair().unwrap();
        let fd = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
        let notify = Notify::new();
        let closed = pin!(notify.notified());
        let attempts = Cell::new(0);
        let started = tokio::time::Instant::now();
        let n = send_when_writable(&fd, closed, || {
            attempts.set(attempts.get() + 1);
            if attempts.get() <= 3 {
                return Err(enobufs());
            }
            fd.get_ref().send(b"once").map(|_| 1)
        })
        .await
        .unwrap();
        assert_eq!((n, attempts.get()), (1, 4));
        // Slept 1, 2 and 4 ms between the tries.
        assert!(started.elapsed() >= std::time::Duration::from_millis(7));
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf).unwrap(), 4, "sent once");
        b.set_nonblocking(true).unwrap();
        assert!(b.recv(&mut buf).is_err(), "and only once");
    }

    #[tokio::test]
    async fn a_shutdown_ends_the_sleep_with_ebadf() {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let fd = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
        let notify = Arc::new(Notify::new());
        let closed = notify.notified();
        let waker = Arc::clone(&notify);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waker.notify_waiters()
        });
        let attempts = Cell::new(0);
        let e = send_when_writable(&fd, pin!(closed), || {
            attempts.set(attempts.get() + 1);
            Err(enobufs())
        })
        .await
        .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(9));
        // Sleeps of up to 16 ms in 50 ms: a handful of tries, no spin.
        assert!((3..=20).contains(&attempts.get()), "{}", attempts.get());
    }

    #[tokio::test]
    async fn dropping_the_future_during_the_sleep_sends_nothing_more() {
        let (a, _b) = UnixDatagram::pair().unwrap();
        let fd = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
        let notify = Notify::new();
        let closed = pin!(notify.notified());
        let attempts = Cell::new(0);
        let send = send_when_writable(&fd, closed, || {
            attempts.set(attempts.get() + 1);
            Err(enobufs())
        });
        let timeout = tokio::time::timeout(std::time::Duration::from_millis(20), send).await;
        assert!(timeout.is_err(), "still refused: cancelled by the timeout");
        let after = attempts.get();
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        assert_eq!(attempts.get(), after);
    }

    #[tokio::test]
    async fn other_errors_are_returned() {
        let (a, b) = UnixDatagram::pair().unwrap();
        drop(b);
        let fd = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
        let notify = Notify::new();
        let closed = pin!(notify.notified());
        let e = send_when_writable(&fd, closed, || fd.get_ref().send(b"x"))
            .await
            .unwrap_err();
        assert_ne!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
