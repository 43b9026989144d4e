/* scenario.h - one fault scenario, run in a process of its own with the
 * fault shim preloaded (fault_matrix.c starts it): what it runs, and the
 * checks every scenario shares. */
#ifndef BUDP_SCENARIO_H
#define BUDP_SCENARIO_H

#include "batchudp.h"

/* How the receiving socket hands datagrams over. */
enum sc_mode {
    SC_RECV,      /* inline, budp_recv */
    SC_PACKED,    /* inline, budp_recv_packed */
    SC_DISPATCH,  /* inline, budp_dispatch */
    SC_WAIT,      /* receiver thread and ring, BUDP_OVERFLOW_WAIT */
    SC_DROP,      /* receiver thread and ring, BUDP_OVERFLOW_DROP */
    SC_CBTHREAD,  /* callback on the receiver thread */
    SC_MODES
};

enum sc_kind {
    SC_TRAFFIC,   /* datagrams through a sender and a receiver */
    SC_CRAFTED,   /* the same, with the kernel's results rewritten */
    SC_BIND,      /* budp_bind alone (setup faults) */
    SC_OPEN,      /* budp_open of the scenario's own fd (setup faults) */
    SC_KINDS
};

struct sc_config {
    enum sc_kind kind;
    enum sc_mode mode;
    int v6;
    int loop;          /* BUDP_BACKEND_LOOP, else MMSG */
    int gso;           /* GSO on the sender, GRO on the receiver */
    /* Errnos the injected faults may bring back to the caller (0 ends the
     * list): any other error fails the scenario. */
    int surfaces[4];
};

extern const char *const sc_mode_names[SC_MODES];
extern const char *const sc_kind_names[SC_KINDS];

/* Report a failed check (the scenario fails, and goes on to clean up). */
void sc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sc_failed(void);

/* Check rc (from the call named) is >= 0 or an error the scenario allows:
 * one of c->surfaces, or extra (0: none).  Returns rc. */
int sc_check_rc(const struct sc_config *c, const char *call, int rc, int extra);

/* The options of the receiving socket (GRO, threads, backend...). */
budp_options *sc_receiver_options(const struct sc_config *c);
const char *sc_host(const struct sc_config *c);

/* What the process holds that a scenario must give back. */
struct sc_footprint {
    int fds;
    int threads;
    long heap;    /* the library's live allocations */
};
struct sc_footprint sc_footprint(void);
/* Check the footprint is back to `before` (threads given a moment to
 * leave). */
void sc_check_flat(const struct sc_footprint *before);

/* The shim's counts, from the preloaded module. */
unsigned sc_injected(void);
unsigned sc_library_calls(int call);

int sc_traffic(const struct sc_config *c);
int sc_setup(const struct sc_config *c);

#endif
