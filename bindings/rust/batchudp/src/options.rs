//! The [`Options`] builder and its value enums.

use batchudp_sys as sys;
use std::ffi::c_int;
use std::io;
use std::ptr::NonNull;

use crate::check;

/// Which system calls a socket uses (`BUDP_OPT_BACKEND`).
///
/// ```
/// use batchudp::{Backend, Options, Socket};
///
/// let sock = Socket::bind("127.0.0.1:0", Options::new().backend(Backend::Loop))?;
/// assert_eq!(sock.backend_name(), "loop");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The best one present: mmsg, else msgx, else loop.
    #[default]
    Auto,
    /// `recvmmsg`/`sendmmsg` (Linux, FreeBSD).
    Mmsg,
    /// `recvmsg_x`/`sendmsg_x` (Apple platforms, looked up at run time).
    Msgx,
    /// `recvmsg`/`sendmsg` in a loop: every POSIX system.
    Loop,
    /// io_uring (Linux 6.0 or later, in a library built with liburing): a
    /// multishot receive fills buffers in the background, so a
    /// [`recv`](crate::Socket::recv) that finds datagrams waiting makes no
    /// system call; each batch of sends is one `io_uring_enter`.  Never
    /// chosen by [`Auto`](Backend::Auto) (no faster than `Mmsg` where
    /// measured), but the environment variable `BATCHUDP_BACKEND=uring`
    /// makes `Auto` take it.  Asked for where it is absent (the crate's
    /// `bundled` build, which links no liburing; an older kernel) the
    /// constructor fails with `ENOTSUP`; where the kernel forbids io_uring
    /// (the `io_uring_disabled` sysctl, a seccomp filter) with `EPERM`
    /// ([`io::ErrorKind::PermissionDenied`]).  Datagrams not yet received
    /// when the socket closes are dropped with it; see
    /// [`Options::zerocopy`] for its one option of its own.
    ///
    /// ```
    /// use batchudp::{Backend, Options, Socket};
    ///
    /// match Socket::bind("127.0.0.1:0", Options::new().backend(Backend::Uring)) {
    ///     Ok(sock) => assert_eq!(sock.backend_name(), "uring"),
    ///     Err(e) => assert!(
    ///         e.raw_os_error() == Some(95) || e.kind() == std::io::ErrorKind::PermissionDenied
    ///             || !cfg!(target_os = "linux"),
    ///         "{e}"
    ///     ),
    /// }
    /// ```
    Uring,
}

impl Backend {
    fn raw(self) -> c_int {
        match self {
            Backend::Auto => sys::BUDP_BACKEND_AUTO,
            Backend::Mmsg => sys::BUDP_BACKEND_MMSG,
            Backend::Msgx => sys::BUDP_BACKEND_MSGX,
            Backend::Loop => sys::BUDP_BACKEND_LOOP,
            Backend::Uring => sys::BUDP_BACKEND_URING,
        }
    }
}

/// What the receiver thread does when the ring is full (threaded mode,
/// `BUDP_OPT_OVERFLOW`).
///
/// ```
/// use batchudp::{Options, Overflow};
///
/// let options = Options::new().threaded(true).overflow(Overflow::Drop);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Stop reading the socket until the consumer frees slots; the kernel's
    /// queue absorbs (and may drop) what arrives meanwhile.
    #[default]
    Wait,
    /// Keep reading and drop what does not fit, counted in
    /// [`Stats::rx_dropped`](crate::Stats::rx_dropped).
    Drop,
}

impl Overflow {
    fn raw(self) -> c_int {
        match self {
            Overflow::Wait => sys::BUDP_OVERFLOW_WAIT,
            Overflow::Drop => sys::BUDP_OVERFLOW_DROP,
        }
    }
}

/// How a [`Group`](crate::Group) spreads the datagrams that arrive on its
/// address over its members (`BUDP_OPT_STEERING`), set with
/// [`Options::steering`].
///
/// ```
/// use batchudp::{Group, Options, Steering};
///
/// # if cfg!(target_os = "linux") {
/// // QUIC-style: a 4-byte connection ID at bytes 1..5 picks the member.
/// let options = Options::new().steering(Steering::Key { offset: 1, length: 4 });
/// let group = Group::bind("127.0.0.1:0", 4, options)?;
/// assert_eq!(group.len(), 4);
///
/// // A key that ends past the largest UDP payload: the library's EINVAL.
/// let bad = Options::new().steering(Steering::Key { offset: 65_525, length: 4 });
/// assert_eq!(Group::bind("127.0.0.1:0", 4, bad).unwrap_err().raw_os_error(), Some(22));
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Steering {
    /// The kernel's hash of source and destination address and port: every
    /// datagram of a flow reaches the same member (`BUDP_STEER_HASH`).
    /// After a member's close, flows are steered by a hash of their source
    /// among the open members.
    #[default]
    Hash,
    /// A key the application puts in its payloads (a QUIC connection ID of
    /// the server's choosing, a WireGuard receiver index): the `length`
    /// bytes at `offset`, read as a big-endian number `k`, steer the
    /// datagram to member `k mod n` whatever its source
    /// (`BUDP_STEER_KEY`).  A datagram too short to hold the key is steered
    /// by a hash of its source address and port: a flow's short datagrams
    /// all reach one member.  On one host, a GSO send (the library's, of
    /// equal-size datagrams to one destination) arrives as one packet and
    /// is steered as one, by its first datagram's key.
    /// `length` is 1 to 8 (default 4), and
    /// `offset + length` at most
    /// [`BUDP_STEER_PAYLOAD_MAX`](batchudp_sys::BUDP_STEER_PAYLOAD_MAX)
    /// (65527); other values are the library's `EINVAL`.
    Key {
        /// Where the key starts in the payload, in bytes.
        offset: usize,
        /// The key's length in bytes, 1 to 8.
        length: usize,
    },
    /// The CPU `c` that received the packet (where the network card's
    /// queue, or the sender on loopback, put it) steers it to member
    /// `c mod n` (`BUDP_STEER_CPU`): with `n` equal to the CPU count and
    /// member `c`'s thread pinned to CPU `c`, a datagram stays on the CPU
    /// that received it.
    Cpu,
}

impl Steering {
    fn raw(self) -> c_int {
        match self {
            Steering::Hash => sys::BUDP_STEER_HASH,
            Steering::Key { .. } => sys::BUDP_STEER_KEY,
            Steering::Cpu => sys::BUDP_STEER_CPU,
        }
    }
}

/// The clock of departure times on send (`BUDP_OPT_PACING`): with one on,
/// an [`OutgoingDatagram`](crate::OutgoingDatagram) may carry
/// [`with_time_ns`](crate::OutgoingDatagram::with_time_ns), its earliest
/// departure time in that clock.
///
/// ```
/// use batchudp::{Options, Pacing, Socket};
///
/// let sock = Socket::bind("127.0.0.1:0", Options::new().pacing(Pacing::Monotonic))?;
/// let now = Pacing::Monotonic.now_ns()?; // CLOCK_MONOTONIC, in ns
/// assert!(now > 0);
/// # drop(sock);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pacing {
    /// No departure times: a datagram with one is refused (`EINVAL`).
    #[default]
    Off,
    /// `CLOCK_MONOTONIC`: what the fq queue discipline honours.
    Monotonic,
    /// `CLOCK_TAI`: for an etf queue discipline set up with it.
    Tai,
}

impl Pacing {
    fn raw(self) -> c_int {
        match self {
            Pacing::Off => sys::BUDP_PACING_OFF,
            Pacing::Monotonic => sys::BUDP_PACING_MONOTONIC,
            Pacing::Tai => sys::BUDP_PACING_TAI,
        }
    }

    /// The current time of this clock in nanoseconds, to compute
    /// departure times from (`clock_gettime`; the standard library does not
    /// expose these clocks' values).  Errors: [`io::ErrorKind::InvalidInput`]
    /// for [`Pacing::Off`]; [`io::ErrorKind::Unsupported`] outside Linux,
    /// where the library has no pacing.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let a = batchudp::Pacing::Monotonic.now_ns()?;
    /// let b = batchudp::Pacing::Monotonic.now_ns()?;
    /// assert!(b >= a);
    /// assert!(batchudp::Pacing::Off.now_ns().is_err());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn now_ns(self) -> io::Result<u64> {
        let clock = match self {
            Pacing::Off => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "Pacing::Off has no clock",
                ))
            }
            Pacing::Monotonic => clock::MONOTONIC,
            Pacing::Tai => clock::TAI,
        };
        clock::now_ns(clock)
    }
}

#[cfg(target_os = "linux")]
mod clock {
    use std::ffi::{c_int, c_long};
    use std::io;

    pub(super) const MONOTONIC: c_int = 1;
    pub(super) const TAI: c_int = 11;

    /// `struct timespec` as the `clock_gettime` symbol takes it on Linux
    /// (`time_t` is a `long` there).
    #[repr(C)]
    struct Timespec {
        tv_sec: c_long,
        tv_nsec: c_long,
    }

    extern "C" {
        fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
    }

    pub(super) fn now_ns(clock: c_int) -> io::Result<u64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid, writable timespec.
        if unsafe { clock_gettime(clock, &mut ts) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
        Ok(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }
}

#[cfg(not(target_os = "linux"))]
mod clock {
    use std::ffi::c_int;
    use std::io;

    pub(super) const MONOTONIC: c_int = 0;
    pub(super) const TAI: c_int = 0;

    pub(super) fn now_ns(_clock: c_int) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "libbatchudp paces sends on Linux only",
        ))
    }
}

/// Number of option keys (`BUDP_OPT_BATCH_SIZE` = 1 ..
/// `BUDP_OPT_ZEROCOPY` = 19).
const KEYS: usize = 19;

/// Socket options, set with builder methods and applied by
/// [`Socket::bind`](crate::Socket::bind) and the other constructors.
///
/// Values are checked by the C library when the socket is created: an out
/// of range value makes the constructor fail with an
/// [`io::ErrorKind::InvalidInput`] error whose
/// [`raw_os_error`](io::Error::raw_os_error) is `EINVAL`.  Options left
/// unset keep the library's defaults (documented on each method).
///
/// ```
/// use batchudp::{Options, Socket};
///
/// let options = Options::new().batch_size(64).max_datagram(1500);
/// let sock = Socket::bind("127.0.0.1:0", options)?;
/// assert_eq!(sock.batch_size(), 64);
///
/// let err = Socket::bind("127.0.0.1:0", Options::new().batch_size(0)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    values: [Option<i64>; KEYS],
}

/// Clamps a size to the i64 the C API takes; a value that does not fit is
/// out of every bound and rejected by the library.
fn size(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Options {
    /// Every option at the library's default.
    ///
    /// ```
    /// let options = batchudp::Options::new();
    /// assert_eq!(options, batchudp::Options::default());
    /// ```
    pub fn new() -> Options {
        Options::default()
    }

    fn set(mut self, key: c_int, value: i64) -> Options {
        self.values[key as usize - 1] = Some(value);
        self
    }

    fn unset(mut self, key: c_int) -> Options {
        self.values[key as usize - 1] = None;
        self
    }

    /// Datagrams received or sent per system call, and the number
    /// [`Socket::recv`](crate::Socket::recv) asks for.  Default 32, 1..=1024.
    ///
    /// ```
    /// let sock = batchudp::Socket::bind("127.0.0.1:0", batchudp::Options::new().batch_size(8))?;
    /// assert_eq!(sock.batch_size(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn batch_size(self, datagrams: usize) -> Options {
        self.set(sys::BUDP_OPT_BATCH_SIZE, size(datagrams))
    }

    /// Largest datagram received whole, in bytes; a longer one is delivered
    /// cut, with [`Datagram::truncated`](crate::Datagram::truncated)
    /// set.  Default 2048, 1..=65535.
    ///
    /// ```
    /// let options = batchudp::Options::new().max_datagram(1500);
    /// # let _ = options;
    /// ```
    pub fn max_datagram(self, bytes: usize) -> Options {
        self.set(sys::BUDP_OPT_MAX_DATAGRAM, size(bytes))
    }

    /// Which system calls to use.  Default [`Backend::Auto`].  A backend not
    /// available here fails the constructor (`ENOTSUP`).
    ///
    /// ```
    /// let options = batchudp::Options::new().backend(batchudp::Backend::Loop);
    /// # let _ = options;
    /// ```
    pub fn backend(self, backend: Backend) -> Options {
        self.set(sys::BUDP_OPT_BACKEND, backend.raw().into())
    }

    /// `true`: a receiver thread reads the socket into a ring that
    /// [`Socket::recv`](crate::Socket::recv) pops; `false` (default): `recv`
    /// makes the system call on the caller's thread.  Where the library
    /// lacks threaded mode the constructor fails with `ENOTSUP`.
    ///
    /// ```
    /// let options = batchudp::Options::new().threaded(true).ring_capacity(1024);
    /// # let _ = options;
    /// ```
    pub fn threaded(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_THREADED, on.into())
    }

    /// Threaded mode: slots in the ring, a power of two in 2..=65536, or 0
    /// (the default) for the automatic size: the most slots, up to 256,
    /// that fit in 1 MiB (256 slots of a 2 KiB datagram, 16 of GRO's 64 KiB
    /// ones).  A ring that would take more than
    /// [`BUDP_MEMORY_LIMIT`](batchudp_sys::BUDP_MEMORY_LIMIT) is refused with
    /// `EINVAL` when the socket is created.
    ///
    /// ```
    /// let options = batchudp::Options::new().threaded(true).ring_capacity(512);
    /// # let _ = options;
    /// ```
    pub fn ring_capacity(self, slots: usize) -> Options {
        self.set(sys::BUDP_OPT_RING_CAPACITY, size(slots))
    }

    /// Threaded mode: what to do when the ring is full.  Default
    /// [`Overflow::Wait`].
    ///
    /// ```
    /// let options = batchudp::Options::new().overflow(batchudp::Overflow::Drop);
    /// # let _ = options;
    /// ```
    pub fn overflow(self, overflow: Overflow) -> Options {
        self.set(sys::BUDP_OPT_OVERFLOW, overflow.raw().into())
    }

    /// Linux UDP GRO: receive coalesced datagrams and split them back into
    /// ordinary ones (ignored where the kernel lacks it).  Default on.
    ///
    /// ```
    /// let options = batchudp::Options::new().gro(false);
    /// # let _ = options;
    /// ```
    pub fn gro(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_GRO, on.into())
    }

    /// Linux UDP GSO: send runs of equal-size datagrams to one destination
    /// as one segmented send (ignored where the kernel lacks it).  Default
    /// on.
    ///
    /// ```
    /// let options = batchudp::Options::new().gso(false);
    /// # let _ = options;
    /// ```
    pub fn gso(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_GSO, on.into())
    }

    /// Report each received datagram's destination address
    /// ([`Datagram::local`](crate::Datagram::local)).  Default off.
    ///
    /// ```
    /// let options = batchudp::Options::new().pktinfo(true);
    /// # let _ = options;
    /// ```
    pub fn pktinfo(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_PKTINFO, on.into())
    }

    /// Report received ECN codepoints
    /// ([`Datagram::ecn`](crate::Datagram::ecn)) and set them on send
    /// ([`OutgoingDatagram::with_ecn`](crate::OutgoingDatagram::with_ecn)).
    /// Default off.
    ///
    /// ```
    /// let options = batchudp::Options::new().ecn(true);
    /// # let _ = options;
    /// ```
    pub fn ecn(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_ECN, on.into())
    }

    /// `SO_RCVBUF` in bytes; 0 (default) leaves the system's value.
    /// 0..=1073741824.
    ///
    /// ```
    /// let options = batchudp::Options::new().recv_buffer(4 << 20);
    /// # let _ = options;
    /// ```
    pub fn recv_buffer(self, bytes: usize) -> Options {
        self.set(sys::BUDP_OPT_RECV_BUFFER, size(bytes))
    }

    /// Threaded mode: hand batches to the callback set with
    /// [`Socket::set_callback`](crate::Socket::set_callback) on the receiver
    /// thread, instead of queueing them for [`Socket::recv`](crate::Socket::recv).
    /// Default off.
    ///
    /// ```
    /// let options = batchudp::Options::new().threaded(true).callback_thread(true);
    /// # let _ = options;
    /// ```
    pub fn callback_thread(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_CALLBACK_THREAD, on.into())
    }

    /// Report each received datagram's receive time
    /// ([`Datagram::time_ns`](crate::Datagram::time_ns),
    /// [`Datagram::time`](crate::Datagram::time)).  Default off.  Where
    /// the system has no receive timestamps the constructor fails with
    /// `ENOTSUP`.
    ///
    /// ```
    /// use batchudp::{OutgoingDatagram, Options, Socket};
    ///
    /// let mut sock = Socket::bind("127.0.0.1:0", Options::new().timestamps(true))?;
    /// let me = sock.local_addr()?;
    /// sock.send(&[OutgoingDatagram::to(&b"x"[..], me)])?;
    /// let batch = sock.recv_timeout(std::time::Duration::from_secs(5))?;
    /// assert!(batch[0].time().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn timestamps(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_TIMESTAMPS, on.into())
    }

    /// Departure times on send, in the clock named
    /// ([`OutgoingDatagram::with_time_ns`](crate::OutgoingDatagram::with_time_ns)).
    /// Default [`Pacing::Off`].  Linux `SO_TXTIME`: the interface's queue
    /// discipline holds each packet back until its time when it is fq (with
    /// [`Pacing::Monotonic`]) or etf; any other sends at once
    /// ([`Socket::pacing_support`](crate::Socket::pacing_support) tells
    /// which).  Elsewhere the constructor fails with `ENOTSUP`.
    ///
    /// ```
    /// let options = batchudp::Options::new().pacing(batchudp::Pacing::Monotonic);
    /// # let _ = options;
    /// ```
    pub fn pacing(self, clock: Pacing) -> Options {
        self.set(sys::BUDP_OPT_PACING, clock.raw().into())
    }

    /// Report ICMP errors and local send errors as
    /// [`ErrorEvent`](crate::ErrorEvent)s
    /// ([`Socket::recv_errors`](crate::Socket::recv_errors)), with the
    /// destination they concern; while on, those errors no longer fail
    /// [`recv`](crate::Socket::recv) or [`send`](crate::Socket::send).
    /// Default off.  Linux `IP_RECVERR`; elsewhere the constructor fails
    /// with `ENOTSUP`.
    ///
    /// ```
    /// let options = batchudp::Options::new().errors(true);
    /// # let _ = options;
    /// ```
    pub fn errors(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_ERRORS, on.into())
    }

    /// [`Backend::Uring`] only: send each GSO train (a run of equal-size
    /// datagrams to one destination, sent as one) of at least
    /// [`BUDP_ZEROCOPY_MIN_BYTES`](batchudp_sys::BUDP_ZEROCOPY_MIN_BYTES)
    /// (16 KiB) with `IORING_OP_SENDMSG_ZC`, which hands the datagrams'
    /// pages to the device instead of copying them;
    /// [`send`](crate::Socket::send) still returns only once the kernel has
    /// let go of them.  It pays off for large trains through a device that
    /// sends from user memory; loopback and most virtual devices copy
    /// anyway, at a higher cost.  Default off.  With any other backend, or
    /// a kernel without zero-copy sends (before Linux 6.1), the constructor
    /// fails with `ENOTSUP`.
    ///
    /// ```
    /// use batchudp::{Backend, Options, Socket};
    ///
    /// let err = Socket::bind("127.0.0.1:0", Options::new().backend(Backend::Loop).zerocopy(true))
    ///     .unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(if cfg!(target_os = "linux") { 95 } else { 45 })); // ENOTSUP
    ///
    /// let options = Options::new().backend(Backend::Uring).zerocopy(true);
    /// # let _ = options;
    /// ```
    pub fn zerocopy(self, on: bool) -> Options {
        self.set(sys::BUDP_OPT_ZEROCOPY, on.into())
    }

    /// How a [`Group`](crate::Group) spreads arriving datagrams over its
    /// members; see [`Steering`].  Default [`Steering::Hash`].  A group's
    /// option only: anything but `Hash` makes
    /// [`Socket::bind`](crate::Socket::bind) and the other socket
    /// constructors fail with `EINVAL`.  The key's bounds are checked when
    /// the group is bound ([`Group::bind`](crate::Group::bind)): an offset
    /// above 65527 or a length outside 1..=8 on its own, the key's end past
    /// 65527 with the two together; each is `EINVAL`.
    ///
    /// ```
    /// use batchudp::{Options, Socket, Steering};
    ///
    /// let options = Options::new().steering(Steering::Key { offset: 0, length: 8 });
    /// let err = Socket::bind("127.0.0.1:0", options).unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(22)); // EINVAL: steering is for groups
    /// ```
    pub fn steering(self, steering: Steering) -> Options {
        let o = self.set(sys::BUDP_OPT_STEERING, steering.raw().into());
        match steering {
            Steering::Key { offset, length } => o
                .set(sys::BUDP_OPT_STEER_OFFSET, size(offset))
                .set(sys::BUDP_OPT_STEER_LENGTH, size(length)),
            // The key's place means nothing here: back to the defaults.
            Steering::Hash | Steering::Cpu => o
                .unset(sys::BUDP_OPT_STEER_OFFSET)
                .unset(sys::BUDP_OPT_STEER_LENGTH),
        }
    }

    /// Builds the C options object; the first value the library rejects is
    /// the error.  Every socket constructor starts here, so this is also
    /// where a library of a version this crate cannot use is refused.
    pub(crate) fn make_raw(&self) -> io::Result<RawOptions> {
        crate::check_version()?;
        let mut ptr = std::ptr::null_mut();
        check(unsafe { sys::budp_options_new(&mut ptr) })?;
        let raw = RawOptions(
            NonNull::new(ptr).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?,
        );
        for (i, value) in self.values.iter().enumerate() {
            if let Some(v) = value {
                check(unsafe { sys::budp_options_set(raw.0.as_ptr(), i as c_int + 1, *v) })?;
            }
        }
        Ok(raw)
    }
}

/// An owned `budp_options`, freed on drop.
pub(crate) struct RawOptions(NonNull<sys::budp_options>);

impl RawOptions {
    pub(crate) fn as_ptr(&self) -> *const sys::budp_options {
        self.0.as_ptr()
    }

    /// The value in effect for key (the default when unset).
    pub(crate) fn get(&self, key: c_int) -> i64 {
        let mut v = 0;
        let rc = unsafe { sys::budp_options_get(self.0.as_ptr(), key, &mut v) };
        debug_assert!(rc >= 0, "budp_options_get({key}) = {rc}");
        v
    }
}

impl Drop for RawOptions {
    fn drop(&mut self) {
        unsafe { sys::budp_options_free(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_options_reach_the_c_object() {
        let raw = Options::new()
            .timestamps(true)
            .pacing(Pacing::Tai)
            .errors(true)
            .make_raw()
            .unwrap();
        assert_eq!(raw.get(sys::BUDP_OPT_TIMESTAMPS), 1);
        assert_eq!(raw.get(sys::BUDP_OPT_PACING), sys::BUDP_PACING_TAI.into());
        assert_eq!(raw.get(sys::BUDP_OPT_ERRORS), 1);
        for (pacing, value) in [(Pacing::Off, 0), (Pacing::Monotonic, 1), (Pacing::Tai, 2)] {
            let raw = Options::new().pacing(pacing).make_raw().unwrap();
            assert_eq!(raw.get(sys::BUDP_OPT_PACING), value, "{pacing:?}");
        }
        // Unset: the library's defaults, all off.
        let raw = Options::new().make_raw().unwrap();
        for key in [
            sys::BUDP_OPT_TIMESTAMPS,
            sys::BUDP_OPT_PACING,
            sys::BUDP_OPT_ERRORS,
        ] {
            assert_eq!(raw.get(key), 0, "key {key}");
        }
        assert_eq!(Pacing::default(), Pacing::Off);
    }

    #[test]
    fn uring_and_zerocopy_reach_the_c_object() {
        let raw = Options::new()
            .backend(Backend::Uring)
            .zerocopy(true)
            .make_raw()
            .unwrap();
        assert_eq!(
            raw.get(sys::BUDP_OPT_BACKEND),
            i64::from(sys::BUDP_BACKEND_URING)
        );
        assert_eq!(raw.get(sys::BUDP_OPT_ZEROCOPY), 1);
        let raw = Options::new().zerocopy(false).make_raw().unwrap();
        assert_eq!(raw.get(sys::BUDP_OPT_ZEROCOPY), 0);
        // Unset: the library's default, off.
        assert_eq!(
            Options::new()
                .make_raw()
                .unwrap()
                .get(sys::BUDP_OPT_ZEROCOPY),
            0
        );
        let (mut min, mut max, mut def) = (-1, -1, -1);
        assert_eq!(
            unsafe {
                sys::budp_options_bounds(sys::BUDP_OPT_ZEROCOPY, &mut min, &mut max, &mut def)
            },
            0
        );
        assert_eq!((min, max, def), (0, 1, 0));
        // Every backend's value, as the header numbers them.
        for (backend, value) in [
            (Backend::Auto, 0),
            (Backend::Mmsg, 1),
            (Backend::Msgx, 2),
            (Backend::Loop, 3),
            (Backend::Uring, 4),
        ] {
            assert_eq!(backend.raw(), value, "{backend:?}");
        }
        // A value out of the key's bounds is the library's EINVAL.
        let err = Options::new()
            .set(sys::BUDP_OPT_ZEROCOPY, 2)
            .make_raw()
            .err()
            .expect("refused");
        assert_eq!(err.raw_os_error(), Some(22));
    }

    #[test]
    fn steering_reaches_the_c_object() {
        let key = |o: &RawOptions| {
            (
                o.get(sys::BUDP_OPT_STEERING),
                o.get(sys::BUDP_OPT_STEER_OFFSET),
                o.get(sys::BUDP_OPT_STEER_LENGTH),
            )
        };
        assert_eq!(Steering::default(), Steering::Hash);
        let raw = Options::new().make_raw().unwrap();
        assert_eq!(key(&raw), (sys::BUDP_STEER_HASH.into(), 0, 4));
        let keyed = Options::new().steering(Steering::Key {
            offset: 12,
            length: 8,
        });
        assert_eq!(
            key(&keyed.make_raw().unwrap()),
            (sys::BUDP_STEER_KEY.into(), 12, 8)
        );
        // Another steering afterwards puts the key's place back.
        let cpu = keyed.steering(Steering::Cpu);
        assert_eq!(
            key(&cpu.make_raw().unwrap()),
            (sys::BUDP_STEER_CPU.into(), 0, 4)
        );
        assert_eq!(cpu, Options::new().steering(Steering::Cpu));
    }

    #[test]
    fn out_of_range_keys_are_refused_with_the_c_error() {
        for (offset, length) in [
            (0, 0),
            (0, 9),
            (sys::BUDP_STEER_PAYLOAD_MAX as usize + 1, 1),
            (usize::MAX, 4),
        ] {
            let err = Options::new()
                .steering(Steering::Key { offset, length })
                .make_raw()
                .err()
                .expect("refused");
            assert_eq!(
                err.raw_os_error(),
                Some(22),
                "offset {offset} length {length}"
            );
        }
    }

    #[test]
    fn out_of_range_values_of_the_new_keys_are_refused() {
        // The builder cannot express them; the raw keys refuse them.
        for (key, bad) in [
            (sys::BUDP_OPT_TIMESTAMPS, 2),
            (sys::BUDP_OPT_PACING, 3),
            (sys::BUDP_OPT_PACING, -1),
            (sys::BUDP_OPT_ERRORS, 2),
        ] {
            let err = Options::new()
                .set(key, bad)
                .make_raw()
                .err()
                .expect("refused");
            assert_eq!(err.raw_os_error(), Some(22), "key {key} = {bad}");
        }
    }
}
