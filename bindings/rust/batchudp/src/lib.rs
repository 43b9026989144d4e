//! Batched, zero-copy UDP receive and send on top of libbatchudp.
//!
//! A [`Socket`] receives many datagrams per system call (`recvmmsg`,
//! `recvmsg_x`, UDP GRO) and hands them over as a [`DatagramBatch`] of
//! borrowed views: no copy after the kernel's, and the borrow checker makes
//! sure a view is never used after the socket reuses its buffer.  Sending
//! takes a slice of [`OutgoingDatagram`]s and coalesces them into as few
//! system calls (and GSO sends) as it can.
//!
//! ```
//! use batchudp::{OutgoingDatagram, Options, Socket};
//!
//! let mut server = Socket::bind("127.0.0.1:0", Options::new().batch_size(64))?;
//! let client = Socket::bind("127.0.0.1:0", Options::new())?;
//! let to = server.local_addr()?;
//!
//! let outgoing: Vec<OutgoingDatagram> = (0..3u8).map(|i| OutgoingDatagram::to(vec![i; 8], to)).collect();
//! assert_eq!(client.send(&outgoing)?, 3);
//!
//! let mut received = 0;
//! while received < 3 {
//!     server.wait(None)?;
//!     for d in &server.recv()? {
//!         assert_eq!(d.data(), [received as u8; 8]);
//!         assert_eq!(d.peer(), client.local_addr()?);
//!         received += 1;
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The library's calls never block; [`Socket::recv_timeout`] (a batch,
//! never empty, or a [`TimedOut`](std::io::ErrorKind::TimedOut) error) and
//! [`Socket::send_all`] (every datagram, waiting for the UDP socket to be
//! writable) block on top of them.  With the `tokio` feature,
//! `AsyncSocket` receives batches and sends them with back-pressure on a
//! tokio runtime (see its docs; without the feature the crate uses the
//! standard library only).
//!
//! A [`Group`] binds several sockets to one address (`SO_REUSEPORT`), among
//! which the kernel spreads arriving datagrams by flow, by a key in the
//! payload or by CPU ([`Steering`]); each member is an ordinary [`Socket`],
//! for a thread of its own.
//!
//! Errors are [`std::io::Error`]s made from the C library's negative errno
//! codes ([`io::Error::raw_os_error`](std::io::Error::raw_os_error) gives the
//! errno back); a `send_all` that fails after sending some datagrams says
//! how many in a [`PartialSend`].  See [`Socket`] for what may run on which
//! thread, and [Closing](Socket#closing) for how a socket is stopped from
//! another thread ([`Sender::shutdown`]) and freed (when its last handle is
//! dropped); once shut down, calls fail with `EBADF`.
//!
//! The names are those of every binding of the library: a received
//! [`Datagram`] (borrowed; `RecvDatagram` before), an [`OutgoingDatagram`]
//! (the `Datagram` to send before), a [`DatagramBatch`] (`Batch` before),
//! [`Stats`].  The raw C API is in the `batchudp-sys` crate.
#![deny(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]

use std::ffi::{c_int, CStr};
use std::io;

mod addr;
mod backoff;
mod batch;
mod datagram;
mod error_event;
mod group;
mod options;
mod outgoing;
mod partial_send;
mod socket;
mod stats;
#[cfg(feature = "tokio")]
mod tokio_socket;

pub use batch::DatagramBatch;
pub use datagram::Datagram;
pub use error_event::{ErrorEvent, ErrorOrigin};
pub use group::Group;
pub use options::{Backend, Options, Overflow, Pacing, Steering};
pub use outgoing::OutgoingDatagram;
pub use partial_send::PartialSend;
pub use socket::{Sender, Socket};
pub use stats::Stats;
#[cfg(feature = "tokio")]
pub use tokio_socket::{AsyncSender, AsyncSocket};

/// The former name of [`Datagram`], a received datagram.  (The former
/// outgoing `Datagram` is now [`OutgoingDatagram`]; that name could not
/// be kept as an alias, since `Datagram` is the received one now.)
#[deprecated(
    since = "0.2.0",
    note = "renamed `Datagram` (the received datagram of every binding)"
)]
pub type RecvDatagram<'a> = Datagram<'a>;

/// The former name of [`DatagramBatch`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `DatagramBatch` (the name every binding uses)"
)]
pub type Batch<'a> = DatagramBatch<'a>;

/// The library loaded at run time against the header's version rule: an
/// error naming both versions when this crate cannot use it.  The dynamic
/// loader already refuses another soname; this checks the rule itself.
pub(crate) fn check_version() -> io::Result<()> {
    match version_error(unsafe { batchudp_sys::budp_version() }) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn version_error(loaded: u32) -> Option<io::Error> {
    use batchudp_sys as sys;
    if sys::version_is_compatible(loaded) {
        return None;
    }
    let (major, minor) = (sys::BUDP_VERSION_MAJOR, sys::BUDP_VERSION_MINOR);
    let needs = if major == 0 {
        format!("{major}.{minor}.x")
    } else {
        format!("{major}.{minor}.x or a later {major}.x")
    };
    Some(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "libbatchudp {}.{}.{} loaded, this binding (written for {major}.{minor}) needs {needs}",
            loaded >> 16,
            (loaded >> 8) & 0xff,
            loaded & 0xff
        ),
    ))
}

/// A C return code as a result: `>= 0` is the value, `< 0` a negated errno.
pub(crate) fn check(rc: c_int) -> io::Result<c_int> {
    if rc < 0 {
        Err(io::Error::from_raw_os_error(-rc))
    } else {
        Ok(rc)
    }
}

/// The version of the C library loaded at run time, as
/// `(major, minor, patch)`.  Socket constructors refuse a library this
/// crate cannot use ([`batchudp_sys::version_is_compatible`]: for this
/// 0.2 crate, a 0.2.x library), with an [`io::ErrorKind::Unsupported`]
/// error naming both versions.
///
/// ```
/// let (major, minor, _patch) = batchudp::version();
/// assert_eq!((major, minor), (batchudp_sys::BUDP_VERSION_MAJOR, batchudp_sys::BUDP_VERSION_MINOR));
/// ```
pub fn version() -> (u32, u32, u32) {
    let v = unsafe { batchudp_sys::budp_version() };
    (v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// The version of the C library loaded at run time, as text ("0.2.0").
///
/// ```
/// let (major, minor, patch) = batchudp::version();
/// assert_eq!(batchudp::version_string(), format!("{major}.{minor}.{patch}"));
/// ```
pub fn version_string() -> &'static str {
    // SAFETY: a static NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(batchudp_sys::budp_version_string()) }
        .to_str()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loaded_library_is_accepted() {
        assert!(check_version().is_ok(), "{:?}", version());
        assert!(version_error(batchudp_sys::BUDP_VERSION + 7).is_none()); // a patch level
    }

    #[test]
    fn other_versions_are_refused_naming_both() {
        for (loaded, shown) in [
            (0x01_00_00, "1.0.0"),
            (0x00_01_00, "0.1.0"),
            (0x00_03_02, "0.3.2"),
        ] {
            let e = version_error(loaded).expect("refused");
            assert_eq!(e.kind(), io::ErrorKind::Unsupported);
            assert_eq!(
                e.to_string(),
                format!("libbatchudp {shown} loaded, this binding (written for 0.2) needs 0.2.x")
            );
        }
    }
}
