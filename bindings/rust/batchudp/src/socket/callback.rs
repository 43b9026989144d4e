//! Receiving through closures: [`Socket::dispatch`] on the caller's thread,
//! and callback-thread mode ([`Socket::set_callback`]) on the library's
//! receiver thread, with the C trampolines and the panic capture at the C
//! boundary.

use batchudp_sys as sys;
use std::any::Any;
use std::cell::Cell;
use std::ffi::{c_int, c_uint, c_void};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, Mutex};

use super::handle::lock;
use super::Socket;
use crate::check;
use crate::datagram::Datagram;

/// `EINVAL`, the same number on every supported system.
const EINVAL: i32 = 22;

/// `EBUSY`, the same number on every supported system.
const EBUSY: i32 = 16;

type Panic = Box<dyn Any + Send + 'static>;
type ThreadFn = Box<dyn FnMut(&[Datagram<'_>]) + Send + 'static>;

/// State of a callback running on the library's receiver thread.
#[derive(Default)]
pub(super) struct ThreadCallback {
    f: Option<ThreadFn>,
    panic: Option<Panic>,
}

pub(super) type ThreadCell = Mutex<ThreadCallback>;

thread_local! {
    /// The cell whose closure this thread is running right now (null when
    /// none): lets the socket's methods notice that they are called from
    /// inside its own receiver-thread callback.
    static RUNNING: Cell<*const ThreadCell> = const { Cell::new(ptr::null()) };
    /// Set when the `Socket` of the cell in `RUNNING` was dropped inside the
    /// closure: the trampoline then drops the closure once it returns (it
    /// may hold the last `Sender`, which closes the socket).
    static RELEASE: Cell<bool> = const { Cell::new(false) };
}

fn running_in(cell: &Arc<ThreadCell>) -> bool {
    RUNNING.with(|r| ptr::eq(r.get(), Arc::as_ptr(cell)))
}

impl Socket {
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
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"a"[..], me), OutgoingDatagram::to(&b"bb"[..], me)])?;
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
    ///
    /// [`Sender`]: super::Sender
    pub fn dispatch<F>(&mut self, max: usize, mut f: F) -> io::Result<usize>
    where
        F: FnMut(&[Datagram<'_>]),
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
        // A shutdown (through a Sender, or from inside `f`) may come at any
        // point: the calls after it fail with EBADF, the clearing one
        // included.  The library then keeps the pointer to `ctx` but never
        // calls it again: nothing dispatches on a shut-down socket.
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
    /// callback itself; `EBADF` once the socket is
    /// [shut down](Socket::shutdown) (`f` is dropped then).
    ///
    /// The closure may shut the socket down through a [`Sender`] it holds:
    /// it is not called again after that.  Dropping the `Socket` from inside
    /// the closure (reached through some shared cell) drops the closure too,
    /// once it returns.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// use batchudp::{OutgoingDatagram, Options, Socket};
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
    /// sock.send(&[OutgoingDatagram::to(&b"hi"[..], me)])?;
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), b"hi");
    /// sock.clear_callback()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// [`Options::threaded`]: crate::Options::threaded
    /// [`Options::callback_thread`]: crate::Options::callback_thread
    /// [`Sender`]: super::Sender
    pub fn set_callback<F>(&mut self, f: F) -> io::Result<()>
    where
        F: FnMut(&[Datagram<'_>]) + Send + 'static,
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
        // Registered every time (the same trampoline and cell), so that a
        // shut-down socket says so.
        let user = Arc::as_ptr(&self.inner.thread_cb).cast_mut().cast();
        // SAFETY: `thread_cb` lives until budp_close has joined the
        // receiver thread (see Inner).
        let rc = unsafe { sys::budp_set_callback(self.inner.ptr(), Some(thread_trampoline), user) };
        if let Err(e) = check(rc) {
            // Not called any more (shut down): give the closure back now.
            let f = lock(&self.inner.thread_cb).f.take();
            drop(f);
            return Err(e);
        }
        self.callback_set = true;
        Ok(())
    }

    /// Removes the callback set with [`set_callback`](Socket::set_callback)
    /// (the receiver stops calling it; a call in progress finishes first)
    /// and drops it.  If the callback panicked, the panic resumes here.
    /// Does nothing when no callback is set.  Errors: `EBUSY` from inside
    /// the callback itself; `EBADF` once the socket is
    /// [shut down](Socket::shutdown) (the closure is dropped all the same).
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

    /// The callback-thread part of dropping the socket: unregisters the
    /// closure and drops it.
    pub(super) fn release_callback(&mut self) {
        // From inside its own callback (the socket was moved there through
        // some shared cell), the closure is running: the trampoline drops it
        // once it returns.
        if self.callback_mode && running_in(&self.inner.thread_cb) {
            RELEASE.with(|r| r.set(true));
        } else if self.callback_mode {
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

/// budp_recv_fn for [`Socket::dispatch`]: `user` is a `(&mut F, Option<Panic>)`.
/// Always answers `BUDP_CALLBACK_CONTINUE` (a pause means nothing to
/// budp_dispatch; the closure's `()` asks for none).
unsafe extern "C" fn dispatch_trampoline<F>(
    user: *mut c_void,
    d: *const sys::budp_datagram,
    n: c_uint,
) -> c_int
where
    F: FnMut(&[Datagram<'_>]),
{
    // SAFETY: `user` is the context dispatch() registered, alive and not
    // otherwise borrowed during budp_dispatch.
    let ctx = unsafe { &mut *user.cast::<(&mut F, Option<Panic>)>() };
    if ctx.1.is_some() {
        // f panicked earlier in this dispatch: do not call it again.
        return sys::BUDP_CALLBACK_CONTINUE;
    }
    // SAFETY: the views are valid until the callback returns.
    let views = unsafe { Datagram::slice(d, n as usize) };
    let f = &mut *ctx.0;
    if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| f(views))) {
        ctx.1 = Some(p);
    }
    sys::BUDP_CALLBACK_CONTINUE
}

/// budp_recv_fn for the receiver thread: `user` is the socket's
/// `Mutex<ThreadCallback>`.  Always answers `BUDP_CALLBACK_CONTINUE`, also
/// after a panic (later batches are dropped, as documented, rather than
/// left in the kernel's queue).
unsafe extern "C" fn thread_trampoline(
    user: *mut c_void,
    d: *const sys::budp_datagram,
    n: c_uint,
) -> c_int {
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
    let previous_release = RELEASE.with(|r| r.replace(false));
    let released = {
        let mut guard = lock(&cell);
        let cb = &mut *guard;
        if cb.panic.is_none() {
            if let Some(f) = cb.f.as_mut() {
                // SAFETY: the views are valid until the callback returns.
                let views = unsafe { Datagram::slice(d, n as usize) };
                if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| f(views))) {
                    cb.panic = Some(p);
                }
            }
        }
        // The Socket was dropped in there: nobody else will clear the
        // closure, and it may hold a Sender that keeps the socket alive.
        if RELEASE.with(|r| r.get()) {
            cb.f.take()
        } else {
            None
        }
    };
    RUNNING.with(|r| r.set(previous));
    RELEASE.with(|r| r.set(previous_release));
    // Outside the lock and the RUNNING mark: dropping it may drop the last
    // handle, whose budp_close (inside this callback) the library completes
    // once the callback returns.  A panic in a drop is not let through.
    if let Some(f) = released {
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(f)));
    }
    drop(cell);
    sys::BUDP_CALLBACK_CONTINUE
}
