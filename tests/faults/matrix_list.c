/* matrix_list.c - which scenarios the fault matrix runs (see
 * fault_matrix.c): the faults, and the configurations each meets. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"

static const char *const modes[] = {
    "recv", "packed", "dispatch", "wait", "drop", "cbthread",
};
static const char *const families[] = { "v4", "v6" };
static const char *const backends[] = { "mmsg", "loop" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum reach {
    ANY_MODE,
    SENDING,      /* send faults: the receive mode does not matter much */
    THREADED,     /* wake-up faults: only where there is a receiver thread */
};

/* A fault of the traffic scenarios.  call names the mmsg backend's call,
 * loop_call the loop backend's (NULL: not there). */
static const struct traffic_fault {
    const char *call, *loop_call, *rule, *surfaces;
    enum reach reach;
} traffic[] = {
    { "recvmmsg", "recvmsg", "err=EINTR:every=2:count=40", "", ANY_MODE },
    { "recvmmsg", "recvmsg", "err=EAGAIN:every=2:count=40", "", ANY_MODE },
    { "recvmmsg", "recvmsg", "err=ENOBUFS:every=3:count=20", "ENOBUFS", ANY_MODE },
    { "recvmmsg", "recvmsg", "err=ENOMEM:every=3:count=20", "ENOMEM", ANY_MODE },
    { "recvmmsg", "recvmsg", "err=ECONNREFUSED:every=3:count=20", "ECONNREFUSED", ANY_MODE },
    { "recvmmsg", "recvmsg", "err=EIO:every=3:count=20", "EIO", ANY_MODE },
    { "recvmmsg", "recvmsg", "err=EBADF:nth=6", "EBADF", ANY_MODE },
    { "recvmmsg", NULL, "keep=1:every=2", "", ANY_MODE },
    { "recvmmsg", NULL, "keep=5:every=1", "", ANY_MODE },
    { "sendmmsg", "sendmsg", "err=EINTR:every=2:count=40", "", SENDING },
    { "sendmmsg", "sendmsg", "err=EAGAIN:every=3:count=30", "", SENDING },
    { "sendmmsg", "sendmsg", "err=ENOBUFS:every=3:count=30", "ENOBUFS", SENDING },
    { "sendmmsg", "sendmsg", "err=ENOMEM:every=3:count=30", "ENOMEM", SENDING },
    { "sendmmsg", "sendmsg", "err=ECONNREFUSED:every=3:count=30", "ECONNREFUSED", SENDING },
    { "sendmmsg", "sendmsg", "err=EIO:every=3:count=30", "EIO", SENDING },
    { "sendmmsg", "sendmsg", "err=EMSGSIZE:every=3:count=30", "EMSGSIZE", SENDING },
    { "sendmmsg", NULL, "keep=1:every=2", "", SENDING },
    { "poll", "poll", "err=EINTR:every=2:count=60", "", ANY_MODE },
    { "poll", "poll", "err=ENOMEM:every=4:count=10", "ENOMEM", ANY_MODE },
    { "notify_write", "notify_write", "err=EAGAIN:every=2:count=40", "", THREADED },
    { "notify_write", "notify_write", "err=EIO:every=3:count=20", "EIO", THREADED },
    { "notify_read", "notify_read", "err=EINTR:every=2:count=40", "", THREADED },
    { "notify_read", "notify_read", "err=EIO:every=2:count=20", "", THREADED },
};

/* Results crafted in place of the kernel's, on every other receive. */
static const struct crafted_result {
    const char *craft;
    int value;
    int mmsg_only;
} crafted[] = {
    { "len_past_buffer", 100, 0 },
    { "trunc_flag", 0, 0 },
    { "bad_family", 1, 0 },
    { "bad_family", 0x7f7f, 0 },
    { "name_too_long", 0, 0 },
    { "gro_segment", 0, 0 },
    { "gro_segment", 1, 0 },
    { "gro_segment", 100, 0 },
    { "gro_segment", 65535, 0 },
    { "gro_segment", 70000, 0 },
    { "gro_segment", -1, 0 },
    { "short_cmsg", 0, 0 },
    { "count_extra", 5, 1 },
};

/* Setup faults: the k-th use of call fails with err. */
static const struct setup_fault {
    const char *call, *err;
    int threaded_only;
} setup[] = {
    { "alloc", "ENOMEM", 0 },
    { "setsockopt", "ENOMEM", 0 },
    { "getsockopt", "EPERM", 0 },
    { "thread", "EAGAIN", 1 },
};
static const char *const setup_kinds[] = { "bind", "open" };
static const char *const setup_modes[] = { "recv", "wait", "cbthread" };

static int wanted(const char *only, const char *part)
{
    return only == NULL || strcmp(only, part) == 0;
}

static int reaches(enum reach r, const char *mode)
{
    if (r == THREADED)
        return strcmp(mode, "wait") == 0 || strcmp(mode, "drop") == 0 ||
               strcmp(mode, "cbthread") == 0;
    if (r == SENDING)
        return strcmp(mode, "recv") == 0 || strcmp(mode, "wait") == 0 ||
               strcmp(mode, "cbthread") == 0;
    return 1;
}

static void fill(struct job *j, const char *kind, const char *mode,
                 const char *family, const char *backend, int gso)
{
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->mode = mode;
    j->family = family;
    j->backend = backend;
    j->gso = gso ? "gso" : "nogso";
    j->surfaces = "";
    j->must_fire = 1;
}

unsigned matrix_jobs(struct job **out, const char *only)
{
    size_t room = COUNT(modes) * COUNT(families) * COUNT(backends) * 2 *
                  (COUNT(traffic) + COUNT(crafted));
    struct job *jobs = calloc(room, sizeof *jobs);
    unsigned n = 0;

    if (jobs == NULL)
        exit(2);
    for (size_t m = 0; m < COUNT(modes); m++)
    for (size_t f = 0; f < COUNT(families); f++)
    for (size_t b = 0; b < COUNT(backends); b++) {
        int loop = b == 1;
        for (int gso = 0; gso < 2 && wanted(only, "traffic"); gso++)
            for (size_t i = 0; i < COUNT(traffic); i++) {
                const struct traffic_fault *t = &traffic[i];
                const char *call = loop ? t->loop_call : t->call;
                if (call == NULL || !reaches(t->reach, modes[m]))
                    continue;
                fill(&jobs[n], "traffic", modes[m], families[f], backends[b], gso);
                snprintf(jobs[n].faults, sizeof jobs[n].faults, "%s:%s", call, t->rule);
                jobs[n++].surfaces = t->surfaces;
            }
        /* With GRO on, so that receives have control space to craft in. */
        for (size_t i = 0; i < COUNT(crafted) && wanted(only, "crafted"); i++) {
            const struct crafted_result *c = &crafted[i];
            if (loop && c->mmsg_only)
                continue;
            fill(&jobs[n], "crafted", modes[m], families[f], backends[b], 1);
            snprintf(jobs[n].faults, sizeof jobs[n].faults,
                     "%s:craft=%s:value=%d:every=2", loop ? "recvmsg" : "recvmmsg",
                     c->craft, c->value);
            n++;
        }
    }
    *out = jobs;
    return n;
}

unsigned matrix_series(struct series **out, const char *only)
{
    size_t room = COUNT(setup_kinds) * COUNT(setup_modes) * COUNT(families) *
                  COUNT(backends) * COUNT(setup);
    struct series *s = calloc(room, sizeof *s);
    unsigned n = 0;

    if (s == NULL)
        exit(2);
    for (size_t k = 0; k < COUNT(setup_kinds) && wanted(only, "setup"); k++)
    for (size_t m = 0; m < COUNT(setup_modes); m++)
    for (size_t f = 0; f < COUNT(families); f++)
    for (size_t b = 0; b < COUNT(backends); b++)
    for (size_t i = 0; i < COUNT(setup); i++) {
        if (setup[i].threaded_only && strcmp(setup_modes[m], "recv") == 0)
            continue;
        s[n].kind = setup_kinds[k];
        s[n].mode = setup_modes[m];
        s[n].family = families[f];
        s[n].backend = backends[b];
        s[n].call = setup[i].call;
        s[n].err = setup[i].err;
        s[n].surfaces = setup[i].err;
        s[n].going = 1;
        n++;
    }
    *out = s;
    return n;
}

void matrix_series_job(const struct series *s, unsigned k, struct job *j)
{
    fill(j, s->kind, s->mode, s->family, s->backend, 1);
    snprintf(j->faults, sizeof j->faults, "%s:err=%s:nth=%u", s->call, s->err, k);
    j->surfaces = s->surfaces;
    /* The series ends at the first k that never comes; the first must. */
    j->must_fire = k == 1;
}
