//! The C handle shared by a [`Socket`](super::Socket) and its
//! [`Sender`](super::Sender)s, and the send path they have in common.

use batchudp_sys as sys;
use std::ffi::{c_uint, CStr};
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::callback::{ThreadCallback, ThreadCell};
use crate::addr;
use crate::check;
use crate::datagram::Datagram;
use crate::stats::Stats;

/// Datagrams converted per `budp_send` call: the C views live in an array on
/// the stack, so sending allocates nothing.
const SEND_CHUNK: usize = 64;

/// The C handle, shared by a [`Socket`] and its [`Sender`]s, closed when the
/// last of them goes.
///
/// [`Socket`]: super::Socket
/// [`Sender`]: super::Sender
pub(super) struct Inner {
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
    pub(super) thread_cb: Arc<ThreadCell>,
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

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held (closures run under
    // catch_unwind), so poisoning carries no meaning here.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Takes over the handle `raw` (and `owned_fd`, closed after it).
    pub(super) fn new(raw: NonNull<sys::budp_socket>, owned_fd: Option<OwnedFd>) -> Inner {
        Inner {
            raw,
            send_lock: Mutex::new(()),
            thread_cb: Arc::new(Mutex::new(ThreadCallback::default())),
            _owned_fd: owned_fd,
        }
    }

    pub(super) fn ptr(&self) -> *mut sys::budp_socket {
        self.raw.as_ptr()
    }

    pub(super) fn send(&self, datagrams: &[Datagram<'_>]) -> io::Result<usize> {
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

    /// budp_connect, serialized with sends.
    pub(super) fn connect(&self, host: &CStr, port: u16) -> io::Result<()> {
        let _guard = lock(&self.send_lock);
        check(unsafe { sys::budp_connect(self.ptr(), host.as_ptr(), port) }).map(drop)
    }

    pub(super) fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut a = sys::budp_addr::default();
        check(unsafe { sys::budp_local_addr(self.ptr(), &mut a) })?;
        addr::from_budp(&a).ok_or_else(|| io::Error::other("socket has no IP address"))
    }

    pub(super) fn socket_fd(&self) -> RawFd {
        unsafe { sys::budp_socket_fd(self.ptr()) }
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

    pub(super) fn stats(&self) -> Stats {
        let mut raw = sys::budp_stats::default();
        let rc = unsafe {
            sys::budp_get_stats(self.ptr(), &mut raw, std::mem::size_of::<sys::budp_stats>())
        };
        debug_assert!(rc >= 0, "budp_get_stats = {rc}");
        Stats::from_raw(&raw)
    }
}
