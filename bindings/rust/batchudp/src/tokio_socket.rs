//! [`AsyncSocket`]: a [`Socket`] on a tokio runtime (the `tokio` feature),
//! receiving batches when the poll fd is readable and sending when the UDP
//! socket is writable.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::batch::DatagramBatch;
use crate::error_event::ErrorEvent;
use crate::outgoing::OutgoingDatagram;
use crate::socket::Socket;
use crate::stats::Stats;

mod ready;
mod sender;
mod writable;

use ready::{closed_error, ready_or_closed, LibraryFd, Woken};
pub use sender::AsyncSender;

/// A [`Socket`] driven by tokio: [`recv`](AsyncSocket::recv) awaits a
/// batch, [`send`](AsyncSocket::send) and
/// [`send_all`](AsyncSocket::send_all) await room in the send buffer.
/// Needs the `tokio` feature.
///
/// It registers the library's fds with the runtime's reactor
/// ([`AsyncFd`]): the poll fd ([`Socket::poll_fd`]) for readability and the
/// UDP socket ([`Socket::socket_fd`]) for writability, the same fd in
/// inline mode and two in threaded mode (there the poll fd is the
/// receiver thread's notify fd).  Each wait is for readiness: nothing
/// spins.  Receiving stays zero-copy and batched: a
/// [`DatagramBatch`] borrows the socket until it is dropped, as with
/// [`Socket::recv`].  Replies that borrow a batch are sent through an
/// [`AsyncSender`] taken before ([`sender`](AsyncSocket::sender)).
///
/// A [shutdown](AsyncSocket::shutdown) through any handle (an
/// `AsyncSender`, a [`Sender`](crate::Sender), the inner `Socket`), from
/// any thread, wakes the tasks waiting in `recv` and in sends, which
/// return the closed error (`EBADF`); the socket is freed when the last
/// handle is dropped, never under a waiting task.
///
/// ```
/// use batchudp::{AsyncSocket, OutgoingDatagram, Options, Socket};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut server = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new())?)?;
/// let client = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new())?)?;
/// let to = server.local_addr()?;
///
/// let out: Vec<OutgoingDatagram> = (0..3u8).map(|i| OutgoingDatagram::to(vec![i; 4], to)).collect();
/// client.send_all(&out).await?;
///
/// let mut received = 0;
/// while received < 3 {
///     for d in &server.recv().await? {
///         assert_eq!(d.data(), [received as u8; 4]);
///         received += 1;
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct AsyncSocket {
    // Field order is drop order: both registrations go before `socket`,
    // whose drop may close the fds they watch (see `LibraryFd`).
    tx: AsyncSender,
    read: Arc<AsyncFd<LibraryFd>>,
    socket: Socket,
    /// Receive once before waiting for readability: datagrams the library
    /// already holds (the rest of a GRO receive, say) do not make the poll
    /// fd readable, and the inner socket may have received through
    /// [`get_mut`](AsyncSocket::get_mut) since the readiness was last seen.
    look_first: bool,
}

impl AsyncSocket {
    /// Puts `socket` on the current tokio runtime.
    ///
    /// Errors: `ENOTSUP` in callback-thread mode (the receiver thread
    /// delivers the datagrams; there is nothing to poll), `EBADF` once shut
    /// down, and those of registering the fds with the reactor (`EEXIST`
    /// when one is already registered there, by another `AsyncFd`).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or in one built without IO
    /// (`enable_io`), as [`AsyncFd::new`] does.
    ///
    /// ```
    /// use batchudp::{AsyncSocket, Options, Socket};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let sock = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new().threaded(true))?)?;
    /// assert_eq!(sock.get_ref().batch_size(), 32);
    ///
    /// let callbacks = Socket::bind("127.0.0.1:0", Options::new().threaded(true).callback_thread(true))?;
    /// let err = AsyncSocket::new(callbacks).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::Unsupported); // ENOTSUP
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(socket: Socket) -> io::Result<AsyncSocket> {
        let poll_fd = socket.poll_fd()?.as_raw_fd();
        let socket_fd = socket.socket_fd().as_raw_fd();
        let (read, write) = if poll_fd == socket_fd {
            // Inline mode: one fd, and epoll takes each fd once.
            let both = Arc::new(AsyncFd::with_interest(
                LibraryFd(socket_fd),
                Interest::READABLE | Interest::WRITABLE,
            )?);
            (Arc::clone(&both), both)
        } else {
            let read = AsyncFd::with_interest(LibraryFd(poll_fd), Interest::READABLE)?;
            let write = AsyncFd::with_interest(LibraryFd(socket_fd), Interest::WRITABLE)?;
            (Arc::new(read), Arc::new(write))
        };
        Ok(AsyncSocket {
            tx: AsyncSender::new(write, socket.sender()),
            read,
            socket,
            look_first: true,
        })
    }

    /// Receives the next batch: up to [`batch_size`](Socket::batch_size)
    /// datagrams, at least one, waiting for the poll fd to be readable
    /// while there is nothing.  The batch borrows the socket (zero-copy
    /// views, valid until it is dropped), as [`Socket::recv`]'s does.
    ///
    /// A wake-up that finds nothing (they may be spurious) waits again;
    /// tokio's readiness is cleared only when a receive found nothing, so
    /// the datagrams the kernel or the library still holds come with the
    /// next calls without waiting.
    ///
    /// Errors: those of [`Socket::recv`]; `EBADF` once shut down, also when
    /// the shutdown comes, through any handle, during the wait.
    /// Cancel-safe: dropping the future loses no datagram.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let mut sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[batchudp::OutgoingDatagram::to(&b"hi"[..], me)]).await?;
    /// let batch = sock.recv().await?;
    /// assert_eq!(batch[0].data(), b"hi");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv(&mut self) -> io::Result<DatagramBatch<'_>> {
        // Borrowed apart: `socket` mutably for the batch, the rest shared.
        let AsyncSocket {
            tx,
            read,
            socket,
            look_first,
        } = self;
        let max = socket.batch_size();
        let closed = tx.sync_sender().closed();
        let mut closed = pin!(closed);
        // After `closed` exists: a shutdown from now on completes it.
        if tx.sync_sender().is_shut_down() {
            return Err(closed_error());
        }
        if std::mem::take(look_first) {
            let (out, n) = socket.recv_views(max)?;
            if n > 0 {
                // The library may hold more: look first next time too.
                *look_first = true;
                // SAFETY: what the receive just above returned.
                return Ok(unsafe { socket.batch_of(out, n) });
            }
        }
        loop {
            let mut guard = match ready_or_closed(read.readable(), closed.as_mut()).await? {
                Woken::Ready(guard) => guard,
                Woken::Closed => return Err(closed_error()),
            };
            let (out, n) = socket.recv_views(max)?;
            if n > 0 {
                // The readiness is kept (the guard goes without clearing
                // it): more may be there.
                drop(guard);
                // SAFETY: what the receive just above returned.
                return Ok(unsafe { socket.batch_of(out, n) });
            }
            // Nothing: forget the readiness that led here (only that one:
            // an event that came since stays) and wait for the next.
            guard.clear_ready();
        }
    }

    /// Sends datagrams, waiting for room when the send buffer takes none:
    /// [`AsyncSender::send`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let to = sock.local_addr()?;
    /// assert_eq!(sock.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], to)]).await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<usize> {
        self.tx.send(datagrams).await
    }

    /// Sends every datagram, waiting for room in the send buffer or the
    /// interface's queue as often as needed: [`AsyncSender::send_all`].  While a received batch is
    /// alive (it borrows the socket), send through an [`AsyncSender`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let to = sock.local_addr()?;
    /// sock.send_all(&[batchudp::OutgoingDatagram::to(&b"x"[..], to)]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_all(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<()> {
        self.tx.send_all(datagrams).await
    }

    /// A sending handle, for other tasks and for replies that borrow a
    /// received batch (see [`AsyncSender`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let tx = sock.sender();
    /// let to = sock.local_addr()?;
    /// tokio::spawn(async move { tx.send_all(&[batchudp::OutgoingDatagram::to(&b"x"[..], to)]).await })
    ///     .await
    ///     .unwrap()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn sender(&self) -> AsyncSender {
        self.tx.clone()
    }

    /// Shuts the socket down for every handle ([`Socket::shutdown`]): the
    /// tasks waiting on it return the closed error (`EBADF`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let mut sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// sock.shutdown();
    /// assert_eq!(sock.recv().await.unwrap_err().raw_os_error(), Some(9)); // EBADF
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown(&self) {
        self.socket.shutdown()
    }

    /// The socket's counters ([`Socket::stats`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// assert_eq!(sock.stats().rx_datagrams, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stats(&self) -> Stats {
        self.socket.stats()
    }

    /// Reads the error events that wait ([`Socket::recv_errors`]), without
    /// waiting.  With [`Options::errors`](crate::Options::errors) on, call
    /// it after each [`recv`](AsyncSocket::recv), or on a timer: the
    /// reactor does not wake `recv` for an error event in inline mode
    /// (tokio reports the socket's error condition as writability), and in
    /// threaded mode the wake-up finds no datagram and waits again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use batchudp::{AsyncSocket, ErrorEvent, OutgoingDatagram, Options, Socket};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let closed = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?;
    /// let sock = AsyncSocket::new(Socket::bind("127.0.0.1:0", Options::new().errors(true))?)?;
    /// sock.send(&[OutgoingDatagram::to(&b"anyone?"[..], closed)]).await?;
    /// let mut events = [ErrorEvent::default(); 8];
    /// let mut n = 0;
    /// for _ in 0..500 {
    ///     n = sock.recv_errors(&mut events)?;
    ///     if n > 0 {
    ///         break;
    ///     }
    ///     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    /// }
    /// assert_eq!((n, events[0].destination), (1, closed));
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_errors(&self, events: &mut [ErrorEvent]) -> io::Result<usize> {
        self.socket.recv_errors(events)
    }

    /// The address the socket is bound to ([`Socket::local_addr`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// assert!(sock.local_addr()?.ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The inner socket, for its queries and options.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// assert!(!sock.get_ref().backend_name().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_ref(&self) -> &Socket {
        &self.socket
    }

    /// The inner socket, mutably: to [`connect`](Socket::connect) it, or
    /// to receive without waiting ([`Socket::recv`], which does not block
    /// either).  Its blocking calls ([`Socket::wait`],
    /// [`Socket::recv_timeout`]) would block the runtime's thread.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let mut sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// assert!(sock.get_mut().recv()?.is_empty()); // nothing sent
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_mut(&mut self) -> &mut Socket {
        self.look_first = true;
        &mut self.socket
    }

    /// Takes the socket off the runtime and returns it.  An
    /// [`AsyncSender`] still alive keeps its registration (and the socket
    /// open) until it is dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sock = batchudp::AsyncSocket::new(batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?)?;
    /// let addr = sock.local_addr()?;
    /// let socket: batchudp::Socket = sock.into_inner();
    /// assert_eq!(socket.local_addr()?, addr);
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_inner(self) -> Socket {
        let AsyncSocket {
            tx, read, socket, ..
        } = self;
        // The registrations go first (see the field order).
        drop(tx);
        drop(read);
        socket
    }
}

/// The README's examples, the async echo among them, compiled and run as
/// doctests where the feature they need is on.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

impl fmt::Debug for AsyncSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSocket")
            .field("socket", &self.socket)
            .finish()
    }
}
