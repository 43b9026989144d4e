//! The loop of the blocking `send_all`: send, and while the send buffer is
//! full wait for the socket to be writable, never spinning.

use std::io;
use std::time::{Duration, Instant};

use super::handle::Inner;
use super::writable::wait_writable;
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
            |slice| wait_writable(self.socket_fd(), slice),
        )
    }
}

/// Sends `count` datagrams: `send(from)` sends from index `from` on and
/// says how many went, `wait(at_most)` blocks until the socket may take
/// more (or the time passes).  Apart from the socket so that the loop can
/// be tested with a send buffer that fills up, which loopback never does.
fn send_all_with(
    count: usize,
    deadline: Option<Instant>,
    mut send: impl FnMut(usize) -> io::Result<usize>,
    mut wait: impl FnMut(Duration) -> io::Result<bool>,
) -> io::Result<()> {
    let mut sent = 0;
    while sent < count {
        match send(sent) {
            Ok(n) if n > 0 => {
                sent += n;
                continue;
            }
            // Nothing taken (budp_send does not return 0 for a slice that
            // is not empty, but a 0 must not loop): wait as for a full
            // buffer.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(PartialSend::error_after(sent, e)),
        }
        let slice = match deadline {
            None => SHUTDOWN_CHECK,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let e = timed_out("waiting for the socket to take the datagrams");
                    return Err(PartialSend::error_after(sent, e));
                }
                left.min(SHUTDOWN_CHECK)
            }
        };
        wait(slice).map_err(|e| PartialSend::error_after(sent, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same number on every supported system.
    const EINVAL: i32 = 22;

    fn full() -> io::Error {
        io::Error::new(io::ErrorKind::WouldBlock, "full")
    }

    /// A socket whose buffer takes `script[i]` datagrams at the i-th send
    /// (None: full), recording the sends and the waits.
    struct Fake {
        script: Vec<Option<usize>>,
        sends: Vec<usize>,
        waits: usize,
    }

    impl Fake {
        fn new(script: &[Option<usize>]) -> Fake {
            Fake {
                script: script.to_vec(),
                sends: Vec::new(),
                waits: 0,
            }
        }

        fn run(&mut self, count: usize, deadline: Option<Instant>) -> io::Result<()> {
            let script = std::mem::take(&mut self.script);
            let sends = &mut self.sends;
            let waits = &mut self.waits;
            send_all_with(
                count,
                deadline,
                |from| {
                    sends.push(from);
                    match script.get(sends.len() - 1) {
                        Some(Some(n)) => Ok(*n),
                        Some(None) => Err(full()),
                        None => panic!("send called more often than scripted"),
                    }
                },
                |_| {
                    *waits += 1;
                    Ok(true)
                },
            )
        }
    }

    #[test]
    fn a_full_buffer_is_waited_out_once_per_refusal() {
        // 10 datagrams: 4 go, full, full, 6 go.
        let mut f = Fake::new(&[Some(4), None, None, Some(6)]);
        f.run(10, None).unwrap();
        assert_eq!(f.sends, [0, 4, 4, 4]);
        assert_eq!(
            f.waits, 2,
            "one wait per refused send, none after a send that took some"
        );
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
            |_| Ok(true),
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
            |_| Ok(true),
        )
        .unwrap_err();
        assert!(PartialSend::of(&e).is_none());
        assert_eq!(e.raw_os_error(), Some(EINVAL));
    }

    #[test]
    fn a_zero_count_is_waited_on_not_looped_on() {
        let mut f = Fake::new(&[Some(0), Some(0), Some(1)]);
        f.run(1, None).unwrap();
        assert_eq!(f.waits, 2);
    }

    #[test]
    fn the_deadline_ends_the_waits_with_the_count() {
        let past = Instant::now();
        let mut f = Fake::new(&[Some(5), None]);
        let e = f.run(8, Some(past)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(PartialSend::of(&e).map(PartialSend::sent), Some(5));
        assert_eq!(f.waits, 0, "no wait past the deadline");
    }

    #[test]
    fn each_wait_is_bounded_so_a_shutdown_is_seen() {
        let mut slices = Vec::new();
        let mut n = 0;
        send_all_with(
            1,
            Some(Instant::now() + Duration::from_secs(3600)),
            |_| {
                n += 1;
                if n < 3 {
                    Err(full())
                } else {
                    Ok(1)
                }
            },
            |slice| {
                slices.push(slice);
                Ok(false)
            },
        )
        .unwrap();
        assert_eq!(slices, [SHUTDOWN_CHECK, SHUTDOWN_CHECK]);
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
