//! [`PartialSend`], the error of a `send_all` that sent part of its slice.

use std::error::Error;
use std::fmt;
use std::io;

/// What a `send_all` ([`Socket::send_all`](crate::Socket::send_all) and its
/// siblings) returns inside its [`io::Error`] when it fails after sending
/// some of the datagrams: how many went, and the error that stopped it.
///
/// A failure before the first datagram went out is returned as it is (its
/// [`raw_os_error`](io::Error::raw_os_error) is the errno, as for
/// [`send`](crate::Socket::send)); after some went out, the `io::Error`
/// has the same [`kind`](io::Error::kind) and wraps a `PartialSend`, found
/// with [`PartialSend::of`].  The datagrams from [`sent`](Self::sent) on
/// were not sent: resend `&datagrams[sent..]` to go on.
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, PartialSend, Socket};
///
/// let sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let to = sock.local_addr()?;
/// // The third datagram is too long for UDP (over 65535 bytes).
/// let batch = [
///     OutgoingDatagram::to(&b"one"[..], to),
///     OutgoingDatagram::to(&b"two"[..], to),
///     OutgoingDatagram::to(vec![0u8; 70_000], to),
/// ];
/// let err = sock.send_all(&batch).unwrap_err();
/// let partial = PartialSend::of(&err).expect("two were sent");
/// assert_eq!(partial.sent(), 2);
/// assert_eq!(partial.error().raw_os_error(), Some(22)); // EINVAL
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
///
/// // Nothing sent: the error as `send` returns it.
/// let err = sock.send_all(&batch[2..]).unwrap_err();
/// assert!(PartialSend::of(&err).is_none());
/// assert_eq!(err.raw_os_error(), Some(22));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct PartialSend {
    sent: usize,
    error: io::Error,
}

impl PartialSend {
    /// The error for a `send_all` that stopped on `error` after `sent`
    /// datagrams: `error` itself when none went, else one wrapping a
    /// `PartialSend` with `error`'s kind.
    pub(crate) fn error_after(sent: usize, error: io::Error) -> io::Error {
        if sent == 0 {
            error
        } else {
            io::Error::new(error.kind(), PartialSend { sent, error })
        }
    }

    /// The `PartialSend` inside an error returned by a `send_all`, if it
    /// holds one (`None`: nothing was sent, or another kind of error).
    ///
    /// ```
    /// let e = std::io::Error::from_raw_os_error(11);
    /// assert!(batchudp::PartialSend::of(&e).is_none());
    /// ```
    pub fn of(error: &io::Error) -> Option<&PartialSend> {
        error.get_ref()?.downcast_ref::<PartialSend>()
    }

    /// How many datagrams, from the start of the slice, were sent.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// The error that stopped the send, as [`send`](crate::Socket::send)
    /// returned it (with its errno), or the time-out of a
    /// `send_all_timeout`.
    pub fn error(&self) -> &io::Error {
        &self.error
    }

    /// The error that stopped the send, by value.
    pub fn into_error(self) -> io::Error {
        self.error
    }
}

impl fmt::Display for PartialSend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (after {} datagrams were sent)",
            self.error, self.sent
        )
    }
}

impl Error for PartialSend {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}
