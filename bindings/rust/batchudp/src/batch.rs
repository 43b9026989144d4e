//! A batch of received datagrams: the borrowed views one receive returns.

use std::fmt;
use std::ops::Deref;

use crate::datagram::Datagram;
use crate::Socket;

/// The datagrams returned by one receive ([`Socket::recv`],
/// [`Socket::recv_timeout`], `AsyncSocket::recv`): a slice of [`Datagram`]
/// views, valid while the socket stays borrowed.  Named `Batch` before
/// 0.2 (a deprecated alias remains).
///
/// A batch borrows the socket mutably, so the socket cannot receive again
/// (nor [`wait`](Socket::wait), nor [`dispatch`](Socket::dispatch)) while
/// the batch or any of its datagrams is in use; that is what keeps the
/// zero-copy views safe.  It derefs to `[Datagram]`.  Replies can be sent
/// while it is alive through [`DatagramBatch::socket`] or a
/// [`Sender`](crate::Sender) (on tokio, an `AsyncSender`).
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// sock.send(&[OutgoingDatagram::to(&b"one"[..], me), OutgoingDatagram::to(&b"two"[..], me)])?;
/// let mut got = Vec::new();
/// while got.len() < 2 {
///     sock.wait(None)?;
///     for d in &sock.recv()? {
///         got.push(d.data().to_vec());
///     }
/// }
/// assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Using a batch after the next receive does not compile:
///
/// ```compile_fail,E0499
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let first = sock.recv()?;
/// let second = sock.recv()?; // `sock` is still borrowed by `first`
/// println!("{} {}", first.len(), second.len());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// while finishing with one batch before the next receive does (the only
/// difference is where the first batch is last used):
///
/// ```
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let first = sock.recv()?;
/// println!("{}", first.len());
/// let second = sock.recv()?;
/// println!("{}", second.len());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Keeping a payload across a wait does not compile either:
///
/// ```compile_fail,E0499
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let batch = sock.recv()?;
/// let payload: &[u8] = batch.first().map(|d| d.data()).unwrap_or(&[]);
/// sock.wait(None)?; // waiting recycles the buffers too
/// println!("{payload:?}");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// while a copy may be kept:
///
/// ```
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let batch = sock.recv()?;
/// let payload: Vec<u8> = batch.first().map(|d| d.data().to_vec()).unwrap_or_default();
/// sock.wait(Some(std::time::Duration::ZERO))?;
/// println!("{payload:?}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct DatagramBatch<'a> {
    pub(crate) items: &'a [Datagram<'a>],
    pub(crate) socket: &'a Socket,
}

impl<'a> DatagramBatch<'a> {
    /// The socket the batch came from, to send replies (zero-copy: a reply
    /// may point into the batch) while the batch is alive.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut a = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// b.send_to(b"ping", a.local_addr()?)?;
    /// a.wait(None)?;
    /// let batch = a.recv()?;
    /// let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
    /// assert_eq!(batch.socket().send(&replies)?, 1);
    /// let mut buf = [0; 16];
    /// assert_eq!(b.recv(&mut buf)?, 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket(&self) -> &'a Socket {
        self.socket
    }

    /// The datagrams as a slice (what `Deref` gives), with the batch's
    /// lifetime.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let batch = sock.recv()?; // nothing sent: empty
    /// assert!(batch.as_slice().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_slice(&self) -> &'a [Datagram<'a>] {
        self.items
    }
}

impl<'a> Deref for DatagramBatch<'a> {
    type Target = [Datagram<'a>];

    fn deref(&self) -> &[Datagram<'a>] {
        self.items
    }
}

impl<'a> IntoIterator for DatagramBatch<'a> {
    type Item = &'a Datagram<'a>;
    type IntoIter = std::slice::Iter<'a, Datagram<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a> IntoIterator for &DatagramBatch<'a> {
    type Item = &'a Datagram<'a>;
    type IntoIter = std::slice::Iter<'a, Datagram<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl fmt::Debug for DatagramBatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items).finish()
    }
}
