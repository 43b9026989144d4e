//! Error events ([`Options::errors`](crate::Options::errors)): errors the
//! kernel reported for datagrams the socket sent.

use batchudp_sys as sys;
use std::io;
use std::net::SocketAddr;

use crate::addr;

/// Where an [`ErrorEvent`] comes from (`BUDP_ERROR_ORIGIN_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorOrigin {
    /// This host refused the send (a datagram above the known path MTU with
    /// the don't-fragment bit: `EMSGSIZE`).
    Local,
    /// An ICMP message from a router or host.
    Icmp,
    /// An ICMPv6 message.
    Icmp6,
    /// A value this crate does not know (from a later library).
    Other(u8),
}

impl ErrorOrigin {
    fn from_raw(origin: u8) -> ErrorOrigin {
        match origin {
            sys::BUDP_ERROR_ORIGIN_LOCAL => ErrorOrigin::Local,
            sys::BUDP_ERROR_ORIGIN_ICMP => ErrorOrigin::Icmp,
            sys::BUDP_ERROR_ORIGIN_ICMP6 => ErrorOrigin::Icmp6,
            other => ErrorOrigin::Other(other),
        }
    }
}

/// One error the kernel reported for a datagram the socket sent
/// (`budp_error_event`): an ICMP error (port or host unreachable,
/// fragmentation needed, ...) or a local send error, with the destination
/// it concerns.  Read with [`Socket::recv_errors`](crate::Socket::recv_errors)
/// on a socket with [`Options::errors`](crate::Options::errors) on.
///
/// ```
/// use batchudp::{ErrorEvent, ErrorOrigin, OutgoingDatagram, Options, Socket};
///
/// // A port nothing listens on: bound, noted, released.
/// let closed = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?;
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new().errors(true))?;
/// sock.send(&[OutgoingDatagram::to(&b"anyone?"[..], closed)])?;
/// assert!(sock.wait(Some(std::time::Duration::from_secs(5)))?); // woken by the event
/// let mut events = [ErrorEvent::default(); 8];
/// let n = sock.recv_errors(&mut events)?;
/// assert_eq!(n, 1);
/// assert_eq!(events[0].destination, closed);
/// assert_eq!(events[0].origin, ErrorOrigin::Icmp);
/// assert_eq!(events[0].error().kind(), std::io::ErrorKind::ConnectionRefused);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// Where the datagram that met the error was going (address and port).
    pub destination: SocketAddr,
    /// Who reported it: the router or host that sent the ICMP message
    /// (port 0); `None` for a local error.
    pub offender: Option<SocketAddr>,
    /// The error, a positive errno value (`ECONNREFUSED` for a port
    /// unreachable, `EHOSTUNREACH`, `EMSGSIZE`, ...);
    /// [`error`](ErrorEvent::error) makes the [`io::Error`].
    pub errno: i32,
    /// For `EMSGSIZE`: the path MTU reported (the IP packet size the path
    /// takes, headers included).
    pub mtu: Option<u32>,
    /// Where it comes from.
    pub origin: ErrorOrigin,
    /// The ICMP message's type (ICMP origins); 0 for local errors.
    pub icmp_type: u8,
    /// The ICMP message's code (ICMP origins); 0 for local errors.
    pub icmp_code: u8,
}

impl Default for ErrorEvent {
    /// An empty event (destination `0.0.0.0:0`, errno 0), to fill a buffer
    /// for [`Socket::recv_errors`](crate::Socket::recv_errors).
    fn default() -> ErrorEvent {
        ErrorEvent {
            destination: addr::unspecified(),
            offender: None,
            errno: 0,
            mtu: None,
            origin: ErrorOrigin::Local,
            icmp_type: 0,
            icmp_code: 0,
        }
    }
}

impl ErrorEvent {
    pub(crate) fn from_raw(e: &sys::budp_error_event) -> ErrorEvent {
        ErrorEvent {
            destination: addr::from_budp(&e.destination).unwrap_or_else(addr::unspecified),
            offender: addr::from_budp(&e.offender),
            errno: if e.error < 0 {
                e.error.saturating_neg()
            } else {
                e.error
            },
            mtu: if e.mtu != 0 { Some(e.mtu) } else { None },
            origin: ErrorOrigin::from_raw(e.origin),
            icmp_type: e.icmp_type,
            icmp_code: e.icmp_code,
        }
    }

    /// The error as an [`io::Error`], as a failed call would return it
    /// ([`raw_os_error`](io::Error::raw_os_error) is [`errno`](Self::errno)).
    ///
    /// ```
    /// let mut event = batchudp::ErrorEvent::default();
    /// event.errno = 111;
    /// # if cfg!(target_os = "linux") {
    /// assert_eq!(event.error().kind(), std::io::ErrorKind::ConnectionRefused);
    /// # }
    /// ```
    pub fn error(&self) -> io::Error {
        io::Error::from_raw_os_error(self.errno)
    }
}
