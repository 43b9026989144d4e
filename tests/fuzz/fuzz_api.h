/* fuzz_api.h - the API-sequence fuzzer's model of what it sent
 * (fuzz_api_model.c), shared with the calls it makes (fuzz_api.c). */
#ifndef BUDP_FUZZ_API_H
#define BUDP_FUZZ_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"

#define NSOCK 3
#define MAX_CALLS 64
#define MAX_IDS 1024
#define MAX_SEND 8
#define HEADER 8

/* What became of each datagram id.  An id is in flight from just before
 * budp_send (a receiver thread may see it before budp_send returns) until
 * budp_send's count says whether it went. */
enum { ID_UNUSED, ID_IN_FLIGHT, ID_SENT, ID_DELIVERED };

struct sent {
    uint8_t state;
    uint16_t len;
    budp_addr from; /* the sender's address */
    budp_addr to;   /* where it went */
};

struct sock {
    budp_socket *s;
    atomic_int shut;
    int threaded, callback_thread, pktinfo, gro;
    uint32_t max_datagram;
    budp_addr local;
    int connected;
    budp_addr peer;      /* where a send to BUDP_AF_UNSPEC goes */
    /* Callback behaviour. */
    atomic_int verdict;
    atomic_int close_inside;
    atomic_int closed_inside;
    atomic_uint callback_count; /* datagrams the callback was handed */
    /* Counted by the harness, compared with budp_get_stats. */
    uint64_t delivered, delivered_bytes;
    uint64_t sent_count;
};

struct harness {
    pthread_mutex_t lock;
    struct sent ids[MAX_IDS];
    uint32_t next_id;
    unsigned short_sent[HEADER], short_got[HEADER];
    struct sock socks[NSOCK];
};

/* The state of the input being run (fuzz_api_model.c). */
extern struct harness h;
extern uint8_t payload[MAX_SEND][65536];


/* 1 when rc is one of allowed[0..n). */
int one_of(int rc, const int *allowed, size_t n);
/* 1 when rc is one of the errnos listed, negated. */
#define ALLOWED(rc, ...) \
    one_of((rc), (const int[]){ __VA_ARGS__ }, sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))
/* 1 when rc is a result a receiving call may give. */
int receive_error(int rc);
/* The payload of datagram id, len bytes. */
void fill_payload(uint8_t *p, uint32_t id, uint32_t len);
int addr_same(const budp_addr *a, const budp_addr *b);
/* Check one datagram k received against what was sent, and record it. */
void check_datagram(struct sock *k, const uint8_t *p, uint32_t len,
                    uint32_t flags, int flags_known, const budp_addr *peer);
void check_view(struct sock *k, const budp_datagram *v);
/* The callback of every socket: checks its batch and the calls refused
 * inside it; user is the struct sock. */
int on_batch(void *user, const budp_datagram *d, unsigned n);

#endif
