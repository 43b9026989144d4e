//! The loop of the blocking `send_all`: send, and while the send buffer is
//! full wait for the socket to be writable, never spinning; while the
//! interface's queue is full (`ENOBUFS`, which writability does not
//! report clearing), sleep a little longer each time (see `backoff`).

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use super::handle::Inner;
use super::writable::wait_writable;
use crate::backoff::{is_no_buffer_space, Backoff};
use crate::outgoing::OutgoingDatagram;
use crate::partial_send::PartialSend;

/// How long a `send_all` blocked on a full send buffer sleeps before it
/// looks again: a shutdown through another handle does not wake `poll(2)`
/// on the UDP socket (the fd stays open until the last handle goes), so it
/// is noticed at the next try, within this time.  The wake-ups cost one
/// refused send each, and only while the buffer stays full.
const SHUTDOWN_CHECK: Duration = Duration::from_millis(100);

/// The error of a wait that ran out of time.
pub(super) fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("timed out {what}"))
}

/// What `send_all` waits for before it tries again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pause {
    /// The socket's writability, at most this long: a full send buffer
    /// (`EAGAIN`, or a send that took nothing).
    Writable(Duration),
    /// A sleep this long: a full interface queue (`ENOBUFS`).
    Sleep(Duration),
}

impl Inner {
    /// send_all, with a timeout or without (`None`).
    pub(super) fn send_all(
        &self,
        datagrams: &[OutgoingDatagram<'_>],
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        // A timeout too long to represent is no timeout.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        send_all_with(
            datagrams.len(),
            deadline,
            |from| self.send(&datagrams[from..]),
            |pause| match pause {
                Pause::Writable(slice) => wait_writable(self.socket_fd(), slice).map(drop),
                Pause::Sleep(delay) => {
                    thread::sleep(delay);
                    Ok(())
                }
            },
        )
    }
}

/// Sends `count` datagrams: `send(from)` sends from index `from` on and
/// says how many went, `pause(p)` blocks until the socket may take more
/// (or the time passes).  Apart from the socket so that the loop can be
/// tested with a send buffer or an interface queue that fills up, which
/// loopback never does.
fn send_all_with(
    count: usize,
    deadline: Option<Instant>,
    mut send: impl FnMut(usize) -> io::Result<usize>,
    mut pause: impl FnMut(Pause) -> io::Result<()>,
) -> io::Result<()> {
    let mut sent = 0;
    let mut backoff = Backoff::new();
    while sent < count {
        let queue_full = match send(sent) {
            Ok(n) if n > 0 => {
                sent += n;
                backoff.reset();
                continue;
            }
            // Nothing taken (budp_send does not return 0 for a slice that
            // is not empty, but a 0 must not loop): wait as for a full
            // buffer.
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            // Nothing went either: budp_send fails only when the first
            // datagram does, so the next try starts at the same one.
            Err(e) if is_no_buffer_space(&e) => true,
            Err(e) => return Err(PartialSend::error_after(sent, e)),
        };
        let left = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let e = timed_out("waiting for the socket to take the datagrams");
                    return Err(PartialSend::error_after(sent, e));
                }
                Some(left)
            }
        };
        let at_most = |t: Duration| left.map_or(t, |left| left.min(t));
        let p = if queue_full {
            Pause::Sleep(at_most(backoff.next_delay()))
        } else {
            Pause::Writable(at_most(SHUTDOWN_CHECK))
        };
        pause(p).map_err(|e| PartialSend::error_after(sent, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::ENOBUFS;

    /// The same number on every supported system.
    const EINVAL: i32 = 22;

    fn full() -> io::Error {
        io::Error::new(io::ErrorKind::WouldBlock, "full")
    }

    /// What the fake socket does at one send.
    #[derive(Clone, Copy)]
    enum Step {
        /// Takes this many.
        Take(usize),
        /// A full send buffer: `EAGAIN`.
        Full,
        /// A full interface queue: `ENOBUFS`.
        NoBufs,
    }
    use Step::*;

    /// A socket that does `script[i]` at the i-th send, recording the
    /// sends and the pauses.
    struct Fake {
        script: Vec<Step>,
        sends: Vec<usize>,
        pauses: Vec<Pause>,
    }

    impl Fake {
        fn new(script: &[Step]) -> Fake {
            Fake {
                script: script.to_vec(),
                sends: Vec::new(),
                pauses: Vec::new(),
            }
        }

        fn run(&mut self, count: usize, deadline: Option<Instant>) -> io::Result<()> {
            let script = std::mem::take(&mut self.script);
            let sends = &mut self.sends;
            let pauses = &mut self.pauses;
            send_all_with(
                count,
                deadline,
                |from| {
                    sends.push(from);
                    match script.get(sends.len() - 1) {
                        Some(Take(n)) => Ok(*n),
                        Some(Full) => Err(full()),
                        Some(NoBufs) => Err(io::Error::from_raw_os_error(ENOBUFS)),
                        None => panic!("send called more often than scripted"),
                    }
                },
                |p| {
                    pauses.push(p);
                    Ok(())
                },
            )
        }

        fn waits(&self) -> usize {
            self.pauses.len()
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_full_buffer_is_waited_out_once_per_refusal() {
        // 10 datagrams: 4 go, full, full, 6 go.
        let mut f = Fake::new(&[Take(4), Full, Full, Take(6)]);
        f.run(10, None).unwrap();
        assert_eq!(f.sends, [0, 4, 4, 4]);
        assert_eq!(
            f.waits(),
            2,
            "one wait per refused send, none after a send that took some"
        );
        assert_eq!(f.pauses, [Pause::Writable(SHUTDOWN_CHECK); 2]);
    }

    #[test]
    fn a_full_interface_queue_is_slept_out_with_a_growing_sleep() {
        // 10 datagrams: 3 go, ENOBUFS three times, 4 go, ENOBUFS, 3 go.
        let mut f = Fake::new(&[Take(3), NoBufs, NoBufs, NoBufs, Take(4), NoBufs, Take(3)]);
        f.run(10, None).unwrap();
        // Each try starts at the first datagram not sent: none twice.
        assert_eq!(f.sends, [0, 3, 3, 3, 3, 7, 7]);
        // Sleeps, not writability waits (the socket stays writable while
        // the interface's queue is full), doubling, and from 1 ms again
        // after a send that took some.
        use Pause::Sleep;
        assert_eq!(
            f.pauses,
            [Sleep(ms(1)), Sleep(ms(2)), Sleep(ms(4)), Sleep(ms(1))]
        );
    }

    #[test]
    fn the_sleep_stops_growing_at_16_ms() {
        let mut script = vec![NoBufs; 7];
        script.push(Take(1));
        let mut f = Fake::new(&script);
        f.run(1, None).unwrap();
        let slept: Vec<u64> = f
            .pauses
            .iter()
            .map(|p| match p {
                Pause::Sleep(d) => d.as_millis() as u64,
                Pause::Writable(_) => panic!("waited for writability: {p:?}"),
            })
            .collect();
        assert_eq!(slept, [1, 2, 4, 8, 16, 16, 16]);
    }

    #[test]
    fn the_deadline_ends_the_sleeps_with_the_count() {
        let mut f = Fake::new(&[Take(2), NoBufs]);
        let e = f.run(5, Some(Instant::now())).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(PartialSend::of(&e).map(PartialSend::sent), Some(2));
        assert_eq!(f.waits(), 0, "no sleep past the deadline");

        // Each sleep is cut to the time left: together they never pass
        // the deadline (uncut, 1 + 2 + 4 + 8 + 16 ms would).
        let mut pauses = Vec::new();
        let e = send_all_with(
            1,
            Some(Instant::now() + ms(30)),
            |_| Err(io::Error::from_raw_os_error(ENOBUFS)),
            |p| {
                pauses.push(p);
                if let Pause::Sleep(d) = p {
                    std::thread::sleep(d);
                }
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let mut total = Duration::ZERO;
        for p in &pauses {
            match p {
                Pause::Sleep(d) => total += *d,
                Pause::Writable(_) => panic!("waited for writability: {pauses:?}"),
            }
        }
        assert!(total <= ms(30), "{pauses:?}");
    }

    #[test]
    fn a_shutdown_while_sleeping_ends_it_with_the_count() {
        // The next send after the sleep meets the shutdown (EBADF).
        let mut n = 0;
        let e = send_all_with(
            3,
            None,
            |from| {
                n += 1;
                match n {
                    1 => Ok(1),
                    2 => Err(io::Error::from_raw_os_error(ENOBUFS)),
                    _ => {
                        assert_eq!(from, 1);
                        Err(io::Error::from_raw_os_error(9))
                    }
                }
            },
            |_| Ok(()),
        )
        .unwrap_err();
        assert_eq!(PartialSend::of(&e).map(PartialSend::sent), Some(1));
        assert_eq!(PartialSend::of(&e).unwrap().error().raw_os_error(), Some(9));
    }

    #[test]
    fn an_error_after_some_were_sent_says_how_many() {
        let e = send_all_with(
            9,
            None,
            |from| match from {
                0 => Ok(3),
                _ => Err(io::Error::from_raw_os_error(EINVAL)),
            },
            |_| Ok(()),
        )
        .unwrap_err();
        let p = PartialSend::of(&e).expect("a PartialSend");
        assert_eq!(p.sent(), 3);
        assert_eq!(p.error().raw_os_error(), Some(EINVAL));
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("after 3 datagrams were sent"), "{e}");
    }

    #[test]
    fn an_error_before_any_was_sent_is_returned_as_it_is() {
        let e = send_all_with(
            2,
            None,
            |_| Err(io::Error::from_raw_os_error(EINVAL)),
            |_| Ok(()),
        )
        .unwrap_err();
        assert!(PartialSend::of(&e).is_none());
        assert_eq!(e.raw_os_error(), Some(EINVAL));
    }

    #[test]
    fn a_zero_count_is_waited_on_not_looped_on() {
        let mut f = Fake::new(&[Take(0), Take(0), Take(1)]);
        f.run(1, None).unwrap();
        assert_eq!(f.waits(), 2);
    }

    #[test]
    fn the_deadline_ends_the_waits_with_the_count() {
        let past = Instant::now();
        let mut f = Fake::new(&[Take(5), Full]);
        let e = f.run(8, Some(past)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(PartialSend::of(&e).map(PartialSend::sent), Some(5));
        assert_eq!(f.waits(), 0, "no wait past the deadline");
    }

    #[test]
    fn each_wait_is_bounded_so_a_shutdown_is_seen() {
        let mut f = Fake::new(&[Full, Full, Take(1)]);
        f.run(1, Some(Instant::now() + Duration::from_secs(3600)))
            .unwrap();
        assert_eq!(f.pauses, [Pause::Writable(SHUTDOWN_CHECK); 2]);
    }

    #[test]
    fn a_failed_wait_is_returned_with_the_count() {
        let mut calls = 0;
        let e = send_all_with(
            4,
            None,
            |from| {
                // A loop that did not wait would come back here at once.
                calls += 1;
                assert!(calls <= 2, "sent again without waiting");
                if from == 0 {
                    Ok(1)
                } else {
                    Err(full())
                }
            },
            |_| Err(io::Error::from_raw_os_error(EINVAL)),
        )
        .unwrap_err();
        assert_eq!(PartialSend::of(&e).map(PartialSend::sent), Some(1));
        assert_eq!(
            PartialSend::of(&e).unwrap().error().raw_os_error(),
            Some(EINVAL)
        );
    }
}
