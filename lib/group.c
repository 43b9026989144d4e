/* group.c - socket groups: n members bound to one address, steered by the
 * kernel's hash, a key or the CPU, and members closed one at a time
 * without losing track of what was queued to them.
 *
 * The kernel numbers a group's sockets in the order they joined, and a
 * steering program answers with one of those places.  A socket that
 * leaves gives its place to the last one, so the group keeps each
 * member's place (place_of), the member at each place (at), and the
 * places the program may answer with (position: a member's place while it
 * is open, -1 from the moment its close begins). */
#include "build_config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "handle.h"
#include "lifetime.h"
#include "socket_create.h"
#include "sys.h"

struct budp_group {
    pthread_mutex_t lock;      /* membership changes, member lookups */
    unsigned n;
    struct budp_steer_plan plan;
    int steered;               /* a program of ours is attached */
    atomic_uint_fast64_t dropped;
    budp_socket **members;     /* [n], NULL once its close begins */
    int *position;             /* [n], the plan's: place, -1 once closing */
    int *place_of;             /* [n], the kernel's: place, -1 once gone */
    unsigned *at;              /* [places]: the member at each place */
    unsigned places;           /* places in the kernel's group */
};

static budp_group *group_alloc(unsigned n)
{
    budp_group *g = calloc(1, sizeof *g);

    if (g == NULL)
        return NULL;
    g->members = calloc(n, sizeof *g->members);
    g->position = calloc(n, sizeof *g->position);
    g->place_of = calloc(n, sizeof *g->place_of);
    g->at = calloc(n, sizeof *g->at);
    if (g->members == NULL || g->position == NULL || g->place_of == NULL ||
        g->at == NULL || pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g->members);
        free(g->position);
        free(g->place_of);
        free(g->at);
        free(g);
        return NULL;
    }
    g->n = n;
    atomic_init(&g->dropped, 0);
    return g;
}

static void group_free(budp_group *g)
{
    pthread_mutex_destroy(&g->lock);
    free(g->members);
    free(g->position);
    free(g->place_of);
    free(g->at);
    free(g);
}

/* Any open member other than except (n: none excepted), or NULL. */
static budp_socket *open_member(const budp_group *g, unsigned except)
{
    for (unsigned m = 0; m < g->n; m++)
        if (m != except && g->members[m] != NULL)
            return g->members[m];
    return NULL;
}

/* Give the group the program its plan describes now; a HASH group keeps
 * the kernel's own hash until its first close.  Then wait for packets
 * steered under the old one. */
static int steer(budp_group *g, budp_socket *through)
{
    int rc = budp_sys_steer_attach(through->fd, &g->plan);

    if (rc < 0)
        return rc;
    g->steered = 1;
    budp_sys_steer_barrier();
    return 0;
}

/* The kernel's renumbering when member m's socket leaves: the last place's
 * socket moves into m's.  A member whose close has begun keeps out of the
 * plan wherever it moves. */
static void renumber(budp_group *g, unsigned m)
{
    unsigned p = (unsigned)g->place_of[m], last = --g->places;

    g->place_of[m] = -1;
    if (p != last) {
        unsigned moved = g->at[last];

        g->at[p] = moved;
        g->place_of[moved] = (int)p;
        if (g->members[moved] != NULL)
            g->position[moved] = (int)p;
    }
}

/* Close member m: steer away from it (unless force says a failure there
 * must not stop the close), then drop and count what it holds and what is
 * queued to it.  Called and returns with g->lock held, which it lets go
 * while the member closes.  Returns the count or an error. */
static int64_t leave(budp_group *g, unsigned m, int force)
{
    budp_socket *s = g->members[m];
    budp_socket *other = open_member(g, m);
    uint64_t dropped;
    int keep, rc;

    if (s == NULL)
        return -EBADF;
    /* A second fd keeps the kernel's socket, and what is queued to it,
     * after budp_close has closed the member's own. */
    keep = budp_sys_dup(s->fd);
    if (keep < 0 && !force)
        return keep;
    g->position[m] = -1;
    if (other != NULL) {
        rc = steer(g, other);
        if (rc < 0 && rc != -ENOTSUP && !force) {
            g->position[m] = g->place_of[m];
            if (keep >= 0)
                budp_sys_close(keep);
            return rc;
        }
    }
    g->members[m] = NULL;
    if (keep >= 0) {
        /* The close may wait for the member's receiver thread, whose
         * callback may be closing another member: not under the lock. */
        pthread_mutex_unlock(&g->lock);
        dropped = budp_close_counting(s);
        dropped += budp_sys_drain_count(keep);
        pthread_mutex_lock(&g->lock);
        /* The kernel renumbers as the socket goes: under the lock, so that
         * the places follow the closes in the order they happen. */
        budp_sys_close(keep);
    } else {
        dropped = budp_close_counting(s);
    }
    renumber(g, m);
    /* The places changed: the program follows (until it does, a datagram
     * for the place gone falls to the kernel's hash, among open members). */
    other = open_member(g, g->n);
    if (other != NULL && g->steered)
        (void)budp_sys_steer_attach(other->fd, &g->plan);
    atomic_fetch_add(&g->dropped, dropped);
    return dropped > INT_MAX ? INT_MAX : (int64_t)dropped;
}

/* budp_close on a member. */
static void leave_from_close(budp_socket *s)
{
    budp_group *g = s->group;

    pthread_mutex_lock(&g->lock);
    (void)leave(g, s->group_member, 1);
    pthread_mutex_unlock(&g->lock);
}

static int check_steering(const struct budp_options *o, struct budp_steer_plan *plan)
{
    plan->steering = (int)budp_opt(o, BUDP_OPT_STEERING);
    plan->key_offset = (uint32_t)budp_opt(o, BUDP_OPT_STEER_OFFSET);
    plan->key_length = (uint32_t)budp_opt(o, BUDP_OPT_STEER_LENGTH);
    if (plan->key_offset + plan->key_length > BUDP_STEER_PAYLOAD_MAX)
        return -EINVAL;
    return budp_sys_group_supported(plan->steering);
}

/* Close every member still open and free the group: what budp_group_bind
 * opened before it failed, or everything at budp_group_close (no steering
 * to change, nothing left to count for). */
static void close_all(budp_group *g)
{
    for (unsigned m = 0; m < g->n; m++)
        if (g->members[m] != NULL)
            (void)budp_close_counting(g->members[m]);
    group_free(g);
}

int budp_group_bind(budp_group **out, const char *host, uint16_t port,
                    unsigned n, const budp_options *o)
{
    struct budp_options opts;
    struct budp_steer_plan plan;
    budp_group *g;
    int rc;

    if (out == NULL || host == NULL || n == 0 || n > BUDP_GROUP_MAX_MEMBERS)
        return -EINVAL;
    if (o != NULL)
        opts = *o;
    else
        budp_options_defaults(&opts);
    if ((rc = check_steering(&opts, &plan)) < 0)
        return rc;
    if ((g = group_alloc(n)) == NULL)
        return -ENOMEM;
    g->plan = plan;
    g->plan.members = n;
    g->plan.position = g->position;
    for (unsigned m = 0; m < n; m++) {
        rc = budp_bind_member(&g->members[m], host, port, &opts);
        if (rc < 0) {
            close_all(g);
            return rc;
        }
        /* Port 0 picked a free port: the others join the first there. */
        if (port == 0)
            port = budp_sys_bound_port(g->members[m]->fd);
        g->position[m] = (int)m;
        g->place_of[m] = (int)m;
        g->at[m] = m;
        g->places++;
    }
    if (plan.steering != BUDP_STEER_HASH &&
        (rc = budp_sys_steer_attach(g->members[0]->fd, &g->plan)) < 0) {
        close_all(g);
        return rc;
    }
    g->steered = plan.steering != BUDP_STEER_HASH;
    for (unsigned m = 0; m < n; m++) {
        g->members[m]->group = g;
        g->members[m]->group_member = m;
        g->members[m]->group_leave = leave_from_close;
    }
    *out = g;
    return 0;
}

unsigned budp_group_size(const budp_group *g)
{
    return g == NULL ? 0 : g->n;
}

budp_socket *budp_group_socket(const budp_group *g, unsigned i)
{
    budp_group *mut = (budp_group *)g;
    budp_socket *s;

    if (g == NULL || i >= g->n)
        return NULL;
    pthread_mutex_lock(&mut->lock);
    s = g->members[i];
    pthread_mutex_unlock(&mut->lock);
    return s;
}

int budp_group_close_member(budp_group *g, unsigned i)
{
    int64_t rc;

    if (g == NULL || i >= g->n)
        return -EINVAL;
    pthread_mutex_lock(&g->lock);
    rc = leave(g, i, 0);
    pthread_mutex_unlock(&g->lock);
    return (int)rc;
}

uint64_t budp_group_dropped(const budp_group *g)
{
    return g == NULL ? 0 : atomic_load(&g->dropped);
}

void budp_group_close(budp_group *g)
{
    if (g != NULL)
        close_all(g);
}
