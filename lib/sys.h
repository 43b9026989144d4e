/* sys.h - the platform layer: every system call the generic code needs,
 * with the platform's error codes translated into the library's (negated
 * errno values, as budp_strerror describes them).
 *
 * Generic code (the socket handle, the receiver thread, the consumer's
 * calls) reaches the system only through this header, the notify fd
 * (notify.h) and a backend's table (backend.h).  A port to another system
 * implements these functions; libuv's uv_translate_sys_error is the model
 * for budp_sys_translate (a Windows build maps WSAECONNRESET to
 * -ECONNRESET, WSAEWOULDBLOCK to -EAGAIN, and so on). */
#ifndef BUDP_SYS_H
#define BUDP_SYS_H

#include <stdint.h>

#include "batchudp.h"

/* ---- errors ---- */

/* A platform error code as the library reports it: negative, < 0. */
int budp_sys_translate(int platform_code);
/* The calling thread's last platform error, translated. */
int budp_sys_error(void);

/* ---- sockets ---- */

/* A UDP socket, closed on exec, bound to host:port (numeric host); with
 * shared, one of a group that spreads datagrams (SO_REUSEPORT on Linux,
 * SO_REUSEPORT_LB on FreeBSD: see budp_sys_group_supported).
 * Returns the fd, and its family (BUDP_AF_INET or BUDP_AF_INET6) in
 * *family, or an error (nothing left open). */
int budp_sys_bind_udp(const char *host, uint16_t port, int shared, int *family);
/* 0 when fd is an open IPv4 or IPv6 UDP socket; *family receives its
 * family.  Otherwise -EBADF, -ENOTSOCK, -EPROTOTYPE or -EAFNOSUPPORT. */
int budp_sys_check_udp(int fd, int *family);
/* Connect fd (of family) to host:port; an IPv4 host on an IPv6 socket is
 * reached through its mapped address. */
int budp_sys_connect(int fd, int family, const char *host, uint16_t port);
/* The address fd is bound to. */
int budp_sys_local_addr(int fd, budp_addr *out);
/* The peer fd is connected to; -ENOTCONN when it is not. */
int budp_sys_peer_addr(int fd, budp_addr *out);
/* The port fd is bound to; 0 while unbound (or when it cannot be read). */
uint16_t budp_sys_bound_port(int fd);
/* Packets the kernel dropped at fd for a full buffer, where the system
 * counts them: 0 and *drops set, or -ENOTSUP. */
int budp_sys_kernel_drops(int fd, uint64_t *drops);
void budp_sys_close(int fd);
/* Another fd for fd's socket, which stays open until both are closed. */
int budp_sys_dup(int fd);
/* Read and discard every datagram queued at fd without blocking; returns
 * how many there were (a GRO receive counts each datagram it carries). */
uint64_t budp_sys_drain_count(int fd);

/* ---- socket groups (sys_steer.c) ---- */

/* 0 when this system can open a group steered as steering
 * (BUDP_STEER_*) says, else -ENOTSUP. */
int budp_sys_group_supported(int steering);
/* What a group's steering program does. */
struct budp_steer_plan {
    int steering;          /* BUDP_STEER_*; HASH: by source among the open */
    uint32_t key_offset;   /* BUDP_STEER_KEY */
    uint32_t key_length;
    unsigned members;      /* n, closed ones included; at least one open */
    const int *position;   /* [members]: each one's place in the kernel's
                              group, -1 once closed */
};
/* Attach the plan's program to the group fd belongs to, replacing the one
 * before.  Errors: -ENOTSUP (no programs here), errors of setsockopt(). */
int budp_sys_steer_attach(int fd, const struct budp_steer_plan *plan);
/* Return once every packet whose member was chosen before the call is in
 * that member's queue. */
void budp_sys_steer_barrier(void);

/* ---- pacing ---- */

/* Whether the queue discipline of the interface the route to dest leaves
 * by holds packets until their SO_TXTIME time, in CLOCK_TAI (tai) or
 * CLOCK_MONOTONIC: 1 or 0, with one line saying what was found in detail
 * (size bytes, at least 1).  Looked up in the calling thread's network
 * namespace.  Errors: -ENOTSUP (no such times here), -ENETUNREACH, errors
 * of the queries. */
int budp_sys_pacing_honoured(const budp_addr *dest, int tai, char *detail, size_t size);

/* ---- waiting ---- */

/* What budp_sys_poll watches: an fd, whether it must be readable, and
 * whether it was found so. */
struct budp_sys_pollfd {
    int fd;
    int ready;         /* out: 1 when readable (or in error) */
    int errors_only;   /* in: 1 to wake for an error (a socket's POLLERR)
                          only, not for data */
};
/* Wait until one of fds[0..n) is readable or timeout_ms passes (-1:
 * forever).  EINTR does not restart the timeout.  Returns the number of
 * ready fds (0: timeout) or an error. */
int budp_sys_poll(struct budp_sys_pollfd *fds, unsigned n, int timeout_ms);
/* Sleep for us microseconds. */
void budp_sys_sleep_us(unsigned us);

#endif
