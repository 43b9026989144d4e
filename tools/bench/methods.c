/* methods.c - the rows of the table: every way of receiving measured, and
 * every way of sending (--mode send). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "bench.h"

const struct method bench_methods[] = {
    { "recvfrom", KIND_RECVFROM, 0, LIB_INLINE, -1, 0,
      "one recvfrom system call per datagram (what most programs do)",
      API_RECV },
    { "raw-recvmmsg", KIND_RAW_RECVMMSG, 0, LIB_INLINE, -1, 0,
      "a plain recvmmsg loop, no library: the reference of every ratio",
      API_RECV },
    { "mmsg", KIND_LIB, BUDP_BACKEND_MMSG, LIB_INLINE, -1, 0,
      "library inline, recvmmsg backend (budp_recv on this thread)",
      API_RECV },
    { "msgx", KIND_LIB, BUDP_BACKEND_MSGX, LIB_INLINE, -1, 0,
      "library inline, recvmsg_x backend (Apple; skipped where absent)",
      API_RECV },
    { "packed", KIND_LIB, BUDP_BACKEND_MMSG, LIB_INLINE, -1, 0,
      "library inline, budp_recv_packed (payloads copied into one buffer)",
      API_PACKED },
    { "dispatch", KIND_LIB, BUDP_BACKEND_MMSG, LIB_INLINE, -1, 0,
      "library inline, budp_dispatch (callback on this thread)", API_DISPATCH },
    { "loop", KIND_LIB, BUDP_BACKEND_LOOP, LIB_INLINE, -1, 0,
      "library inline, recvmsg loop backend",
      API_RECV },
    { "threaded", KIND_LIB, BUDP_BACKEND_AUTO, LIB_THREADED, -1, 0,
      "library threaded: receiver thread fills a ring, budp_recv pops",
      API_RECV },
    { "threaded-cb", KIND_LIB, BUDP_BACKEND_AUTO, LIB_CALLBACK, -1, 0,
      "library threaded, callback called on the receiver thread",
      API_RECV },
    { "gro", KIND_LIB, BUDP_BACKEND_AUTO, LIB_INLINE, 1, 1,
      "library inline with UDP GRO on; the sender coalesces with UDP_SEGMENT",
      API_RECV },
    { "gro-off", KIND_LIB, BUDP_BACKEND_AUTO, LIB_INLINE, 0, 1,
      "as gro, with GRO off: the kernel splits the sender's GSO runs",
      API_RECV },
    /* --mode send */
    { "raw-sendto", KIND_SENDTO, 0, LIB_INLINE, -1, 0,
      "one sendto system call per datagram",
      API_RECV },
    { "raw-sendmmsg", KIND_RAW_SENDMMSG, 0, LIB_INLINE, -1, 0,
      "a plain sendmmsg loop, one message per datagram, no library: the\n"
      "                reference of every ratio in send mode",
      API_RECV },
    { "send", KIND_LIB_SEND, BUDP_BACKEND_AUTO, LIB_INLINE, -1, 0,
      "library budp_send, --batch datagrams per call, BUDP_OPT_GSO=0",
      API_RECV },
    { "send-gso", KIND_LIB_SEND, BUDP_BACKEND_AUTO, LIB_INLINE, -1, 1,
      "budp_send with BUDP_OPT_GSO=1: each call's equal-size run to one\n"
      "                destination goes out as one UDP_SEGMENT send",
      API_RECV },
};

const unsigned bench_method_count = sizeof bench_methods / sizeof bench_methods[0];

int method_sends(const struct method *m)
{
    return m->kind == KIND_SENDTO || m->kind == KIND_RAW_SENDMMSG ||
           m->kind == KIND_LIB_SEND;
}

const struct method *method_find(const char *name)
{
    unsigned i;

    for (i = 0; i < bench_method_count; i++)
        if (strcmp(bench_methods[i].name, name) == 0)
            return &bench_methods[i];
    return NULL;
}
