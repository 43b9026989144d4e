//! [`Sender`], the sending half of a [`Socket`] for other threads.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;

use super::handle::Inner;
#[cfg(doc)] // for the links in the docs
use super::Socket;
use crate::error_event::ErrorEvent;
use crate::outgoing::OutgoingDatagram;
use crate::stats::Stats;

/// A sending handle on a [`Socket`], usable from any thread while the
/// socket's owner receives.
///
/// Cloneable, `Send` and `Sync`.  It keeps the socket open: the C socket is
/// closed when the `Socket` and every `Sender` are dropped (after the
/// `Socket` is gone the receiver stops being served, but sending still
/// works).  Sends from several handles and threads run at once: the library
/// serialises them.  [`shutdown`](Sender::shutdown) stops the socket for
/// every handle, which is how another thread stops a consumer blocked in
/// [`Socket::wait`] (see [Closing](Socket#closing)).
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// let tx = sock.sender();
/// // Echo what arrives, replying from inside dispatch through the sender.
/// let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// peer.send_to(b"ping", me)?;
/// sock.wait(None)?;
/// sock.dispatch(32, |batch| {
///     let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
///     tx.send(&replies).unwrap();
/// })?;
/// let mut buf = [0; 8];
/// assert_eq!(peer.recv(&mut buf)?, 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Sender {
    inner: Arc<Inner>,
}

impl Sender {
    pub(super) fn new(inner: Arc<Inner>) -> Sender {
        Sender { inner }
    }

    /// Same as [`Socket::send`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let tx = sock.sender();
    /// let to = sock.local_addr()?;
    /// assert_eq!(tx.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], to)])?, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<usize> {
        self.inner.send(datagrams)
    }

    /// Same as [`Socket::send_all`]: sends every datagram, waiting for
    /// room in the send buffer.
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let tx = sock.sender();
    /// let to = sock.local_addr()?;
    /// tx.send_all(&[batchudp::OutgoingDatagram::to(&b"x"[..], to)])?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_all(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<()> {
        self.inner.send_all(datagrams, None)
    }

    /// Same as [`Socket::send_all_timeout`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let to = sock.local_addr()?;
    /// let d = [batchudp::OutgoingDatagram::to(&b"x"[..], to)];
    /// sock.sender().send_all_timeout(&d, std::time::Duration::from_secs(5))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_all_timeout(
        &self,
        datagrams: &[OutgoingDatagram<'_>],
        timeout: std::time::Duration,
    ) -> io::Result<()> {
        self.inner.send_all(datagrams, Some(timeout))
    }

    /// Same as [`Socket::shutdown`]: shuts the socket down for every
    /// handle, from any thread, at any time (inside a callback too), as
    /// often as wanted.  A thread blocked in [`Socket::wait`] returns at
    /// once with the closed error (`EBADF`), and so does every later call.
    /// The socket is freed when the last handle is dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use batchudp::{Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let tx = sock.sender();
    /// let consumer = std::thread::spawn(move || sock.wait(None)); // no timeout
    /// std::thread::sleep(Duration::from_millis(10));
    /// tx.shutdown();
    /// let err = consumer.join().unwrap().unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(9)); // EBADF
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self) {
        self.inner.shutdown()
    }

    /// Same as [`Socket::local_addr`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.sender().local_addr()?, sock.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Same as [`Socket::stats`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.sender().stats().tx_datagrams, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// Same as [`Socket::socket_fd`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// use std::os::fd::AsRawFd;
    ///
    /// assert_eq!(sock.sender().socket_fd().as_raw_fd(), sock.socket_fd().as_raw_fd());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket_fd(&self) -> BorrowedFd<'_> {
        self.inner.socket_fd()
    }

    /// Same as [`Socket::backend_name`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.sender().backend_name(), sock.backend_name());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_name(&self) -> &str {
        self.inner.backend_name()
    }

    /// Same as [`Socket::recv_errors`]: any thread may read the error
    /// events.
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().errors(true))?;
    /// let mut events = [batchudp::ErrorEvent::default(); 4];
    /// assert_eq!(sock.sender().recv_errors(&mut events)?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_errors(&self, events: &mut [ErrorEvent]) -> io::Result<usize> {
        self.inner.recv_errors(events)
    }

    /// Same as [`Socket::pacing_support`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// if let Ok((honoured, _detail)) = sock.sender().pacing_support(Some(sock.local_addr()?)) {
    ///     assert!(!honoured); // pacing off
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pacing_support(&self, dest: Option<SocketAddr>) -> io::Result<(bool, String)> {
        self.inner.pacing_support(dest.as_ref())
    }

    /// Same as [`Socket::backend_reason`].
    ///
    /// ```
    /// # let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.sender().backend_reason(), sock.backend_reason());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_reason(&self) -> String {
        self.inner.backend_reason()
    }
}

#[cfg(feature = "tokio")]
impl Sender {
    /// See `Inner::is_shut_down`, for the async socket.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.inner.is_shut_down()
    }

    /// See `Inner::closed`, for the async socket.
    pub(crate) fn closed(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.closed()
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.socket_fd().as_raw_fd())
            .finish()
    }
}
