//! Received datagrams: borrowed views into the socket's receive buffers.

use batchudp_sys as sys;
use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::addr;
#[cfg(doc)] // for the links in the docs
use crate::{DatagramBatch, Socket};

/// One received datagram: a view into a buffer owned by the socket, valid
/// for `'a`, the borrow of the [`Socket`] that received it.
///
/// Obtained from a [`DatagramBatch`] or inside a [`Socket::dispatch`]
/// closure.  No copy is made: [`data`](Datagram::data) points straight
/// into the receive slot the kernel wrote to.  Copy what must outlive the
/// borrow (`d.data().to_vec()`).  Named `RecvDatagram` before 0.2 (a
/// deprecated alias remains); a datagram to send is an
/// [`OutgoingDatagram`](crate::OutgoingDatagram).
///
/// ```
/// use batchudp::{OutgoingDatagram, Options, Socket};
///
/// let mut sock = Socket::bind("127.0.0.1:0", Options::new())?;
/// let me = sock.local_addr()?;
/// sock.send(&[OutgoingDatagram::to(&b"hi"[..], me)])?;
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
pub struct Datagram<'a> {
    raw: sys::budp_datagram,
    _data: PhantomData<&'a [u8]>,
}

// SAFETY: a Datagram is a shared, read-only view of bytes that the
// library does not touch until the next receiving call on the socket, which
// the borrow 'a rules out; the other fields are plain values.  It is as
// thread-safe as the `&'a [u8]` it stands for.
unsafe impl Send for Datagram<'_> {}
unsafe impl Sync for Datagram<'_> {}

impl<'a> Datagram<'a> {
    /// Views `n` datagrams at `d` for the lifetime 'a.
    ///
    /// # Safety
    /// `d` must point to `n` datagrams that stay valid and unchanged for 'a
    /// (or `n` must be 0).
    pub(crate) unsafe fn slice(d: *const sys::budp_datagram, n: usize) -> &'a [Datagram<'a>] {
        if n == 0 || d.is_null() {
            &[]
        } else {
            // SAFETY: Datagram is repr(transparent) over budp_datagram.
            unsafe { std::slice::from_raw_parts(d.cast::<Datagram<'a>>(), n) }
        }
    }

    /// The payload (the bytes kept, when [`truncated`](Self::truncated)).
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"payload"[..], me)])?;
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
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"abc"[..], me)])?;
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
    /// sock.send(&[batchudp::OutgoingDatagram::to(&[][..], me)])?;
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
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], me)])?;
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
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().pktinfo(true))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
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
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().max_datagram(4))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"abcdef"[..], me)])?;
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
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], me)])?;
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
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], me)])?;
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
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], me)])?;
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
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().ecn(true))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me).with_ecn(1)])?;
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

    /// The kernel's receive time, in nanoseconds since the Unix epoch
    /// (`CLOCK_REALTIME`; microsecond resolution on Apple and the BSDs),
    /// when the socket has [`Options::timestamps`](crate::Options::timestamps)
    /// on.  Every segment of a GRO receive carries its packet's time.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().timestamps(true))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
    /// sock.wait(None)?;
    /// let ns = sock.recv()?[0].time_ns().expect("timestamps are on");
    /// let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    /// assert!(now.abs_diff(ns) < 1_000_000_000);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn time_ns(&self) -> Option<u64> {
        if self.raw.flags & sys::BUDP_DGRAM_HAS_TIME != 0 {
            Some(self.raw.time_ns)
        } else {
            None
        }
    }

    /// [`time_ns`](Self::time_ns) as a [`SystemTime`].
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new())?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"x"[..], me)])?;
    /// # sock.wait(None)?;
    /// assert_eq!(sock.recv()?[0].time(), None); // timestamps off
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn time(&self) -> Option<SystemTime> {
        self.time_ns()
            .and_then(|ns| UNIX_EPOCH.checked_add(Duration::from_nanos(ns)))
    }

    /// The raw `BUDP_DGRAM_*` flags.
    ///
    /// ```
    /// # let mut sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().max_datagram(1))?;
    /// # let me = sock.local_addr()?;
    /// # sock.send(&[batchudp::OutgoingDatagram::to(&b"xy"[..], me)])?;
    /// # sock.wait(None)?;
    /// let flags = sock.recv()?[0].flags();
    /// assert_ne!(flags & batchudp_sys::BUDP_DGRAM_TRUNCATED, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flags(&self) -> u32 {
        self.raw.flags
    }
}

impl fmt::Debug for Datagram<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Datagram")
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
