/* netns.c - the network namespaces of --mode relay: made with `ip`, entered
 * with setns() from short-lived threads, removed on every way out.
 *
 * The pair is made once per process and kept for every sample: making it
 * runs nine `ip` commands (about 0.1 s), and a fresh veth per sample would
 * measure nothing more.  Removing a namespace is what `ip netns del` does,
 * umount2() and unlink() of its file, done here directly so that a signal
 * handler can do it too (both are plain system calls, async-signal-safe);
 * the namespace itself, and the veth with it, goes away once no socket of
 * this process holds it any more, at the latest when the process ends. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>

#include "netns.h"

#ifndef __linux__

/* Network namespaces are Linux's: relay rows are "n/a" elsewhere. */
int netns_pair_get(const struct netns_pair **out, char *why, size_t size)
{
    (void)out;
    snprintf(why, size, "network namespaces are Linux-only");
    return -ENOTSUP;
}

void netns_pair_remove(void)
{
}

int netns_run(const char *name, int (*fn)(void *), void *arg,
              char *why, size_t size)
{
    (void)name;
    (void)fn;
    (void)arg;
    snprintf(why, size, "network namespaces are Linux-only");
    return -ENOTSUP;
}

#else

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/wait.h>

/* Where `ip netns add` puts a namespace's file: /var/run/netns in
 * iproute2's build, /run/netns on systems where /var/run links there. */
static const char *const netns_dirs[] = { "/run/netns", "/var/run/netns" };
#define NDIRS (sizeof netns_dirs / sizeof netns_dirs[0])

#define ADDR_A "10.204.0.1"
#define ADDR_B "10.204.0.2"
#define PREFIX "/24"
#define MAC_A "02:00:00:00:cc:0a"
#define MAC_B "02:00:00:00:cc:0b"
#define MTU 1500

static struct netns_pair pair;
static int tried, result;
static char result_why[256];

/* What the removal needs, prepared before anything is made so that the
 * signal handler only reads fixed strings: the namespaces' files. */
static char paths[2][NDIRS][128];
static volatile sig_atomic_t made[2];     /* made[i]: maybe exists */
static volatile pid_t ip_child;           /* a running `ip`, or 0 */
static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

void netns_pair_remove(void)
{
    unsigned i, d;

    for (i = 0; i < 2; i++) {
        if (!made[i])
            continue;
        for (d = 0; d < NDIRS; d++) {
            (void)umount2(paths[i][d], MNT_DETACH);
            (void)unlink(paths[i][d]);
        }
        made[i] = 0;
    }
}

static void remove_at_exit(void)
{
    netns_pair_remove();
}

/* Remove the pair, then die of the signal as if no handler were set (the
 * exit status tells the caller what happened).  An `ip` still running is
 * killed first: it could otherwise make a namespace after the removal. */
static void on_signal(int sig)
{
    struct sigaction dfl;
    pid_t child = ip_child;

    if (child > 0) {
        (void)kill(child, SIGKILL);
        (void)waitpid(child, NULL, 0);
    }
    netns_pair_remove();
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)sigaction(sig, &dfl, NULL);
    (void)raise(sig);   /* delivered when this handler returns */
}

static void install_cleanup(void)
{
    struct sigaction sa, old;
    unsigned i;

    atexit(remove_at_exit);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
        sigaddset(&sa.sa_mask, signals[i]);
    for (i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        /* A signal ignored at start (nohup, a shell's background job)
         * stays ignored: the process does not die of it. */
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        (void)sigaction(signals[i], &sa, NULL);
    }
}

/* Run `ip ARGS...`; 0, or -EIO (-ENOENT: no ip) with the command and what
 * it printed on stderr in why. */
static int run_ip(char *why, size_t size, const char *const *args)
{
    char *argv[24], out[200], cmd[200];
    size_t used = 0, n = 0;
    int pipefd[2], status = 0, i, err;
    sigset_t block, old;
    pid_t pid;
    ssize_t r;

    argv[0] = "ip";
    for (i = 0; args[i] != NULL && i < 22; i++)
        argv[i + 1] = (char *)args[i];
    argv[i + 1] = NULL;
    snprintf(cmd, sizeof cmd, "ip");
    for (i = 1; argv[i] != NULL; i++) {
        n = strlen(cmd);
        snprintf(cmd + n, sizeof cmd - n, " %s", argv[i]);
    }
    if (pipe(pipefd) != 0) {
        err = errno;
        snprintf(why, size, "%s: pipe: %s", cmd, strerror(err));
        return -err;
    }
    /* The removal signals wait until ip_child is set: a signal handled
     * between fork and then would leave the child running. */
    sigemptyset(&block);
    for (i = 0; i < (int)(sizeof signals / sizeof signals[0]); i++)
        sigaddset(&block, signals[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pid = fork();
    if (pid < 0) {
        err = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        close(pipefd[0]);
        close(pipefd[1]);
        snprintf(why, size, "%s: fork: %s", cmd, strerror(err));
        return -err;
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec. */
        int null = open("/dev/null", O_RDWR);

        if (null >= 0) {
            (void)dup2(null, 0);
            (void)dup2(null, 1);
        }
        (void)dup2(pipefd[1], 2);
        close(pipefd[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execv("/usr/sbin/ip", argv);
        execv("/sbin/ip", argv);
        execvp("ip", argv);
        _exit(127);
    }
    ip_child = pid;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pipefd[1]);
    while ((r = read(pipefd[0], out + used, sizeof out - 1 - used)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        used += (size_t)r;
        if (used == sizeof out - 1) {
            char sink[256];

            while (read(pipefd[0], sink, sizeof sink) > 0)
                ;   /* keep the child from blocking on a full pipe */
            break;
        }
    }
    out[used] = '\0';
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    ip_child = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    out[strcspn(out, "\n")] = '\0';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && used == 0) {
        snprintf(why, size, "no `ip` command (iproute2) found");
        return -ENOENT;
    }
    snprintf(why, size, "%s: %s", cmd, used ? out
             : WIFEXITED(status) ? "failed" : "killed");
    return -EIO;
}

#define IP(...) \
    do { \
        const char *const args_[] = { __VA_ARGS__, NULL }; \
        if ((err = run_ip(why, size, args_)) < 0) \
            return err; \
    } while (0)

static int make_pair(char *why, size_t size)
{
    struct netns_pair *p = &pair;
    int pid = (int)getpid(), err;
    unsigned i, d;
    char mtu[16];

    snprintf(p->a, sizeof p->a, "budp-relay-%d-a", pid);
    snprintf(p->b, sizeof p->b, "budp-relay-%d-b", pid);
    snprintf(p->dev_a, sizeof p->dev_a, "brl%da", pid);
    snprintf(p->dev_b, sizeof p->dev_b, "brl%db", pid);
    inet_pton(AF_INET, ADDR_A, &p->addr_a);
    inet_pton(AF_INET, ADDR_B, &p->addr_b);
    p->mtu = MTU;
    snprintf(mtu, sizeof mtu, "%u", MTU);
    for (i = 0; i < 2; i++)
        for (d = 0; d < NDIRS; d++) {
            int n = snprintf(paths[i][d], sizeof paths[i][d], "%s/%s",
                             netns_dirs[d], i ? p->b : p->a);

            if (n < 0 || (size_t)n >= sizeof paths[i][d]) {
                snprintf(why, size, "namespace path too long");
                return -ENAMETOOLONG;
            }
        }
    install_cleanup();

    /* Marked before each is made: a signal that comes while `ip` runs
     * must still remove it. */
    made[0] = 1;
    IP("netns", "add", p->a);
    made[1] = 1;
    IP("netns", "add", p->b);
    /* Each end is created inside its namespace, so the names cannot clash
     * with the host's interfaces. */
    IP("link", "add", p->dev_a, "address", MAC_A, "mtu", mtu, "netns", p->a,
       "type", "veth", "peer", "name", p->dev_b, "address", MAC_B, "mtu", mtu,
       "netns", p->b);
    IP("-n", p->a, "addr", "add", ADDR_A PREFIX, "dev", p->dev_a);
    IP("-n", p->b, "addr", "add", ADDR_B PREFIX, "dev", p->dev_b);
    IP("-n", p->a, "link", "set", p->dev_a, "up");
    IP("-n", p->b, "link", "set", p->dev_b, "up");
    /* Permanent neighbour entries: datagrams sent while ARP resolves wait
     * in a small queue, and what overflows it is lost before any socket
     * could count it. */
    IP("-n", p->a, "neigh", "replace", ADDR_B, "lladdr", MAC_B, "dev", p->dev_a,
       "nud", "permanent");
    IP("-n", p->b, "neigh", "replace", ADDR_A, "lladdr", MAC_A, "dev", p->dev_b,
       "nud", "permanent");
    return 0;
}

int netns_pair_get(const struct netns_pair **out, char *why, size_t size)
{
    if (!tried) {
        tried = 1;
        result_why[0] = '\0';
        result = make_pair(result_why, sizeof result_why);
        if (result < 0)
            netns_pair_remove();
    }
    if (result < 0) {
        snprintf(why, size, "%s", result_why);
        return result;
    }
    *out = &pair;
    return 0;
}

struct enter {
    const char *name;
    int (*fn)(void *);
    void *arg;
    int ret;
    char why[256];
};

static void *enter_main(void *x)
{
    struct enter *e = x;
    char path[96];
    unsigned d;
    int fd = -1, err = ENOENT;

    for (d = 0; d < NDIRS && fd < 0; d++) {
        snprintf(path, sizeof path, "%s/%s", netns_dirs[d], e->name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            err = errno;
    }
    if (fd < 0) {
        snprintf(e->why, sizeof e->why, "open %s: %s", path, strerror(err));
        e->ret = -err;
        return NULL;
    }
    /* Only this thread changes namespace, and it ends after fn. */
    if (setns(fd, CLONE_NEWNET) != 0) {
        err = errno;
        close(fd);
        snprintf(e->why, sizeof e->why, "setns %s: %s", e->name, strerror(err));
        e->ret = -err;
        return NULL;
    }
    close(fd);
    e->ret = e->fn(e->arg);
    return NULL;
}

int netns_run(const char *name, int (*fn)(void *), void *arg,
              char *why, size_t size)
{
    struct enter e;
    pthread_t t;
    int err;

    memset(&e, 0, sizeof e);
    e.name = name;
    e.fn = fn;
    e.arg = arg;
    err = pthread_create(&t, NULL, enter_main, &e);
    if (err != 0) {
        snprintf(why, size, "pthread_create: %s", strerror(err));
        return -err;
    }
    pthread_join(t, NULL);
    if (e.why[0])
        snprintf(why, size, "%s", e.why);
    return e.ret;
}

#endif /* __linux__ */
