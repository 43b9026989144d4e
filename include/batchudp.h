/*
 * batchudp.h - receive and send UDP datagrams in batches.
 *
 * libbatchudp lets a program pay one system call per batch of UDP datagrams
 * instead of one per datagram (recvmmsg/sendmmsg on Linux and FreeBSD,
 * recvmsg_x/sendmsg_x on Apple platforms, UDP GRO/GSO on Linux), behind one
 * small, stable C ABI.
 *
 * Conventions that hold for every function below:
 *  - A fallible call returns an int: >= 0 is success (a count where the
 *    function says so), < 0 is a negated errno value (-EINVAL, -EBADF, ...).
 *    budp_strerror() describes one.
 *  - Every pointer argument is checked: NULL where a pointer is required gives
 *    -EINVAL and changes nothing.  No call aborts, asserts or prints.
 *  - A call that fails changes nothing: no handle is created, no option is
 *    modified, no datagram is consumed.
 *  - No struct is passed by value, no call is variadic, nothing is inline:
 *    every function can be bound from ctypes, libffi, Swift and Rust as is.
 *  - Threads: a socket has one consumer thread at a time (budp_recv,
 *    budp_recv_packed, budp_dispatch, budp_wait, budp_set_callback,
 *    budp_connect); budp_send may run on any number of other threads at
 *    once (the library serialises them); budp_get_stats, budp_socket_fd,
 *    budp_poll_fd, budp_local_addr, budp_backend_name,
 *    budp_backend_reason, budp_recv_errors and budp_pacing_support may run
 *    on any thread; budp_shutdown on any thread at any time.
 *  - Lifetime (the shutdown(2)/close(2) split):
 *    budp_shutdown(s) stops the socket.  Any thread may call it at any
 *    time, inside a callback too, as often as it likes.  It wakes every
 *    thread blocked in a call on s, and from then on every call on s but
 *    budp_shutdown and budp_close returns -EBADF (budp_backend_name "")
 *    without touching the socket; the handle's memory stays valid.
 *    budp_close(s) frees the handle.  Its owner calls it once, when no
 *    other thread will call into s again; it shuts the socket down first.
 *    Called inside one of s's callbacks, it gives back the fd and the
 *    receiver thread at once and frees the memory when the callback
 *    returns, on the thread that ran it.
 *    So, to stop a socket that another thread is using:
 *
 *        budp_shutdown(s);           // the user thread's call returns -EBADF
 *        pthread_join(user, NULL);   // the user thread leaves the socket
 *        budp_close(s);              // nobody else calls into s any more
 *
 *    Datagrams still queued in the library when the socket shuts down are
 *    discarded with it, as close(2) discards a socket's receive queue;
 *    read budp_get_stats before the shutdown for the final counts.
 */
#ifndef BATCHUDP_H
#define BATCHUDP_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(BUDP_BUILDING_LIBRARY)
#    define BUDP_EXPORT __declspec(dllexport)
#  else
#    define BUDP_EXPORT
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define BUDP_EXPORT __attribute__((visibility("default")))
#else
#  define BUDP_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Version                                                             */
/* ------------------------------------------------------------------ */

#define BUDP_VERSION_MAJOR 0
#define BUDP_VERSION_MINOR 2
#define BUDP_VERSION_PATCH 0
#define BUDP_VERSION \
    ((BUDP_VERSION_MAJOR << 16) | (BUDP_VERSION_MINOR << 8) | BUDP_VERSION_PATCH)

/* The version of the library loaded at run time, (major << 16) |
 * (minor << 8) | patch.  A program or binding built for version W can use
 * the library loaded when its major number equals W's and, while the major
 * number is 0, its minor number does too (each 0.x release may change the
 * ABI); from 1.0 on, when its minor number is W's or above (docs/ABI.md). */
BUDP_EXPORT unsigned budp_version(void);

/* The same version as a static string, "0.2.0".  Never NULL. */
BUDP_EXPORT const char *budp_version_string(void);

/* A static, human-readable description of err, a value returned by any
 * budp_ call (negative errno).  Accepts positive errno values too.  Never
 * NULL; unknown codes give "Unknown error". */
BUDP_EXPORT const char *budp_strerror(int err);

/* ------------------------------------------------------------------ */
/* Value types (fixed layout, identical on every platform)             */
/* ------------------------------------------------------------------ */

/* budp_addr and budp_stats have the same layout everywhere.
 * budp_datagram holds a pointer, so its layout is one per pointer size:
 * the sizes and offsets given here are those of 64-bit platforms, and a
 * 32-bit one lays the same fields out by its own C ABI (time_ns at offset
 * 60 on i386, 64 on 32-bit ARM).  A binding takes the layout from its
 * language's C rules (ctypes, repr(C), Swift's import), never by hand. */

/* Address families, independent of the platform's AF_* numbers. */
#define BUDP_AF_UNSPEC 0
#define BUDP_AF_INET   4
#define BUDP_AF_INET6  6

/* An IPv4 or IPv6 address and port.  24 bytes.  On an IPv6 socket bound to
 * "::", IPv4 peers appear as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d),
 * as the kernel reports them; they work as destinations as they are.
 *  family    BUDP_AF_INET, BUDP_AF_INET6, or BUDP_AF_UNSPEC (no address).
 *  port      host byte order.
 *  scope_id  IPv6 scope (interface index); 0 for IPv4.
 *  bytes     the address in network byte order: 4 bytes for IPv4 (the rest
 *            zero), 16 for IPv6. */
typedef struct budp_addr {
    uint16_t family;
    uint16_t port;
    uint32_t scope_id;
    uint8_t  bytes[16];
} budp_addr;

/* Datagram flags (budp_datagram.flags). */
#define BUDP_DGRAM_TRUNCATED 0x1u /* longer than BUDP_OPT_MAX_DATAGRAM, or
                                     cut by the kernel (the last segment of
                                     a GRO receive larger than its buffer):
                                     len is the bytes kept, the rest is lost.
                                     Counted in rx_truncated.  Never a whole
                                     datagram. */
#define BUDP_DGRAM_COALESCED 0x2u /* one segment of a GRO receive; segment_size
                                     is the size the kernel coalesced at */
#define BUDP_DGRAM_HAS_LOCAL 0x4u /* local holds the destination address
                                     (BUDP_OPT_PKTINFO) */
#define BUDP_DGRAM_HAS_ECN   0x8u /* ecn holds the received ECN codepoint
                                     (BUDP_OPT_ECN) */
#define BUDP_DGRAM_CONTROL_TRUNCATED 0x10u
                                  /* the kernel ran out of room for this
                                     datagram's control data (MSG_CTRUNC):
                                     what was cut (the destination address,
                                     the ECN codepoint) is not reported, and
                                     with GRO on the datagram is flagged
                                     TRUNCATED too, since its segment size
                                     may be what was lost.  Counted in
                                     rx_control_truncated */
#define BUDP_DGRAM_HAS_TIME  0x20u /* time_ns holds the kernel's receive time
                                     (BUDP_OPT_TIMESTAMPS) */

/* One datagram.  96 bytes on 64-bit platforms; every field keeps its
 * offset in every 0.2.x release, and the reserved bytes are where later
 * fields go (buffer ids, more per-datagram values).
 *
 * Received (views handed out by budp_recv / budp_dispatch; every field is
 * written by the library, and the views are the library's own receive
 * state, handed out without a copy: read them, never write through them):
 *  data, len     the payload, in a buffer owned by the library, valid until
 *                the next receiving call on the same socket (budp_recv,
 *                budp_recv_packed, budp_dispatch) or budp_close.
 *  flags         BUDP_DGRAM_*: truncation, GRO segment, which optional
 *                fields hold a value.
 *  peer          the source address.
 *  local         the destination address and the socket's port when flags
 *                has BUDP_DGRAM_HAS_LOCAL (BUDP_OPT_PKTINFO; scope_id set for
 *                link-local addresses only); all zero otherwise.
 *  time_ns       when flags has BUDP_DGRAM_HAS_TIME (BUDP_OPT_TIMESTAMPS):
 *                the time the kernel received the packet, in nanoseconds
 *                since the Unix epoch (CLOCK_REALTIME; microsecond
 *                resolution on Apple and the BSDs).  Every segment of a GRO
 *                receive carries its packet's time.  0 otherwise.
 *  segment_size  non-zero for the segments of a GRO receive: the size the
 *                kernel coalesced at.
 *  ecn           the ECN codepoint (0-3) when flags has BUDP_DGRAM_HAS_ECN.
 *  reserved      zero.
 *
 * Sent (budp_send; read during the call only):
 *  data, len     the payload, owned by the caller (len at most 65535).
 *  flags         must be 0.
 *  peer          the destination, or family BUDP_AF_UNSPEC on a connected
 *                socket.  On a connected socket the connected peer itself
 *                is sent naming no destination (Apple and the BSDs refuse
 *                one there with EISCONN), so received datagrams can be
 *                sent back as they are.
 *  local         when its family is set, the source address (IP_PKTINFO,
 *                IPV6_PKTINFO); family BUDP_AF_UNSPEC lets the kernel pick.
 *  time_ns       with BUDP_OPT_PACING on: the earliest departure time,
 *                in nanoseconds of the clock the option names
 *                (CLOCK_MONOTONIC or CLOCK_TAI), or 0 to leave at once.
 *                Must be 0 while pacing is off.
 *  segment_size  must be 0 (GSO runs are found by the library).
 *  ecn           the ECN codepoint (0-3) set on the packet when BUDP_OPT_ECN
 *                is on.
 *  reserved      must be zero.
 * A datagram that breaks a "must" is refused with -EINVAL (see budp_send). */
typedef struct budp_datagram {
    const uint8_t *data;
    uint32_t       len;
    uint32_t       flags;
    budp_addr      peer;
    budp_addr      local;
    uint64_t       time_ns;
    uint16_t       segment_size;
    uint8_t        ecn;
    uint8_t        reserved[21];
} budp_datagram;

/* Counters of one socket.  Every field is a uint64_t; new fields are only
 * ever appended, so a caller passes the size of the struct it was compiled
 * with to budp_get_stats.
 *
 * Conservation: every datagram the kernel hands the library is either
 * delivered (rx_datagrams) or dropped (rx_dropped); datagrams the kernel
 * itself dropped for a full socket buffer are in rx_kernel_drops where the
 * kernel reports them (Linux). */
typedef struct budp_stats {
    uint64_t rx_datagrams;    /* datagrams delivered to the application
                                 (truncated ones included) */
    uint64_t rx_bytes;        /* payload bytes delivered */
    uint64_t rx_syscalls;     /* receive system calls that returned data
                                 (uring: batches taken from its queue) */
    uint64_t rx_truncated;    /* datagrams delivered with BUDP_DGRAM_TRUNCATED */
    uint64_t rx_kernel_drops; /* packets the kernel dropped at this socket
                                 for a full buffer, read when asked (Linux:
                                 SO_MEMINFO; 0 elsewhere).  The kernel
                                 counts packets: a dropped GRO/GSO packet
                                 counts once though it carried up to 64
                                 datagrams */
    uint64_t rx_ring_full;    /* threaded, OVERFLOW_WAIT: times the receiver
                                 stopped reading because the ring was full */
    uint64_t rx_dropped;      /* threaded, OVERFLOW_DROP: datagrams received
                                 and dropped because the ring was full */
    uint64_t rx_errors;       /* receive errors reported (ICMP-borne and
                                 others) */
    uint64_t tx_datagrams;    /* datagrams sent */
    uint64_t tx_bytes;        /* payload bytes sent */
    uint64_t tx_syscalls;     /* send system calls that sent something */
    uint64_t tx_errors;       /* send errors (not -EAGAIN, back-pressure, nor
                                 -EINVAL, a datagram refused as malformed by
                                 the library or the kernel) */
    uint64_t rx_coalesced;    /* GRO receives that carried >1 datagram */
    uint64_t tx_coalesced;    /* GSO sends (one syscall entry, many datagrams) */
    uint64_t tx_gso_fallbacks;/* times the kernel refused a GSO send and the
                                 datagrams went again without it: GSO is
                                 then off for the socket (EIO, EINVAL), or
                                 for datagrams that large (EMSGSIZE: larger
                                 than the path MTU) */
    uint64_t rx_control_truncated; /* datagrams delivered with
                                 BUDP_DGRAM_CONTROL_TRUNCATED */
    uint64_t kernel_anomalies;/* results no kernel should give, caught and
                                 not trusted: a receive or send count above
                                 what was asked (only the messages the
                                 kernel filled in are read), a
                                 GRO segment size of 0, above the datagram's
                                 length (one datagram) or making more than
                                 64 segments (delivered as one datagram
                                 flagged TRUNCATED) */
    uint64_t tx_unconfirmed;  /* datagrams counted in tx_datagrams that the
                                 kernel may have dropped: Apple's sendmsg_x
                                 failed with an error that does not say how
                                 many of a batch went (ENOSPC and others;
                                 see budp_send).  They are not sent again,
                                 so none is sent twice */
    uint64_t error_events;    /* error events read from the kernel's error
                                 queue (BUDP_OPT_ERRORS) */
    uint64_t error_events_dropped; /* threaded mode: events read by the
                                 receiver thread and dropped because
                                 BUDP_ERROR_QUEUE_EVENTS were already
                                 waiting for budp_recv_errors */
} budp_stats;

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/* Opaque set of socket options.  Created with budp_options_new, read when a
 * socket is created (the socket keeps its own copy: the options object may
 * be freed or reused right after), freed with budp_options_free. */
typedef struct budp_options budp_options;

/* Option keys.  Defaults and bounds (inclusive) in brackets. */
enum {
    /* Datagrams received or sent per system call. [32; 1..1024] */
    BUDP_OPT_BATCH_SIZE = 1,
    /* Largest datagram accepted whole, in bytes: the size of a receive slot.
     * A longer datagram is delivered with BUDP_DGRAM_TRUNCATED and counted.
     * [2048; 1..65535] */
    BUDP_OPT_MAX_DATAGRAM = 2,
    /* Which system calls to use: BUDP_BACKEND_*. [AUTO] */
    BUDP_OPT_BACKEND = 3,
    /* 0: inline (budp_recv makes the system call on the caller's thread).
     * 1: a receiver thread fills a ring that budp_recv pops. [0; 0..1] */
    BUDP_OPT_THREADED = 4,
    /* Threaded mode: slots in the ring, a power of two, or 0 for the
     * automatic size: the most slots, up to 256, that fit in 1 MiB (256
     * slots of a 2 KiB datagram; 16 of GRO's 64 KiB slots, each holding up
     * to 64 coalesced datagrams).  A threaded socket with every default
     * takes under 2 MiB in all.  [0; 0 or 2..65536] */
    BUDP_OPT_RING_CAPACITY = 5,
    /* Threaded mode: what the receiver does when the ring is full:
     * BUDP_OVERFLOW_*. [WAIT] */
    BUDP_OPT_OVERFLOW = 6,
    /* Linux UDP_GRO: receive coalesced datagrams and split them back into
     * ordinary ones.  Slots grow to 65535 bytes while it is on.  Ignored
     * where the kernel lacks it (before Linux 5.0); on kernels that can set
     * it but not read it back (5.0 to 5.11) it is set and trusted, and a
     * wrapped fd gets it back off at budp_close. [1; 0..1] */
    BUDP_OPT_GRO = 7,
    /* Linux UDP_SEGMENT: send runs of equal-size datagrams to one
     * destination as one GSO send.  Ignored where the kernel lacks it.
     * [1; 0..1] */
    BUDP_OPT_GSO = 8,
    /* Report each datagram's destination address (budp_datagram.local).
     * [0; 0..1] */
    BUDP_OPT_PKTINFO = 9,
    /* Report received ECN codepoints and set them on send. [0; 0..1] */
    BUDP_OPT_ECN = 10,
    /* SO_RCVBUF in bytes (SO_RCVBUFFORCE tried first where permitted);
     * 0 leaves it as is. [0; 0..1073741824] */
    BUDP_OPT_RECV_BUFFER = 11,
    /* Threaded mode: call the callback on the receiver thread, right after
     * each batch, instead of queueing to the ring. [0; 0..1] */
    BUDP_OPT_CALLBACK_THREAD = 12,
    /* Report each datagram's receive time (budp_datagram.time_ns,
     * BUDP_DGRAM_HAS_TIME): Linux SO_TIMESTAMPNS, SO_TIMESTAMP elsewhere.
     * -ENOTSUP at budp_bind/budp_open where the system has neither.
     * [0; 0..1] */
    BUDP_OPT_TIMESTAMPS = 13,
    /* Earliest departure times on send (budp_datagram.time_ns), in the
     * clock named: BUDP_PACING_*.  Linux SO_TXTIME: the interface's queue
     * discipline holds each packet back until its time when it is fq (with
     * CLOCK_MONOTONIC) or etf (with the clock it was set up with); any
     * other sends at once (budp_pacing_support tells which).  fq drops
     * packets timed more than its horizon (10 s by default) ahead.  A GSO
     * send carries one time, its first datagram's: a run of datagrams
     * goes as one GSO send only while their times are in order and within
     * BUDP_PACING_GRANULARITY_NS of the first.  -ENOTSUP at
     * budp_bind/budp_open on other systems.  A wrapped fd keeps SO_TXTIME
     * on after budp_close (the kernel has no way to turn it off), which
     * changes nothing for sends that name no time.  [0; 0..2] */
    BUDP_OPT_PACING = 14,
    /* Report ICMP errors and local send errors as events with the
     * destination they concern (budp_recv_errors): Linux IP_RECVERR and
     * IPV6_RECVERR.  While it is on, an error the kernel also hands to
     * the next receive or send (ECONNREFUSED after a port unreachable,
     * ...) is not returned by budp_recv or budp_send: it comes as an
     * event (the call is made again, up to 4 times while such errors
     * keep coming, since each ICMP message leaves one; a datagram refused
     * for its size while one was pending is refused, and reported, twice).  -ENOTSUP at budp_bind/budp_open on other systems.
     * [0; 0..1] */
    BUDP_OPT_ERRORS = 15,
    /* budp_group_bind only: how the kernel picks a group's member for each
     * arriving datagram: BUDP_STEER_*.  Anything but HASH is -EINVAL at
     * budp_bind/budp_open.  [HASH; 0..2] */
    BUDP_OPT_STEERING = 16,
    /* BUDP_STEER_KEY: where the key starts in the payload, in bytes.
     * offset + length must be at most BUDP_STEER_PAYLOAD_MAX (-EINVAL at
     * budp_group_bind). [0; 0..65527] */
    BUDP_OPT_STEER_OFFSET = 17,
    /* BUDP_STEER_KEY: the key's length in bytes. [4; 1..8] */
    BUDP_OPT_STEER_LENGTH = 18,
    /* The io_uring backend only: send each GSO train of at least
     * BUDP_ZEROCOPY_MIN_BYTES with IORING_OP_SENDMSG_ZC, which hands the
     * caller's pages to the device instead of copying them.  budp_send
     * still returns only once the kernel has let go of every buffer.  It
     * pays off for large trains through a device that can send from user
     * memory; loopback and most virtual devices copy anyway, at a higher
     * cost (docs/PERFORMANCE.md).  -ENOTSUP at budp_bind/budp_open on any
     * other backend, or a kernel without zero-copy sends (before Linux
     * 6.1).  [0; 0..1] */
    BUDP_OPT_ZEROCOPY = 19
};

/* BUDP_OPT_ZEROCOPY: the smallest GSO train sent without a copy. */
#define BUDP_ZEROCOPY_MIN_BYTES 16384u

/* BUDP_OPT_STEERING values (see budp_group_bind). */
enum {
    BUDP_STEER_HASH = 0, /* the kernel's hash of the 4-tuple: each flow
                            stays on one member */
    BUDP_STEER_KEY = 1,  /* the payload's bytes [offset, offset + length),
                            read as a big-endian number k: member k mod n */
    BUDP_STEER_CPU = 2   /* the CPU c that received the packet: member
                            c mod n (pin member c's thread to CPU c) */
};

/* The largest UDP payload: the end of a steering key lies within it. */
#define BUDP_STEER_PAYLOAD_MAX 65527u

/* BUDP_OPT_PACING values: the clock of send times. */
enum {
    BUDP_PACING_OFF = 0,       /* time_ns must be 0 */
    BUDP_PACING_MONOTONIC = 1, /* CLOCK_MONOTONIC: what fq honours */
    BUDP_PACING_TAI = 2        /* CLOCK_TAI: for etf set up with it */
};

/* Datagrams whose departure times lie within this many nanoseconds of the
 * first of a run (and in order) may leave together as one GSO send, at
 * the first one's time; a later time starts a new send.  100 us: 8
 * datagrams of 1200 bytes at 100 Mbit/s. */
#define BUDP_PACING_GRANULARITY_NS 100000u

/* The most receive memory one socket may take: its slots (the ring's, or
 * one batch inline; 64 KiB each with GRO on, else BUDP_OPT_MAX_DATAGRAM
 * bytes), the drop batch of BUDP_OVERFLOW_DROP, and its views.  Options
 * that would take more are refused by budp_bind/budp_open with -EINVAL
 * (for example a 65536-slot ring with GRO: 4 GiB). */
#define BUDP_MEMORY_LIMIT (256u * 1024u * 1024u)

/* The least SO_SNDBUF a socket keeps on Apple platforms (see budp_bind):
 * twice the largest datagram, room for any control data and whatever XNU
 * sets aside. */
#define BUDP_APPLE_SEND_BUFFER (128u * 1024u)

/* BUDP_OPT_BACKEND values.  budp_backend_reason tells which one a socket
 * got, and why.
 *
 * MSGX uses Apple's private recvmsg_x/sendmsg_x, found at run time.  AUTO
 * takes it only from macOS 15.6 (iOS, iPadOS and tvOS 18.6, watchOS 11.6,
 * visionOS 2.6), read from the system when a socket opens: before that
 * release, recvmsg_x can return with the socket's lock still held when
 * several processes receive on one shared socket, and the next receive
 * deadlocks the socket and stops all loopback traffic of the machine until
 * a reboot (fixed in xnu-11417.140.69).  Asking for MSGX by name still
 * gets it on an older release, for a program whose sockets are never
 * shared between processes.  Its sends batch only on a connected socket
 * (budp_connect): sendmsg_x takes no destination, so an unconnected
 * socket's datagrams go one sendmsg each.
 *
 * URING uses io_uring (Linux 6.0 or later, in builds made with liburing):
 * one multishot recvmsg keeps filling buffers in the background, so a
 * receive that finds datagrams waiting makes no system call, and each
 * batch of sends is one io_uring_enter.  Every option works as on MMSG,
 * and BUDP_OPT_ZEROCOPY too.  AUTO passes it over: measured against MMSG
 * on 2-CPU machines over loopback it cost the same draining a full queue
 * and 1.2 to 1.6 times the CPU per datagram streaming and sending
 * (docs/PERFORMANCE.md), so ask for it by name and measure on your own.
 * Asked for by name where the kernel forbids io_uring (the
 * io_uring_disabled sysctl, a seccomp filter, a container's profile),
 * budp_bind and budp_open return -EPERM; -ENOTSUP where it is absent (a
 * build without liburing, a kernel before 6.0).  Where it differs from
 * MMSG: it takes datagrams from the socket ahead of budp_recv, into one
 * batch of buffers of its own (at most 4 MiB: 64 of GRO's 64 KiB), and
 * those not yet received when the socket closes go with it, where MMSG
 * would have left them queued on a budp_open'ed fd (a group member counts
 * them: budp_group_close_member); budp_shutdown stops taking them at once;
 * the inline poll fd is an eventfd; rx_syscalls counts the batches taken
 * from its completion queue; and io_uring does part of its work as task
 * work of the threads that used the socket's rings (the receive: the
 * receiver thread, or inline the thread of the first budp_recv; the
 * teardown after budp_close: every thread that sent or received), which
 * interrupts their blocking system calls: epoll_wait, poll and the like
 * fail with EINTR, as on a signal.  Retry them, as the library's own waits
 * do.
 *
 * The environment variable BATCHUDP_BACKEND, set to "mmsg", "msgx", "loop"
 * or "uring", makes AUTO take that backend as if BUDP_OPT_BACKEND named it
 * (budp_bind then fails where it is absent): a whole program, or its test
 * suite, run on another backend without a change.  Other values are
 * ignored. */
enum {
    BUDP_BACKEND_AUTO = 0, /* the best one present: mmsg, else msgx (see
                              above), else loop */
    BUDP_BACKEND_MMSG = 1, /* recvmmsg/sendmmsg (Linux, FreeBSD) */
    BUDP_BACKEND_MSGX = 2, /* recvmsg_x/sendmsg_x (Apple, found at run time) */
    BUDP_BACKEND_LOOP = 3, /* recvmsg/sendmsg in a loop (every POSIX system) */
    BUDP_BACKEND_URING = 4 /* io_uring (Linux 6.0 or later, built with
                              liburing; see above) */
};

/* BUDP_OPT_OVERFLOW values. */
enum {
    BUDP_OVERFLOW_WAIT = 0, /* stop reading the socket until slots free up;
                               the kernel queue absorbs (and may drop) */
    BUDP_OVERFLOW_DROP = 1  /* keep reading; drop what does not fit, counted
                               in rx_dropped */
};

/* Create an options object holding every default.  *out receives it.
 * Errors: -EINVAL (out NULL), -ENOMEM. */
BUDP_EXPORT int budp_options_new(budp_options **out);

/* Set key to value.  Errors: -EINVAL for a NULL o, an unknown key or a value
 * out of the key's bounds (o is then unchanged). */
BUDP_EXPORT int budp_options_set(budp_options *o, int key, int64_t value);

/* Read key into *value.  Errors: -EINVAL (NULL pointer, unknown key). */
BUDP_EXPORT int budp_options_get(const budp_options *o, int key, int64_t *value);

/* The inclusive bounds of key's values and its default.  Any output pointer
 * may be NULL.  Errors: -EINVAL (unknown key). */
BUDP_EXPORT int budp_options_bounds(int key, int64_t *min, int64_t *max,
                                    int64_t *default_value);

/* Free an options object.  NULL is a no-op. */
BUDP_EXPORT void budp_options_free(budp_options *o);

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

/* Opaque socket handle. */
typedef struct budp_socket budp_socket;

/* Create a UDP socket bound to host:port and wrap it.  host is a numeric
 * IPv4 or IPv6 address ("127.0.0.1", "::1", "0.0.0.0", "::",
 * "fe80::1%eth0"); port 0 picks a free port (see budp_local_addr).  o may
 * be NULL for the defaults.  The socket is closed by budp_close.  Only
 * numeric addresses in their standard forms are accepted (inet_pton's
 * rules): "127.1", "0x7f.0.0.1", "017.0.0.1" and "1" are -EINVAL, not the
 * addresses the old inet_aton spellings would name.
 * On Apple platforms (backends msgx and loop) SO_SNDBUF is raised to at
 * least BUDP_APPLE_SEND_BUFFER bytes: XNU refuses a datagram whose payload
 * and control data come just under the send buffer's size with
 * EWOULDBLOCK, again at every try (FB23671230), and its default of 9216
 * bytes refuses larger datagrams with EMSGSIZE.
 * Errors: -EINVAL (NULL out or host, unparsable host, bad option
 * combination, memory above BUDP_MEMORY_LIMIT), -ENOTSUP (a backend or
 * mode not available here), errors of socket()/bind() (-EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES, ...), errors of setsockopt() for an option
 * asked for (-ENOPROTOOPT, -EPERM, -EIO, ...), -EMFILE/-ENFILE (no fd for
 * the wake-up fds), -EAGAIN (threaded mode: no thread could be created,
 * as pthread_create), -ENOMEM.  On error nothing is written to *out and
 * nothing is left behind. */
BUDP_EXPORT int budp_bind(budp_socket **out, const char *host, uint16_t port,
                          const budp_options *o);

/* Wrap an existing UDP socket fd (AF_INET or AF_INET6, SOCK_DGRAM, bound or
 * not).  The fd stays the caller's: budp_close does not close it, and the
 * caller must not close it before budp_close.  Its file status flags are left
 * alone (every call passes MSG_DONTWAIT); socket options are set as o asks,
 * SO_SNDBUF on Apple platforms as budp_bind says, UDP_GRO included (turned
 * off when GRO is not asked, since coalesced receives the socket does not
 * split would merge datagrams), and put back as they were by budp_close or
 * a failed budp_open.
 * Errors: -EINVAL (NULL out, bad option combination, memory above
 * BUDP_MEMORY_LIMIT), -EBADF (fd not open), -ENOTSOCK (not a socket),
 * -EPROTOTYPE (not a datagram socket, or not UDP), -EAFNOSUPPORT (not IPv4
 * or IPv6), -ENOTSUP, and as budp_bind: errors of setsockopt(), -EMFILE,
 * -ENFILE, -EAGAIN, -ENOMEM.  On error the fd's options are as they were. */
BUDP_EXPORT int budp_open(budp_socket **out, int fd, const budp_options *o);

/* Connect the socket to host:port (numeric host): budp_send may then use
 * BUDP_AF_UNSPEC as destination, and only that peer's datagrams arrive.  An
 * IPv4 host on an IPv6 socket is reached through its mapped address.  A
 * consumer call: not concurrently with budp_send.
 * On Apple platforms a socket that talks to one peer should be connected:
 * only then do its sends batch (sendmsg_x), whether their destination is
 * BUDP_AF_UNSPEC or the connected peer itself (as a received datagram's
 * peer is), and only then does a full interface queue come back as
 * -ENOBUFS to wait on; an unconnected socket's datagrams go one call each,
 * and the kernel may drop them without saying so.
 * Errors: -EINVAL (NULL, unparsable host), -EBADF (shut down), errors of
 * connect(). */
BUDP_EXPORT int budp_connect(budp_socket *s, const char *host, uint16_t port);

/* The address the socket is bound to.  Errors: -EINVAL, -EBADF (shut
 * down), errors of getsockname(). */
BUDP_EXPORT int budp_local_addr(const budp_socket *s, budp_addr *out);

/* The UDP socket's fd (owned by the library for budp_bind, by the caller for
 * budp_open).  Errors: -EINVAL (NULL), -EBADF (shut down). */
BUDP_EXPORT int budp_socket_fd(const budp_socket *s);

/* The fd to poll for readability before calling budp_recv: the socket in
 * inline mode (on the io_uring backend an eventfd its completions
 * signal), the receiver's notify fd in threaded mode.  It is a hint:
 * wake-ups may be spurious (budp_recv then returns 0) and several arrivals
 * may coalesce into one wake-up.  Before sleeping on it, call budp_recv until
 * it returns 0: datagrams already received but not yet handed out (the rest
 * of a batch, the segments of a GRO receive) do not make it readable.
 * budp_wait knows about those.  Do not read from it or close it.  A
 * shutdown makes it readable for good in threaded mode; in inline mode it
 * is the socket itself, which a shutdown does not wake: an event loop that
 * polls it wakes itself when it shuts the socket down.  With
 * BUDP_OPT_ERRORS it is readable also while error events wait: read them
 * with budp_recv_errors.  (The socket itself reports them as POLLERR
 * only, which loops that watch for readability miss or spin on, so in
 * inline mode the poll fd is then an epoll descriptor watching the
 * socket, readable while it has datagrams or events.)
 * Errors: -EINVAL (NULL), -EBADF (shut down), -ENOTSUP (callback-thread
 * mode: there is nothing to poll). */
BUDP_EXPORT int budp_poll_fd(const budp_socket *s);

/* The backend in use: "mmsg", "msgx", "loop" or "uring".  "" for NULL or once shut
 * down. */
BUDP_EXPORT const char *budp_backend_name(const budp_socket *s);

/* Why the socket got its backend, as one line of text for logs and support
 * requests: the backend's name, a colon, and what decided it, for example
 *   "mmsg: recvmmsg/sendmmsg"
 *   "msgx: recvmsg_x/sendmsg_x, macOS 26.1"
 *   "loop: recvmsg_x avoided below macOS 15.6 (this is macOS 15.5)"
 *   "msgx: asked for by BUDP_OPT_BACKEND (AUTO passes it over: ...)"
 *   "uring: asked for by BATCHUDP_BACKEND (AUTO passes it over: ...)"
 * The words after the colon may change between releases: show them, do
 * not parse them.  Valid until budp_close.  "" for NULL or once shut
 * down. */
BUDP_EXPORT const char *budp_backend_reason(const budp_socket *s);

/* Parse a numeric host and a port into *out.  Errors: -EINVAL. */
BUDP_EXPORT int budp_addr_from_string(budp_addr *out, const char *host,
                                      uint16_t port);

/* Write a's address (without the port) as text into buf, NUL-terminated
 * ("127.0.0.1", "::1", "fe80::1%2").  Returns the length written.
 * Errors: -EINVAL (NULL, unknown family), -ENOSPC (buf too small; 64 bytes
 * always suffice). */
BUDP_EXPORT int budp_addr_to_string(const budp_addr *a, char *buf, size_t size);

/* Stop the socket, from any thread, at any time, inside a callback too, as
 * often as wanted (the calls after the first do nothing).  Every thread
 * blocked in budp_wait on s returns -EBADF at once; the receiver thread
 * (threaded mode) stops reading and calls no further callback after the one
 * running, if any; every later call on s returns -EBADF (budp_backend_name
 * returns "") and touches neither the socket nor its counters.  A call
 * already past its start when the shutdown comes may still finish its work
 * (a dispatch hands over the batch it took).  Nothing is freed and no fd is
 * closed: the handle stays valid until budp_close, so a thread that is
 * about to call into s gets -EBADF, not a use after free.
 * Returns 0.  Errors: -EINVAL (NULL). */
BUDP_EXPORT int budp_shutdown(budp_socket *s);

/* Free the socket: shut it down (budp_shutdown), wait for calls still inside
 * it on other threads to leave, join the receiver thread (threaded mode),
 * close the fd if the library created it or give a wrapped fd back its
 * socket options as they were (one whose setsockopt fails there stays as it
 * is: there is no error to return), and free every slot (every view handed out
 * becomes invalid) and the handle.  NULL is a no-op.  The owner calls it
 * once, when no other thread will call into s again: shut the socket down
 * first and wait for the threads that use it (see "Lifetime" in the
 * conventions, batchudp(3)).
 * Inside one of s's callbacks, on either thread, the same rule holds (no
 * call on another thread may still be inside s: it cannot be waited for
 * there, since it may be waiting for this callback); budp_close then gives
 * back the fd (closed or restored) and the receiver thread before it
 * returns, and frees the memory once the callback returns, on that same
 * thread; further calls on s inside the callback return -EBADF.  This holds at any depth of
 * nested callbacks (closing A from B's callback that runs inside A's
 * dispatch completes when A's callback returns).  In callback-thread mode
 * the receiver thread then ends on its own, touching nothing of s. */
BUDP_EXPORT void budp_close(budp_socket *s);

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

/* Receive up to max datagrams without blocking.  *out receives an array of n
 * views owned by the socket, valid until the next receiving call on s or
 * budp_close.  Every view's data lies in one block of memory the socket
 * allocates once (its receive slots, or the ring's in threaded mode), so a
 * binding may map the span of a whole batch once instead of one view per
 * datagram.  Inline mode: at most one receive system call per call (none
 * when datagrams from the previous one, e.g. the segments of a GRO receive,
 * are still pending).  Threaded mode: pops from the ring, no system call.
 * Returns n >= 0 (0: nothing queued).
 * Errors: -EINVAL (NULL, max 0, callback-thread mode), -EBADF (shut down),
 * a receive error met since the last call, returned once (-ECONNREFUSED and
 * other ICMP-borne errors leave the socket usable), or a fatal one returned
 * from then on (-EBADF, -ENOTSOCK, -EFAULT: the fd was closed or replaced
 * behind the library's back).  In threaded mode the receiver thread may
 * meet several transient errors before the consumer calls: the latest is
 * returned, every one is counted in rx_errors. */
BUDP_EXPORT int budp_recv(budp_socket *s, const budp_datagram **out, unsigned max);

/* Like budp_recv, but copies the payloads back to back into buf (size
 * bytes), and fills lens[i] (required), flags[i] (may be NULL) and peers[i]
 * (may be NULL) for each datagram i < n.  Stops before a datagram that does
 * not fit: it is kept for the next call.  Made for bindings that pay per
 * crossing (one call per batch, no per-datagram struct reads).
 * Returns n >= 0.  Errors: as budp_recv, and -EMSGSIZE when the first
 * pending datagram alone does not fit in buf. */
BUDP_EXPORT int budp_recv_packed(budp_socket *s, uint8_t *buf, size_t size,
                                  uint32_t *lens, uint32_t *flags,
                                  budp_addr *peers, unsigned max);

/* Block until budp_recv has something to return (or, with
 * BUDP_OPT_ERRORS, budp_recv_errors has an event), or timeout_ms passes
 * (-1: forever; 0: just check).  Returns 1 ready, 0 timed out.  Like the
 * poll fd, a 1 may rarely be spurious: budp_recv then returns 0.  Does not
 * invalidate views.
 * Callback-thread mode: there is nothing to receive, so budp_wait is how
 * the receiver thread's errors reach the application: it blocks until the
 * thread meets one, or timeout_ms passes (0).  A transient error (an
 * ICMP-borne -ECONNREFUSED, ...) is returned once and the thread goes on
 * (with BUDP_OPT_ERRORS, 1 says error events wait);
 * a fatal one (-EBADF, -ENOTSOCK, -EFAULT: the fd was closed or replaced
 * behind the library's back) has stopped the thread and is returned by
 * every call from then on (budp_get_stats still works, which tells it from
 * a shutdown).  Every error is counted in rx_errors.
 * Returns -EBADF as soon as the socket is shut down, also while it sleeps
 * (budp_shutdown from another thread wakes it).
 * Errors: -EINVAL (NULL, timeout < -1), -EBADF (shut down), -EBUSY (inside
 * the callback), errors of poll() other than EINTR (retried). */
BUDP_EXPORT int budp_wait(budp_socket *s, int timeout_ms);

/* Callback that receives a batch.  user is the pointer given to
 * budp_set_callback; d points to n >= 1 views owned by the library, valid
 * only until the callback returns (copy what must outlive it).  It runs on
 * the thread that called budp_dispatch, or on the receiver thread with
 * BUDP_OPT_CALLBACK_THREAD.  It may call budp_send and budp_get_stats on the
 * same socket, budp_shutdown (of any socket) and budp_close (see there); it must
 * not call budp_recv, budp_recv_packed, budp_dispatch or budp_wait on the
 * same socket (they return -EBUSY).
 * It returns BUDP_CALLBACK_CONTINUE, or BUDP_CALLBACK_PAUSE when it cannot
 * take more for now: in callback-thread mode the receiver thread then
 * stops reading the socket (the kernel's queue holds what arrives, and
 * drops past its size, counted in rx_kernel_drops) until budp_set_callback
 * is called again, with the same callback or another.  budp_dispatch
 * returns as it always does (the application pauses by not calling it).
 * Other values are reserved and act as BUDP_CALLBACK_CONTINUE. */
typedef int (*budp_recv_fn)(void *user, const budp_datagram *d, unsigned n);

/* budp_recv_fn return values. */
enum {
    BUDP_CALLBACK_CONTINUE = 0, /* go on delivering */
    BUDP_CALLBACK_PAUSE = 1     /* callback-thread mode: stop reading until
                                   budp_set_callback is called again */
};

/* Set (or with fn NULL, clear) the callback used by budp_dispatch, or by the
 * receiver thread in callback-thread mode, which starts reading the socket
 * once a callback is set (also the same one again, after it returned
 * BUDP_CALLBACK_PAUSE) and stops when it is cleared.  In that mode the
 * call returns only after the batch the receiver holds, if any, went to the
 * old callback, so the old fn and user are not used once it returns and no
 * datagram already received is lost.  Errors: -EINVAL (NULL s),
 * -EBADF (shut down), -EBUSY (called from inside the callback), and in
 * callback-thread mode an error of the write that wakes the receiver
 * thread (a pipe's, where the system has no eventfd; retried for a second
 * first). */
BUDP_EXPORT int budp_set_callback(budp_socket *s, budp_recv_fn fn, void *user);

/* Receive up to max datagrams without blocking, as budp_recv would, and hand
 * them to the callback on this thread (one call, in order).  Returns the
 * number handed over.  If the callback closed the socket, the handle is
 * freed when this returns.  Errors: as budp_recv (-EINVAL in callback-thread mode,
 * where the receiver thread calls the callback), -EINVAL when no callback
 * is set, -EBUSY from inside the callback. */
BUDP_EXPORT int budp_dispatch(budp_socket *s, unsigned max);

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* Send n datagrams (d[i].data/len to d[i].peer, see budp_datagram) without
 * blocking, in order, in as few system calls as the backend allows.  Safe
 * to call from any number of threads at once, the consumer's included: the
 * library serialises the senders.  Returns how many were sent: fewer than n
 * when the kernel stops taking them (a full send buffer, or an error after
 * the first): the caller resends the rest.
 * On Apple's sendmsg_x (the msgx backend, connected sockets) the count is
 * exact when the kernel stops early with EWOULDBLOCK, ENOBUFS, EMSGSIZE or
 * EINTR; on any other error after a batch it does not say how many went,
 * so the whole batch counts as sent (none is sent twice), is added to
 * tx_unconfirmed and tx_errors, and the next call sends its first datagram
 * alone, so that an error that persists is returned exactly.
 * Errors (only when the first datagram fails): -EINVAL (NULL s or d, n 0, a
 * malformed datagram: bad family, non-zero flags, segment_size, time_ns
 * (without BUDP_OPT_PACING) or reserved byte, ecn over 3, len over 65535),
 * -EDESTADDRREQ (no destination on an unconnected socket), -EAGAIN
 * (send buffer full), -EMSGSIZE, -ECONNREFUSED and other errors of the send
 * call, -EBADF (shut down). */
BUDP_EXPORT int budp_send(budp_socket *s, const budp_datagram *d, unsigned n);

/* ------------------------------------------------------------------ */
/* Path events: errors and pacing                                      */
/* ------------------------------------------------------------------ */

/* Where an error event comes from (budp_error_event.origin). */
#define BUDP_ERROR_ORIGIN_LOCAL 1 /* this host refused the send (a datagram
                                     above the known path MTU with the
                                     don't-fragment bit: -EMSGSIZE) */
#define BUDP_ERROR_ORIGIN_ICMP  2 /* an ICMP message from a router or host */
#define BUDP_ERROR_ORIGIN_ICMP6 3 /* an ICMPv6 message */

/* One error the kernel reported for a datagram the socket sent.  64 bytes.
 *  destination  where the datagram that met the error was going (address
 *               and port; Linux keeps no port for a local error on an
 *               unconnected IPv4 socket: 0).
 *  offender     who reported it: the router or host that sent the ICMP
 *               message (port 0); family BUDP_AF_UNSPEC for local errors.
 *  error        a negative errno: -ECONNREFUSED (port unreachable),
 *               -EHOSTUNREACH, -ENETUNREACH, -EMSGSIZE (fragmentation
 *               needed, packet too big, or refused locally), ...
 *  mtu          for -EMSGSIZE: the path MTU reported (the IP packet size
 *               the path takes, headers included); 0 otherwise.
 *  origin       BUDP_ERROR_ORIGIN_*.
 *  icmp_type, icmp_code  the ICMP message's, as received (ICMP origins);
 *               0 for local errors.
 *  reserved     zero. */
typedef struct budp_error_event {
    budp_addr destination;
    budp_addr offender;
    int32_t   error;
    uint32_t  mtu;
    uint8_t   origin;
    uint8_t   icmp_type;
    uint8_t   icmp_code;
    uint8_t   reserved[5];
} budp_error_event;

/* Events that wait for budp_recv_errors in threaded mode; more are
 * dropped and counted in error_events_dropped. */
#define BUDP_ERROR_QUEUE_EVENTS 64

/* Read up to max error events (BUDP_OPT_ERRORS) into events[0..max),
 * oldest first, without blocking.  Returns how many (0: none).  Each is
 * counted in error_events.  Any thread, any mode, inside a callback too.
 * Events wake whatever waits on the socket: budp_wait returns 1 while
 * they wait, and the poll fd becomes readable when they arrive.  Inline,
 * it stays readable while they wait (the kernel's queue holds them).  In
 * threaded mode the receiver thread moves them out of the kernel's queue
 * when the socket runs dry (BUDP_ERROR_QUEUE_EVENTS at most) and signals
 * the poll fd, which, as for datagrams, a receiving call that finds
 * nothing quiets again: an edge-triggered loop that left events unread is
 * woken by the next arrival rather than never, a level-triggered one does
 * not spin.  An application that turns the option on reads them.
 * Errors: -EINVAL (NULL s or events, max 0, BUDP_OPT_ERRORS off), -EBADF
 * (shut down), errors of recvmsg() other than EAGAIN. */
BUDP_EXPORT int budp_recv_errors(budp_socket *s, budp_error_event *events,
                                 unsigned max);

/* Whether departure times sent to dest would be honoured (BUDP_OPT_PACING):
 * the queue discipline of the interface the route to dest leaves by, as
 * the system reports it, holds packets back until their time.  dest NULL:
 * the connected peer.  detail (size bytes, may be NULL) receives one line
 * saying what was found, for logs, e.g. "veth0: fq, CLOCK_MONOTONIC
 * honoured", "lo: noqueue sends at once".
 * Returns 1 honoured, 0 not (also when pacing is off on s).
 * Errors: -EINVAL (NULL s, dest NULL on an unconnected socket, bad
 * address), -EBADF (shut down), -ENOTSUP (no pacing on this system),
 * -ENETUNREACH (no route), errors of the netlink queries. */
BUDP_EXPORT int budp_pacing_support(const budp_socket *s, const budp_addr *dest,
                                    char *detail, size_t size);

/* ------------------------------------------------------------------ */
/* Socket groups                                                       */
/* ------------------------------------------------------------------ */

/* Opaque group of sockets bound to one address. */
typedef struct budp_group budp_group;

/* The most members a group may have. */
#define BUDP_GROUP_MAX_MEMBERS 256u

/* Open n UDP sockets bound to host:port together (SO_REUSEPORT), among
 * which the kernel spreads arriving datagrams, so that n threads (or
 * processes' worth of work) receive on one address.  Each member is an
 * ordinary socket (budp_group_socket): inline or threaded as o says, each
 * on the thread of the application's choosing.  Port 0 picks one free
 * port for all (budp_local_addr of any member).  o applies to every
 * member; BUDP_OPT_STEERING chooses how datagrams are spread:
 *  BUDP_STEER_HASH  the kernel's hash of source and destination address
 *                   and port: every datagram of a flow reaches the same
 *                   member (until members close, see below).
 *  BUDP_STEER_KEY   by a key the application puts in its payloads: the
 *                   BUDP_OPT_STEER_LENGTH bytes at BUDP_OPT_STEER_OFFSET
 *                   (a QUIC connection ID of the server's choosing, a
 *                   WireGuard receiver index), read as a big-endian
 *                   number k, steer to member k mod n whatever the
 *                   source.  A datagram too short to hold the key is
 *                   steered by a hash of its source address and port,
 *                   among the open members: a flow's short datagrams all
 *                   reach one member.
 *  BUDP_STEER_CPU   to member c mod n, c the CPU that received the packet
 *                   (where the network card's queue, or the sender on
 *                   loopback, put it): with n equal to the CPU count and
 *                   member c's thread pinned to CPU c, a datagram stays
 *                   on the CPU that received it.
 * KEY and CPU are classic BPF programs the library attaches to the group
 * (SO_ATTACH_REUSEPORT_CBPF); they hold from budp_group_bind's return.
 * The kernel chooses a member per packet: datagrams coalesced before the
 * choice (a GSO send from the same host, GRO in front of the socket) go
 * together, by the first one's key.
 * The group must be alone on its address: another socket bound there with
 * SO_REUSEPORT (Linux lets any of the same user) would join the group and
 * shift the kernel's numbering of its members.
 * Linux only, for all three.  FreeBSD spreads by hash (SO_REUSEPORT_LB);
 * KEY and CPU are -ENOTSUP there.  Elsewhere, Apple platforms included,
 * where SO_REUSEPORT hands each datagram to one socket of the group and
 * never spreads, budp_group_bind is -ENOTSUP.
 * Errors: -EINVAL (NULL out or host, n 0 or above BUDP_GROUP_MAX_MEMBERS,
 * a key ending past BUDP_STEER_PAYLOAD_MAX, and as budp_bind), -ENOTSUP
 * (see above), -EADDRINUSE (the address is taken by a socket outside any
 * group, or by another user's group), and every error of budp_bind and of
 * attaching the program.  On error nothing is written to *out and nothing
 * is left open. */
BUDP_EXPORT int budp_group_bind(budp_group **out, const char *host, uint16_t port,
                                unsigned n, const budp_options *o);

/* n, as given to budp_group_bind (closed members included); 0 for NULL. */
BUDP_EXPORT unsigned budp_group_size(const budp_group *g);

/* Member i (0 <= i < n): the group's own, valid until it is closed
 * (budp_group_close_member, budp_close, budp_group_close).  NULL when g is
 * NULL, i is out of range or the member is closed. */
BUDP_EXPORT budp_socket *budp_group_socket(const budp_group *g, unsigned i);

/* Close member i, the other members going on.  The kernel stops steering
 * to it first (Linux: the group's program is replaced by one that passes
 * the member over, and the call waits until no packet still being
 * received can reach it), then what was queued to it and not yet
 * received (the kernel's queue, the ring or a GRO receive partly handed
 * out) is counted as dropped, in the return value and in
 * budp_group_dropped, and the member is closed as by budp_close.  The
 * datagrams that would have reached it go to the open members: with KEY
 * and CPU steering, member m's go to the next open member after m (m + 1,
 * m + 2, ... mod n); with HASH steering, from the first close on every
 * flow is steered by a hash of its source address and port among the open
 * members (the kernel's own hash would keep choosing the closed one until
 * it is gone).  While the kernel renumbers the group (a member's close
 * moves its last socket into the place left), datagrams for the member in
 * that last place may reach another member for a moment: never lost.
 * One window stays, in Linux itself: when the member closed is the
 * group's first socket in the kernel's lookup chain (with IPv4 the member
 * bound last, n - 1 while it is open; with IPv6 the one bound first, 0),
 * a datagram arriving during its close(2) can still be queued to it (the
 * kernel takes it out of the group before it takes it out of the chain),
 * and is freed with it, counted by no one.  Closing other members avoids
 * it.  On FreeBSD, with no program to change, datagrams that arrive
 * during the close are lost with the member's queue, uncounted.
 * budp_close on a member does the same (the count goes to
 * budp_group_dropped).  Same rules as budp_close: the member's owner
 * calls it once no other thread uses the member.
 * Returns the datagrams dropped (>= 0).  Errors: -EINVAL (NULL, i out of
 * range), -EBADF (member i already closed), errors of replacing the
 * program (the member is then left open, as it was). */
BUDP_EXPORT int budp_group_close_member(budp_group *g, unsigned i);

/* Datagrams dropped by the closes of members so far (see
 * budp_group_close_member); 0 for NULL. */
BUDP_EXPORT uint64_t budp_group_dropped(const budp_group *g);

/* Close every open member (as budp_close: what they hold is dropped) and
 * free the group.  NULL is a no-op.  The owner calls it once, when no
 * thread uses any member any more. */
BUDP_EXPORT void budp_group_close(budp_group *g);

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

/* Copy the socket's counters into out, which is size bytes long (pass
 * sizeof(budp_stats) as the caller knows it: an older, shorter struct gets
 * the fields it has).  Any thread.  Returns the number of bytes written.
 * Errors: -EINVAL (NULL, size 0 or not a multiple of 8), -EBADF (shut
 * down). */
BUDP_EXPORT int budp_get_stats(const budp_socket *s, budp_stats *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* BATCHUDP_H */
