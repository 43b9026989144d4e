/* netns.c - network namespaces for the tests that need a real link. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"

#define MAX_NAMESPACES 8

static char made[MAX_NAMESPACES][32];
static unsigned made_count;
static pid_t creator;

int tn_run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = system(cmd);
    if (rc != 0 && strstr(cmd, "2>/dev/null") == NULL)
        fprintf(stderr, "netns: failed (%d): %s\n", rc, cmd);
    return rc;
}

static void teardown(void)
{
    if (getpid() != creator)
        return;
    for (unsigned i = 0; i < made_count; i++)
        tn_run("ip netns del %s 2>/dev/null", made[i]);
    made_count = 0;
}

int tn_make(char *name, size_t size, const char *tag)
{
    if (geteuid() != 0 || made_count == MAX_NAMESPACES)
        return -1;
    snprintf(name, size, "budp%d%s", (int)getpid(), tag);
    if (tn_run("ip netns add %s 2>/dev/null", name) != 0)
        return -1;
    if (made_count == 0) {
        creator = getpid();
        atexit(teardown);
    }
    snprintf(made[made_count++], sizeof made[0], "%s", name);
    return 0;
}

int tn_enter(const char *ns)
{
    char path[64];
    int self = open("/proc/thread-self/ns/net", O_RDONLY), target;

    snprintf(path, sizeof path, "/var/run/netns/%s", ns);
    target = open(path, O_RDONLY);
    ck_assert_int_ge(self, 0);
    ck_assert_int_ge(target, 0);
    ck_assert_int_eq(setns(target, CLONE_NEWNET), 0);
    close(target);
    return self;
}

void tn_leave(int handle)
{
    ck_assert_int_eq(setns(handle, CLONE_NEWNET), 0);
    close(handle);
}

int tn_socket_in(const char *ns, int family, const char *host)
{
    int back = tn_enter(ns), fd = socket(family, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t len;

    tn_leave(back);
    ck_assert_int_ge(fd, 0);
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, host, &sin->sin_addr), 1);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, host, &sin6->sin6_addr), 1);
        len = sizeof *sin6;
    }
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
    return fd;
}
