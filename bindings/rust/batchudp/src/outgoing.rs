//! Datagrams to send.

use batchudp_sys as sys;
use std::borrow::Cow;
use std::net::SocketAddr;

use crate::addr;
use crate::datagram::Datagram;
#[cfg(doc)] // for the links in the docs
use crate::Socket;

/// A datagram to send: a payload ([`data`](Self::data)), borrowed or
/// owned, a destination ([`peer`](Self::peer)) and optionally the address
/// to send from ([`local`](Self::local)).  The field names are those of
/// the received [`Datagram`], seen from this side.
///
/// The destination is `None` on a [connected](Socket::connect) socket.
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, Socket};
///
/// let sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let to = sock.local_addr()?;
/// let owned = vec![1u8, 2, 3];
/// let batch = [
///     OutgoingDatagram::to(&b"borrowed"[..], to),
///     OutgoingDatagram::to(owned, to),
/// ];
/// assert_eq!(sock.send(&batch)?, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutgoingDatagram<'a> {
    data: Cow<'a, [u8]>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    ecn: u8,
    time_ns: u64,
}

impl<'a> OutgoingDatagram<'a> {
    /// A datagram with `data` for `peer` (`None` on a connected socket).
    ///
    /// ```
    /// let d = batchudp::OutgoingDatagram::new(&b"x"[..], None);
    /// assert_eq!(d.peer(), None);
    /// ```
    pub fn new(data: impl Into<Cow<'a, [u8]>>, peer: Option<SocketAddr>) -> OutgoingDatagram<'a> {
        OutgoingDatagram {
            data: data.into(),
            peer,
            local: None,
            ecn: 0,
            time_ns: 0,
        }
    }

    /// A datagram with `data` for `peer`.
    ///
    /// ```
    /// let to = "127.0.0.1:9".parse().unwrap();
    /// let d = batchudp::OutgoingDatagram::to(vec![0u8; 10], to);
    /// assert_eq!(d.peer(), Some(to));
    /// assert_eq!(d.data().len(), 10);
    /// ```
    pub fn to(data: impl Into<Cow<'a, [u8]>>, peer: SocketAddr) -> OutgoingDatagram<'a> {
        OutgoingDatagram::new(data, Some(peer))
    }

    /// A datagram for the peer of a [connected](Socket::connect) socket.
    ///
    /// ```
    /// let d = batchudp::OutgoingDatagram::connected(&b"x"[..]);
    /// assert_eq!(d.peer(), None);
    /// ```
    pub fn connected(data: impl Into<Cow<'a, [u8]>>) -> OutgoingDatagram<'a> {
        OutgoingDatagram::new(data, None)
    }

    /// A reply to a received datagram: its payload (borrowed, no copy) back
    /// to its [`peer`](Datagram::peer), from the address it was sent to
    /// when known ([`Datagram::local`], with
    /// [`Options::pktinfo`](crate::Options::pktinfo)).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"echo"[..], me)])?;
    /// # sock.wait(None)?;
    /// let batch = sock.recv()?;
    /// let reply = batchudp::OutgoingDatagram::reply(&batch[0]);
    /// assert_eq!(reply.data(), b"echo");
    /// assert_eq!(reply.peer(), Some(batch[0].peer()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reply(received: &Datagram<'a>) -> OutgoingDatagram<'a> {
        OutgoingDatagram {
            data: Cow::Borrowed(received.data()),
            peer: Some(received.peer()),
            local: received.local(),
            ecn: 0,
            time_ns: 0,
        }
    }

    /// Sends from `local` (an address of this host the socket may use,
    /// `IP_PKTINFO`) instead of the address the system picks.
    ///
    /// ```
    /// let me = "127.0.0.1:4000".parse().unwrap();
    /// let d = batchudp::OutgoingDatagram::connected(&b"x"[..]).with_local(me);
    /// assert_eq!(d.local(), Some(me));
    /// ```
    pub fn with_local(mut self, local: SocketAddr) -> OutgoingDatagram<'a> {
        self.local = Some(local);
        self
    }

    /// Sets the ECN codepoint (0-3) on the packet; needs
    /// [`Options::ecn`](crate::Options::ecn) on the sending socket.
    ///
    /// ```
    /// let d = batchudp::OutgoingDatagram::connected(&b"x"[..]).with_ecn(2);
    /// assert_eq!(d.ecn(), 2);
    /// ```
    pub fn with_ecn(mut self, ecn: u8) -> OutgoingDatagram<'a> {
        self.ecn = ecn;
        self
    }

    /// Sets the earliest departure time, in nanoseconds of the clock the
    /// sending socket's [`Options::pacing`](crate::Options::pacing) names
    /// ([`Pacing::now_ns`](crate::Pacing::now_ns) gives the current one);
    /// 0 (the default) leaves at once.  Only with pacing on: a socket with
    /// [`Pacing::Off`](crate::Pacing::Off) refuses a non-zero time
    /// (`EINVAL`).
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Pacing, Socket};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let sock = Socket::bind("127.0.0.1:0", Options::new().pacing(Pacing::Monotonic))?;
    /// let to = sock.local_addr()?;
    /// let in_2ms = Pacing::Monotonic.now_ns()? + 2_000_000;
    /// sock.send(&[OutgoingDatagram::to(&b"later"[..], to).with_time_ns(in_2ms)])?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_time_ns(mut self, time_ns: u64) -> OutgoingDatagram<'a> {
        self.time_ns = time_ns;
        self
    }

    /// The departure time set with [`with_time_ns`](Self::with_time_ns)
    /// (default 0: at once).
    ///
    /// ```
    /// assert_eq!(batchudp::OutgoingDatagram::connected(&b"x"[..]).time_ns(), 0);
    /// ```
    pub fn time_ns(&self) -> u64 {
        self.time_ns
    }

    /// The payload.
    ///
    /// ```
    /// assert_eq!(batchudp::OutgoingDatagram::connected(&b"x"[..]).data(), b"x");
    /// ```
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The destination, `None` for the connected peer.
    ///
    /// ```
    /// assert_eq!(batchudp::OutgoingDatagram::connected(&b"x"[..]).peer(), None);
    /// ```
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The address to send from, set with [`with_local`](Self::with_local)
    /// (or by [`reply`](Self::reply)); `None`: the one the system picks.
    ///
    /// ```
    /// assert_eq!(batchudp::OutgoingDatagram::connected(&b"x"[..]).local(), None);
    /// ```
    pub fn local(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The ECN codepoint set with [`with_ecn`](Self::with_ecn) (default 0).
    ///
    /// ```
    /// assert_eq!(batchudp::OutgoingDatagram::connected(&b"x"[..]).ecn(), 0);
    /// ```
    pub fn ecn(&self) -> u8 {
        self.ecn
    }

    /// The same datagram owning its payload, free of any borrow.
    ///
    /// ```
    /// let d: batchudp::OutgoingDatagram<'static> = {
    ///     let bytes = vec![1u8, 2];
    ///     batchudp::OutgoingDatagram::connected(&bytes[..]).into_owned()
    /// };
    /// assert_eq!(d.data(), [1, 2]);
    /// ```
    pub fn into_owned(self) -> OutgoingDatagram<'static> {
        OutgoingDatagram {
            data: Cow::Owned(self.data.into_owned()),
            peer: self.peer,
            local: self.local,
            ecn: self.ecn,
            time_ns: self.time_ns,
        }
    }

    /// The payload: the former name of [`data`](Self::data).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `data`, the name the C struct and every binding use"
    )]
    pub fn payload(&self) -> &[u8] {
        self.data()
    }

    /// The former name of [`local`](Self::local).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `local`, the name the C struct and every binding use"
    )]
    pub fn source(&self) -> Option<SocketAddr> {
        self.local()
    }

    /// The former name of [`with_local`](Self::with_local).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `with_local`, the name the C struct and every binding use"
    )]
    pub fn with_source(self, local: SocketAddr) -> OutgoingDatagram<'a> {
        self.with_local(local)
    }

    /// The C view of this datagram, valid while `self` is borrowed.  A
    /// payload longer than u32::MAX gets a length the library rejects
    /// (anything over 65535 is -EINVAL).  Everything else is zero, as the
    /// library requires of a datagram to send: flags, segment_size and
    /// reserved.
    pub(crate) fn to_raw(&self) -> sys::budp_datagram {
        sys::budp_datagram {
            data: self.data.as_ptr(),
            len: u32::try_from(self.data.len()).unwrap_or(u32::MAX),
            peer: addr::to_budp(self.peer.as_ref()),
            local: addr::to_budp(self.local.as_ref()),
            ecn: self.ecn,
            time_ns: self.time_ns,
            ..Default::default()
        }
    }
}

impl<'a> From<&Datagram<'a>> for OutgoingDatagram<'a> {
    /// Same as [`OutgoingDatagram::reply`].
    fn from(d: &Datagram<'a>) -> OutgoingDatagram<'a> {
        OutgoingDatagram::reply(d)
    }
}
