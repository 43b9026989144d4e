//! [`Socket`]: creating it, receiving, sending and queries.  Receiving
//! through closures is in `callback`, the [`Sender`] handle in `sender`, and
//! the C handle both share in `handle`.

use batchudp_sys as sys;
use std::ffi::c_uint;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use crate::addr;
use crate::batch::DatagramBatch;
use crate::check;
use crate::datagram::Datagram;
use crate::error_event::ErrorEvent;
use crate::options::{Options, RawOptions};
use crate::outgoing::OutgoingDatagram;
use crate::stats::Stats;

mod blocking;
mod callback;
mod handle;
mod send_all;
mod sender;
mod writable;

use handle::Inner;
pub(crate) use handle::Membership;
pub use sender::Sender;

/// A UDP socket that receives and sends datagrams in batches.
///
/// Created by [`Socket::bind`], [`Socket::from_udp_socket`] or
/// [`Socket::from_raw_fd`].  The library's calls do not block:
/// [`recv`](Socket::recv) returns what is queued (possibly nothing) and
/// [`send`](Socket::send) what the send buffer takes.  On top of them,
/// [`wait`](Socket::wait) blocks until something is queued,
/// [`recv_timeout`](Socket::recv_timeout) until a batch is there, and
/// [`send_all`](Socket::send_all) until every datagram went (waiting for
/// the UDP socket to be writable).  With the `tokio` feature,
/// `AsyncSocket` does the same on a tokio runtime.
/// [`shutdown`](Socket::shutdown) stops it for every handle and wakes a
/// thread blocked in it; dropping the socket closes it once every
/// [`Sender`] is gone too (see [Closing](#closing)).
///
/// The fds: [`AsFd`] and [`AsRawFd`] give the UDP socket
/// ([`socket_fd`](Socket::socket_fd)), for socket options and
/// writability; readability is on [`poll_fd`](Socket::poll_fd), the same
/// fd in inline mode and the receiver thread's notify fd in threaded mode.
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, Socket};
///
/// let mut server = Socket::bind("127.0.0.1:0", Options::new())?;
/// let client = Socket::bind("127.0.0.1:0", Options::new())?;
/// client.send(&[OutgoingDatagram::to(&b"hello"[..], server.local_addr()?)])?;
///
/// server.wait(None)?;
/// let batch = server.recv()?;
/// assert_eq!(batch.len(), 1);
/// assert_eq!(batch[0].data(), b"hello");
/// assert_eq!(batch[0].peer(), client.local_addr()?);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Threads
///
/// The C library allows one *consumer* at a time per socket (the calls that
/// receive: `recv`, `dispatch`, `wait`, setting the callback), and sends,
/// statistics and address queries from any thread, concurrently with the
/// consumer.  The Rust types encode exactly that:
///
/// - Every receiving method takes `&mut self`, so one consumer at a time is
///   enforced by the borrow checker, and the views a [`DatagramBatch`]
///   hands out stay valid as long as they are reachable.
/// - Every `&self` method is one the library allows from any thread
///   (`send`, `stats`, `local_addr`, the fds, `backend_name`,
///   `backend_reason`, `shutdown`).
///   So `Socket` is [`Send`] (the consumer may move to another thread)
///   **and** [`Sync`] (a shared `&Socket` only reaches the thread-safe
///   calls).  Sends from any number of threads run at once: the library
///   serialises them itself, and the binding adds no lock of its own
///   around them (only [`connect`](Socket::connect), which the library
///   wants apart from sends, waits for the sends in progress).
/// - To send from other threads *while* this one receives (a `&mut`
///   borrow excludes any `&`), take a [`Sender`] with
///   [`sender`](Socket::sender): a cloneable, `Send + Sync` handle that
///   can only send, read statistics and shut the socket down.
/// - [`Datagram`] and [`DatagramBatch`] borrow the socket; they are `Send` and
///   `Sync` like the byte slices they stand for, so a batch can be processed
///   by scoped threads.
///
/// # Closing
///
/// Closing is split in two, as in the C library:
///
/// - [`shutdown`](Socket::shutdown) (also [`Sender::shutdown`], from any
///   thread, at any time, inside a callback too, as often as wanted) stops
///   the socket: a thread blocked in [`wait`](Socket::wait) returns at once
///   with the closed error, and every later call through any handle fails
///   with it: an [`io::Error`] whose
///   [`raw_os_error`](io::Error::raw_os_error) is `EBADF`.  Nothing is freed
///   yet: the fds stay open and a [`DatagramBatch`] still held stays readable.
/// - The C socket is freed (its fd closed, its receiver thread joined) when
///   the last handle, the `Socket` or a [`Sender`], is dropped.  No thread is
///   inside the socket then, since each call borrows a handle, so nothing
///   waits for anything but the library's own receiver thread.  Dropping the
///   `Socket` alone does not shut it down: the `Sender`s keep sending.
/// - A member of a [`Group`](crate::Group) closes the same way, through its
///   group (what was queued to it is counted in
///   [`Group::dropped`](crate::Group::dropped)); the group's memory lasts
///   until its last member is closed (see [Ownership](crate::Group#ownership)).
///
/// To stop a socket that another thread is receiving on, shut it down
/// through a `Sender` and let that thread drop its `Socket`:
///
/// ```
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let stopper = sock.sender();
/// let receiver = std::thread::spawn(move || loop {
///     let batch = match sock.recv() {
///         Ok(batch) => batch,
///         Err(e) => return e, // the socket was shut down
///     };
///     if batch.is_empty() {
///         if let Err(e) = sock.wait(None) {
///             return e;
///         }
///     }
/// });
/// stopper.shutdown();
/// let err = receiver.join().unwrap();
/// assert_eq!(err.raw_os_error(), Some(9)); // EBADF
/// drop(stopper); // the last handle: the socket is closed here
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Socket {
    inner: Arc<Inner>,
    batch_size: u32,
    /// Threaded with callback-thread: the receiver thread calls the
    /// callback; recv and dispatch do not apply, wait reports the receiver
    /// thread's errors.
    callback_mode: bool,
    /// A callback is registered with the library (callback-thread mode).
    callback_set: bool,
    /// Error events are on: a blocking receive sets them aside while it
    /// waits (see `Inner::stash_errors`).
    errors: bool,
}

impl Socket {
    /// Creates a UDP socket bound to `addr` (port 0 picks a free port),
    /// with `options` applied.  `addr` must resolve to a numeric IPv4 or
    /// IPv6 address; each address it resolves to is tried in turn.
    ///
    /// Errors carry the errno of the C library: `EINVAL` for a rejected
    /// option value or combination ([`io::ErrorKind::InvalidInput`]),
    /// `ENOTSUP` for a backend or mode not available here
    /// ([`Backend::Uring`](crate::Backend::Uring) where the library or the
    /// kernel lacks io_uring, [`Options::zerocopy`](crate::Options::zerocopy)
    /// with another backend), `EPERM` for `Backend::Uring` where the kernel
    /// forbids io_uring ([`io::ErrorKind::PermissionDenied`]), and the errors
    /// of `socket()`/`bind()` (`EADDRINUSE`, ...).
    ///
    /// ```
    /// use batchudp::{Options, Socket};
    ///
    /// let v4 = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert!(v4.local_addr()?.is_ipv4());
    ///
    /// let err = Socket::bind(v4.local_addr()?, Options::new()).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A, options: Options) -> io::Result<Socket> {
        let raw_options = options.make_raw()?;
        addr::each_addr(addr, |a| {
            let host = addr::host_cstring(a);
            let mut s = ptr::null_mut();
            check(unsafe {
                sys::budp_bind(&mut s, host.as_ptr(), a.port(), raw_options.as_ptr())
            })?;
            Ok(Socket::from_handle(s, &raw_options, None, None))
        })
    }

    /// Wraps an existing UDP socket fd, which stays the caller's: dropping
    /// the `Socket` does not close it.  Its file status flags are left as
    /// they are (the library never blocks in a receive or send).
    ///
    /// Errors: `EBADF`, `ENOTSOCK`, `EPROTOTYPE` (not UDP), `EAFNOSUPPORT`,
    /// `EINVAL` for a rejected option, `ENOTSUP`.
    ///
    /// # Safety
    ///
    /// `fd` must stay open, and must not be closed or replaced, until the
    /// `Socket` and every [`Sender`] taken from it are dropped.  Prefer
    /// [`from_udp_socket`](Socket::from_udp_socket), which owns the fd.
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    ///
    /// let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// // SAFETY: `udp` outlives `sock`.
    /// let sock = unsafe { batchudp::Socket::from_raw_fd(udp.as_raw_fd(), batchudp::Options::new())? };
    /// assert_eq!(sock.local_addr()?, udp.local_addr()?);
    /// drop(sock);
    /// assert!(udp.local_addr().is_ok()); // still open
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn from_raw_fd(fd: RawFd, options: Options) -> io::Result<Socket> {
        let raw_options = options.make_raw()?;
        let mut s = ptr::null_mut();
        check(unsafe { sys::budp_open(&mut s, fd, raw_options.as_ptr()) })?;
        Ok(Socket::from_handle(s, &raw_options, None, None))
    }

    /// Wraps a standard UDP socket, taking ownership: the fd is closed when
    /// the `Socket` (and every [`Sender`]) is dropped.  On error the
    /// `UdpSocket` is closed.
    ///
    /// ```
    /// let udp = std::net::UdpSocket::bind("[::1]:0").or_else(|_| std::net::UdpSocket::bind("127.0.0.1:0"))?;
    /// let addr = udp.local_addr()?;
    /// let sock = batchudp::Socket::from_udp_socket(udp, batchudp::Options::new())?;
    /// assert_eq!(sock.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_udp_socket(socket: UdpSocket, options: Options) -> io::Result<Socket> {
        // SAFETY: the fd is a UDP socket we now own.
        let owned = unsafe { OwnedFd::from_raw_fd(socket.into_raw_fd()) };
        let raw_options = options.make_raw()?;
        let mut s = ptr::null_mut();
        check(unsafe { sys::budp_open(&mut s, owned.as_raw_fd(), raw_options.as_ptr()) })?;
        Ok(Socket::from_handle(s, &raw_options, Some(owned), None))
    }

    /// Member `member.index` of a group, `s` (`budp_group_socket`), opened
    /// with the options `o`.
    pub(crate) fn from_member(
        s: *mut sys::budp_socket,
        o: &RawOptions,
        member: Membership,
    ) -> Socket {
        Socket::from_handle(s, o, None, Some(member))
    }

    fn from_handle(
        s: *mut sys::budp_socket,
        o: &RawOptions,
        owned_fd: Option<OwnedFd>,
        member: Option<Membership>,
    ) -> Socket {
        let raw = NonNull::new(s).expect("budp_bind/budp_open succeeded with a NULL socket");
        let batch_size = o.get(sys::BUDP_OPT_BATCH_SIZE).clamp(1, c_uint::MAX.into()) as u32;
        let callback_mode =
            o.get(sys::BUDP_OPT_THREADED) != 0 && o.get(sys::BUDP_OPT_CALLBACK_THREAD) != 0;
        Socket {
            inner: Arc::new(Inner::new(raw, owned_fd, member)),
            batch_size,
            callback_mode,
            callback_set: false,
            errors: o.get(sys::BUDP_OPT_ERRORS) != 0,
        }
    }

    /// Receives up to [`batch_size`](Socket::batch_size) datagrams without
    /// blocking.  The batch may be empty: [`wait`](Socket::wait) for more.
    ///
    /// Inline mode makes at most one receive system call; threaded mode
    /// pops what the receiver thread queued.  The datagrams are views into
    /// the socket's buffers, valid until the next receiving call: the
    /// returned [`DatagramBatch`] borrows the socket mutably, so the borrow
    /// checker makes sure they are not used after that.
    ///
    /// Errors: a receive error met since the last call, returned once
    /// (`ECONNREFUSED` and other ICMP-reported errors leave the socket
    /// usable), or a fatal one from then on; `EBADF` once the socket is
    /// [shut down](Socket::shutdown); `EINVAL` in callback-thread mode.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert!(sock.recv()?.is_empty()); // nothing queued yet
    ///
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
    /// sock.wait(None)?;
    /// assert_eq!(sock.recv()?.len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv(&mut self) -> io::Result<DatagramBatch<'_>> {
        self.recv_max(self.batch_size as usize)
    }

    /// Like [`recv`](Socket::recv), with at most `max` datagrams (0 is
    /// `EINVAL`).
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"a"[..], me), OutgoingDatagram::to(&b"b"[..], me)])?;
    /// sock.wait(None)?;
    /// assert!(sock.recv_max(1)?.len() <= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_max(&mut self, max: usize) -> io::Result<DatagramBatch<'_>> {
        let (out, n) = self.recv_views(max)?;
        // SAFETY: what the receive just above returned.
        Ok(unsafe { self.batch_of(out, n) })
    }

    /// budp_recv, returning the views as the library gave them.  The
    /// batch is made apart ([`batch_of`](Self::batch_of)) so that a loop
    /// may look at the count and call again without a borrow of `self`
    /// still alive from the previous turn.
    pub(crate) fn recv_views(
        &mut self,
        max: usize,
    ) -> io::Result<(*const sys::budp_datagram, usize)> {
        let max = c_uint::try_from(max).unwrap_or(c_uint::MAX);
        let mut out: *const sys::budp_datagram = ptr::null();
        let n = check(unsafe { sys::budp_recv(self.inner.ptr(), &mut out, max) })?;
        Ok((out, n as usize))
    }

    /// The batch of the `n` views at `out`, borrowing `self` mutably.
    ///
    /// # Safety
    /// `out` and `n` must be what the latest [`recv_views`](Self::recv_views)
    /// on this socket returned.
    pub(crate) unsafe fn batch_of(
        &mut self,
        out: *const sys::budp_datagram,
        n: usize,
    ) -> DatagramBatch<'_> {
        // SAFETY: the library keeps the n views valid until the next
        // receiving call, which needs `&mut self`, borrowed by the batch.
        let items = unsafe { Datagram::slice(out, n) };
        DatagramBatch {
            items,
            socket: self,
        }
    }

    /// Blocks until [`recv`](Socket::recv) has something to return, or the
    /// timeout passes (`None`: forever; a zero duration just checks).
    /// Returns `true` when ready, `false` on timeout.  Wake-ups may be
    /// spurious (`recv` then returns an empty batch;
    /// [`recv_timeout`](Socket::recv_timeout) waits again instead).  The
    /// timeout is rounded up to whole milliseconds.
    ///
    /// In callback-thread mode ([`set_callback`](Socket::set_callback))
    /// there is nothing to receive: `wait` blocks until the receiver thread
    /// meets a receive error and returns it, or returns `false` on timeout
    /// (never `true`).  A transient error (`ECONNREFUSED` and the other
    /// ICMP-reported ones) is returned once and the thread goes on; a fatal
    /// one (`EBADF`, `ENOTSOCK`, `EFAULT`: the fd was closed or replaced
    /// behind the library's back) has stopped the thread and is returned by
    /// every call from then on.  Every one is counted in
    /// [`Stats::rx_errors`](crate::Stats::rx_errors).
    ///
    /// Errors: `EBADF` once the socket is [shut down](Socket::shutdown):
    /// a shutdown through another handle wakes a thread blocked here, which
    /// then returns the error at once, whatever the timeout.  `EBUSY` from
    /// inside the socket's own callback.
    ///
    /// ```
    /// use std::time::Duration;
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert!(!sock.wait(Some(Duration::from_millis(1)))?); // nothing came
    ///
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
    /// assert!(sock.wait(Some(Duration::from_secs(10)))?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        let ms = timeout.map_or(-1, writable::timeout_ms);
        Ok(check(unsafe { sys::budp_wait(self.inner.ptr(), ms) })? > 0)
    }

    /// Sends datagrams in order, in as few system calls as the backend
    /// allows, without blocking.  Returns how many were sent: fewer than
    /// `datagrams.len()` when the kernel stops taking them (a full send
    /// buffer, or an error after the first); resend the rest, or call
    /// [`send_all`](Socket::send_all), which does it and waits for room.
    /// An empty slice sends nothing and returns 0.
    ///
    /// Errors, only when the first datagram fails: `EINVAL` (payload over
    /// 65535 bytes, bad ECN value), `EDESTADDRREQ` (no destination on an
    /// unconnected socket), `EAGAIN` ([`io::ErrorKind::WouldBlock`]),
    /// `EMSGSIZE`, `ECONNREFUSED` and the other errors of the send call;
    /// `EBADF` once the socket is [shut down](Socket::shutdown).
    ///
    /// May be called from any thread, also while another receives (see
    /// [`Sender`]), and from several threads at once.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let to = sock.local_addr()?;
    /// let batch: Vec<OutgoingDatagram> = (0..10u8).map(|i| OutgoingDatagram::to(vec![i; 100], to)).collect();
    /// let mut sent = 0;
    /// while sent < batch.len() {
    ///     sent += sock.send(&batch[sent..])?;
    /// }
    /// assert_eq!(sock.stats().tx_datagrams, 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<usize> {
        self.inner.send(datagrams)
    }

    /// A handle that sends on this socket from any thread, concurrently
    /// with the consumer (see [`Sender`]).
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// let tx = sock.sender();
    /// let t = std::thread::spawn(move || tx.send(&[OutgoingDatagram::to(&b"from a thread"[..], me)]));
    /// sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].data(), b"from a thread");
    /// t.join().unwrap()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sender(&self) -> Sender {
        Sender::new(Arc::clone(&self.inner))
    }

    /// Shuts the socket down for every handle (this one and every
    /// [`Sender`]), from any thread, at any time, as often as wanted (the
    /// calls after the first do nothing).
    ///
    /// A thread blocked in [`wait`](Socket::wait) returns at once with the
    /// closed error, `EBADF` ([`io::Error::raw_os_error`]), and so does
    /// every later call that can fail; in threaded mode the receiver thread
    /// stops, and a callback set with [`set_callback`](Socket::set_callback)
    /// is not called again after the call in progress, if any.  Datagrams
    /// still queued in the library are discarded, as `close(2)` discards a
    /// socket's receive queue.  Nothing is freed: the fds stay open until
    /// the last handle is dropped (see [Closing](Socket#closing)), and a
    /// [`DatagramBatch`] still held stays valid.
    ///
    /// Afterwards [`stats`](Socket::stats) returns the counters as they
    /// were when the shutdown began, [`backend_name`](Socket::backend_name)
    /// and [`backend_reason`](Socket::backend_reason) return `""` and [`socket_fd`](Socket::socket_fd) the same fd as
    /// before.  In inline mode the poll fd is the socket itself, which a
    /// shutdown does not make readable: an event loop polling it must wake
    /// itself (the `tokio` feature's `AsyncSocket` does).  In threaded mode
    /// it becomes readable for good.
    ///
    /// To shut down a socket that a thread is receiving on (and so holds
    /// `&mut`), call [`Sender::shutdown`] on a sender taken before.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
    /// let sent = sock.stats().tx_datagrams;
    /// sock.shutdown();
    /// let err = sock.send(&[OutgoingDatagram::to(&b"y"[..], me)]).unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(9)); // EBADF
    /// assert_eq!(sock.wait(None).unwrap_err().raw_os_error(), Some(9));
    /// assert_eq!(sock.stats().tx_datagrams, sent);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self) {
        self.inner.shutdown()
    }

    /// Connects the socket to `addr`: datagrams without a destination
    /// ([`OutgoingDatagram::connected`]) go there, and only its datagrams
    /// arrive.  Each address `addr` resolves to is tried in turn.  Sends through
    /// [`Sender`]s wait while it runs, and it waits for those in progress.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut a = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let mut b = Socket::bind("127.0.0.1:0", Options::new())?;
    /// a.connect(b.local_addr()?)?;
    /// a.send(&[OutgoingDatagram::connected(&b"hi"[..])])?;
    /// b.wait(None)?;
    /// assert_eq!(b.recv()?[0].peer(), a.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect<A: ToSocketAddrs>(&mut self, addr: A) -> io::Result<()> {
        let inner = &self.inner;
        addr::each_addr(addr, |a| {
            let host = addr::host_cstring(a);
            inner.connect(&host, a.port())
        })
    }

    /// The address the socket is bound to.
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let addr = sock.local_addr()?;
    /// assert_eq!(addr.ip().to_string(), "127.0.0.1");
    /// assert_ne!(addr.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The UDP socket's fd, borrowed (what [`AsFd`] and [`AsRawFd`]
    /// give).  Owned by the socket (or by the caller of
    /// [`from_raw_fd`](Socket::from_raw_fd)); use it for socket options and
    /// to wait for writability (`POLLOUT`, as
    /// [`send_all`](Socket::send_all) does), not for reading: the library
    /// reads it.  For readability, poll [`poll_fd`](Socket::poll_fd).  It
    /// stays open, shut down or not, until the last handle is dropped.
    ///
    /// ```
    /// use std::os::fd::{AsFd, AsRawFd};
    ///
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert!(sock.socket_fd().as_raw_fd() >= 0);
    /// assert_eq!(sock.as_fd().as_raw_fd(), sock.socket_fd().as_raw_fd());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket_fd(&self) -> BorrowedFd<'_> {
        self.inner.socket_fd()
    }

    /// The fd to poll for readability before [`recv`](Socket::recv): the
    /// UDP socket in inline mode (on [`Backend::Uring`](crate::Backend::Uring),
    /// an eventfd the ring signals), the receiver's notify fd in threaded
    /// mode (which is why [`AsFd`] gives the UDP socket and this is apart).
    /// A hint: wake-ups may be spurious or coalesced; call `recv` until it
    /// returns an empty batch before sleeping on it (datagrams the library
    /// already holds do not make it readable).  Not for writability: in
    /// threaded mode it is not the socket.
    ///
    /// Errors: `ENOTSUP` in callback-thread mode, where there is nothing to
    /// poll; `EBADF` once shut down.
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    ///
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// // Inline mode: the socket itself.
    /// assert_eq!(sock.poll_fd()?.as_raw_fd(), sock.socket_fd().as_raw_fd());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_fd(&self) -> io::Result<BorrowedFd<'_>> {
        let fd = check(unsafe { sys::budp_poll_fd(self.inner.ptr()) })?;
        // SAFETY: the library keeps the poll fd open until budp_close, which
        // cannot run while `self` is borrowed.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// The backend in use: `"mmsg"`, `"msgx"`, `"loop"` or `"uring"`; `""`
    /// once shut down.  [`Backend::Auto`](crate::Backend::Auto) never takes
    /// `"uring"` unless the environment variable `BATCHUDP_BACKEND` names
    /// it.
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert!(["mmsg", "msgx", "loop"].contains(&sock.backend_name()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_name(&self) -> &str {
        self.inner.backend_name()
    }

    /// Why the socket got its backend, one line for logs and support
    /// requests: the backend's name, `": "`, and what decided it, e.g.
    /// `"loop: recvmsg_x avoided below macOS 15.6 (this is macOS 15.5)"`.
    /// The words after the colon may change between releases: show them,
    /// do not parse them.  `""` once shut down, as
    /// [`backend_name`](Socket::backend_name).
    ///
    /// ```
    /// use batchudp::{Backend, Options, Socket};
    ///
    /// let sock = Socket::bind("127.0.0.1:0", Options::new().backend(Backend::Loop))?;
    /// let reason = sock.backend_reason();
    /// assert!(reason.starts_with("loop: "));
    /// assert!(reason.contains("asked for"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_reason(&self) -> String {
        self.inner.backend_reason()
    }

    /// The socket's counters; once [shut down](Socket::shutdown), those of
    /// the moment the shutdown began (the library keeps none after it).
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.stats(), batchudp::Stats::default());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// Reads the error events that wait, oldest first, into `events`
    /// without blocking, and returns how many (0: none).  Needs
    /// [`Options::errors`] (else `EINVAL`, as for an empty `events`).
    ///
    /// Each [`ErrorEvent`] is an ICMP error (port or host unreachable,
    /// fragmentation needed, ...) or a local send error reported for a
    /// datagram this socket sent, with the destination it concerns; while
    /// the option is on, those errors come here instead of failing
    /// [`recv`](Socket::recv) or [`send`](Socket::send).  While events
    /// wait, the poll fd is readable and [`wait`](Socket::wait) returns
    /// `true`: a program that turns the option on reads them.
    /// [`recv_timeout`](Socket::recv_timeout) sets them aside while it
    /// waits (64 at most, the others counted in
    /// [`Stats::error_events_dropped`]) and this returns those first.
    /// Any thread, any mode (also through a [`Sender`]).
    ///
    /// ```
    /// use batchudp::{ErrorEvent, Options, Socket};
    ///
    /// let sock = Socket::bind("127.0.0.1:0", Options::new().errors(true))?;
    /// let mut events = [ErrorEvent::default(); 16];
    /// assert_eq!(sock.recv_errors(&mut events)?, 0); // nothing went wrong
    ///
    /// let off = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert_eq!(off.recv_errors(&mut events).unwrap_err().raw_os_error(), Some(22)); // EINVAL
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_errors(&self, events: &mut [ErrorEvent]) -> io::Result<usize> {
        self.inner.recv_errors(events)
    }

    /// Whether departure times
    /// ([`OutgoingDatagram::with_time_ns`]) sent to `dest` (`None`: the
    /// connected peer) would be honoured: the queue discipline of the
    /// interface the route leaves by holds packets back until their time
    /// (Linux fq or etf).  Returns `(honoured, detail)`, `detail` one line
    /// for logs (`"lo: noqueue sends at once"`; show it, do not parse it).
    /// `honoured` is `false` also when the socket's pacing is
    /// [`Pacing::Off`](crate::Pacing::Off).
    ///
    /// Errors: `EINVAL` (`None` on an unconnected socket), `ENOTSUP` (no
    /// pacing on this system), `ENETUNREACH` (no route), `EBADF` once shut
    /// down.
    ///
    /// ```
    /// use batchudp::{Options, Pacing, Socket};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let sock = Socket::bind("127.0.0.1:0", Options::new().pacing(Pacing::Monotonic))?;
    /// let (honoured, detail) = sock.pacing_support(Some(sock.local_addr()?))?;
    /// assert!(!honoured); // loopback queues nothing
    /// assert!(detail.contains("lo"));
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pacing_support(&self, dest: Option<SocketAddr>) -> io::Result<(bool, String)> {
        self.inner.pacing_support(dest.as_ref())
    }

    /// The number of datagrams [`recv`](Socket::recv) asks for: the batch
    /// size in effect ([`Options::batch_size`]).
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.batch_size(), 32); // the default
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn batch_size(&self) -> usize {
        self.batch_size as usize
    }

    /// The socket's number in its [`Group`](crate::Group) (`0..group.len()`),
    /// or `None` for a socket of its own.
    ///
    /// ```
    /// use batchudp::{Group, Options, Socket};
    ///
    /// let lone = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert_eq!(lone.group_member(), None);
    /// # if cfg!(target_os = "linux") {
    /// let mut group = Group::bind("127.0.0.1:0", 3, Options::new())?;
    /// let member = group.take_member(2).expect("held by the group");
    /// assert_eq!(member.group_member(), Some(2));
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn group_member(&self) -> Option<usize> {
        self.inner.member_index()
    }

    /// [`Group::close_member`](crate::Group::close_member) of this member:
    /// closes it now, through its group, when no other handle shares it
    /// (else `EBUSY`), and returns the datagrams its close dropped.  On an
    /// error it stays open, as it was.
    pub(crate) fn close_member(&mut self) -> io::Result<u64> {
        let Some(inner) = Arc::get_mut(&mut self.inner) else {
            // A Sender (or an AsyncSender) shares the member: it closes
            // when the last of them is dropped.
            return Err(io::Error::from_raw_os_error(crate::group::EBUSY));
        };
        let dropped = inner.close_member()?;
        // Closed: the receiver thread is joined and the closure, if any,
        // is called no more; dropping the Socket clears nothing in C.
        self.callback_set = false;
        Ok(dropped)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.release_callback();
    }
}

/// The UDP socket's fd, [`Socket::socket_fd`], as for a
/// [`UdpSocket`]: for socket options and writability.  Readability is on
/// [`Socket::poll_fd`] (the same fd in inline mode).
impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.socket_fd().as_raw_fd()
    }
}

/// The UDP socket's fd, borrowed from the socket (see [`AsRawFd`]).  Do not
/// read from it or close it.
impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.socket_fd()
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("local_addr", &self.local_addr().ok())
            .field("backend", &self.backend_name())
            .field("fd", &self.socket_fd().as_raw_fd())
            .field("poll_fd", &self.poll_fd().ok().map(|fd| fd.as_raw_fd()))
            .field("batch_size", &self.batch_size)
            .finish()
    }
}
