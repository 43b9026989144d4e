//! Waiting for an fd's readiness or the socket's shutdown, whichever comes
//! first, and the fds registered with tokio.

use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::{pin, Pin};
use std::task::Poll;

use tokio::sync::futures::Notified;

/// `EBADF`, the same number on every supported system: the closed-socket
/// error of the library.
const EBADF: i32 = 9;

/// The error of a call on a shut-down socket, as the library returns it.
pub(super) fn closed_error() -> io::Error {
    io::Error::from_raw_os_error(EBADF)
}

/// An fd of the library, for `AsyncFd`.  Not owned: the library closes it
/// in `budp_close`, which runs only after every `AsyncFd` holding one is
/// dropped (see the field order of `AsyncSocket` and `AsyncSender`), so
/// that tokio never deregisters an fd number already closed and perhaps
/// reused.
pub(super) struct LibraryFd(pub(super) RawFd);

impl AsRawFd for LibraryFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// What ended a wait.
pub(super) enum Woken<G> {
    /// The fd is ready (the guard of tokio's readiness).
    Ready(G),
    /// The socket was shut down.
    Closed,
}

/// Waits for `ready` (an `AsyncFd` readiness future) or for `closed`, the
/// socket's shutdown, whichever completes first.  A shutdown wins a tie:
/// the caller then returns the closed error without touching the fd.
pub(super) async fn ready_or_closed<G>(
    ready: impl Future<Output = io::Result<G>>,
    mut closed: Pin<&mut Notified<'_>>,
) -> io::Result<Woken<G>> {
    let mut ready = pin!(ready);
    poll_fn(|cx| {
        if closed.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(Woken::Closed));
        }
        ready.as_mut().poll(cx).map(|r| r.map(Woken::Ready))
    })
    .await
}
