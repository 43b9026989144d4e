//! The calls that block: [`Socket::recv_timeout`] and `send_all`, on top of
//! the library's non-blocking receive and send.

use std::io;
use std::time::{Duration, Instant};

use super::send_all::timed_out;
use super::Socket;
use crate::batch::DatagramBatch;
use crate::outgoing::OutgoingDatagram;
#[cfg(doc)] // for the links in the docs
use crate::partial_send::PartialSend;

impl Socket {
    /// Receives a batch, blocking until at least one datagram is there or
    /// `timeout` has passed.  The batch is never empty: a wake-up with
    /// nothing to receive (they may be spurious, see [`wait`](Socket::wait))
    /// waits again for the rest of the time, and a time-out is an error,
    /// of kind [`io::ErrorKind::TimedOut`] (not `WouldBlock`, which
    /// [`send`](Socket::send) gives for a full send buffer; no errno:
    /// [`raw_os_error`](io::Error::raw_os_error) is `None`).  A zero
    /// timeout only looks; a timeout too long to represent waits forever.
    ///
    /// With [`Options::errors`](crate::Options::errors) on, the error
    /// events that wait are set aside for
    /// [`recv_errors`](Socket::recv_errors) before each wait (they would
    /// keep it awake).
    ///
    /// Errors: those of [`recv`](Socket::recv) and [`wait`](Socket::wait):
    /// `EBADF` once the socket is shut down, also when a shutdown through
    /// another handle comes during the wait (it returns at once);
    /// `EINVAL` in callback-thread mode.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let err = sock.recv_timeout(Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    ///
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
    /// let batch = sock.recv_timeout(Duration::from_secs(10))?;
    /// assert_eq!(batch[0].data(), b"x");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_timeout(&mut self, timeout: Duration) -> io::Result<DatagramBatch<'_>> {
        let deadline = Instant::now().checked_add(timeout);
        let max = self.batch_size();
        loop {
            let (out, n) = self.recv_views(max)?;
            if n > 0 {
                // SAFETY: what the receive just above returned.
                return Ok(unsafe { self.batch_of(out, n) });
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return Err(timed_out("waiting for a datagram"));
            }
            if self.errors {
                // Waiting error events keep the socket ready: set them
                // aside for recv_errors, or the wait would not sleep.
                self.inner.stash_errors();
            }
            // Whether it says ready or not, the receive above decides.
            self.wait(Some(left))?;
        }
    }

    /// Sends every datagram, in order, blocking while the send buffer is
    /// full: [`send`](Socket::send) as often as needed, and between two
    /// sends `poll(2)` on the UDP socket for `POLLOUT` (no busy loop;
    /// interrupted polls are resumed).  An empty slice returns at once.
    ///
    /// A full interface queue (`ENOBUFS`: Apple's connected sockets, Linux
    /// under qdisc pressure) is waited out too, by sleeping, since the
    /// socket stays writable while it lasts: 1 ms, doubling to 16 ms while
    /// the refusals go on, back to 1 ms once a send takes some.  Each try
    /// starts at the first datagram not sent: none is sent twice.
    ///
    /// An error other than these two stops it: when nothing was sent,
    /// it is returned as `send` returns it (with its errno); after some
    /// datagrams went, the [`io::Error`] has the same kind and holds a
    /// [`PartialSend`] with the number sent, to resend the rest
    /// (`&datagrams[sent..]`) if wanted.
    ///
    /// A [shutdown](Socket::shutdown) through another handle while it
    /// waits is noticed within 0.1 s (the UDP socket's writability does not
    /// change with it), within 16 ms while it sleeps: it then returns
    /// `EBADF`, in a `PartialSend` if some datagrams went.
    ///
    /// May be called from any thread, and through [`Sender`](crate::Sender)s.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut server = Socket::bind("127.0.0.1:0", Options::new().recv_buffer(1 << 20))?;
    /// let client = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let to = server.local_addr()?;
    /// let batch: Vec<OutgoingDatagram> =
    ///     (0..100u8).map(|i| OutgoingDatagram::to(vec![i; 100], to)).collect();
    /// client.send_all(&batch)?;
    /// assert_eq!(client.stats().tx_datagrams, 100);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_all(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<()> {
        self.inner.send_all(datagrams, None)
    }

    /// Like [`send_all`](Socket::send_all), giving up once `timeout` has
    /// passed with datagrams left: the error is then of kind
    /// [`io::ErrorKind::TimedOut`], in a [`PartialSend`] when some were
    /// sent.  A zero timeout sends what the buffer takes now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let to = sock.local_addr()?;
    /// sock.send_all_timeout(&[OutgoingDatagram::to(&b"x"[..], to)], Duration::from_secs(5))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_all_timeout(
        &self,
        datagrams: &[OutgoingDatagram<'_>],
        timeout: Duration,
    ) -> io::Result<()> {
        self.inner.send_all(datagrams, Some(timeout))
    }
}
