/* fault_shim.c - fault injection around the library's system calls (see
 * fault_shim.h). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif
#ifdef HAVE_LINUX_UDP_H
#include <linux/udp.h>
#endif

#include "fault_shim.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define EXPORTED __attribute__((visibility("default")))
#define MAX_FD 4096
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
static struct fault recv_fault, thread_fault;
static unsigned recv_extra, send_extra;
static struct { int on, segment; } gro_fault;
static struct { int on, level, type; size_t kept; } short_cmsg;
static int eventfd_err;
static struct { struct fault f; unsigned every, seen, failed; } notify_fault;
static unsigned char notify_fd[MAX_FD];
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

/* ---- the real functions ---- */

static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned, int);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_eventfd)(unsigned, int);
static int (*real_pipe)(int[2]);
static int (*real_pipe2)(int[2], int);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
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
    RESOLVE(getsockopt);
    RESOLVE(setsockopt);
    RESOLVE(eventfd);
    RESOLVE(pipe);
    RESOLVE(pipe2);
    RESOLVE(write);
    RESOLVE(close);
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
    memset(&recv_fault, 0, sizeof recv_fault);
    memset(&thread_fault, 0, sizeof thread_fault);
    recv_extra = send_extra = 0;
    memset(&gro_fault, 0, sizeof gro_fault);
    memset(&short_cmsg, 0, sizeof short_cmsg);
    eventfd_err = 0;
    memset(&notify_fault, 0, sizeof notify_fault);
    memset(notify_fd, 0, sizeof notify_fd);
    pipes_without_cloexec = 0;
    pthread_mutex_unlock(&lock);
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
    pthread_mutex_lock(&lock);
    recv_fault.err = err;
    recv_fault.left = count;
    pthread_mutex_unlock(&lock);
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
    pthread_mutex_lock(&lock);
    notify_fault.f.err = err;
    notify_fault.f.left = count;
    notify_fault.every = every == 0 ? 1 : every;
    notify_fault.seen = 0;
    pthread_mutex_unlock(&lock);
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
    unsigned n;

    pthread_mutex_lock(&lock);
    n = notify_fault.failed;
    pthread_mutex_unlock(&lock);
    return n;
}

void fault_thread_create(int err, int count)
{
    pthread_mutex_lock(&lock);
    thread_fault.err = err;
    thread_fault.left = count;
    pthread_mutex_unlock(&lock);
}

/* ---- crafted control messages ---- */

static void put_gro_segment(struct msghdr *mh, size_t space, int seg)
{
#ifdef UDP_GRO
    struct cmsghdr *c = (struct cmsghdr *)mh->msg_control;

    if (c == NULL || space < CMSG_SPACE(sizeof seg))
        return;
    memset(c, 0, CMSG_SPACE(sizeof seg));
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_GRO;
    c->cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(CMSG_DATA(c), &seg, sizeof seg);
    mh->msg_controllen = CMSG_SPACE(sizeof seg);
#else
    (void)mh;
    (void)space;
    (void)seg;
#endif
}

/* A filler message the library does not know, then the short one, which
 * ends where the buffer ends (as Linux leaves a message it cut short). */
static void put_short_cmsg(struct msghdr *mh, size_t space)
{
    unsigned char *base = mh->msg_control;
    size_t at;
    struct cmsghdr *c;

    if (base == NULL || space < CMSG_LEN(short_cmsg.kept) + sizeof(struct cmsghdr))
        return;
    at = (space - CMSG_LEN(short_cmsg.kept)) & ~(size_t)(sizeof(size_t) - 1);
    /* Bytes past the kept ones hold a pattern a parser that reads them
     * would pass on as an address or a segment size. */
    memset(base, 0x5a, space);
    if (at >= sizeof(struct cmsghdr)) {
        c = (struct cmsghdr *)base;
        c->cmsg_level = 0x7ffe;
        c->cmsg_type = 0;
        c->cmsg_len = at;
    }
    c = (struct cmsghdr *)(base + at);
    c->cmsg_level = short_cmsg.level;
    c->cmsg_type = short_cmsg.type;
    c->cmsg_len = space - at;
    mh->msg_controllen = space;
    mh->msg_flags |= MSG_CTRUNC;
}

/* ---- the interposed functions ---- */

EXPORTED int recvmmsg(int fd, struct mmsghdr *msgs, unsigned vlen, int flags,
                      struct timespec *timeout)
{
    size_t space[MAX_BATCH];
    unsigned n = vlen < MAX_BATCH ? vlen : MAX_BATCH;
    int err = 0, rc, crafted, gro_on, seg;
    unsigned extra = 0;

    ready();
    pthread_mutex_lock(&lock);
    if (targeted(fd)) {
        err = take(&recv_fault);
        if (err == 0) {
            extra = recv_extra;
            recv_extra = 0;
        }
    }
    gro_on = targeted(fd) && gro_fault.on;
    seg = gro_fault.segment;
    crafted = targeted(fd) && short_cmsg.on;
    pthread_mutex_unlock(&lock);
    if (err != 0) {
        errno = err;
        return -1;
    }
    for (unsigned i = 0; i < n; i++)
        space[i] = msgs[i].msg_hdr.msg_controllen;
    rc = real_recvmmsg(fd, msgs, n, flags, timeout);
    if (rc <= 0)
        return rc;
    for (int i = 0; i < rc; i++) {
        if (gro_on)
            put_gro_segment(&msgs[i].msg_hdr, space[i], seg);
        if (crafted)
            put_short_cmsg(&msgs[i].msg_hdr, space[i]);
    }
    return rc + (int)extra;
}

EXPORTED int sendmmsg(int fd, struct mmsghdr *msgs, unsigned vlen, int flags)
{
    unsigned extra = 0;
    int rc;

    ready();
    rc = real_sendmmsg(fd, msgs, vlen, flags);
    pthread_mutex_lock(&lock);
    if (rc > 0 && targeted(fd)) {
        extra = send_extra;
        send_extra = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc > 0 ? rc + (int)extra : rc;
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
    int err;

    ready();
    if ((err = sockopt_error(1, level, name)) != 0) {
        errno = err;
        return -1;
    }
    return real_getsockopt(fd, level, name, value, len);
}

EXPORTED int setsockopt(int fd, int level, int name, const void *value,
                        socklen_t len)
{
    int err;

    ready();
    if ((err = sockopt_error(0, level, name)) != 0) {
        errno = err;
        return -1;
    }
    return real_setsockopt(fd, level, name, value, len);
}

static void watch(int fd)
{
    if (fd >= 0 && fd < MAX_FD)
        notify_fd[fd] = 1;
}

EXPORTED int eventfd(unsigned initval, int flags)
{
    int err, fd;

    ready();
    pthread_mutex_lock(&lock);
    err = eventfd_err;
    pthread_mutex_unlock(&lock);
    if (err != 0) {
        errno = err;
        return -1;
    }
    fd = real_eventfd(initval, flags);
    pthread_mutex_lock(&lock);
    watch(fd);
    pthread_mutex_unlock(&lock);
    return fd;
}

static void watch_pipe(const int fds[2], int cloexec)
{
    pthread_mutex_lock(&lock);
    watch(fds[0]);
    watch(fds[1]);
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
        watch_pipe(fds, 0);
    return rc;
}

EXPORTED int pipe2(int fds[2], int flags)
{
    int rc;

    ready();
    rc = real_pipe2(fds, flags);
    if (rc == 0)
        watch_pipe(fds, (flags & O_CLOEXEC) != 0);
    return rc;
}

EXPORTED ssize_t write(int fd, const void *buf, size_t len)
{
    int err = 0;

    ready();
    if (fd >= 0 && fd < MAX_FD) {
        pthread_mutex_lock(&lock);
        if (notify_fd[fd] && notify_fault.f.err != 0 &&
            ++notify_fault.seen % notify_fault.every == 0 &&
            (err = take(&notify_fault.f)) != 0)
            notify_fault.failed++;
        pthread_mutex_unlock(&lock);
    }
    if (err != 0) {
        errno = err;
        return -1;
    }
    return real_write(fd, buf, len);
}

EXPORTED int close(int fd)
{
    ready();
    if (fd >= 0 && fd < MAX_FD) {
        pthread_mutex_lock(&lock);
        notify_fd[fd] = 0;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

EXPORTED int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                            void *(*fn)(void *), void *arg)
{
    int err;

    ready();
    pthread_mutex_lock(&lock);
    err = take(&thread_fault);
    pthread_mutex_unlock(&lock);
    if (err != 0)
        return err;
    return real_pthread_create(t, attr, fn, arg);
}
