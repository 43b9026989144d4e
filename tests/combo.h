/* combo.h - the matrix the round-trip suites run over (backend x family x
 * GRO x GSO), and the send/receive helpers they share. */
#ifndef BUDP_TEST_COMBO_H
#define BUDP_TEST_COMBO_H

#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"

#define NCOMBOS 24

struct combo {
    int backend;
    const char *backend_name;
    const char *host;
    int family;
    int gro, gso;
};

/* Combination i: below 16, bit 0 backend (mmsg/loop), bit 1 family (4/6),
 * bit 2 GRO, bit 3 GSO; from 16 the io_uring backend, bit 0 family, bit 1
 * GRO, bit 2 GSO. */
struct combo combo_of(int i);
const char *describe(int i);
/* The combinations this program can run: NCOMBOS, or 16 where the io_uring
 * backend is absent (said once on stderr, as skipped). */
int combos_here(void);

/* Open a socket for combination i on host (NULL: the combination's), with
 * up to two extra key/value pairs (key 0: none). */
budp_socket *open_combo(int i, const char *host, int key, int64_t value,
                        int key2, int64_t value2);
budp_socket *open_plain(int i);

/* A received datagram, copied out of the library's views. */
struct got {
    uint8_t *data;
    uint32_t len;
    uint32_t flags;
    budp_addr peer;
};

void got_free(struct got *g, unsigned n);
void copy_view(struct got *g, const budp_datagram *v);
/* Receive until count datagrams arrived or timeout_ms passes without any. */
unsigned recv_copies(budp_socket *rx, struct got *g, unsigned count, int timeout_ms);
/* Send all of d[0..n), retrying on EAGAIN/ENOBUFS and partial sends. */
void send_all(budp_socket *tx, const budp_datagram *d, unsigned n);
/* How many datagrams of up to size bytes rx's receive buffer holds for sure. */
unsigned chunk_for(budp_socket *rx, size_t size);
/* Send d[0..n) and receive them all into g, a chunk at a time.  Returns the
 * number received. */
unsigned exchange(budp_socket *tx, budp_socket *rx, const budp_datagram *d,
                  unsigned n, struct got *g, size_t max_size);
void assert_peer(const budp_addr *got, const budp_addr *want, const char *ctx);

#endif
