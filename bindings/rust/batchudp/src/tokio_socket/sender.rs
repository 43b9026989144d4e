//! [`AsyncSender`]: sending on an [`AsyncSocket`](super::AsyncSocket),
//! waiting for room in the send buffer on the tokio runtime.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;

use super::ready::{closed_error, LibraryFd};
use super::writable::send_when_writable;
use crate::outgoing::OutgoingDatagram;
use crate::partial_send::PartialSend;
use crate::socket::Sender;
use crate::stats::Stats;

/// The sending side of an [`AsyncSocket`](super::AsyncSocket): cloneable,
/// `Send` and `Sync`, for tasks that send while another receives, and for
/// replies that borrow a received [`DatagramBatch`](crate::DatagramBatch)
/// (which borrows the `AsyncSocket` mutably until it is dropped).
///
/// From [`AsyncSocket::sender`](super::AsyncSocket::sender).  It keeps the
/// socket open, as a [`Sender`] does, and its waits end with the closed
/// error (`EBADF`) when the socket is shut down through any handle.
///
/// ```
/// use batchudp::{AsyncSocket, OutgoingDatagram, Options, Socket};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut server = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new())?)?;
/// let tx = server.sender();
/// let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
/// client.send_to(b"ping", server.local_addr()?).await?;
///
/// let batch = server.recv().await?;
/// // Zero-copy replies: they borrow the batch, so they go through `tx`.
/// let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
/// tx.send_all(&replies).await?;
///
/// let mut buf = [0; 16];
/// assert_eq!(client.recv(&mut buf).await?, 4);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncSender {
    // Dropped before `sender`, which may hold the last reference to the C
    // socket and close the fd registered here.
    write: Arc<AsyncFd<LibraryFd>>,
    sender: Sender,
}

impl AsyncSender {
    pub(super) fn new(write: Arc<AsyncFd<LibraryFd>>, sender: Sender) -> AsyncSender {
        AsyncSender { write, sender }
    }

    pub(super) fn sync_sender(&self) -> &Sender {
        &self.sender
    }

    /// Sends datagrams in order, as many as the send buffer takes, waiting
    /// for it to have room when it takes none: returns how many were sent,
    /// at least one (0 only for an empty slice).  Resend the rest, or use
    /// [`send_all`](Self::send_all).
    ///
    /// Errors: those of [`Socket::send`](crate::Socket::send) except
    /// `EAGAIN`, which it waits out, and `ENOBUFS` (a full interface queue,
    /// which writability does not report clearing), which it sleeps out: 1
    /// ms, doubling to 16 ms while it lasts (the runtime needs tokio's time
    /// driver).  `EBADF` once shut down, also when the shutdown comes during
    /// the wait or the sleep.  Cancel-safe: dropping the future sends
    /// nothing more.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let to = sock.local_addr()?;
    /// let n = sock.sender().send(&[batchudp::OutgoingDatagram::to(&b"x"[..], to)]).await?;
    /// assert_eq!(n, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<usize> {
        if datagrams.is_empty() {
            return Ok(0);
        }
        let closed = pin!(self.sender.closed());
        // After `closed` exists: a shutdown from now on completes it.
        if self.sender.is_shut_down() {
            return Err(closed_error());
        }
        send_when_writable(&self.write, closed, || self.sender.send(datagrams)).await
    }

    /// Sends every datagram, in order, waiting for room in the send buffer
    /// or the interface's queue as often as needed (no busy loop: each
    /// wait is for the socket's writability, or a sleep of up to 16 ms
    /// after `ENOBUFS`; see [`send`](Self::send)).  Errors as for
    /// [`Socket::send_all`](crate::Socket::send_all): after some datagrams
    /// went, the error holds a [`PartialSend`] with their number.  Dropping the future stops it between two sends; how
    /// many went is then unknown.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let to = sock.local_addr()?;
    /// let batch: Vec<_> = (0..3u8).map(|i| batchudp::OutgoingDatagram::to(vec![i], to)).collect();
    /// sock.sender().send_all(&batch).await?;
    /// assert_eq!(sock.stats().tx_datagrams, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_all(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<()> {
        let mut sent = 0;
        while sent < datagrams.len() {
            sent += self
                .send(&datagrams[sent..])
                .await
                .map_err(|e| PartialSend::error_after(sent, e))?;
        }
        Ok(())
    }

    /// Shuts the socket down for every handle, as
    /// [`Socket::shutdown`](crate::Socket::shutdown): a task waiting in
    /// [`AsyncSocket::recv`](super::AsyncSocket::recv) or in a send wakes
    /// with the closed error (`EBADF`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let mut sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let tx = sock.sender();
    /// let stop = tokio::spawn(async move { tx.shutdown() });
    /// let err = sock.recv().await.unwrap_err(); // woken by the shutdown
    /// assert_eq!(err.raw_os_error(), Some(9)); // EBADF
    /// stop.await.unwrap();
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self) {
        self.sender.shutdown()
    }

    /// The socket's counters, as [`Socket::stats`](crate::Socket::stats).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// assert_eq!(sock.sender().stats().tx_syscalls, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stats(&self) -> Stats {
        self.sender.stats()
    }

    /// The address the socket is bound to.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// assert_eq!(sock.sender().local_addr()?, sock.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sender.local_addr()
    }
}

impl fmt::Debug for AsyncSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSender")
            .field("sender", &self.sender)
            .finish()
    }
}
