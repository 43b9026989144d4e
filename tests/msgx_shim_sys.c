/* msgx_shim_sys.c - the system calls around XNU's batch calls, emulated
 * for the msgx backend on Linux (see msgx_shim.h): sysctlbyname, which the
 * library asks for the system's version, and sendmsg with XNU's refusal of
 * a destination on a connected socket. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "msgx_shim.h"

#define DEFAULT_PRODUCT "26.1"
#define DEFAULT_RELEASE "25.1.0"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char product[32] = DEFAULT_PRODUCT, release[32] = DEFAULT_RELEASE;
static int have_product = 1, have_release = 1;
static int xnu_sendmsg;
static int fail_next_sendmsg;
static unsigned long eisconn_count;

static void set_text(char *dst, size_t size, int *have, const char *src)
{
    *have = src != NULL;
    if (src != NULL) {
        strncpy(dst, src, size - 1);
        dst[size - 1] = '\0';
    }
}

void msgx_shim_os_version(const char *p, const char *r)
{
    pthread_mutex_lock(&lock);
    set_text(product, sizeof product, &have_product, p);
    set_text(release, sizeof release, &have_release, r);
    pthread_mutex_unlock(&lock);
}

void msgx_shim_fail_next_sendmsg(int err)
{
    pthread_mutex_lock(&lock);
    fail_next_sendmsg = err;
    pthread_mutex_unlock(&lock);
}

void msgx_shim_xnu_sendmsg(int on)
{
    pthread_mutex_lock(&lock);
    xnu_sendmsg = on;
    pthread_mutex_unlock(&lock);
}

unsigned long msgx_shim_eisconn_count(void)
{
    unsigned long n;

    pthread_mutex_lock(&lock);
    n = eisconn_count;
    pthread_mutex_unlock(&lock);
    return n;
}

void msgx_shim_sys_reset(void)
{
    msgx_shim_os_version(DEFAULT_PRODUCT, DEFAULT_RELEASE);
    pthread_mutex_lock(&lock);
    xnu_sendmsg = 0;
    fail_next_sendmsg = 0;
    eisconn_count = 0;
    pthread_mutex_unlock(&lock);
}

/* As Apple's: a string value with its NUL, ENOMEM when it does not fit,
 * the length alone when old is NULL; read only. */
MSGX_SHIM_EXPORT int sysctlbyname(const char *name, void *old, size_t *oldlen,
                                  void *new_value, size_t newlen);

int sysctlbyname(const char *name, void *old, size_t *oldlen, void *new_value,
                 size_t newlen)
{
    char value[32];
    int have;
    size_t len;

    pthread_mutex_lock(&lock);
    if (strcmp(name, "kern.osproductversion") == 0) {
        have = have_product;
        memcpy(value, product, sizeof value);
    } else if (strcmp(name, "kern.osrelease") == 0) {
        have = have_release;
        memcpy(value, release, sizeof value);
    } else {
        have = 0;
    }
    pthread_mutex_unlock(&lock);
    if (!have) {
        errno = ENOENT;
        return -1;
    }
    if (new_value != NULL || newlen != 0) {
        errno = EPERM;
        return -1;
    }
    len = strlen(value) + 1;
    if (old != NULL) {
        if (*oldlen < len) {
            errno = ENOMEM;
            return -1;
        }
        memcpy(old, value, len);
    }
    *oldlen = len;
    return 0;
}

typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
static sendmsg_fn real_sendmsg;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void find_real_sendmsg(void)
{
    void *f = dlsym(RTLD_NEXT, "sendmsg");

    memcpy(&real_sendmsg, &f, sizeof real_sendmsg);
}

MSGX_SHIM_EXPORT ssize_t sendmsg(int s, const struct msghdr *msg, int flags);

ssize_t sendmsg(int s, const struct msghdr *msg, int flags)
{
    int refuse, fail;

    pthread_mutex_lock(&lock);
    refuse = xnu_sendmsg;
    fail = fail_next_sendmsg;
    fail_next_sendmsg = 0;
    pthread_mutex_unlock(&lock);
    if (fail != 0) {
        errno = fail;
        return -1;
    }
    if (refuse && msg != NULL && msg->msg_name != NULL && msg->msg_namelen > 0) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;

        if (getpeername(s, (struct sockaddr *)&peer, &len) == 0) {
            pthread_mutex_lock(&lock);
            eisconn_count++;
            pthread_mutex_unlock(&lock);
            errno = EISCONN;
            return -1;
        }
    }
    return msgx_shim_real_sendmsg(s, msg, flags);
}

ssize_t msgx_shim_real_sendmsg(int s, const struct msghdr *msg, int flags)
{
    pthread_once(&real_once, find_real_sendmsg);
    return real_sendmsg(s, msg, flags);
}
