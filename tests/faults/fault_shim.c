/* fault_shim.c - fault injection around the library's system calls (see
 * fault_shim.h): the interposed functions, the targeted requests, and the
 * results crafted in place of the kernel's. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

#include "fault_craft.h"
#include "fault_rules.h"

#define EXPORTED __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)
#define MAX_BATCH 1024

/* A fault asked for: fail with err, `left` more times (-1: always). */
struct fault {
    int err;
    int left;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int target_fd = -1;
static struct sockopt_fault {
    int get, level, name;
    struct fault f;
} sockopt_fault;
static unsigned recv_extra, send_extra;
static struct { int on, segment; } gro_fault;
static struct { int on, level, type; size_t kept; } short_cmsg;
static int eventfd_err;
static unsigned pipes_without_cloexec;

/* Take one use of f: its errno, or 0 when it is spent or not asked. */
static int take(struct fault *f)
{
    if (f->err == 0 || f->left == 0)
        return 0;
    if (f->left > 0)
        f->left--;
    return f->err;
}

static int targeted(int fd)
{
    return target_fd < 0 || target_fd == fd;
}

/* The rule for a call to c on fd that caller made (results: the call
 * returned data, fault_take_result): only calls on the targeted fd are
 * counted and matched. */
static int rule_for(enum fault_call c, int fd, const void *caller, int results,
                    struct fault_spec *rule)
{
    int aimed;

    pthread_mutex_lock(&lock);
    aimed = targeted(fd);
    pthread_mutex_unlock(&lock);
    if (!aimed)
        return 0;
    return results ? fault_take_result(c, caller, rule) : fault_take(c, caller, rule);
}

/* A rule that fails every call (every = 1), count times (-1: always). */
static void fail_calls(enum fault_call c, int err, unsigned every, int count)
{
    struct fault_spec spec;

    memset(&spec, 0, sizeof spec);
    spec.err = err;
    spec.every = every == 0 ? 1 : every;
    spec.count = count;
    fault_rule(c, &spec);
}

/* ---- the real functions ---- */

static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_eventfd)(unsigned, int);
static int (*real_pipe)(int[2]);
static int (*real_pipe2)(int[2], int);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *,
                                  void *(*)(void *), void *);
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

#define RESOLVE(name)                                   \
    do {                                                \
        void *f = dlsym(RTLD_NEXT, #name);              \
        memcpy(&real_##name, &f, sizeof f);             \
    } while (0)

static void resolve(void)
{
    RESOLVE(recvmmsg);
    RESOLVE(sendmmsg);
    RESOLVE(recvmsg);
    RESOLVE(sendmsg);
    RESOLVE(poll);
    RESOLVE(read);
    RESOLVE(getsockopt);
    RESOLVE(setsockopt);
    RESOLVE(eventfd);
    RESOLVE(pipe);
    RESOLVE(pipe2);
    RESOLVE(write);
    RESOLVE(pthread_create);
}

static void ready(void)
{
    pthread_once(&resolved, resolve);
}

/* ---- requests ---- */

void fault_reset(void)
{
    pthread_mutex_lock(&lock);
    target_fd = -1;
    memset(&sockopt_fault, 0, sizeof sockopt_fault);
    recv_extra = send_extra = 0;
    memset(&gro_fault, 0, sizeof gro_fault);
    memset(&short_cmsg, 0, sizeof short_cmsg);
    eventfd_err = 0;
    pipes_without_cloexec = 0;
    pthread_mutex_unlock(&lock);
    fault_rules_reset();
}

void fault_target_fd(int fd)
{
    pthread_mutex_lock(&lock);
    target_fd = fd;
    pthread_mutex_unlock(&lock);
}

void fault_sockopt(int get, int level, int name, int err, int count)
{
    pthread_mutex_lock(&lock);
    sockopt_fault.get = get;
    sockopt_fault.level = level;
    sockopt_fault.name = name;
    sockopt_fault.f.err = err;
    sockopt_fault.f.left = count;
    pthread_mutex_unlock(&lock);
}

void fault_recv_error(int err, int count)
{
    fail_calls(FAULT_RECVMMSG, err, 1, count);
}

void fault_recv_count_extra(unsigned extra)
{
    pthread_mutex_lock(&lock);
    recv_extra = extra;
    pthread_mutex_unlock(&lock);
}

void fault_recv_gro_segment(int seg)
{
    pthread_mutex_lock(&lock);
    gro_fault.on = 1;
    gro_fault.segment = seg;
    pthread_mutex_unlock(&lock);
}

void fault_recv_short_cmsg(int level, int type, size_t kept)
{
    pthread_mutex_lock(&lock);
    short_cmsg.on = 1;
    short_cmsg.level = level;
    short_cmsg.type = type;
    short_cmsg.kept = kept;
    pthread_mutex_unlock(&lock);
}

void fault_send_count_extra(unsigned extra)
{
    pthread_mutex_lock(&lock);
    send_extra = extra;
    pthread_mutex_unlock(&lock);
}

void fault_eventfd_error(int err)
{
    pthread_mutex_lock(&lock);
    eventfd_err = err;
    pthread_mutex_unlock(&lock);
}

void fault_notify_write(int err, unsigned every, int count)
{
    fail_calls(FAULT_NOTIFY_WRITE, err, every, count);
}

unsigned fault_pipes_without_cloexec(void)
{
    unsigned n;

    pthread_mutex_lock(&lock);
    n = pipes_without_cloexec;
    pthread_mutex_unlock(&lock);
    return n;
}

unsigned fault_notify_writes_failed(void)
{
    return fault_injected(FAULT_NOTIFY_WRITE);
}

void fault_thread_create(int err, int count)
{
    fail_calls(FAULT_THREAD, err, 1, count);
}

/* ---- the interposed functions ---- */

static struct fault_room room_of(const struct msghdr *mh)
{
    struct fault_room r = {
        mh->msg_iovlen > 0 ? mh->msg_iov[0].iov_len : 0,
        mh->msg_namelen,
        mh->msg_controllen,
    };
    return r;
}

static int fail(int err)
{
    errno = err;
    return -1;
}

EXPORTED int recvmmsg(int fd, struct mmsghdr *msgs, unsigned vlen, int flags,
                      struct timespec *timeout)
{
    struct fault_room room[MAX_BATCH];
    struct fault_spec rule;
    unsigned n = vlen < MAX_BATCH ? vlen : MAX_BATCH;
    int rc, ruled, gro_on, seg, crafted;
    unsigned extra = 0;

    ready();
    ruled = rule_for(FAULT_RECVMMSG, fd, CALLER, 0, &rule);
    if (ruled && rule.err != 0)
        return fail(rule.err);
    if (ruled && rule.craft == CRAFT_NONE && rule.keep > 0 && rule.keep < n)
        n = rule.keep;
    pthread_mutex_lock(&lock);
    if (targeted(fd)) {
        extra = recv_extra;
        recv_extra = 0;
    }
    gro_on = targeted(fd) && gro_fault.on;
    seg = gro_fault.segment;
    crafted = targeted(fd) && short_cmsg.on;
    pthread_mutex_unlock(&lock);
    for (unsigned i = 0; i < n; i++)
        room[i] = room_of(&msgs[i].msg_hdr);
    rc = real_recvmmsg(fd, msgs, n, flags, timeout);
    if (rc <= 0)
        return rc;
    if (!ruled)
        ruled = rule_for(FAULT_RECVMMSG, fd, CALLER, 1, &rule);
    for (int i = 0; i < rc; i++) {
        struct msghdr *mh = &msgs[i].msg_hdr;
        if (gro_on)
            fault_put_gro_segment(mh, room[i].control, seg);
        if (crafted)
            fault_put_short_cmsg(mh, room[i].control, short_cmsg.level,
                                 short_cmsg.type, short_cmsg.kept);
        if (ruled && rule.craft != CRAFT_NONE)
            msgs[i].msg_len = (unsigned)fault_craft_message(mh, msgs[i].msg_len,
                                                            &room[i], &rule);
    }
    if (ruled && rule.craft == CRAFT_COUNT_EXTRA)
        return (int)(n + (unsigned)rule.value);
    return rc + (int)extra;
}

EXPORTED ssize_t recvmsg(int fd, struct msghdr *mh, int flags)
{
    struct fault_spec rule;
    struct fault_room room;
    int ruled;
    ssize_t rc;

    ready();
    ruled = rule_for(FAULT_RECVMSG, fd, CALLER, 0, &rule);
    if (ruled && rule.err != 0)
        return fail(rule.err);
    room = room_of(mh);
    rc = real_recvmsg(fd, mh, flags);
    if (rc >= 0 && !ruled)
        ruled = rule_for(FAULT_RECVMSG, fd, CALLER, 1, &rule);
    if (rc >= 0 && ruled && rule.craft != CRAFT_NONE)
        rc = (ssize_t)fault_craft_message(mh, (size_t)rc, &room, &rule);
    return rc;
}

EXPORTED int sendmmsg(int fd, struct mmsghdr *msgs, unsigned vlen, int flags)
{
    struct fault_spec rule;
    unsigned extra = 0;
    int rc, ruled;

    ready();
    ruled = rule_for(FAULT_SENDMMSG, fd, CALLER, 0, &rule);
    if (ruled && rule.err != 0)
        return fail(rule.err);
    if (ruled && rule.craft == CRAFT_NONE && rule.keep > 0 && rule.keep < vlen)
        vlen = rule.keep;
    rc = real_sendmmsg(fd, msgs, vlen, flags);
    if (rc > 0 && !ruled)
        ruled = rule_for(FAULT_SENDMMSG, fd, CALLER, 1, &rule);
    pthread_mutex_lock(&lock);
    if (rc > 0 && targeted(fd)) {
        extra = send_extra;
        send_extra = 0;
    }
    pthread_mutex_unlock(&lock);
    if (rc > 0 && ruled && rule.craft == CRAFT_COUNT_EXTRA)
        return (int)(vlen + (unsigned)rule.value);
    return rc > 0 ? rc + (int)extra : rc;
}

EXPORTED ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
    struct fault_spec rule;

    ready();
    if (rule_for(FAULT_SENDMSG, fd, CALLER, 0, &rule) && rule.err != 0)
        return fail(rule.err);
    return real_sendmsg(fd, mh, flags);
}

EXPORTED int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    struct fault_spec rule;

    ready();
    if (fault_take(FAULT_POLL, CALLER, &rule) && rule.err != 0)
        return fail(rule.err);
    return real_poll(fds, n, timeout);
}

static int sockopt_error(int get, int level, int name)
{
    int err = 0;

    pthread_mutex_lock(&lock);
    if (sockopt_fault.get == get && sockopt_fault.level == level &&
        sockopt_fault.name == name)
        err = take(&sockopt_fault.f);
    pthread_mutex_unlock(&lock);
    return err;
}

EXPORTED int getsockopt(int fd, int level, int name, void *value, socklen_t *len)
{
    struct fault_spec rule;
    int err;

    ready();
    if (fault_take(FAULT_GETSOCKOPT, CALLER, &rule) && rule.err != 0)
        return fail(rule.err);
    if ((err = sockopt_error(1, level, name)) != 0)
        return fail(err);
    return real_getsockopt(fd, level, name, value, len);
}

EXPORTED int setsockopt(int fd, int level, int name, const void *value,
                        socklen_t len)
{
    struct fault_spec rule;
    int err;

    ready();
    if (fault_take(FAULT_SETSOCKOPT, CALLER, &rule) && rule.err != 0)
        return fail(rule.err);
    if ((err = sockopt_error(0, level, name)) != 0)
        return fail(err);
    return real_setsockopt(fd, level, name, value, len);
}

EXPORTED int eventfd(unsigned initval, int flags)
{
    int err;

    ready();
    pthread_mutex_lock(&lock);
    err = eventfd_err;
    pthread_mutex_unlock(&lock);
    if (err != 0)
        return fail(err);
    return real_eventfd(initval, flags);
}

static void count_pipe(int cloexec)
{
    pthread_mutex_lock(&lock);
    if (!cloexec)
        pipes_without_cloexec++;
    pthread_mutex_unlock(&lock);
}

EXPORTED int pipe(int fds[2])
{
    int rc;

    ready();
    rc = real_pipe(fds);
    if (rc == 0)
        count_pipe(0);
    return rc;
}

EXPORTED int pipe2(int fds[2], int flags)
{
    int rc;

    ready();
    rc = real_pipe2(fds, flags);
    if (rc == 0)
        count_pipe((flags & O_CLOEXEC) != 0);
    return rc;
}

EXPORTED ssize_t read(int fd, void *buf, size_t len)
{
    struct fault_spec rule;

    ready();
    if (fault_take(FAULT_NOTIFY_READ, CALLER, &rule) && rule.err != 0)
        return fail(rule.err);
    return real_read(fd, buf, len);
}

EXPORTED ssize_t write(int fd, const void *buf, size_t len)
{
    struct fault_spec rule;

    ready();
    if (fault_take(FAULT_NOTIFY_WRITE, CALLER, &rule) && rule.err != 0) {
        /* A wake-up fd refuses a write with EAGAIN only when it is full,
         * and so readable: make that true, as a kernel would. */
        if (rule.err == EAGAIN)
            (void)real_write(fd, buf, len);
        return fail(rule.err);
    }
    return real_write(fd, buf, len);
}

EXPORTED int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                            void *(*fn)(void *), void *arg)
{
    struct fault_spec rule;

    ready();
    if (fault_take(FAULT_THREAD, CALLER, &rule) && rule.err != 0)
        return rule.err;
    return real_pthread_create(t, attr, fn, arg);
}
