//! The C handle shared by a [`Socket`](super::Socket) and its
//! [`Sender`](super::Sender)s, and the send path they have in common.

use batchudp_sys as sys;
use std::ffi::{c_uint, CStr};
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};

use super::callback::{ThreadCallback, ThreadCell};
use crate::addr;
use crate::check;
use crate::error_event::ErrorEvent;
use crate::group::RawGroup;
use crate::outgoing::OutgoingDatagram;
use crate::stats::Stats;

/// Datagrams converted per `budp_send` call: the C views live in an array on
/// the stack, so sending allocates nothing.
const SEND_CHUNK: usize = 64;

/// Error events read per `budp_recv_errors` call, and the most the socket
/// keeps aside for [`Inner::recv_errors`] (`BUDP_ERROR_QUEUE_EVENTS`).
const ERROR_CHUNK: usize = sys::BUDP_ERROR_QUEUE_EVENTS as usize;

/// A group's member: the group's C handle, and the member's number there.
pub(crate) struct Membership {
    pub(crate) group: Arc<RawGroup>,
    pub(crate) index: c_uint,
}

/// The C handle, shared by a [`Socket`] and its [`Sender`]s, closed when the
/// last of them goes.
///
/// A group's member ([`crate::Group`]) holds a reference to its group's C
/// handle: the group's memory, which the member's close goes through, is
/// freed only after the last member's close (see `RawGroup`).
///
/// Lifetime, following the C library's shutdown/close split: any handle may
/// shut the socket down at any time ([`Inner::shutdown`], `budp_shutdown`),
/// which wakes every thread blocked in it and makes every later call fail
/// with `EBADF`, while the C handle stays valid.  The `Arc` counts the Rust
/// handles, and a call through one of them borrows it for the length of the
/// call, so when the last one is dropped no other thread is inside the
/// socket or can enter it: that drop runs `budp_close`, once.
///
/// [`Socket`]: super::Socket
/// [`Sender`]: super::Sender
pub(super) struct Inner {
    raw: NonNull<sys::budp_socket>,
    /// The UDP socket's fd, read when the handle is made: it stays open
    /// until budp_close, shut down or not (budp_socket_fd then says EBADF).
    fd: RawFd,
    /// Keeps budp_connect apart from budp_send, which the C library asks
    /// for (connect is a consumer call, "not concurrently with budp_send").
    /// Sends take it shared, so any number of them run at once (the library
    /// serialises them itself); connect takes it exclusive.
    connect_lock: RwLock<()>,
    /// The counters as they were when the socket was first shut down: the
    /// library refuses budp_get_stats from then on.
    final_stats: OnceLock<Stats>,
    /// Callback-thread mode: what the receiver thread calls.  `Arc::as_ptr`
    /// of it is the `user` pointer given to budp_set_callback; this
    /// reference keeps it valid until budp_close has joined the thread
    /// (Inner's drop runs budp_close before the fields are dropped), and the
    /// trampoline holds its own reference for the length of each call.
    pub(super) thread_cb: Arc<ThreadCell>,
    /// The fd of a socket made with `Socket::from_udp_socket`, closed after
    /// budp_close.
    _owned_fd: Option<OwnedFd>,
    /// Error events read by a blocking receive to stop them waking it
    /// ([`Inner::stash_errors`]), for [`Inner::recv_errors`]; at most
    /// `ERROR_CHUNK`.
    error_stash: Mutex<Vec<ErrorEvent>>,
    /// Events that found the stash full, added to `error_events_dropped`.
    stash_dropped: AtomicU64,
    /// Wakes the tasks of an `AsyncSocket` waiting on the socket at a
    /// shutdown: in inline mode the fds they wait on do not change with it.
    #[cfg(feature = "tokio")]
    closed: tokio::sync::Notify,
    /// A group's member: budp_close closes it through the group (which
    /// counts what it held in budp_group_dropped).  Dropped after Drop has
    /// run budp_close, so the group outlives its member's close.
    member: Option<Membership>,
    /// budp_group_close_member has closed and freed the handle already
    /// ([`Inner::close_member`]): Drop must not close it again.
    closed_in_group: bool,
}

// SAFETY: through `&Inner` only the functions the C library allows on any
// thread are called (budp_send, budp_get_stats, budp_socket_fd,
// budp_poll_fd, budp_local_addr, budp_backend_name, budp_backend_reason,
// budp_recv_errors, budp_pacing_support, budp_shutdown), and
// budp_connect under `connect_lock`, exclusive of every send; the consumer
// functions (recv, dispatch, wait, set_callback) are called only by `Socket`
// methods taking `&mut self`, and there is one `Socket` per handle.
// budp_close runs in Drop, when no other reference exists, and so does
// budp_group_close_member (through `&mut Inner`, which only a unique `Arc`
// gives).  The closure in `thread_cb` is `Send` and only ever called with the
// mutex held.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: no other thread is inside the socket or
        // can enter it.  budp_close shuts it down, joins the receiver thread
        // (afterwards nothing calls the trampolines, and `thread_cb` and the
        // fd may go) and frees it; from inside the socket's own callback it
        // frees the memory once the callback returns.  A group's member is
        // closed through its group (the library's budp_close does that);
        // `member`, dropped after this, keeps the group alive until then.
        if !self.closed_in_group {
            unsafe { sys::budp_close(self.raw.as_ptr()) }
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held (closures run under
    // catch_unwind), so poisoning carries no meaning here.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Takes over the handle `raw` (and `owned_fd`, closed after it), of
    /// a group's `member` or not.
    pub(super) fn new(
        raw: NonNull<sys::budp_socket>,
        owned_fd: Option<OwnedFd>,
        member: Option<Membership>,
    ) -> Inner {
        Inner {
            raw,
            fd: unsafe { sys::budp_socket_fd(raw.as_ptr()) },
            connect_lock: RwLock::new(()),
            final_stats: OnceLock::new(),
            thread_cb: Arc::new(Mutex::new(ThreadCallback::default())),
            _owned_fd: owned_fd,
            error_stash: Mutex::new(Vec::new()),
            stash_dropped: AtomicU64::new(0),
            #[cfg(feature = "tokio")]
            closed: tokio::sync::Notify::new(),
            member,
            closed_in_group: false,
        }
    }

    /// The member's number in its group, or None for a lone socket.
    pub(super) fn member_index(&self) -> Option<usize> {
        self.member.as_ref().map(|m| m.index as usize)
    }

    /// budp_group_close_member on this member: closes and frees the handle
    /// now and returns the datagrams its close dropped.  `&mut self`: no
    /// other handle exists, so no other thread is inside the socket (the
    /// library's rule for a close).  On an error the member stays open, as
    /// it was.
    pub(super) fn close_member(&mut self) -> io::Result<u64> {
        let Some(m) = &self.member else {
            // Not a group's member: no group to close it through.
            return Err(io::Error::from_raw_os_error(22));
        };
        // SAFETY: the group is alive (`m.group`); member `index` is this
        // handle, open, and no other thread uses it.
        let n = check(unsafe { sys::budp_group_close_member(m.group.ptr(), m.index) })?;
        self.closed_in_group = true;
        Ok(n as u64)
    }

    pub(super) fn ptr(&self) -> *mut sys::budp_socket {
        self.raw.as_ptr()
    }

    pub(super) fn send(&self, datagrams: &[OutgoingDatagram<'_>]) -> io::Result<usize> {
        let _no_connect = self
            .connect_lock
            .read()
            .unwrap_or_else(PoisonError::into_inner);
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

    /// budp_connect, with no send in progress.
    pub(super) fn connect(&self, host: &CStr, port: u16) -> io::Result<()> {
        let _no_send = self
            .connect_lock
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        check(unsafe { sys::budp_connect(self.ptr(), host.as_ptr(), port) }).map(drop)
    }

    pub(super) fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut a = sys::budp_addr::default();
        check(unsafe { sys::budp_local_addr(self.ptr(), &mut a) })?;
        addr::from_budp(&a).ok_or_else(|| io::Error::other("socket has no IP address"))
    }

    pub(super) fn socket_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd stays open until budp_close, in the drop of the
        // last handle, which cannot run while `self` is borrowed.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    /// budp_shutdown, after keeping the counters for [`Inner::stats`].
    pub(super) fn shutdown(&self) {
        self.final_stats
            .get_or_init(|| self.read_stats().unwrap_or_default());
        // SAFETY: allowed on any thread at any time, inside callbacks too;
        // the handle stays valid while `self` is borrowed.
        unsafe { sys::budp_shutdown(self.ptr()) };
        // After budp_shutdown: a task woken here finds the socket shut.
        #[cfg(feature = "tokio")]
        self.closed.notify_waiters();
    }

    /// Whether a shutdown has begun: from then on the socket counts as
    /// shut down (its counters are frozen), though budp_shutdown may still
    /// be running on another thread.
    #[cfg(feature = "tokio")]
    pub(super) fn is_shut_down(&self) -> bool {
        self.final_stats.get().is_some()
    }

    /// A future that completes at the next shutdown; one made before
    /// [`is_shut_down`](Self::is_shut_down) said `false` cannot miss it.
    #[cfg(feature = "tokio")]
    pub(super) fn closed(&self) -> tokio::sync::futures::Notified<'_> {
        self.closed.notified()
    }

    pub(super) fn backend_name(&self) -> &str {
        let p = unsafe { sys::budp_backend_name(self.ptr()) };
        if p.is_null() {
            return "";
        }
        // SAFETY: a NUL-terminated string the library keeps at least as
        // long as the socket.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("")
    }

    pub(super) fn backend_reason(&self) -> String {
        let p = unsafe { sys::budp_backend_reason(self.ptr()) };
        if p.is_null() {
            return String::new();
        }
        // SAFETY: a NUL-terminated string the library keeps until
        // budp_close, which cannot run while `self` is borrowed.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// The live counters, or once shut down those of the moment it was.
    pub(super) fn stats(&self) -> Stats {
        if let Some(last) = self.final_stats.get() {
            return *last;
        }
        // Shut down only after `final_stats` was set: an error here means
        // a shutdown raced with this call, and the counters are there now.
        self.read_stats()
            .unwrap_or_else(|_| self.final_stats.get().copied().unwrap_or_default())
    }

    fn read_stats(&self) -> io::Result<Stats> {
        let mut raw = sys::budp_stats::default();
        check(unsafe {
            sys::budp_get_stats(self.ptr(), &mut raw, std::mem::size_of::<sys::budp_stats>())
        })?;
        raw.error_events_dropped += self.stash_dropped.load(Ordering::Relaxed);
        Ok(Stats::from_raw(&raw))
    }

    /// budp_recv_errors into `out` (at most ERROR_CHUNK at a time): the
    /// count, or the error.
    fn read_errors(&self, out: &mut [ErrorEvent]) -> io::Result<usize> {
        let mut raw = [sys::budp_error_event::default(); ERROR_CHUNK];
        let max = out.len().min(ERROR_CHUNK);
        if max == 0 {
            return Ok(0);
        }
        // SAFETY: raw holds ERROR_CHUNK >= max events; any thread may call.
        let n =
            check(unsafe { sys::budp_recv_errors(self.ptr(), raw.as_mut_ptr(), max as c_uint) })?
                as usize;
        for (slot, e) in out.iter_mut().zip(&raw[..n]) {
            *slot = ErrorEvent::from_raw(e);
        }
        Ok(n)
    }

    /// The error events that wait, oldest first, into `out`: those a
    /// blocking receive set aside first, then the library's.
    pub(super) fn recv_errors(&self, out: &mut [ErrorEvent]) -> io::Result<usize> {
        if out.is_empty() {
            // As the library answers max 0.
            return Err(io::Error::from_raw_os_error(22));
        }
        let mut taken = 0;
        {
            let mut stash = lock(&self.error_stash);
            if !stash.is_empty() {
                taken = stash.len().min(out.len());
                out[..taken].copy_from_slice(&stash[..taken]);
                stash.drain(..taken);
            }
        }
        while taken < out.len() {
            match self.read_errors(&mut out[taken..]) {
                Ok(0) => break,
                Ok(n) => taken += n,
                // What was taken goes first; a lasting error comes again.
                Err(_) if taken > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(taken)
    }

    /// Reads the error events that wait into the socket's own list (at most
    /// ERROR_CHUNK kept, the others dropped and counted), so that the poll
    /// fd stops waking a blocking receive: `budp_wait` returns 1 while
    /// events wait.  Errors are left for `recv_errors` to report.
    pub(super) fn stash_errors(&self) {
        let mut chunk = [ErrorEvent::default(); ERROR_CHUNK];
        loop {
            let n = match self.read_errors(&mut chunk) {
                Ok(n) if n > 0 => n,
                _ => return,
            };
            let mut stash = lock(&self.error_stash);
            let room = ERROR_CHUNK.saturating_sub(stash.len()).min(n);
            stash.extend_from_slice(&chunk[..room]);
            self.stash_dropped
                .fetch_add((n - room) as u64, Ordering::Relaxed);
            drop(stash);
            if n < ERROR_CHUNK {
                return;
            }
        }
    }

    /// budp_pacing_support: (honoured, detail).
    pub(super) fn pacing_support(&self, dest: Option<&SocketAddr>) -> io::Result<(bool, String)> {
        let raw = addr::to_budp(dest);
        let dest_ptr = if dest.is_some() {
            &raw as *const sys::budp_addr
        } else {
            std::ptr::null()
        };
        let mut detail = [0 as std::ffi::c_char; 256];
        // SAFETY: detail holds its size; raw lives across the call.
        let rc = check(unsafe {
            sys::budp_pacing_support(self.ptr(), dest_ptr, detail.as_mut_ptr(), detail.len())
        })?;
        let bytes: Vec<u8> = detail.iter().map(|&c| c as u8).collect();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let text = String::from_utf8_lossy(&bytes[..end]).into_owned();
        Ok((rc > 0, text))
    }
}
