//! [`Sender`], the sending half of a [`Socket`] for other threads.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;

use super::handle::Inner;
#[cfg(doc)] // for the links in the docs
use super::Socket;
use crate::datagram::Datagram;
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
/// use batchudp::{Datagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// let tx = sock.sender();
/// // Echo what arrives, replying from inside dispatch through the sender.
/// let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// peer.send_to(b"ping", me)?;
/// sock.wait(None)?;
/// sock.dispatch(32, |batch| {
///     let replies: Vec<Datagram> = batch.iter().map(Datagram::reply).collect();
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
    /// assert_eq!(tx.send(&[batchudp::Datagram::to(&b"x"[..], to)])?, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send(&self, datagrams: &[Datagram<'_>]) -> io::Result<usize> {
        self.inner.send(datagrams)
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
    /// assert_eq!(sock.sender().socket_fd(), sock.socket_fd());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket_fd(&self) -> RawFd {
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
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.socket_fd())
            .finish()
    }
}
