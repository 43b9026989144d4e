/* methods.c - the rows of the table: every way of receiving measured, and
 * every way of sending (--mode send). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const struct method bench_methods[] = {
    { "recvfrom", KIND_RECVFROM, 0, LIB_INLINE, -1, 0,
      "one recvfrom system call per datagram (what most programs do)",
      API_RECV, 0 },
    { "raw-recvmmsg", KIND_RAW_RECVMMSG, 0, LIB_INLINE, -1, 0,
      "a plain recvmmsg loop, no library: the reference of every ratio",
      API_RECV, 0 },
    { "mmsg", KIND_LIB, BUDP_BACKEND_MMSG, LIB_INLINE, -1, 0,
      "library inline, recvmmsg backend (budp_recv on this thread)",
      API_RECV, 0 },
    { "msgx", KIND_LIB, BUDP_BACKEND_MSGX, LIB_INLINE, -1, 0,
      "library inline, recvmsg_x backend (Apple; skipped where absent)",
      API_RECV, 0 },
    { "packed", KIND_LIB, BUDP_BACKEND_MMSG, LIB_INLINE, -1, 0,
      "library inline, budp_recv_packed (payloads copied into one buffer)",
      API_PACKED, 0 },
    { "dispatch", KIND_LIB, BUDP_BACKEND_MMSG, LIB_INLINE, -1, 0,
      "library inline, budp_dispatch (callback on this thread)", API_DISPATCH, 0 },
    { "loop", KIND_LIB, BUDP_BACKEND_LOOP, LIB_INLINE, -1, 0,
      "library inline, recvmsg loop backend",
      API_RECV, 0 },
    { "uring", KIND_LIB, BUDP_BACKEND_URING, LIB_INLINE, -1, 0,
      "library inline, io_uring backend (multishot recvmsg; skipped where\n"
      "                absent)",
      API_RECV, 0 },
    { "threaded", KIND_LIB, BUDP_BACKEND_AUTO, LIB_THREADED, -1, 0,
      "library threaded: receiver thread fills a ring, budp_recv pops",
      API_RECV, 0 },
    { "threaded-cb", KIND_LIB, BUDP_BACKEND_AUTO, LIB_CALLBACK, -1, 0,
      "library threaded, callback called on the receiver thread",
      API_RECV, 0 },
    { "threaded-uring", KIND_LIB, BUDP_BACKEND_URING, LIB_THREADED, -1, 0,
      "as threaded, on the io_uring backend",
      API_RECV, 0 },
    { "gro", KIND_LIB, BUDP_BACKEND_AUTO, LIB_INLINE, 1, 1,
      "library inline with UDP GRO on; the sender coalesces with UDP_SEGMENT",
      API_RECV, 0 },
    { "gro-off", KIND_LIB, BUDP_BACKEND_AUTO, LIB_INLINE, 0, 1,
      "as gro, with GRO off: the kernel splits the sender's GSO runs",
      API_RECV, 0 },
    { "gro-uring", KIND_LIB, BUDP_BACKEND_URING, LIB_INLINE, 1, 1,
      "as gro, on the io_uring backend",
      API_RECV, 0 },
    /* --mode send */
    { "raw-sendto", KIND_SENDTO, 0, LIB_INLINE, -1, 0,
      "one sendto system call per datagram",
      API_RECV, 0 },
    { "raw-sendmmsg", KIND_RAW_SENDMMSG, 0, LIB_INLINE, -1, 0,
      "a plain sendmmsg loop, one message per datagram, no library: the\n"
      "                reference of every ratio in send mode",
      API_RECV, 0 },
    { "send", KIND_LIB_SEND, BUDP_BACKEND_AUTO, LIB_INLINE, -1, 0,
      "library budp_send, --batch datagrams per call, BUDP_OPT_GSO=0",
      API_RECV, 0 },
    { "send-gso", KIND_LIB_SEND, BUDP_BACKEND_AUTO, LIB_INLINE, -1, 1,
      "budp_send with BUDP_OPT_GSO=1: each call's equal-size run to one\n"
      "                destination goes out as one UDP_SEGMENT send",
      API_RECV, 0 },
    { "send-uring", KIND_LIB_SEND, BUDP_BACKEND_URING, LIB_INLINE, -1, 0,
      "as send, on the io_uring backend (linked sendmsg requests)",
      API_RECV, 0 },
    { "send-gso-uring", KIND_LIB_SEND, BUDP_BACKEND_URING, LIB_INLINE, -1, 1,
      "as send-gso, on the io_uring backend",
      API_RECV, 0 },
    { "send-zc", KIND_LIB_SEND, BUDP_BACKEND_URING, LIB_INLINE, -1, 1,
      "as send-gso-uring, with BUDP_OPT_ZEROCOPY=1: trains of at least\n"
      "                16 KiB go by IORING_OP_SENDMSG_ZC",
      API_RECV, 1 },
};

const unsigned bench_method_count = sizeof bench_methods / sizeof bench_methods[0];

int method_sends(const struct method *m)
{
    return m->kind == KIND_SENDTO || m->kind == KIND_RAW_SENDMMSG ||
           m->kind == KIND_LIB_SEND;
}

/* The group rows named so far: made on demand, so that any member count
 * can be asked for. */
static struct group_method group_rows[GROUP_ROWS_MAX];
static unsigned group_row_count;

const struct group_method *method_group(const struct method *m)
{
    unsigned i;

    if (m == NULL || m->kind != KIND_GROUP)
        return NULL;
    for (i = 0; i < group_row_count; i++)
        if (&group_rows[i].m == m)
            return &group_rows[i];
    return NULL;
}

/* "group-N" (hash steering) or "group-cpu-N" (CPU steering, members
 * pinned), N in 1..GROUP_MAX_MEMBERS written without leading zeros. */
static const struct method *group_find(const char *name)
{
    const char *num;
    struct group_method *g;
    unsigned long n;
    char *end;
    int cpu;
    unsigned i;

    if (strncmp(name, "group-cpu-", 10) == 0) {
        cpu = 1;
        num = name + 10;
    } else if (strncmp(name, "group-", 6) == 0) {
        cpu = 0;
        num = name + 6;
    } else {
        return NULL;
    }
    if (num[0] < '1' || num[0] > '9')
        return NULL;
    n = strtoul(num, &end, 10);
    if (*end != '\0' || n < 1 || n > GROUP_MAX_MEMBERS)
        return NULL;
    for (i = 0; i < group_row_count; i++)
        if (strcmp(group_rows[i].name, name) == 0)
            return &group_rows[i].m;
    if (group_row_count == GROUP_ROWS_MAX)
        return NULL;
    g = &group_rows[group_row_count];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    g->members = (unsigned)n;
    g->steering = cpu ? BUDP_STEER_CPU : BUDP_STEER_HASH;
    g->pin = cpu;
    g->member_method = method_find(GROUP_BASELINE);
    g->m.name = g->name;
    g->m.kind = KIND_GROUP;
    g->m.backend = g->member_method->backend;
    g->m.threading = g->member_method->threading;
    g->m.gro = g->member_method->gro;
    g->m.gso_sender = 0;
    g->m.summary = cpu ? "a group of N members, CPU steering, member c's thread on CPU c"
                       : "a group of N members, the kernel's hash steering";
    g->m.api = g->member_method->api;
    group_row_count++;
    return &g->m;
}

const struct method *method_find(const char *name)
{
    unsigned i;

    for (i = 0; i < bench_method_count; i++)
        if (strcmp(bench_methods[i].name, name) == 0)
            return &bench_methods[i];
    return group_find(name);
}
