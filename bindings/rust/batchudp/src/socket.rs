//! [`Socket`], its [`Sender`] handles, and the callback trampolines.

use batchudp_sys as sys;
use std::any::Any;
use std::cell::Cell;
use std::ffi::{c_int, c_uint, c_void, CStr};
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::addr;
use crate::check;
use crate::datagram::{Batch, Datagram, RecvDatagram};
use crate::options::{Options, RawOptions};
use crate::stats::Stats;

/// `EINVAL`, the same number on every supported system.
const EINVAL: i32 = 22;

/// Datagrams converted per `budp_send` call: the C views live in an array on
/// the stack, so sending allocates nothing.
const SEND_CHUNK: usize = 64;

type Panic = Box<dyn Any + Send + 'static>;
type ThreadFn = Box<dyn FnMut(&[RecvDatagram<'_>]) + Send + 'static>;

/// State of a callback running on the library's receiver thread.
#[derive(Default)]
struct ThreadCallback {
    f: Option<ThreadFn>,
    panic: Option<Panic>,
}

type ThreadCell = Mutex<ThreadCallback>;

thread_local! {
    /// The cell whose closure this thread is running right now (null when
    /// none): lets the socket's methods notice that they are called from
    /// inside its own receiver-thread callback.
    static RUNNING: Cell<*const ThreadCell> = const { Cell::new(ptr::null()) };
}

fn running_in(cell: &Arc<ThreadCell>) -> bool {
    RUNNING.with(|r| ptr::eq(r.get(), Arc::as_ptr(cell)))
}

/// `EBUSY`, the same number on every supported system.
const EBUSY: i32 = 16;

/// The C handle, shared by a [`Socket`] and its [`Sender`]s, closed when the
/// last of them goes.
struct Inner {
    raw: NonNull<sys::budp_socket>,
    /// Serializes budp_send (and budp_connect) between Rust handles: the C
    /// library promises that a send may run concurrently with the consumer,
    /// not that two sends may run concurrently with each other.
    send_lock: Mutex<()>,
    /// Callback-thread mode: what the receiver thread calls.  `Arc::as_ptr`
    /// of it is the `user` pointer given to budp_set_callback; this
    /// reference keeps it valid until budp_close has joined the thread
    /// (Inner's drop runs budp_close before the fields are dropped), and the
    /// trampoline holds its own reference for the length of each call.
    thread_cb: Arc<ThreadCell>,
    /// The fd of a socket made with `Socket::from_udp_socket`, closed after
    /// budp_close.
    _owned_fd: Option<OwnedFd>,
}

// SAFETY: through `&Inner` only the functions the C library allows on any
// thread are called (budp_send under `send_lock`, budp_get_stats,
// budp_socket_fd, budp_poll_fd, budp_local_addr, budp_backend_name); the
// consumer functions (recv, dispatch, wait, set_callback) are called only by
// `Socket` methods taking `&mut self`, and there is one `Socket` per handle.
// budp_close runs in Drop, when no other reference exists.  The closure in
// `thread_cb` is `Send` and only ever called with the mutex held.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        // Joins the receiver thread: afterwards nothing calls the
        // trampolines, and `thread_cb` and the fd may go.
        unsafe { sys::budp_close(self.raw.as_ptr()) }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held (closures run under
    // catch_unwind), so poisoning carries no meaning here.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    fn ptr(&self) -> *mut sys::budp_socket {
        self.raw.as_ptr()
    }

    fn send(&self, datagrams: &[Datagram<'_>]) -> io::Result<usize> {
        let _guard = lock(&self.send_lock);
        let mut views = [MaybeUninit::<sys::budp_datagram>::uninit(); SEND_CHUNK];
        let mut sent = 0;
        for chunk in datagrams.chunks(SEND_CHUNK) {
            for (view, d) in views.iter_mut().zip(chunk) {
                view.write(d.to_raw());
            }
            // SAFETY: the first chunk.len() views were written just above;
            // the payloads they point to are borrowed for the call.
            let rc =
                unsafe { sys::budp_send(self.ptr(), views.as_ptr().cast(), chunk.len() as c_uint) };
            match check(rc) {
                Ok(n) => {
                    sent += n as usize;
                    if (n as usize) < chunk.len() {
                        break;
                    }
                }
                // An error counts only when nothing was sent yet; otherwise
                // the caller sees the short count and resends the rest.
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut a = sys::budp_addr::default();
        check(unsafe { sys::budp_local_addr(self.ptr(), &mut a) })?;
        addr::from_budp(&a).ok_or_else(|| io::Error::other("socket has no IP address"))
    }

    fn socket_fd(&self) -> RawFd {
        unsafe { sys::budp_socket_fd(self.ptr()) }
    }

    fn backend_name(&self) -> &str {
        let p = unsafe { sys::budp_backend_name(self.ptr()) };
        if p.is_null() {
            return "";
        }
        // SAFETY: a NUL-terminated string the library keeps at least as
        // long as the socket.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("")
    }

    fn stats(&self) -> Stats {
        let mut raw = sys::budp_stats::default();
        let rc = unsafe {
            sys::budp_get_stats(self.ptr(), &mut raw, std::mem::size_of::<sys::budp_stats>())
        };
        debug_assert!(rc >= 0, "budp_get_stats = {rc}");
        Stats::from_raw(&raw)
    }
}

/// A UDP socket that receives and sends datagrams in batches.
///
/// Created by [`Socket::bind`], [`Socket::from_udp_socket`] or
/// [`Socket::from_raw_fd`].  Receiving is non-blocking:
/// [`recv`](Socket::recv) returns what is queued (possibly nothing) and
/// [`wait`](Socket::wait) blocks until something is.  Dropping the socket
/// closes it (once every [`Sender`] is gone too).
///
/// ```
/// use batchudp::{Datagram, Options, Socket};
///
/// let mut server = Socket::bind("127.0.0.1:0", Options::new())?;
/// let client = Socket::bind("127.0.0.1:0", Options::new())?;
/// client.send(&[Datagram::to(&b"hello"[..], server.local_addr()?)])?;
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
///   enforced by the borrow checker, and the views a [`Batch`] hands out
///   stay valid as long as they are reachable.
/// - Every `&self` method is one the library allows from any thread
///   (`send`, `stats`, `local_addr`, the fds, `backend_name`).  So `Socket`
///   is [`Send`] (the consumer may move to another thread) **and** [`Sync`]
///   (a shared `&Socket` only reaches the thread-safe calls).  Sends from
///   several Rust handles are serialized by a lock, because the library
///   promises send-alongside-receive, not send-alongside-send.
/// - To send from other threads *while* this one receives (a `&mut`
///   borrow excludes any `&`), take a [`Sender`] with
///   [`sender`](Socket::sender): a cloneable, `Send + Sync` handle that
///   can only send and read statistics.
/// - [`RecvDatagram`] and [`Batch`] borrow the socket; they are `Send` and
///   `Sync` like the byte slices they stand for, so a batch can be processed
///   by scoped threads.
pub struct Socket {
    inner: Arc<Inner>,
    batch_size: u32,
    /// Threaded with callback-thread: the receiver thread calls the
    /// callback; recv, wait and dispatch do not apply.
    callback_mode: bool,
    /// A callback is registered with the library (callback-thread mode).
    callback_set: bool,
    poll_fd: RawFd,
}

impl Socket {
    /// Creates a UDP socket bound to `addr` (port 0 picks a free port),
    /// with `options` applied.  `addr` must resolve to a numeric IPv4 or
    /// IPv6 address; each address it resolves to is tried in turn.
    ///
    /// Errors carry the errno of the C library: `EINVAL` for a rejected
    /// option value or combination ([`io::ErrorKind::InvalidInput`]),
    /// `ENOTSUP` for a backend or mode not available here, and the errors of
    /// `socket()`/`bind()` (`EADDRINUSE`, ...).
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
            Ok(Socket::from_handle(s, &raw_options, None))
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
        Ok(Socket::from_handle(s, &raw_options, None))
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
        Ok(Socket::from_handle(s, &raw_options, Some(owned)))
    }

    fn from_handle(s: *mut sys::budp_socket, o: &RawOptions, owned_fd: Option<OwnedFd>) -> Socket {
        let raw = NonNull::new(s).expect("budp_bind/budp_open succeeded with a NULL socket");
        let batch_size = o.get(sys::BUDP_OPT_BATCH_SIZE).clamp(1, c_uint::MAX.into()) as u32;
        let callback_mode =
            o.get(sys::BUDP_OPT_THREADED) != 0 && o.get(sys::BUDP_OPT_CALLBACK_THREAD) != 0;
        let inner = Arc::new(Inner {
            raw,
            send_lock: Mutex::new(()),
            thread_cb: Arc::new(Mutex::new(ThreadCallback::default())),
            _owned_fd: owned_fd,
        });
        // In callback-thread mode there is nothing to poll (-ENOTSUP): fall
        // back to the socket itself, so that AsFd always has an open fd.
        let poll_fd = match unsafe { sys::budp_poll_fd(raw.as_ptr()) } {
            fd if fd >= 0 => fd,
            _ => inner.socket_fd(),
        };
        Socket {
            inner,
            batch_size,
            callback_mode,
            callback_set: false,
            poll_fd,
        }
    }

    /// Receives up to [`batch_size`](Socket::batch_size) datagrams without
    /// blocking.  The batch may be empty: [`wait`](Socket::wait) for more.
    ///
    /// Inline mode makes at most one receive system call; threaded mode
    /// pops what the receiver thread queued.  The datagrams are views into
    /// the socket's buffers, valid until the next receiving call: the
    /// returned [`Batch`] borrows the socket mutably, so the borrow checker
    /// makes sure they are not used after that.
    ///
    /// Errors: a receive error met since the last call, returned once
    /// (`ECONNREFUSED` and other ICMP-reported errors leave the socket
    /// usable), or a fatal one (`EBADF`) from then on; `EINVAL` in
    /// callback-thread mode.
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert!(sock.recv()?.is_empty()); // nothing queued yet
    ///
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"x"[..], me)])?;
    /// sock.wait(None)?;
    /// assert_eq!(sock.recv()?.len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv(&mut self) -> io::Result<Batch<'_>> {
        self.recv_max(self.batch_size as usize)
    }

    /// Like [`recv`](Socket::recv), with at most `max` datagrams (0 is
    /// `EINVAL`).
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"a"[..], me), Datagram::to(&b"b"[..], me)])?;
    /// sock.wait(None)?;
    /// assert!(sock.recv_max(1)?.len() <= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_max(&mut self, max: usize) -> io::Result<Batch<'_>> {
        let max = c_uint::try_from(max).unwrap_or(c_uint::MAX);
        let mut out: *const sys::budp_datagram = ptr::null();
        let n = check(unsafe { sys::budp_recv(self.inner.ptr(), &mut out, max) })?;
        // SAFETY: the library keeps the n views valid until the next
        // receiving call, which needs `&mut self`, borrowed by the batch.
        let items = unsafe { RecvDatagram::slice(out, n as usize) };
        Ok(Batch {
            items,
            socket: self,
        })
    }

    /// Blocks until [`recv`](Socket::recv) has something to return, or the
    /// timeout passes (`None`: forever; a zero duration just checks).
    /// Returns `true` when ready, `false` on timeout.  Wake-ups may be
    /// spurious (`recv` then returns an empty batch).  The timeout is
    /// rounded up to whole milliseconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// assert!(!sock.wait(Some(Duration::from_millis(1)))?); // nothing came
    ///
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"x"[..], me)])?;
    /// assert!(sock.wait(Some(Duration::from_secs(10)))?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        let ms: c_int = match timeout {
            None => -1,
            Some(d) => {
                let ms = d.as_nanos().div_ceil(1_000_000);
                c_int::try_from(ms).unwrap_or(c_int::MAX)
            }
        };
        Ok(check(unsafe { sys::budp_wait(self.inner.ptr(), ms) })? > 0)
    }

    /// Receives up to `max` datagrams without blocking, as
    /// [`recv`](Socket::recv) would, and hands them to `f` on this thread,
    /// in one or more slices, in order.  Returns the number handed over.
    ///
    /// The slices are valid only during each call of `f` (the signature
    /// makes keeping them a compile error).  A panic in `f` is caught at
    /// the C boundary; the datagrams of the same call that `f` has not seen
    /// are consumed without being handed over, and the panic resumes here
    /// once the library returns.  To send replies from `f`, use a
    /// [`Sender`].
    ///
    /// Errors: as for `recv`; `EINVAL` in callback-thread mode (see
    /// [`set_callback`](Socket::set_callback)).
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"a"[..], me), Datagram::to(&b"bb"[..], me)])?;
    ///
    /// let mut bytes = 0;
    /// let mut count = 0;
    /// while count < 2 {
    ///     sock.wait(None)?;
    ///     count += sock.dispatch(32, |batch| {
    ///         bytes += batch.iter().map(|d| d.len()).sum::<usize>();
    ///     })?;
    /// }
    /// assert_eq!(bytes, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// The datagrams cannot escape the closure:
    ///
    /// ```compile_fail
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let mut kept: Vec<&[u8]> = Vec::new();
    /// sock.dispatch(32, |batch| kept.extend(batch.iter().map(|d| d.data())))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// while copies can:
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let mut kept: Vec<Vec<u8>> = Vec::new();
    /// sock.dispatch(32, |batch| kept.extend(batch.iter().map(|d| d.data().to_vec())))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dispatch<F>(&mut self, max: usize, mut f: F) -> io::Result<usize>
    where
        F: FnMut(&[RecvDatagram<'_>]),
    {
        if self.callback_mode {
            return Err(io::Error::from_raw_os_error(EINVAL));
        }
        let max = c_uint::try_from(max).unwrap_or(c_uint::MAX);
        let mut ctx: (&mut F, Option<Panic>) = (&mut f, None);
        let s = self.inner.ptr();
        let user = (&mut ctx as *mut (&mut F, Option<Panic>)).cast::<c_void>();
        // SAFETY: `ctx` outlives the registration, which is cleared before
        // this function returns; the callback runs only inside
        // budp_dispatch on this thread (not callback-thread mode).
        let rc = unsafe {
            check(sys::budp_set_callback(
                s,
                Some(dispatch_trampoline::<F>),
                user,
            ))?;
            let rc = sys::budp_dispatch(s, max);
            sys::budp_set_callback(s, None, ptr::null_mut());
            rc
        };
        if let Some(p) = ctx.1.take() {
            panic::resume_unwind(p);
        }
        Ok(check(rc)? as usize)
    }

    /// Callback-thread mode ([`Options::threaded`] and
    /// [`Options::callback_thread`]): sets the closure the library's
    /// receiver thread calls with each batch, replacing any previous one.
    /// The receiver starts reading the socket once a callback is set.
    ///
    /// `f` runs on the receiver thread, hence `Send + 'static`; the slices
    /// are valid only during the call.  A panic in `f` is caught at the C
    /// boundary (the default panic hook reports it as usual); `f` is not
    /// called again and later batches are dropped, and
    /// [`clear_callback`](Socket::clear_callback) resumes the panic on the
    /// caller's thread.
    ///
    /// Errors: `EINVAL` when the socket is not in callback-thread mode (use
    /// [`dispatch`](Socket::dispatch) there); `EBUSY` from inside the
    /// callback itself.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let options = Options::new().threaded(true).callback_thread(true);
    /// let mut sock = match Socket::bind("127.0.0.1:0", options) {
    ///     Ok(sock) => sock,
    ///     Err(e) => { println!("threaded mode not available: {e}"); return Ok(()); }
    /// };
    /// let (tx, rx) = mpsc::channel();
    /// sock.set_callback(move |batch| {
    ///     for d in batch {
    ///         tx.send(d.data().to_vec()).unwrap();
    ///     }
    /// })?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"hi"[..], me)])?;
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), b"hi");
    /// sock.clear_callback()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_callback<F>(&mut self, f: F) -> io::Result<()>
    where
        F: FnMut(&[RecvDatagram<'_>]) + Send + 'static,
    {
        if !self.callback_mode {
            return Err(io::Error::from_raw_os_error(EINVAL));
        }
        if running_in(&self.inner.thread_cb) {
            return Err(io::Error::from_raw_os_error(EBUSY));
        }
        {
            let mut cb = lock(&self.inner.thread_cb);
            cb.f = Some(Box::new(f));
            cb.panic = None;
        }
        if !self.callback_set {
            let user = Arc::as_ptr(&self.inner.thread_cb).cast_mut().cast();
            // SAFETY: `thread_cb` lives until budp_close has joined the
            // receiver thread (see Inner).
            check(unsafe {
                sys::budp_set_callback(self.inner.ptr(), Some(thread_trampoline), user)
            })?;
            self.callback_set = true;
        }
        Ok(())
    }

    /// Removes the callback set with [`set_callback`](Socket::set_callback)
    /// (the receiver stops calling it; a call in progress finishes first)
    /// and drops it.  If the callback panicked, the panic resumes here.
    /// Does nothing when no callback is set.  Errors: `EBUSY` from inside
    /// the callback itself.
    ///
    /// ```
    /// use batchudp::{Options, Socket};
    ///
    /// let options = Options::new().threaded(true).callback_thread(true);
    /// if let Ok(mut sock) = Socket::bind("127.0.0.1:0", options) {
    ///     sock.set_callback(|_batch| panic!("boom"))?;
    ///     sock.clear_callback()?; // no datagram came: no panic to resume
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear_callback(&mut self) -> io::Result<()> {
        if running_in(&self.inner.thread_cb) {
            return Err(io::Error::from_raw_os_error(EBUSY));
        }
        let mut result = Ok(());
        if self.callback_set {
            result =
                check(unsafe { sys::budp_set_callback(self.inner.ptr(), None, ptr::null_mut()) })
                    .map(drop);
            self.callback_set = false;
        }
        // Taking the lock waits for a call in progress on the receiver thread.
        let (f, p) = {
            let mut cb = lock(&self.inner.thread_cb);
            (cb.f.take(), cb.panic.take())
        };
        drop(f);
        if let Some(p) = p {
            panic::resume_unwind(p);
        }
        result
    }

    /// Sends datagrams in order, in as few system calls as the backend
    /// allows, without blocking.  Returns how many were sent: fewer than
    /// `datagrams.len()` when the kernel stops taking them (a full send
    /// buffer, or an error after the first); resend the rest.  An empty
    /// slice sends nothing and returns 0.
    ///
    /// Errors, only when the first datagram fails: `EINVAL` (payload over
    /// 65535 bytes, bad ECN value), `EDESTADDRREQ` (no destination on an
    /// unconnected socket), `EAGAIN` ([`io::ErrorKind::WouldBlock`]),
    /// `EMSGSIZE`, `ECONNREFUSED` and the other errors of the send call.
    ///
    /// May be called from any thread, also while another receives (see
    /// [`Sender`]).
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let to = sock.local_addr()?;
    /// let batch: Vec<Datagram> = (0..10u8).map(|i| Datagram::to(vec![i; 100], to)).collect();
    /// let mut sent = 0;
    /// while sent < batch.len() {
    ///     sent += sock.send(&batch[sent..])?;
    /// }
    /// assert_eq!(sock.stats().tx_datagrams, 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send(&self, datagrams: &[Datagram<'_>]) -> io::Result<usize> {
        self.inner.send(datagrams)
    }

    /// A handle that sends on this socket from any thread, concurrently
    /// with the consumer (see [`Sender`]).
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// let tx = sock.sender();
    /// let t = std::thread::spawn(move || tx.send(&[Datagram::to(&b"from a thread"[..], me)]));
    /// sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].data(), b"from a thread");
    /// t.join().unwrap()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sender(&self) -> Sender {
        Sender {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Connects the socket to `addr`: datagrams without a destination
    /// ([`Datagram::connected`]) go there, and only its datagrams arrive.
    /// Each address `addr` resolves to is tried in turn.
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut a = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let mut b = Socket::bind("127.0.0.1:0", Options::new())?;
    /// a.connect(b.local_addr()?)?;
    /// a.send(&[Datagram::connected(&b"hi"[..])])?;
    /// b.wait(None)?;
    /// assert_eq!(b.recv()?[0].peer(), a.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect<A: ToSocketAddrs>(&mut self, addr: A) -> io::Result<()> {
        let inner = &self.inner;
        addr::each_addr(addr, |a| {
            let host = addr::host_cstring(a);
            let _guard = lock(&inner.send_lock);
            check(unsafe { sys::budp_connect(inner.ptr(), host.as_ptr(), a.port()) }).map(drop)
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

    /// The UDP socket's fd.  Owned by the socket (or by the caller of
    /// [`from_raw_fd`](Socket::from_raw_fd)); use it for socket options, not
    /// for reading.  For readiness, poll [`as_raw_fd`](AsRawFd::as_raw_fd).
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert!(sock.socket_fd() >= 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket_fd(&self) -> RawFd {
        self.inner.socket_fd()
    }

    /// The fd to poll for readability before [`recv`](Socket::recv): the
    /// socket in inline mode, the receiver's notify fd in threaded mode
    /// (what [`AsRawFd`] and [`AsFd`] give).  A hint: wake-ups may be
    /// spurious or coalesced; call `recv` until it returns fewer than
    /// [`batch_size`](Socket::batch_size) datagrams before sleeping on it.
    /// Errors: `ENOTSUP` in callback-thread mode, where there is nothing to
    /// poll.
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    ///
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.poll_fd()?, sock.as_raw_fd());
    /// assert_eq!(sock.poll_fd()?, sock.socket_fd()); // inline mode
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_fd(&self) -> io::Result<RawFd> {
        check(unsafe { sys::budp_poll_fd(self.inner.ptr()) })
    }

    /// The backend in use: `"mmsg"`, `"msgx"` or `"loop"`.
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert!(["mmsg", "msgx", "loop"].contains(&sock.backend_name()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_name(&self) -> &str {
        self.inner.backend_name()
    }

    /// The socket's counters.
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// assert_eq!(sock.stats(), batchudp::Stats::default());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        self.inner.stats()
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
}

impl Drop for Socket {
    fn drop(&mut self) {
        // From inside its own callback (the socket was moved there through
        // some shared cell), leave the closure to the trampoline's reference.
        if self.callback_mode && !running_in(&self.inner.thread_cb) {
            // Drop the closure now rather than with the last Sender: it may
            // hold a Sender itself.  Any stored panic is discarded (the
            // panic hook has reported it already).
            if self.callback_set {
                unsafe { sys::budp_set_callback(self.inner.ptr(), None, ptr::null_mut()) };
            }
            let f = lock(&self.inner.thread_cb).f.take();
            drop(f);
        }
    }
}

/// The fd to poll for readability: [`Socket::poll_fd`], or in callback-thread
/// mode (nothing to poll) the UDP socket's fd.
impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.poll_fd
    }
}

/// The fd to poll for readability, borrowed from the socket (see
/// [`AsRawFd`]).  Do not read from it or close it.
impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: an fd the library keeps open until budp_close, which
        // cannot run while `self` is borrowed.
        unsafe { BorrowedFd::borrow_raw(self.poll_fd) }
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("local_addr", &self.local_addr().ok())
            .field("backend", &self.backend_name())
            .field("fd", &self.socket_fd())
            .field("poll_fd", &self.poll_fd)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

/// A sending handle on a [`Socket`], usable from any thread while the
/// socket's owner receives.
///
/// Cloneable, `Send` and `Sync`.  It keeps the socket open: the C socket is
/// closed when the `Socket` and every `Sender` are dropped (after the
/// `Socket` is gone the receiver stops being served, but sending still
/// works).  Sends from several handles are serialized.
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

/// budp_recv_fn for [`Socket::dispatch`]: `user` is a `(&mut F, Option<Panic>)`.
unsafe extern "C" fn dispatch_trampoline<F>(
    user: *mut c_void,
    d: *const sys::budp_datagram,
    n: c_uint,
) where
    F: FnMut(&[RecvDatagram<'_>]),
{
    // SAFETY: `user` is the context dispatch() registered, alive and not
    // otherwise borrowed during budp_dispatch.
    let ctx = unsafe { &mut *user.cast::<(&mut F, Option<Panic>)>() };
    if ctx.1.is_some() {
        return; // f panicked earlier in this dispatch: do not call it again
    }
    // SAFETY: the views are valid until the callback returns.
    let views = unsafe { RecvDatagram::slice(d, n as usize) };
    let f = &mut *ctx.0;
    if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| f(views))) {
        ctx.1 = Some(p);
    }
}

/// budp_recv_fn for the receiver thread: `user` is the socket's
/// `Mutex<ThreadCallback>`.
unsafe extern "C" fn thread_trampoline(user: *mut c_void, d: *const sys::budp_datagram, n: c_uint) {
    let user = user.cast_const().cast::<ThreadCell>();
    // SAFETY: `user` is Arc::as_ptr of Inner::thread_cb, alive until
    // budp_close joins this thread; take a reference of our own so that the
    // cell outlives this call whatever the closure does (even dropping the
    // socket from in here).
    let cell = unsafe {
        Arc::increment_strong_count(user);
        Arc::from_raw(user)
    };
    let previous = RUNNING.with(|r| r.replace(user));
    {
        let mut guard = lock(&cell);
        let cb = &mut *guard;
        if cb.panic.is_none() {
            if let Some(f) = cb.f.as_mut() {
                // SAFETY: the views are valid until the callback returns.
                let views = unsafe { RecvDatagram::slice(d, n as usize) };
                if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| f(views))) {
                    cb.panic = Some(p);
                }
            }
        }
    }
    RUNNING.with(|r| r.set(previous));
    drop(cell);
}
