//! Raw FFI declarations for libbatchudp, the batched UDP receive/send
//! library (`include/batchudp.h`).
//!
//! Everything here mirrors the C header one to one: the fixed-layout value
//! types ([`budp_addr`], [`budp_datagram`], [`budp_stats`],
//! [`budp_error_event`]), the opaque handles ([`budp_options`],
//! [`budp_socket`], [`budp_group`]), the constants, and every function.  The layouts are checked against the C compiler's
//! view of the header by this crate's `tests/layout.rs`.  Use the
//! `batchudp` crate for a safe API; this one is for writing such an API.
//!
//! Conventions of the C library, which hold for every function: a fallible
//! call returns a `c_int`, `>= 0` on success (a count where documented) and a
//! negated errno value on failure; pointer arguments are checked (NULL gives
//! `-EINVAL`); nothing aborts or prints.
//!
//! Threads and lifetime, as the header's "Lifetime" paragraph says: one
//! consumer thread at a time receives; [`budp_send`] may run on any number
//! of threads at once (the library serialises them); [`budp_shutdown`] may
//! run on any thread at any time and makes every blocked and later call on
//! the socket return `-EBADF`, while the handle stays valid; [`budp_close`]
//! frees the handle, called once by its owner when no other thread will
//! call into the socket again.  A group's members ([`budp_group_socket`])
//! are sockets owned by the group: [`budp_close`] on one closes it through
//! the group (as [`budp_group_close_member`]), and [`budp_group_close`]
//! closes the ones left and frees the group, which must outlive them.
//!
//! With the `bundled` feature (the default) the C library is compiled from
//! the repository's sources and linked statically into the crate.  Without
//! it, or with `BATCHUDP_SYSTEM=1`, a shared library is found at build time
//! by `pkg-config` (honouring `PKG_CONFIG_PATH`) or through
//! `BATCHUDP_LIB_DIR`; see `build.rs`.
//!
//! # Example
//!
//! ```
//! use batchudp_sys as sys;
//! use std::ffi::CStr;
//!
//! let version = unsafe { sys::budp_version() };
//! assert!(sys::version_is_compatible(version), "library {version:#x}");
//!
//! let mut s: *mut sys::budp_socket = std::ptr::null_mut();
//! let rc = unsafe { sys::budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null()) };
//! assert_eq!(rc, 0, "{:?}", unsafe { CStr::from_ptr(sys::budp_strerror(rc)) });
//! let mut addr = sys::budp_addr::default();
//! assert_eq!(unsafe { sys::budp_local_addr(s, &mut addr) }, 0);
//! assert_eq!(addr.family, sys::BUDP_AF_INET);
//! assert_ne!(addr.port, 0);
//! unsafe { sys::budp_close(s) };
//! ```
#![no_std]
#![allow(non_camel_case_types)]
#![deny(missing_docs)]

use core::ffi::{c_char, c_int, c_uint, c_void};

/* ------------------------------------------------------------------ */
/* Version                                                             */
/* ------------------------------------------------------------------ */

/// Major version of the header these declarations follow.
pub const BUDP_VERSION_MAJOR: c_uint = 0;
/// Minor version of the header these declarations follow.
pub const BUDP_VERSION_MINOR: c_uint = 2;
/// Patch version of the header these declarations follow.
pub const BUDP_VERSION_PATCH: c_uint = 0;
/// `(major << 16) | (minor << 8) | patch` of the header these declarations
/// follow; compare with [`budp_version`] at run time.
pub const BUDP_VERSION: c_uint =
    (BUDP_VERSION_MAJOR << 16) | (BUDP_VERSION_MINOR << 8) | BUDP_VERSION_PATCH;

/// Whether a library reporting `version` (as [`budp_version`] returns it)
/// can be used through these declarations: the header's rule for a binding
/// written for [`BUDP_VERSION`], applied by [`version_is_compatible_with`].
/// A Rust helper, not a function of the C library.
///
/// ```
/// use batchudp_sys::*;
/// assert!(version_is_compatible(unsafe { budp_version() }));
/// assert!(version_is_compatible(BUDP_VERSION + 1)); // another patch level
/// assert!(!version_is_compatible(BUDP_VERSION + (1 << 8))); // another 0.x
/// ```
pub const fn version_is_compatible(version: c_uint) -> bool {
    version_is_compatible_with(version, BUDP_VERSION)
}

/// Whether a library reporting `version` can be used by a binding written
/// for `written_for` (both `(major << 16) | (minor << 8) | patch`): the
/// major numbers are equal and, while the major is 0, the minor numbers
/// too (every 0.x release may change the ABI); from 1.0 on, the library's
/// minor is `written_for`'s or above.  The patch number never matters.
///
/// ```
/// use batchudp_sys::version_is_compatible_with as ok;
/// assert!(ok(0x00_02_05, 0x00_02_00));
/// assert!(!ok(0x00_03_00, 0x00_02_00));
/// assert!(ok(0x01_03_00, 0x01_02_00));
/// assert!(!ok(0x01_01_00, 0x01_02_00));
/// ```
pub const fn version_is_compatible_with(version: c_uint, written_for: c_uint) -> bool {
    let (major, minor) = (version >> 16, (version >> 8) & 0xff);
    let (want_major, want_minor) = (written_for >> 16, (written_for >> 8) & 0xff);
    if major != want_major {
        false
    } else if major == 0 {
        minor == want_minor
    } else {
        minor >= want_minor
    }
}

/* ------------------------------------------------------------------ */
/* Value types                                                         */
/* ------------------------------------------------------------------ */

/// `budp_addr.family`: no address.
pub const BUDP_AF_UNSPEC: u16 = 0;
/// `budp_addr.family`: IPv4 (independent of the platform's `AF_INET`).
pub const BUDP_AF_INET: u16 = 4;
/// `budp_addr.family`: IPv6 (independent of the platform's `AF_INET6`).
pub const BUDP_AF_INET6: u16 = 6;

/// An IPv4 or IPv6 address and port, 24 bytes, the same on every platform.
///
/// `port` is in host byte order; `bytes` holds the address in network byte
/// order (4 bytes for IPv4, the rest zero; 16 for IPv6); `scope_id` is the
/// IPv6 interface index (0 for IPv4).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct budp_addr {
    /// [`BUDP_AF_INET`], [`BUDP_AF_INET6`] or [`BUDP_AF_UNSPEC`].
    pub family: u16,
    /// Port, host byte order.
    pub port: u16,
    /// IPv6 scope (interface index); 0 for IPv4.
    pub scope_id: u32,
    /// Address bytes in network byte order.
    pub bytes: [u8; 16],
}

/// `budp_datagram.flags`: the datagram was longer than
/// `BUDP_OPT_MAX_DATAGRAM`; `len` is what was kept.
pub const BUDP_DGRAM_TRUNCATED: u32 = 0x1;
/// `budp_datagram.flags`: one segment of a GRO receive; `segment_size` is
/// the size the kernel coalesced at.
pub const BUDP_DGRAM_COALESCED: u32 = 0x2;
/// `budp_datagram.flags`: `local` holds the destination address
/// (`BUDP_OPT_PKTINFO`).
pub const BUDP_DGRAM_HAS_LOCAL: u32 = 0x4;
/// `budp_datagram.flags`: `ecn` holds the received ECN codepoint
/// (`BUDP_OPT_ECN`).
pub const BUDP_DGRAM_HAS_ECN: u32 = 0x8;
/// `budp_datagram.flags`: the kernel ran out of room for the datagram's
/// control data (`MSG_CTRUNC`): what was cut (the destination address, the
/// ECN codepoint) is not reported, and with GRO on the datagram is flagged
/// [`BUDP_DGRAM_TRUNCATED`] too.  Counted in `rx_control_truncated`.
pub const BUDP_DGRAM_CONTROL_TRUNCATED: u32 = 0x10;
/// `budp_datagram.flags`: `time_ns` holds the kernel's receive time
/// (`BUDP_OPT_TIMESTAMPS`).
pub const BUDP_DGRAM_HAS_TIME: u32 = 0x20;

/// One datagram, received (a view into library-owned memory) or to send
/// (a payload owned by the caller).  96 bytes on 64-bit platforms; every
/// field keeps its offset in every 0.2.x release.
///
/// Received: `data` is valid until the next receiving call on the same
/// socket (`budp_recv`, `budp_recv_packed`, `budp_dispatch`; not `budp_wait`)
/// or `budp_close`.  Sent: `peer` is the destination (or `BUDP_AF_UNSPEC` on
/// a connected socket), `local` optionally picks the source address,
/// `time_ns` is the earliest departure time with [`BUDP_OPT_PACING`] on
/// (0 otherwise), and `flags`, `segment_size` and `reserved` must be zero
/// (`-EINVAL` otherwise).  [`Default`] gives such a datagram.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct budp_datagram {
    /// Payload bytes.
    pub data: *const u8,
    /// Payload length in bytes.
    pub len: u32,
    /// `BUDP_DGRAM_*` flags.
    pub flags: u32,
    /// Source (received) or destination (sent).
    pub peer: budp_addr,
    /// Destination (received, with `BUDP_DGRAM_HAS_LOCAL`) or source (sent).
    pub local: budp_addr,
    /// Received, with [`BUDP_DGRAM_HAS_TIME`] ([`BUDP_OPT_TIMESTAMPS`]): the
    /// kernel's receive time in nanoseconds since the Unix epoch
    /// (`CLOCK_REALTIME`), else 0.  Sent: with [`BUDP_OPT_PACING`] on, the
    /// earliest departure time in nanoseconds of the clock it names, or 0
    /// for at once; must be 0 while pacing is off.
    pub time_ns: u64,
    /// Non-zero for the segments of a GRO receive.
    pub segment_size: u16,
    /// ECN codepoint 0-3.
    pub ecn: u8,
    /// Zero: where later fields go.
    pub reserved: [u8; 21],
}

impl Default for budp_datagram {
    fn default() -> Self {
        budp_datagram {
            data: core::ptr::null(),
            len: 0,
            flags: 0,
            peer: budp_addr::default(),
            local: budp_addr::default(),
            time_ns: 0,
            segment_size: 0,
            ecn: 0,
            reserved: [0; 21],
        }
    }
}

/// Counters of one socket.  Fields are only ever appended: pass
/// `size_of::<budp_stats>()` to [`budp_get_stats`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct budp_stats {
    /// Datagrams delivered to the application (truncated ones included).
    pub rx_datagrams: u64,
    /// Payload bytes delivered.
    pub rx_bytes: u64,
    /// Receive system calls that returned data.
    pub rx_syscalls: u64,
    /// Datagrams delivered with `BUDP_DGRAM_TRUNCATED`.
    pub rx_truncated: u64,
    /// Packets the kernel dropped at this socket for a full buffer (a
    /// GRO/GSO packet counts once).
    pub rx_kernel_drops: u64,
    /// Threaded, `OVERFLOW_WAIT`: times the receiver stopped reading because
    /// the ring was full.
    pub rx_ring_full: u64,
    /// Threaded, `OVERFLOW_DROP`: datagrams dropped because the ring was full.
    pub rx_dropped: u64,
    /// Receive errors reported.
    pub rx_errors: u64,
    /// Datagrams sent.
    pub tx_datagrams: u64,
    /// Payload bytes sent.
    pub tx_bytes: u64,
    /// Send system calls that sent something.
    pub tx_syscalls: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// GRO receives that carried more than one datagram.
    pub rx_coalesced: u64,
    /// GSO sends (one system call entry, many datagrams).
    pub tx_coalesced: u64,
    /// Times GSO was refused by the kernel and turned off for the socket.
    pub tx_gso_fallbacks: u64,
    /// Datagrams delivered with `BUDP_DGRAM_CONTROL_TRUNCATED`.
    pub rx_control_truncated: u64,
    /// Results no kernel should give, caught and not trusted (a receive or
    /// send count above what was asked, an impossible GRO segment size).
    pub kernel_anomalies: u64,
    /// Datagrams counted in `tx_datagrams` that the kernel may have
    /// dropped: Apple's `sendmsg_x` failed with an error that does not say
    /// how many of a batch went.  They are not sent again, so none is sent
    /// twice.
    pub tx_unconfirmed: u64,
    /// Error events read from the kernel's error queue (`BUDP_OPT_ERRORS`).
    pub error_events: u64,
    /// Threaded mode: error events read by the receiver thread and dropped
    /// because [`BUDP_ERROR_QUEUE_EVENTS`] were already waiting for
    /// [`budp_recv_errors`].
    pub error_events_dropped: u64,
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/// Opaque set of socket options (`budp_options`); only used behind a
/// pointer.
#[repr(C)]
pub struct budp_options {
    _private: [u8; 0],
}

/// Datagrams received or sent per system call. `[32; 1..1024]`
pub const BUDP_OPT_BATCH_SIZE: c_int = 1;
/// Largest datagram accepted whole, in bytes. `[2048; 1..65535]`
pub const BUDP_OPT_MAX_DATAGRAM: c_int = 2;
/// Which system calls to use: `BUDP_BACKEND_*`. `[AUTO]`
pub const BUDP_OPT_BACKEND: c_int = 3;
/// 0 inline, 1 receiver thread and ring. `[0; 0..1]`
pub const BUDP_OPT_THREADED: c_int = 4;
/// Threaded mode: ring slots, a power of two, or 0 for the automatic size
/// (the most slots, up to 256, that fit in 1 MiB). `[0; 0 or 2..65536]`
pub const BUDP_OPT_RING_CAPACITY: c_int = 5;
/// Threaded mode: what to do when the ring is full: `BUDP_OVERFLOW_*`.
pub const BUDP_OPT_OVERFLOW: c_int = 6;
/// Linux UDP_GRO receive. `[1; 0..1]`
pub const BUDP_OPT_GRO: c_int = 7;
/// Linux UDP_SEGMENT send. `[1; 0..1]`
pub const BUDP_OPT_GSO: c_int = 8;
/// Report each datagram's destination address. `[0; 0..1]`
pub const BUDP_OPT_PKTINFO: c_int = 9;
/// Report received ECN codepoints and set them on send. `[0; 0..1]`
pub const BUDP_OPT_ECN: c_int = 10;
/// `SO_RCVBUF` in bytes, 0 leaves it as is. `[0; 0..1073741824]`
pub const BUDP_OPT_RECV_BUFFER: c_int = 11;
/// Threaded mode: call the callback on the receiver thread. `[0; 0..1]`
pub const BUDP_OPT_CALLBACK_THREAD: c_int = 12;
/// Report each datagram's receive time (`time_ns`, [`BUDP_DGRAM_HAS_TIME`]).
/// `-ENOTSUP` at bind/open where the system has no receive timestamps.
/// `[0; 0..1]`
pub const BUDP_OPT_TIMESTAMPS: c_int = 13;
/// Earliest departure times on send (`time_ns`) in the clock named:
/// `BUDP_PACING_*` (Linux `SO_TXTIME`; `-ENOTSUP` at bind/open elsewhere).
/// `[0; 0..2]`
pub const BUDP_OPT_PACING: c_int = 14;
/// Report ICMP and local send errors as events ([`budp_recv_errors`]);
/// they then no longer fail receives and sends.  Linux `IP_RECVERR`;
/// `-ENOTSUP` at bind/open elsewhere. `[0; 0..1]`
pub const BUDP_OPT_ERRORS: c_int = 15;
/// [`budp_group_bind`] only: how the kernel picks a group's member for
/// each arriving datagram: `BUDP_STEER_*`.  Anything but
/// [`BUDP_STEER_HASH`] is `-EINVAL` at [`budp_bind`]/[`budp_open`].
/// `[HASH; 0..2]`
pub const BUDP_OPT_STEERING: c_int = 16;
/// [`BUDP_STEER_KEY`]: where the key starts in the payload, in bytes;
/// offset + length must be at most [`BUDP_STEER_PAYLOAD_MAX`] (`-EINVAL`
/// at [`budp_group_bind`]). `[0; 0..65527]`
pub const BUDP_OPT_STEER_OFFSET: c_int = 17;
/// [`BUDP_STEER_KEY`]: the key's length in bytes. `[4; 1..8]`
pub const BUDP_OPT_STEER_LENGTH: c_int = 18;
/// The io_uring backend ([`BUDP_BACKEND_URING`]) only: send each GSO train
/// of at least [`BUDP_ZEROCOPY_MIN_BYTES`] with `IORING_OP_SENDMSG_ZC`
/// ([`budp_send`] still returns only once the kernel has let go of every
/// buffer).  `-ENOTSUP` at bind/open with any other backend, or a kernel
/// without zero-copy sends (before Linux 6.1). `[0; 0..1]`
pub const BUDP_OPT_ZEROCOPY: c_int = 19;

/// [`BUDP_OPT_ZEROCOPY`]: the smallest GSO train sent without a copy, in
/// bytes.
pub const BUDP_ZEROCOPY_MIN_BYTES: u32 = 16384;

/// `BUDP_OPT_STEERING`: the kernel's hash of source and destination address
/// and port: each flow stays on one member.
pub const BUDP_STEER_HASH: c_int = 0;
/// `BUDP_OPT_STEERING`: the payload's bytes `[offset, offset + length)`,
/// read as a big-endian number `k`, steer to member `k mod n` whatever the
/// source; a datagram too short for the key goes by a hash of its source.
pub const BUDP_STEER_KEY: c_int = 1;
/// `BUDP_OPT_STEERING`: the CPU `c` that received the packet steers to
/// member `c mod n`.
pub const BUDP_STEER_CPU: c_int = 2;

/// The largest UDP payload: the end of a steering key lies within it.
pub const BUDP_STEER_PAYLOAD_MAX: u32 = 65527;

/// `BUDP_OPT_PACING`: no departure times (`time_ns` must be 0).
pub const BUDP_PACING_OFF: c_int = 0;
/// `BUDP_OPT_PACING`: departure times in `CLOCK_MONOTONIC`, what fq honours.
pub const BUDP_PACING_MONOTONIC: c_int = 1;
/// `BUDP_OPT_PACING`: departure times in `CLOCK_TAI`, for etf set up with it.
pub const BUDP_PACING_TAI: c_int = 2;

/// Departure times within this many nanoseconds of the first of a run (and
/// in order) may leave together as one GSO send, at the first one's time.
pub const BUDP_PACING_GRANULARITY_NS: u32 = 100_000;

/// The most receive memory one socket may take, in bytes (256 MiB): options
/// that would take more are refused by [`budp_bind`]/[`budp_open`] with
/// `-EINVAL`.
pub const BUDP_MEMORY_LIMIT: u32 = 256 * 1024 * 1024;

/// The least `SO_SNDBUF` a socket keeps on Apple platforms, in bytes
/// (128 KiB): room for twice the largest datagram and its control data.
pub const BUDP_APPLE_SEND_BUFFER: u32 = 128 * 1024;

/// `BUDP_OPT_BACKEND`: the best one present.
pub const BUDP_BACKEND_AUTO: c_int = 0;
/// `BUDP_OPT_BACKEND`: `recvmmsg`/`sendmmsg` (Linux, FreeBSD).
pub const BUDP_BACKEND_MMSG: c_int = 1;
/// `BUDP_OPT_BACKEND`: `recvmsg_x`/`sendmsg_x` (Apple, found at run time).
pub const BUDP_BACKEND_MSGX: c_int = 2;
/// `BUDP_OPT_BACKEND`: `recvmsg`/`sendmsg` in a loop (every POSIX system).
pub const BUDP_BACKEND_LOOP: c_int = 3;
/// `BUDP_OPT_BACKEND`: io_uring (Linux 6.0 or later, in builds made with
/// liburing; never in the `bundled` build).  AUTO passes it over; asked
/// for by name, [`budp_bind`]/[`budp_open`] return `-ENOTSUP` where it is
/// absent and `-EPERM` where the kernel forbids io_uring (a sysctl, a
/// seccomp filter).
pub const BUDP_BACKEND_URING: c_int = 4;

/// `BUDP_OPT_OVERFLOW`: stop reading the socket until slots free up.
pub const BUDP_OVERFLOW_WAIT: c_int = 0;
/// `BUDP_OPT_OVERFLOW`: keep reading, drop what does not fit (counted).
pub const BUDP_OVERFLOW_DROP: c_int = 1;

/* ------------------------------------------------------------------ */
/* Path events: errors and pacing                                      */
/* ------------------------------------------------------------------ */

/// `budp_error_event.origin`: this host refused the send (a datagram above
/// the known path MTU with the don't-fragment bit: `-EMSGSIZE`).
pub const BUDP_ERROR_ORIGIN_LOCAL: u8 = 1;
/// `budp_error_event.origin`: an ICMP message from a router or host.
pub const BUDP_ERROR_ORIGIN_ICMP: u8 = 2;
/// `budp_error_event.origin`: an ICMPv6 message.
pub const BUDP_ERROR_ORIGIN_ICMP6: u8 = 3;

/// Error events that wait for [`budp_recv_errors`] in threaded mode; more
/// are dropped and counted in `error_events_dropped`.
pub const BUDP_ERROR_QUEUE_EVENTS: u32 = 64;

/// One error the kernel reported for a datagram the socket sent, 64 bytes,
/// the same on every platform.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct budp_error_event {
    /// Where the datagram that met the error was going.
    pub destination: budp_addr,
    /// Who reported it (port 0); `BUDP_AF_UNSPEC` for local errors.
    pub offender: budp_addr,
    /// A negative errno: `-ECONNREFUSED` (port unreachable),
    /// `-EHOSTUNREACH`, `-EMSGSIZE`, ...
    pub error: i32,
    /// For `-EMSGSIZE`: the path MTU reported; 0 otherwise.
    pub mtu: u32,
    /// `BUDP_ERROR_ORIGIN_*`.
    pub origin: u8,
    /// The ICMP message's type (ICMP origins); 0 for local errors.
    pub icmp_type: u8,
    /// The ICMP message's code (ICMP origins); 0 for local errors.
    pub icmp_code: u8,
    /// Zero.
    pub reserved: [u8; 5],
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

/// Opaque socket handle (`budp_socket`); only used behind a pointer.
#[repr(C)]
pub struct budp_socket {
    _private: [u8; 0],
}

/// Callback that receives a batch: `user` as given to
/// [`budp_set_callback`], `d` points to `n >= 1` views valid only until the
/// callback returns.  It may call [`budp_send`] and [`budp_get_stats`] on
/// the same socket, [`budp_shutdown`] (of any socket) and [`budp_close`];
/// not the receiving calls on the same socket (`-EBUSY`).  It must not
/// unwind into C.  It returns [`BUDP_CALLBACK_CONTINUE`], or
/// [`BUDP_CALLBACK_PAUSE`]; other values are reserved and act as CONTINUE.
pub type budp_recv_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, d: *const budp_datagram, n: c_uint) -> c_int>;

/// [`budp_recv_fn`] result: go on delivering.
pub const BUDP_CALLBACK_CONTINUE: c_int = 0;
/// [`budp_recv_fn`] result: in callback-thread mode the receiver thread
/// stops reading the socket (the kernel's queue holds what arrives, and
/// drops past its size) until [`budp_set_callback`] is called again, with
/// the same callback or another.  [`budp_dispatch`] returns as it always
/// does.
pub const BUDP_CALLBACK_PAUSE: c_int = 1;

/* ------------------------------------------------------------------ */
/* Socket groups                                                       */
/* ------------------------------------------------------------------ */

/// Opaque group of sockets bound to one address (`budp_group`); only used
/// behind a pointer.  Made by [`budp_group_bind`], freed by
/// [`budp_group_close`].
#[repr(C)]
pub struct budp_group {
    _private: [u8; 0],
}

/// The most members a group may have.
pub const BUDP_GROUP_MAX_MEMBERS: u32 = 256;

extern "C" {
    /// Version of the loaded library: `(major << 16) | (minor << 8) | patch`.
    ///
    /// ```
    /// let v = unsafe { batchudp_sys::budp_version() };
    /// assert!(batchudp_sys::version_is_compatible(v));
    /// ```
    pub fn budp_version() -> c_uint;

    /// The loaded library's version as a static string ("0.2.0"), never
    /// NULL.
    ///
    /// ```
    /// let s = unsafe { std::ffi::CStr::from_ptr(batchudp_sys::budp_version_string()) };
    /// assert_eq!(s.to_str().unwrap().split('.').count(), 3);
    /// ```
    pub fn budp_version_string() -> *const c_char;

    /// Static description of an error code (negative or positive errno),
    /// never NULL; unknown codes give "Unknown error".
    ///
    /// ```
    /// let s = unsafe { std::ffi::CStr::from_ptr(batchudp_sys::budp_strerror(-22)) };
    /// assert!(!s.to_bytes().is_empty());
    /// ```
    pub fn budp_strerror(err: c_int) -> *const c_char;

    /// Create an options object holding every default into `*out`; free it
    /// with [`budp_options_free`].  Errors: `-EINVAL` (NULL), `-ENOMEM`.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut o = std::ptr::null_mut();
    /// assert_eq!(unsafe { budp_options_new(&mut o) }, 0);
    /// unsafe { budp_options_free(o) };
    /// ```
    pub fn budp_options_new(out: *mut *mut budp_options) -> c_int;

    /// Set `key` (`BUDP_OPT_*`) to `value`; `-EINVAL` for an unknown key or
    /// a value out of bounds (`o` is then unchanged).
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut o = std::ptr::null_mut();
    /// unsafe {
    ///     budp_options_new(&mut o);
    ///     assert_eq!(budp_options_set(o, BUDP_OPT_BATCH_SIZE, 64), 0);
    ///     assert!(budp_options_set(o, BUDP_OPT_BATCH_SIZE, 0) < 0);
    ///     budp_options_free(o);
    /// }
    /// ```
    pub fn budp_options_set(o: *mut budp_options, key: c_int, value: i64) -> c_int;

    /// Read `key` into `*value`.  Errors: `-EINVAL` (NULL, unknown key).
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut o = std::ptr::null_mut();
    /// let mut v = 0;
    /// unsafe {
    ///     budp_options_new(&mut o);
    ///     assert_eq!(budp_options_get(o, BUDP_OPT_THREADED, &mut v), 0);
    ///     budp_options_free(o);
    /// }
    /// assert_eq!(v, 0); // inline by default
    /// ```
    pub fn budp_options_get(o: *const budp_options, key: c_int, value: *mut i64) -> c_int;

    /// Inclusive bounds and default of `key`; any output pointer may be
    /// NULL.  Errors: `-EINVAL` (unknown key).
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let (mut min, mut max) = (0, 0);
    /// let rc = unsafe {
    ///     budp_options_bounds(BUDP_OPT_MAX_DATAGRAM, &mut min, &mut max, std::ptr::null_mut())
    /// };
    /// assert_eq!((rc, min, max), (0, 1, 65535));
    /// ```
    pub fn budp_options_bounds(
        key: c_int,
        min: *mut i64,
        max: *mut i64,
        default_value: *mut i64,
    ) -> c_int;

    /// Free an options object; NULL is a no-op.
    ///
    /// ```
    /// unsafe { batchudp_sys::budp_options_free(std::ptr::null_mut()) };
    /// ```
    pub fn budp_options_free(o: *mut budp_options);

    /// Create a UDP socket bound to numeric `host`:`port` (port 0: a free
    /// one) and wrap it; `o` may be NULL for the defaults.  Close it with
    /// [`budp_close`].
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// assert_eq!(unsafe { budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null()) }, 0);
    /// assert!(!s.is_null());
    /// unsafe { budp_close(s) };
    /// ```
    pub fn budp_bind(
        out: *mut *mut budp_socket,
        host: *const c_char,
        port: u16,
        o: *const budp_options,
    ) -> c_int;

    /// Wrap an existing UDP socket fd, which stays the caller's (not closed
    /// by [`budp_close`], and must stay open until then).
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// use batchudp_sys::*;
    /// let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let mut s = std::ptr::null_mut();
    /// assert_eq!(unsafe { budp_open(&mut s, udp.as_raw_fd(), std::ptr::null()) }, 0);
    /// assert_eq!(unsafe { budp_socket_fd(s) }, udp.as_raw_fd());
    /// unsafe { budp_close(s) }; // udp stays open
    /// ```
    pub fn budp_open(out: *mut *mut budp_socket, fd: c_int, o: *const budp_options) -> c_int;

    /// Connect the socket to numeric `host`:`port`: sends may then use
    /// `BUDP_AF_UNSPEC` as destination, and only that peer's datagrams
    /// arrive.  A consumer call: not concurrently with [`budp_send`].
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert_eq!(budp_connect(s, c"127.0.0.1".as_ptr(), 9), 0);
    ///     assert!(budp_connect(s, c"no address".as_ptr(), 9) < 0);
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_connect(s: *mut budp_socket, host: *const c_char, port: u16) -> c_int;

    /// The address the socket is bound to.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut a = budp_addr::default();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert_eq!(budp_local_addr(s, &mut a), 0);
    ///     budp_close(s);
    /// }
    /// assert_eq!((a.family, &a.bytes[..4]), (BUDP_AF_INET, &[127, 0, 0, 1][..]));
    /// ```
    pub fn budp_local_addr(s: *const budp_socket, out: *mut budp_addr) -> c_int;

    /// The UDP socket's fd (owned by the library for [`budp_bind`], by the
    /// caller for [`budp_open`]).
    ///
    /// ```
    /// use batchudp_sys::*;
    /// assert!(unsafe { budp_socket_fd(std::ptr::null()) } < 0);
    /// ```
    pub fn budp_socket_fd(s: *const budp_socket) -> c_int;

    /// The fd to poll before [`budp_recv`] (a hint: the socket inline, the
    /// notify fd threaded); `-ENOTSUP` in callback-thread mode.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert_eq!(budp_poll_fd(s), budp_socket_fd(s)); // inline mode
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_poll_fd(s: *const budp_socket) -> c_int;

    /// `"mmsg"`, `"msgx"`, `"loop"` or `"uring"`; `""` for NULL or once shut
    /// down.
    ///
    /// ```
    /// let name = unsafe { std::ffi::CStr::from_ptr(batchudp_sys::budp_backend_name(std::ptr::null())) };
    /// assert!(name.to_bytes().is_empty());
    /// ```
    pub fn budp_backend_name(s: *const budp_socket) -> *const c_char;

    /// Why the socket got its backend, one line for logs: the backend's
    /// name, `": "`, and what decided it (`"mmsg: recvmmsg/sendmmsg"`).  The
    /// words after the colon may change between releases.  Valid until
    /// [`budp_close`]; `""` for NULL or once shut down.
    ///
    /// ```
    /// let reason = unsafe { std::ffi::CStr::from_ptr(batchudp_sys::budp_backend_reason(std::ptr::null())) };
    /// assert!(reason.to_bytes().is_empty());
    /// ```
    pub fn budp_backend_reason(s: *const budp_socket) -> *const c_char;

    /// Parse a numeric host and a port into `*out`.  Errors: `-EINVAL`.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut a = budp_addr::default();
    /// assert_eq!(unsafe { budp_addr_from_string(&mut a, c"10.0.0.1".as_ptr(), 53) }, 0);
    /// assert_eq!((a.family, a.port, a.bytes[0]), (BUDP_AF_INET, 53, 10));
    /// ```
    pub fn budp_addr_from_string(out: *mut budp_addr, host: *const c_char, port: u16) -> c_int;

    /// Write `a`'s address (without the port) into `buf`, NUL-terminated;
    /// returns the length.  64 bytes always suffice; `-ENOSPC` when `buf`
    /// is too small.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut a = budp_addr { family: BUDP_AF_INET, ..Default::default() };
    /// a.bytes[..4].copy_from_slice(&[192, 0, 2, 7]);
    /// let mut buf = [0 as std::ffi::c_char; 64];
    /// let n = unsafe { budp_addr_to_string(&a, buf.as_mut_ptr(), buf.len()) };
    /// assert_eq!(n, 9);
    /// assert_eq!(unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_str(), Ok("192.0.2.7"));
    /// ```
    pub fn budp_addr_to_string(a: *const budp_addr, buf: *mut c_char, size: usize) -> c_int;

    /// Stop the socket, from any thread, at any time, also inside one of
    /// its callbacks, as often as wanted (the calls after the first do
    /// nothing).  Every thread blocked in [`budp_wait`] on `s` returns
    /// `-EBADF` at once; the receiver thread (threaded mode) stops reading
    /// and calls no further callback after the one running; every later
    /// call on `s` returns `-EBADF` ([`budp_backend_name`] `""`) without
    /// touching the socket.  Nothing is freed and no fd is closed: `s`
    /// stays valid until [`budp_close`].  Returns 0; `-EINVAL` for NULL.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut a = budp_addr::default();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert_eq!(budp_shutdown(s), 0);
    ///     assert_eq!(budp_shutdown(s), 0); // again: nothing more happens
    ///     assert!(budp_local_addr(s, &mut a) < 0); // -EBADF
    ///     assert!(budp_wait(s, -1) < 0); // returns at once
    ///     assert!(budp_shutdown(std::ptr::null_mut()) < 0); // -EINVAL
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_shutdown(s: *mut budp_socket) -> c_int;

    /// Free the socket: shut it down ([`budp_shutdown`]), wait for calls
    /// still inside it to leave, join the receiver thread, close the fd when
    /// [`budp_bind`] made it (or restore a wrapped fd's options), and free
    /// every view and the handle.  NULL is a no-op.  The owner calls it
    /// exactly once, when no other thread will call into `s` again (shut it
    /// down first and wait for those threads to leave).  Inside one of `s`'s
    /// callbacks it gives back the fd and the receiver thread at once and
    /// frees the memory when the callback returns.
    ///
    /// ```
    /// unsafe { batchudp_sys::budp_close(std::ptr::null_mut()) };
    /// ```
    pub fn budp_close(s: *mut budp_socket);

    /// Receive up to `max` datagrams without blocking; `*out` receives `n`
    /// views valid until the next receiving call on `s` or [`budp_close`].
    /// Returns `n >= 0`.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut me = budp_addr::default();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     budp_local_addr(s, &mut me);
    ///     let d = budp_datagram { data: b"hi".as_ptr(), len: 2, peer: me, ..Default::default() };
    ///     assert_eq!(budp_send(s, &d, 1), 1);
    ///     assert_eq!(budp_wait(s, -1), 1);
    ///     let mut views: *const budp_datagram = std::ptr::null();
    ///     assert_eq!(budp_recv(s, &mut views, 32), 1);
    ///     assert_eq!(std::slice::from_raw_parts((*views).data, (*views).len as usize), b"hi");
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_recv(s: *mut budp_socket, out: *mut *const budp_datagram, max: c_uint) -> c_int;

    /// Like [`budp_recv`], but copies payloads back to back into `buf` and
    /// fills `lens` (and `flags`, `peers` when not NULL).  `-EMSGSIZE` when
    /// the first pending datagram alone does not fit.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut me = budp_addr::default();
    /// let (mut buf, mut lens) = ([0u8; 256], [0u32; 8]);
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     budp_local_addr(s, &mut me);
    ///     let d = budp_datagram { data: b"abc".as_ptr(), len: 3, peer: me, ..Default::default() };
    ///     budp_send(s, &d, 1);
    ///     budp_wait(s, -1);
    ///     let n = budp_recv_packed(s, buf.as_mut_ptr(), buf.len(), lens.as_mut_ptr(),
    ///                              std::ptr::null_mut(), std::ptr::null_mut(), 8);
    ///     assert_eq!((n, lens[0], &buf[..3]), (1, 3, &b"abc"[..]));
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_recv_packed(
        s: *mut budp_socket,
        buf: *mut u8,
        size: usize,
        lens: *mut u32,
        flags: *mut u32,
        peers: *mut budp_addr,
        max: c_uint,
    ) -> c_int;

    /// Block until [`budp_recv`] has something, or `timeout_ms` passes
    /// (-1 forever, 0 just check).  1 ready, 0 timed out; `-EBADF` as soon
    /// as the socket is shut down, also while it sleeps ([`budp_shutdown`]
    /// from another thread wakes it).  In callback-thread mode it blocks
    /// until the receiver thread meets an error and returns it (a transient
    /// one once, a fatal one on every call), or 0 on timeout; `-EBUSY`
    /// inside the callback.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert_eq!(budp_wait(s, 0), 0); // nothing queued
    ///     assert!(budp_wait(s, -2) < 0);
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_wait(s: *mut budp_socket, timeout_ms: c_int) -> c_int;

    /// Set (or clear, with `fn_` `None`) the callback of [`budp_dispatch`]
    /// (or of the receiver thread in callback-thread mode).  `user` is
    /// passed back to it as is.  The callback must not unwind.  In
    /// callback-thread mode, a call (with the same callback too) resumes a
    /// receiver that a [`BUDP_CALLBACK_PAUSE`] stopped.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// use std::ffi::{c_int, c_uint, c_void};
    ///
    /// unsafe extern "C" fn count(user: *mut c_void, _d: *const budp_datagram, n: c_uint) -> c_int {
    ///     unsafe { *user.cast::<u32>() += n };
    ///     BUDP_CALLBACK_CONTINUE
    /// }
    /// let mut s = std::ptr::null_mut();
    /// let mut me = budp_addr::default();
    /// let mut seen = 0u32;
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     budp_local_addr(s, &mut me);
    ///     let d = budp_datagram { data: b"x".as_ptr(), len: 1, peer: me, ..Default::default() };
    ///     budp_send(s, &d, 1);
    ///     budp_wait(s, -1);
    ///     budp_set_callback(s, Some(count), (&mut seen as *mut u32).cast());
    ///     assert_eq!(budp_dispatch(s, 32), 1);
    ///     budp_set_callback(s, None, std::ptr::null_mut());
    ///     budp_close(s);
    /// }
    /// assert_eq!(seen, 1);
    /// ```
    pub fn budp_set_callback(s: *mut budp_socket, fn_: budp_recv_fn, user: *mut c_void) -> c_int;

    /// Receive up to `max` datagrams without blocking and hand them to the
    /// callback on this thread; returns the number handed over.  `-EINVAL`
    /// when no callback is set.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert!(budp_dispatch(s, 32) < 0); // no callback set
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_dispatch(s: *mut budp_socket, max: c_uint) -> c_int;

    /// Send `n` datagrams without blocking; returns how many were sent (an
    /// error only when the first fails).  May run on any number of threads
    /// at once, the consumer's included: the library serialises the senders.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     // No destination on an unconnected socket: -EDESTADDRREQ.
    ///     let d = budp_datagram { data: b"x".as_ptr(), len: 1, ..Default::default() };
    ///     assert!(budp_send(s, &d, 1) < 0);
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_send(s: *mut budp_socket, d: *const budp_datagram, n: c_uint) -> c_int;

    /// Read up to `max` error events (`BUDP_OPT_ERRORS`) into `events`,
    /// oldest first, without blocking; returns how many (0: none).  Any
    /// thread, any mode.  While events wait, the poll fd is readable and
    /// [`budp_wait`] returns 1.  `-EINVAL` when the option is off.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut ev = [budp_error_event::default(); 4];
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     assert!(budp_recv_errors(s, ev.as_mut_ptr(), 4) < 0); // option off: -EINVAL
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_recv_errors(
        s: *mut budp_socket,
        events: *mut budp_error_event,
        max: c_uint,
    ) -> c_int;

    /// Whether departure times sent to `dest` (NULL: the connected peer)
    /// would be honoured: 1 honoured, 0 not (also when pacing is off).
    /// `detail` (`size` bytes, may be NULL) receives one line saying what
    /// was found.  Errors: `-EINVAL`, `-EBADF`, `-ENOTSUP` (no pacing on
    /// this system), `-ENETUNREACH` (no route).
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut me = budp_addr::default();
    /// let mut detail = [0 as std::ffi::c_char; 128];
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     budp_local_addr(s, &mut me);
    ///     // Pacing off: never honoured.
    ///     assert_eq!(budp_pacing_support(s, &me, detail.as_mut_ptr(), detail.len()), 0);
    ///     budp_close(s);
    /// }
    /// ```
    pub fn budp_pacing_support(
        s: *const budp_socket,
        dest: *const budp_addr,
        detail: *mut c_char,
        size: usize,
    ) -> c_int;

    /// Open `n` UDP sockets bound to numeric `host`:`port` together
    /// (`SO_REUSEPORT`), among which the kernel spreads arriving datagrams
    /// as [`BUDP_OPT_STEERING`] in `o` says (`o` may be NULL: every
    /// default, hash steering).  Port 0 picks one free port for all.  Each
    /// member ([`budp_group_socket`]) is an ordinary socket, owned by the
    /// group.  Linux; FreeBSD hashes only (`-ENOTSUP` for key and CPU
    /// steering); `-ENOTSUP` elsewhere.  Errors: `-EINVAL` (NULL, `n` 0 or
    /// above [`BUDP_GROUP_MAX_MEMBERS`], a key ending past
    /// [`BUDP_STEER_PAYLOAD_MAX`], and as [`budp_bind`]), `-EADDRINUSE`,
    /// and every error of [`budp_bind`] and of attaching the steering
    /// program.  On error nothing is written to `*out` and nothing is left
    /// open.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut g = std::ptr::null_mut();
    /// # if cfg!(target_os = "linux") {
    /// assert_eq!(unsafe { budp_group_bind(&mut g, c"127.0.0.1".as_ptr(), 0, 2, std::ptr::null()) }, 0);
    /// assert_eq!(unsafe { budp_group_size(g) }, 2);
    /// unsafe { budp_group_close(g) };
    /// # }
    /// let mut none = std::ptr::null_mut();
    /// assert!(unsafe { budp_group_bind(&mut none, c"127.0.0.1".as_ptr(), 0, 0, std::ptr::null()) } < 0);
    /// assert!(none.is_null());
    /// ```
    pub fn budp_group_bind(
        out: *mut *mut budp_group,
        host: *const c_char,
        port: u16,
        n: c_uint,
        o: *const budp_options,
    ) -> c_int;

    /// `n` as given to [`budp_group_bind`] (closed members included); 0 for
    /// NULL.
    ///
    /// ```
    /// assert_eq!(unsafe { batchudp_sys::budp_group_size(std::ptr::null()) }, 0);
    /// ```
    pub fn budp_group_size(g: *const budp_group) -> c_uint;

    /// Member `i`: the group's own socket, valid until it is closed
    /// ([`budp_group_close_member`], [`budp_close`], [`budp_group_close`]).
    /// NULL when `g` is NULL, `i` is out of range or the member is closed.
    /// Any thread (the group locks its membership).
    ///
    /// ```
    /// assert!(unsafe { batchudp_sys::budp_group_socket(std::ptr::null(), 0) }.is_null());
    /// ```
    pub fn budp_group_socket(g: *const budp_group, i: c_uint) -> *mut budp_socket;

    /// Close member `i`, the other members going on: the kernel stops
    /// steering to it, then what was queued to it and not yet received is
    /// counted as dropped (the return value, and [`budp_group_dropped`])
    /// and the member is closed as by [`budp_close`] (which does the same
    /// on a member, adding its count to [`budp_group_dropped`]).  Same
    /// rules as [`budp_close`]: the member's owner calls it once no other
    /// thread uses the member.  Returns the datagrams dropped (`>= 0`).
    /// Errors: `-EINVAL` (NULL, `i` out of range), `-EBADF` (member `i`
    /// already closed), errors of replacing the steering program (the
    /// member is then left open, as it was).
    ///
    /// ```
    /// use batchudp_sys::*;
    /// assert!(unsafe { budp_group_close_member(std::ptr::null_mut(), 0) } < 0);
    /// # if cfg!(target_os = "linux") {
    /// let mut g = std::ptr::null_mut();
    /// unsafe {
    ///     assert_eq!(budp_group_bind(&mut g, c"127.0.0.1".as_ptr(), 0, 2, std::ptr::null()), 0);
    ///     assert_eq!(budp_group_close_member(g, 1), 0); // nothing was queued
    ///     assert!(budp_group_socket(g, 1).is_null());
    ///     assert!(budp_group_close_member(g, 1) < 0); // -EBADF
    ///     assert!(budp_group_close_member(g, 2) < 0); // -EINVAL
    ///     budp_group_close(g);
    /// }
    /// # }
    /// ```
    pub fn budp_group_close_member(g: *mut budp_group, i: c_uint) -> c_int;

    /// Datagrams dropped by the closes of members so far; 0 for NULL.  Any
    /// thread.
    ///
    /// ```
    /// assert_eq!(unsafe { batchudp_sys::budp_group_dropped(std::ptr::null()) }, 0);
    /// ```
    pub fn budp_group_dropped(g: *const budp_group) -> u64;

    /// Close every open member (as [`budp_close`]: what they hold is
    /// dropped) and free the group.  NULL is a no-op.  The owner calls it
    /// once, when no thread uses any member any more.
    ///
    /// ```
    /// unsafe { batchudp_sys::budp_group_close(std::ptr::null_mut()) };
    /// ```
    pub fn budp_group_close(g: *mut budp_group);

    /// Copy the socket's counters into `out`, `size` bytes long (the size
    /// of the struct the caller knows); returns the number of bytes
    /// written.  Any thread.
    ///
    /// ```
    /// use batchudp_sys::*;
    /// let mut s = std::ptr::null_mut();
    /// let mut st = budp_stats::default();
    /// unsafe {
    ///     budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, std::ptr::null());
    ///     let n = budp_get_stats(s, &mut st, std::mem::size_of::<budp_stats>());
    ///     assert_eq!(n as usize, std::mem::size_of::<budp_stats>());
    ///     budp_close(s);
    /// }
    /// assert_eq!(st.rx_datagrams, 0);
    /// ```
    pub fn budp_get_stats(s: *const budp_socket, out: *mut budp_stats, size: usize) -> c_int;
}
