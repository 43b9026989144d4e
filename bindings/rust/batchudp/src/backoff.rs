//! The wait between sends refused with `ENOBUFS`.
//!
//! A full interface queue (Apple's connected sockets; Linux under qdisc
//! pressure) comes back from `budp_send` as `-ENOBUFS`, and `poll(2)` gives
//! no sign when it clears: the socket's own send buffer has room, so the
//! socket stays writable all along.  The helpers that send everything
//! therefore sleep and try again: 1 ms first, doubling to at most 16 ms
//! while the refusals go on, back to 1 ms once a send takes something.
//! 16 ms bounds how long a sender sleeps past the moment the queue drains.

use std::io;
use std::time::Duration;

/// The first sleep after a refusal.
pub(crate) const FIRST_DELAY: Duration = Duration::from_millis(1);
/// The longest sleep.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(16);

/// `ENOBUFS`, whose number differs between systems (the standard library
/// names no error kind for it).
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    any(target_arch = "mips", target_arch = "mips64")
))]
pub(crate) const ENOBUFS: i32 = 132;
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    any(target_arch = "sparc", target_arch = "sparc64")
))]
pub(crate) const ENOBUFS: i32 = 55;
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
))]
pub(crate) const ENOBUFS: i32 = 105;
/// The BSD family: Apple's systems, FreeBSD.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const ENOBUFS: i32 = 55;

/// Whether `e` is a send refused for a full interface queue.
pub(crate) fn is_no_buffer_space(e: &io::Error) -> bool {
    e.raw_os_error() == Some(ENOBUFS)
}

/// The sleeps of one sender: [`next_delay`](Backoff::next_delay) after each
/// `ENOBUFS`, [`reset`](Backoff::reset) after each send that took something.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff { next: FIRST_DELAY }
    }

    /// How long to sleep now; the next sleep is twice as long, up to
    /// [`MAX_DELAY`].
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(MAX_DELAY);
        delay
    }

    pub(crate) fn reset(&mut self) {
        self.next = FIRST_DELAY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_starts_over_after_a_reset() {
        let mut b = Backoff::new();
        let ms: Vec<u128> = (0..7).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [1, 2, 4, 8, 16, 16, 16]);
        b.reset();
        assert_eq!(b.next_delay(), FIRST_DELAY);
    }

    #[test]
    fn enobufs_is_told_from_other_errors() {
        // The system's own text for the number: a wrong number fails here.
        let text = io::Error::from_raw_os_error(ENOBUFS).to_string();
        assert!(text.contains("No buffer space"), "{text}");
        assert!(is_no_buffer_space(&io::Error::from_raw_os_error(ENOBUFS)));
        assert!(!is_no_buffer_space(&io::Error::from(
            io::ErrorKind::WouldBlock
        )));
        assert!(!is_no_buffer_space(&io::Error::from_raw_os_error(22)));
    }
}
