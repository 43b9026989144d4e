/* fault_scenario.c - one scenario of the fault matrix, in a process of its
 * own, with the fault shim preloaded and its rules in BUDP_FAULTS:
 *
 *   fault_scenario KIND MODE FAMILY BACKEND GSO [ERRNO,...]
 *   e.g.  fault_scenario traffic wait v6 mmsg gso ECONNREFUSED
 *
 * ERRNO,... are the errors the faults may bring back to the caller.
 * Prints "injected=N" (how many calls the rules changed) and any failed
 * check; exits 0 when every check held, 1 otherwise. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errno_names.h"
#include "fault_shim.h"
#include "scenario.h"
#include "../testutil.h"

const char *const sc_mode_names[SC_MODES] = {
    "recv", "packed", "dispatch", "wait", "drop", "cbthread",
};
const char *const sc_kind_names[SC_KINDS] = {
    "traffic", "crafted", "bind", "open",
};

static int failures;

void sc_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
}

int sc_failed(void)
{
    return failures;
}

int sc_check_rc(const struct sc_config *c, const char *call, int rc, int extra)
{
    if (rc >= 0 || rc == -extra)
        return rc;
    for (int i = 0; i < 4 && c->surfaces[i] != 0; i++)
        if (rc == -c->surfaces[i])
            return rc;
    sc_fail("%s returned %d (%s): not an error these faults may bring", call,
            rc, budp_strerror(rc));
    return rc;
}

const char *sc_host(const struct sc_config *c)
{
    return c->v6 ? "::1" : "127.0.0.1";
}

budp_options *sc_receiver_options(const struct sc_config *c)
{
    budp_options *o = NULL;
    int threaded = c->mode >= SC_WAIT;

    if (budp_options_new(&o) < 0)
        return NULL;
    budp_options_set(o, BUDP_OPT_BACKEND, c->loop ? BUDP_BACKEND_LOOP : BUDP_BACKEND_MMSG);
    budp_options_set(o, BUDP_OPT_BATCH_SIZE, 16);
    budp_options_set(o, BUDP_OPT_GRO, c->gso);
    budp_options_set(o, BUDP_OPT_THREADED, threaded);
    budp_options_set(o, BUDP_OPT_CALLBACK_THREAD, c->mode == SC_CBTHREAD);
    budp_options_set(o, BUDP_OPT_RING_CAPACITY, threaded ? (c->gso ? 4 : 32) : 0);
    budp_options_set(o, BUDP_OPT_OVERFLOW,
                     c->mode == SC_DROP ? BUDP_OVERFLOW_DROP : BUDP_OVERFLOW_WAIT);
    /* Crafted results: control space on every backend, to craft in. */
    if (c->kind == SC_CRAFTED)
        budp_options_set(o, BUDP_OPT_PKTINFO, 1);
    /* Room for everything in flight, so that the kernel drops nothing
     * unless the library stops reading. */
    budp_options_set(o, BUDP_OPT_RECV_BUFFER, 4 << 20);
    return o;
}

/* ---- what the process holds ---- */

static void *shim(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, name);

    if (f == NULL) {
        fprintf(stderr, "fault_scenario: %s not found: is the fault shim preloaded?\n",
                name);
        exit(2);
    }
    return f;
}

unsigned sc_library_calls(int call)
{
    unsigned (*calls)(enum fault_call);
    void *f = shim("fault_calls");

    memcpy(&calls, &f, sizeof f);
    return calls((enum fault_call)call);
}

unsigned sc_injected(void)
{
    unsigned (*injected)(enum fault_call);
    void *f = shim("fault_injected");
    unsigned n = 0;

    memcpy(&injected, &f, sizeof f);
    for (int c = 0; c < FAULT_CALLS; c++)
        n += injected((enum fault_call)c);
    return n;
}

struct sc_footprint sc_footprint(void)
{
    long (*heap)(void);
    void *f = shim("fault_library_heap_live");
    struct sc_footprint fp;

    memcpy(&heap, &f, sizeof f);
    fp.fds = tu_dir_entries("/proc/self/fd");
    fp.threads = tu_dir_entries("/proc/self/task");
    fp.heap = heap();
    return fp;
}

void sc_check_flat(const struct sc_footprint *before)
{
    struct sc_footprint now = sc_footprint();

    /* A receiver thread joined by budp_close may take a moment to leave
     * /proc/self/task. */
    for (int i = 0; i < 2000 && now.threads != before->threads; i++) {
        tu_sleep_ms(1);
        now = sc_footprint();
    }
    if (now.fds != before->fds)
        sc_fail("fds: %d before, %d after", before->fds, now.fds);
    if (now.threads != before->threads)
        sc_fail("threads: %d before, %d after", before->threads, now.threads);
    if (now.heap != before->heap)
        sc_fail("library allocations live: %ld before, %ld after", before->heap,
                now.heap);
}

/* ---- arguments ---- */

static int word(const char *const *names, int n, const char *w)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], w) == 0)
            return i;
    return -1;
}

static int read_surfaces(struct sc_config *c, const char *list)
{
    char buf[128], *save = NULL;
    int n = 0;

    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        int v = fault_errno_named(t, strlen(t));
        if (v == 0 || n == 4)
            return -1;
        c->surfaces[n++] = v;
    }
    return 0;
}

static int parse(struct sc_config *c, int argc, char **argv)
{
    int kind, mode;

    memset(c, 0, sizeof *c);
    if (argc < 6 || argc > 7)
        return -1;
    if ((kind = word(sc_kind_names, SC_KINDS, argv[1])) < 0 ||
        (mode = word(sc_mode_names, SC_MODES, argv[2])) < 0)
        return -1;
    c->kind = (enum sc_kind)kind;
    c->mode = (enum sc_mode)mode;
    c->v6 = strcmp(argv[3], "v6") == 0;
    c->loop = strcmp(argv[4], "loop") == 0;
    c->gso = strcmp(argv[5], "gso") == 0;
    return argc == 7 ? read_surfaces(c, argv[6]) : 0;
}

int main(int argc, char **argv)
{
    struct sc_config c;

    if (parse(&c, argc, argv) < 0) {
        fprintf(stderr, "usage: fault_scenario traffic|crafted|bind|open "
                        "recv|packed|dispatch|wait|drop|cbthread v4|v6 mmsg|loop "
                        "gso|nogso [ERRNO,...]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (c.kind == SC_BIND || c.kind == SC_OPEN)
        sc_setup(&c);
    else
        sc_traffic(&c);
    printf("injected=%u\n", sc_injected());
    return sc_failed() ? 1 : 0;
}
