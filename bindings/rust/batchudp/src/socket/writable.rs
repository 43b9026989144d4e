//! Waiting for a UDP socket to take datagrams again: `poll(2)` for
//! `POLLOUT`, declared here since the crate uses the standard library only.

use std::ffi::{c_int, c_short};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

// The same values on Linux and the BSD family (Apple, FreeBSD).
const POLLOUT: c_short = 0x4;

#[cfg(any(target_os = "linux", target_os = "android"))]
type NFds = std::ffi::c_ulong;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
type NFds = std::ffi::c_uint;

extern "C" {
    fn poll(fds: *mut PollFd, nfds: NFds, timeout: c_int) -> c_int;
}

/// Blocks until `fd` is writable (or in error: the send that follows says
/// which) or `timeout` passes, rounded up to whole milliseconds.  Returns
/// whether it became ready.  A signal does not end the wait early with an
/// error: poll is called again, for the same timeout (which may make the
/// wait longer, never shorter).
pub(super) fn wait_writable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let ms = timeout_ms(timeout);
    let mut p = PollFd {
        fd: fd.as_raw_fd(),
        events: POLLOUT,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, for the length of the call.
        let rc = unsafe { poll(&mut p, 1, ms) };
        if rc >= 0 {
            return Ok(rc > 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A timeout in the whole milliseconds `poll(2)` and `budp_wait` take:
/// rounded up (a wait is never cut short), `c_int::MAX` (about 24 days) for
/// anything longer.
pub(super) fn timeout_ms(timeout: Duration) -> c_int {
    c_int::try_from(timeout.as_nanos().div_ceil(1_000_000)).unwrap_or(c_int::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixDatagram;

    /// A datagram socket whose send buffer is full: its peer reads nothing.
    /// (A UDP socket's buffer never fills on loopback, which frees each
    /// packet as it is sent.)
    fn full_pair() -> (UnixDatagram, UnixDatagram) {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        loop {
            match a.send(&[0u8; 512]) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return (a, b),
                Err(e) => panic!("filling the buffer: {e}"),
            }
        }
    }

    #[test]
    fn a_full_socket_is_not_writable_and_becomes_so_when_drained() {
        let (a, b) = full_pair();
        assert!(!wait_writable(a.as_fd(), Duration::from_millis(1)).unwrap());
        b.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 512];
        while b.recv(&mut buf).is_ok() {}
        assert!(wait_writable(a.as_fd(), Duration::from_secs(10)).unwrap());
    }

    #[test]
    fn a_socket_with_room_is_writable_at_once() {
        let (a, _b) = UnixDatagram::pair().unwrap();
        assert!(wait_writable(a.as_fd(), Duration::ZERO).unwrap());
    }
}
