//! Received datagrams (borrowed views), batches of them, and datagrams to
//! send.

use batchudp_sys as sys;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::ops::Deref;

use crate::addr;
use crate::Socket;

/// One received datagram: a view into a buffer owned by the socket, valid
/// for `'a`, the borrow of the [`Socket`] that received it.
///
/// Obtained from a [`Batch`] or inside a [`Socket::dispatch`] closure.  No
/// copy is made: [`data`](RecvDatagram::data) points straight into the
/// receive slot the kernel wrote to.  Copy what must outlive the borrow
/// (`d.data().to_vec()`).
///
/// ```
/// use batchudp::{Datagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// sock.send(&[Datagram::to(&b"hi"[..], me)])?;
/// sock.wait(None)?;
/// let batch = sock.recv()?;
/// let d = &batch[0];
/// assert_eq!(d.data(), b"hi");
/// assert_eq!(d.peer(), me);
/// assert!(!d.truncated());
/// # Ok::<(), std::io::Error>(())
/// ```
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct RecvDatagram<'a> {
    raw: sys::budp_datagram,
    _data: PhantomData<&'a [u8]>,
}

// SAFETY: a RecvDatagram is a shared, read-only view of bytes that the
// library does not touch until the next receiving call on the socket, which
// the borrow 'a rules out; the other fields are plain values.  It is as
// thread-safe as the `&'a [u8]` it stands for.
unsafe impl Send for RecvDatagram<'_> {}
unsafe impl Sync for RecvDatagram<'_> {}

impl<'a> RecvDatagram<'a> {
    /// Views `n` datagrams at `d` for the lifetime 'a.
    ///
    /// # Safety
    /// `d` must point to `n` datagrams that stay valid and unchanged for 'a
    /// (or `n` must be 0).
    pub(crate) unsafe fn slice(d: *const sys::budp_datagram, n: usize) -> &'a [RecvDatagram<'a>] {
        if n == 0 || d.is_null() {
            &[]
        } else {
            // SAFETY: RecvDatagram is repr(transparent) over budp_datagram.
            unsafe { std::slice::from_raw_parts(d.cast::<RecvDatagram<'a>>(), n) }
        }
    }

    /// The payload (the bytes kept, when [`truncated`](Self::truncated)).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"payload"[..], me)])?;
    /// # sock.wait(None)?;
    /// for d in &sock.recv()? {
    ///     assert_eq!(d.data(), b"payload");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn data(&self) -> &'a [u8] {
        if self.raw.len == 0 || self.raw.data.is_null() {
            &[]
        } else {
            // SAFETY: the library guarantees data/len describe a buffer
            // valid until the next receiving call, which 'a outlives not.
            unsafe { std::slice::from_raw_parts(self.raw.data, self.raw.len as usize) }
        }
    }

    /// Payload length in bytes.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"abc"[..], me)])?;
    /// # sock.wait(None)?;
    /// let batch = sock.recv()?;
    /// assert_eq!(batch[0].len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len as usize
    }

    /// `true` for an empty datagram (UDP allows them).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// sock.send(&[batchudp::Datagram::to(&[][..], me)])?;
    /// sock.wait(None)?;
    /// assert!(sock.recv()?[0].is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }

    /// The source address.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"x"[..], me)])?;
    /// # sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].peer(), me); // sent to itself
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer(&self) -> SocketAddr {
        addr::from_budp(&self.raw.peer).unwrap_or_else(addr::unspecified)
    }

    /// The destination address the datagram was sent to, when the socket
    /// has [`Options::pktinfo`](crate::Options::pktinfo) on.  The packet
    /// information carries the IP address (and for IPv6 the receiving
    /// interface as scope id), not the port: the port is 0.
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().pktinfo(true))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"x"[..], me)])?;
    /// sock.wait(None)?;
    /// let local = sock.recv()?[0].local().expect("pktinfo is on");
    /// assert_eq!(local.ip(), me.ip());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local(&self) -> Option<SocketAddr> {
        if self.raw.flags & sys::BUDP_DGRAM_HAS_LOCAL != 0 {
            addr::from_budp(&self.raw.local)
        } else {
            None
        }
    }

    /// `true` when the datagram was longer than
    /// [`Options::max_datagram`](crate::Options::max_datagram): [`data`](Self::data)
    /// holds its first bytes only, the rest is lost.
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().max_datagram(4))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"abcdef"[..], me)])?;
    /// sock.wait(None)?;
    /// let batch = sock.recv()?;
    /// assert!(batch[0].truncated());
    /// assert_eq!(batch[0].data(), b"abcd");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn truncated(&self) -> bool {
        self.raw.flags & sys::BUDP_DGRAM_TRUNCATED != 0
    }

    /// `true` when the kernel ran out of room for the datagram's control
    /// data (`MSG_CTRUNC`): what was cut ([`local`](Self::local),
    /// [`ecn`](Self::ecn)) is not reported, and with GRO on the datagram is
    /// [`truncated`](Self::truncated) too, since its segment size may be
    /// what was lost.  Counted in
    /// [`Stats::rx_control_truncated`](crate::Stats::rx_control_truncated).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().pktinfo(true))?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"x"[..], me)])?;
    /// # sock.wait(None)?;
    /// assert!(!sock.recv()?[0].control_truncated()); // room enough
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn control_truncated(&self) -> bool {
        self.raw.flags & sys::BUDP_DGRAM_CONTROL_TRUNCATED != 0
    }

    /// `true` for one segment of a GRO receive (see
    /// [`segment_size`](Self::segment_size)).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().gro(false))?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"x"[..], me)])?;
    /// # sock.wait(None)?;
    /// assert!(!sock.recv()?[0].coalesced()); // GRO off
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn coalesced(&self) -> bool {
        self.raw.flags & sys::BUDP_DGRAM_COALESCED != 0
    }

    /// The segment size the kernel coalesced at, for the segments of a GRO
    /// receive; `None` for a datagram received on its own.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().gro(false))?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"x"[..], me)])?;
    /// # sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].segment_size(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn segment_size(&self) -> Option<u16> {
        if self.raw.segment_size != 0 {
            Some(self.raw.segment_size)
        } else {
            None
        }
    }

    /// The received ECN codepoint (0-3), when the socket has
    /// [`Options::ecn`](crate::Options::ecn) on.
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().ecn(true))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[Datagram::to(&b"x"[..], me).with_ecn(1)])?;
    /// sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].ecn(), Some(1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ecn(&self) -> Option<u8> {
        if self.raw.flags & sys::BUDP_DGRAM_HAS_ECN != 0 {
            Some(self.raw.ecn)
        } else {
            None
        }
    }

    /// The kernel's receive time in nanoseconds: 0 unless an option that
    /// fills it is on (none does in libbatchudp 0.2.0).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"x"[..], me)])?;
    /// # sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].time_ns(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn time_ns(&self) -> u64 {
        self.raw.time_ns
    }

    /// The raw `BUDP_DGRAM_*` flags.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().max_datagram(1))?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"xy"[..], me)])?;
    /// # sock.wait(None)?;
    /// let flags = sock.recv()?[0].flags();
    /// assert_ne!(flags & batchudp_sys::BUDP_DGRAM_TRUNCATED, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flags(&self) -> u32 {
        self.raw.flags
    }
}

impl fmt::Debug for RecvDatagram<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvDatagram")
            .field("len", &self.len())
            .field("peer", &self.peer())
            .field("local", &self.local())
            .field("truncated", &self.truncated())
            .field("control_truncated", &self.control_truncated())
            .field("segment_size", &self.segment_size())
            .field("ecn", &self.ecn())
            .field("time_ns", &self.time_ns())
            .finish()
    }
}

/// The datagrams returned by one [`Socket::recv`]: a slice of
/// [`RecvDatagram`] views, valid while the socket stays borrowed.
///
/// A batch borrows the socket mutably, so the socket cannot receive again
/// (nor [`wait`](Socket::wait), nor [`dispatch`](Socket::dispatch)) while
/// the batch or any of its datagrams is in use; that is what keeps the
/// zero-copy views safe.  It derefs to `[RecvDatagram]`.  Replies can be
/// sent while it is alive through [`Batch::socket`] or a [`Sender`](crate::Sender).
///
/// ```
/// use batchudp::{Datagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// sock.send(&[Datagram::to(&b"one"[..], me), Datagram::to(&b"two"[..], me)])?;
/// let mut got = Vec::new();
/// while got.len() < 2 {
///     sock.wait(None)?;
///     for d in &sock.recv()? {
///         got.push(d.data().to_vec());
///     }
/// }
/// assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Using a batch after the next receive does not compile:
///
/// ```compile_fail,E0499
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let first = sock.recv()?;
/// let second = sock.recv()?; // `sock` is still borrowed by `first`
/// println!("{} {}", first.len(), second.len());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// while finishing with one batch before the next receive does (the only
/// difference is where the first batch is last used):
///
/// ```
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let first = sock.recv()?;
/// println!("{}", first.len());
/// let second = sock.recv()?;
/// println!("{}", second.len());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Keeping a payload across a wait does not compile either:
///
/// ```compile_fail,E0499
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let batch = sock.recv()?;
/// let payload: &[u8] = batch.first().map(|d| d.data()).unwrap_or(&[]);
/// sock.wait(None)?; // waiting recycles the buffers too
/// println!("{payload:?}");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// while a copy may be kept:
///
/// ```
/// use batchudp::{Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let batch = sock.recv()?;
/// let payload: Vec<u8> = batch.first().map(|d| d.data().to_vec()).unwrap_or_default();
/// sock.wait(Some(std::time::Duration::ZERO))?;
/// println!("{payload:?}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Batch<'a> {
    pub(crate) items: &'a [RecvDatagram<'a>],
    pub(crate) socket: &'a Socket,
}

impl<'a> Batch<'a> {
    /// The socket the batch came from, to send replies (zero-copy: a reply
    /// may point into the batch) while the batch is alive.
    ///
    /// ```
    /// use batchudp::{Datagram, Options, Socket};
    ///
    /// let mut a = Socket::bind("127.0.0.1:0", Options::new())?;
    /// let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// b.send_to(b"ping", a.local_addr()?)?;
    /// a.wait(None)?;
    /// let batch = a.recv()?;
    /// let replies: Vec<Datagram> = batch.iter().map(Datagram::reply).collect();
    /// assert_eq!(batch.socket().send(&replies)?, 1);
    /// let mut buf = [0; 16];
    /// assert_eq!(b.recv(&mut buf)?, 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket(&self) -> &'a Socket {
        self.socket
    }

    /// The datagrams as a slice (what `Deref` gives), with the batch's
    /// lifetime.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// let batch = sock.recv()?; // nothing sent: empty
    /// assert!(batch.as_slice().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_slice(&self) -> &'a [RecvDatagram<'a>] {
        self.items
    }
}

impl<'a> Deref for Batch<'a> {
    type Target = [RecvDatagram<'a>];

    fn deref(&self) -> &[RecvDatagram<'a>] {
        self.items
    }
}

impl<'a> IntoIterator for Batch<'a> {
    type Item = &'a RecvDatagram<'a>;
    type IntoIter = std::slice::Iter<'a, RecvDatagram<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a> IntoIterator for &Batch<'a> {
    type Item = &'a RecvDatagram<'a>;
    type IntoIter = std::slice::Iter<'a, RecvDatagram<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items).finish()
    }
}

/// A datagram to send: a payload, borrowed or owned, and a destination.
///
/// The destination is `None` on a [connected](Socket::connect) socket.
///
/// ```
/// use batchudp::{Datagram, Options, Socket};
///
/// let sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let to = sock.local_addr()?;
/// let owned = vec![1u8, 2, 3];
/// let batch = [
///     Datagram::to(&b"borrowed"[..], to),
///     Datagram::to(owned, to),
/// ];
/// assert_eq!(sock.send(&batch)?, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datagram<'a> {
    payload: Cow<'a, [u8]>,
    peer: Option<SocketAddr>,
    source: Option<SocketAddr>,
    ecn: u8,
}

impl<'a> Datagram<'a> {
    /// A datagram with `payload` for `peer` (`None` on a connected socket).
    ///
    /// ```
    /// let d = batchudp::Datagram::new(&b"x"[..], None);
    /// assert_eq!(d.peer(), None);
    /// ```
    pub fn new(payload: impl Into<Cow<'a, [u8]>>, peer: Option<SocketAddr>) -> Datagram<'a> {
        Datagram {
            payload: payload.into(),
            peer,
            source: None,
            ecn: 0,
        }
    }

    /// A datagram with `payload` for `peer`.
    ///
    /// ```
    /// let to = "127.0.0.1:9".parse().unwrap();
    /// let d = batchudp::Datagram::to(vec![0u8; 10], to);
    /// assert_eq!(d.peer(), Some(to));
    /// assert_eq!(d.payload().len(), 10);
    /// ```
    pub fn to(payload: impl Into<Cow<'a, [u8]>>, peer: SocketAddr) -> Datagram<'a> {
        Datagram::new(payload, Some(peer))
    }

    /// A datagram for the peer of a [connected](Socket::connect) socket.
    ///
    /// ```
    /// let d = batchudp::Datagram::connected(&b"x"[..]);
    /// assert_eq!(d.peer(), None);
    /// ```
    pub fn connected(payload: impl Into<Cow<'a, [u8]>>) -> Datagram<'a> {
        Datagram::new(payload, None)
    }

    /// A reply to a received datagram: its payload (borrowed, no copy) back
    /// to its source, from the address it was sent to when known
    /// ([`Options::pktinfo`](crate::Options::pktinfo)).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::Datagram::to(&b"echo"[..], me)])?;
    /// # sock.wait(None)?;
    /// let batch = sock.recv()?;
    /// let reply = batchudp::Datagram::reply(&batch[0]);
    /// assert_eq!(reply.payload(), b"echo");
    /// assert_eq!(reply.peer(), Some(batch[0].peer()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reply(received: &RecvDatagram<'a>) -> Datagram<'a> {
        Datagram {
            payload: Cow::Borrowed(received.data()),
            peer: Some(received.peer()),
            source: received.local(),
            ecn: 0,
        }
    }

    /// Sends from `source` (an address of this host the socket may use,
    /// `IP_PKTINFO`) instead of the address the system picks.
    ///
    /// ```
    /// let me = "127.0.0.1:4000".parse().unwrap();
    /// let d = batchudp::Datagram::connected(&b"x"[..]).with_source(me);
    /// assert_eq!(d.source(), Some(me));
    /// ```
    pub fn with_source(mut self, source: SocketAddr) -> Datagram<'a> {
        self.source = Some(source);
        self
    }

    /// Sets the ECN codepoint (0-3) on the packet; needs
    /// [`Options::ecn`](crate::Options::ecn) on the sending socket.
    ///
    /// ```
    /// let d = batchudp::Datagram::connected(&b"x"[..]).with_ecn(2);
    /// assert_eq!(d.ecn(), 2);
    /// ```
    pub fn with_ecn(mut self, ecn: u8) -> Datagram<'a> {
        self.ecn = ecn;
        self
    }

    /// The payload.
    ///
    /// ```
    /// assert_eq!(batchudp::Datagram::connected(&b"x"[..]).payload(), b"x");
    /// ```
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The destination, `None` for the connected peer.
    ///
    /// ```
    /// assert_eq!(batchudp::Datagram::connected(&b"x"[..]).peer(), None);
    /// ```
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The source address set with [`with_source`](Self::with_source).
    ///
    /// ```
    /// assert_eq!(batchudp::Datagram::connected(&b"x"[..]).source(), None);
    /// ```
    pub fn source(&self) -> Option<SocketAddr> {
        self.source
    }

    /// The ECN codepoint set with [`with_ecn`](Self::with_ecn) (default 0).
    ///
    /// ```
    /// assert_eq!(batchudp::Datagram::connected(&b"x"[..]).ecn(), 0);
    /// ```
    pub fn ecn(&self) -> u8 {
        self.ecn
    }

    /// The same datagram owning its payload, free of any borrow.
    ///
    /// ```
    /// let d: batchudp::Datagram<'static> = {
    ///     let bytes = vec![1u8, 2];
    ///     batchudp::Datagram::connected(&bytes[..]).into_owned()
    /// };
    /// assert_eq!(d.payload(), [1, 2]);
    /// ```
    pub fn into_owned(self) -> Datagram<'static> {
        Datagram {
            payload: Cow::Owned(self.payload.into_owned()),
            peer: self.peer,
            source: self.source,
            ecn: self.ecn,
        }
    }

    /// The C view of this datagram, valid while `self` is borrowed.  A
    /// payload longer than u32::MAX gets a length the library rejects
    /// (anything over 65535 is -EINVAL).  Everything else is zero, as the
    /// library requires of a datagram to send: flags, time_ns (no pacing
    /// yet), segment_size and reserved.
    pub(crate) fn to_raw(&self) -> sys::budp_datagram {
        sys::budp_datagram {
            data: self.payload.as_ptr(),
            len: u32::try_from(self.payload.len()).unwrap_or(u32::MAX),
            peer: addr::to_budp(self.peer.as_ref()),
            local: addr::to_budp(self.source.as_ref()),
            ecn: self.ecn,
            ..Default::default()
        }
    }
}

impl<'a> From<&RecvDatagram<'a>> for Datagram<'a> {
    /// Same as [`Datagram::reply`].
    fn from(d: &RecvDatagram<'a>) -> Datagram<'a> {
        Datagram::reply(d)
    }
}
