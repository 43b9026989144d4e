/* fault_env.c - the preloaded shim's requests, read from the environment
 * when it loads:
 *
 *   BUDP_FAULTS="RULE[;RULE...]"
 *   RULE = CALL[:KEY=VALUE...]
 *   CALL = recvmmsg sendmmsg recvmsg sendmsg poll notify_read notify_write
 *          setsockopt getsockopt alloc thread
 *   KEY  = err (an errno name: EINTR, EAGAIN, ENOBUFS, ENOMEM, EBADF,
 *          ECONNREFUSED, EIO, EMSGSIZE, ENOPROTOOPT, EPERM, EMFILE, or a
 *          number), nth, every, count, keep, craft (len_past_buffer,
 *          trunc_flag, bad_family, name_too_long, gro_segment, short_cmsg,
 *          count_extra), value
 *
 * for example "recvmmsg:err=EINTR:every=3:count=20;alloc:err=ENOMEM:nth=4".
 * A rule without nth or every matches every call; without count, without
 * limit.  A rule that cannot be read stops the program: a test that meant
 * to inject a fault must not pass without it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errno_names.h"
#include "fault_shim.h"

static const char *const call_names[FAULT_CALLS] = {
    "recvmmsg", "sendmmsg", "recvmsg", "sendmsg", "poll", "notify_read",
    "notify_write", "setsockopt", "getsockopt", "alloc", "thread",
};

static const char *const craft_names[CRAFT_KINDS] = {
    "none", "len_past_buffer", "trunc_flag", "bad_family", "name_too_long",
    "gro_segment", "short_cmsg", "count_extra", "hide_trunc",
};

static int lookup(const char *const *names, int n, const char *word, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], word, len) == 0)
            return i;
    return -1;
}

static int number(const char *text, size_t len, long *out)
{
    char buf[32], *end;

    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    *out = strtol(buf, &end, 10);
    return *end == '\0' ? 0 : -1;
}

static int errno_value(const char *text, size_t len, int *out)
{
    long v;

    if ((*out = fault_errno_named(text, len)) != 0)
        return 0;
    if (number(text, len, &v) < 0 || v <= 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* One KEY=VALUE of text[0..len). */
static int setting(const char *text, size_t len, struct fault_spec *spec)
{
    const char *eq = memchr(text, '=', len);
    size_t klen, vlen;
    const char *v;
    long n = 0;
    int craft;

    if (eq == NULL)
        return -1;
    klen = (size_t)(eq - text);
    v = eq + 1;
    vlen = len - klen - 1;
    if (klen == 3 && strncmp(text, "err", 3) == 0)
        return errno_value(v, vlen, &spec->err);
    if (klen == 5 && strncmp(text, "craft", 5) == 0) {
        if ((craft = lookup(craft_names, CRAFT_KINDS, v, vlen)) < 0)
            return -1;
        spec->craft = (enum fault_craft)craft;
        return 0;
    }
    if (number(v, vlen, &n) < 0)
        return -1;
    if (klen == 3 && strncmp(text, "nth", 3) == 0 && n > 0)
        spec->nth = (unsigned)n;
    else if (klen == 5 && strncmp(text, "every", 5) == 0 && n > 0)
        spec->every = (unsigned)n;
    else if (klen == 5 && strncmp(text, "count", 5) == 0 && n >= -1)
        spec->count = (int)n;
    else if (klen == 4 && strncmp(text, "keep", 4) == 0 && n > 0)
        spec->keep = (unsigned)n;
    else if (klen == 5 && strncmp(text, "value", 5) == 0)
        spec->value = (int)n;
    else
        return -1;
    return 0;
}

int fault_parse(const char *text, enum fault_call *c, struct fault_spec *spec)
{
    const char *end = text + strlen(text), *p = strchr(text, ':');
    int call;

    if (p == NULL)
        p = end;
    if ((call = lookup(call_names, FAULT_CALLS, text, (size_t)(p - text))) < 0)
        return -1;
    memset(spec, 0, sizeof *spec);
    spec->count = -1;
    while (p < end) {
        const char *next = strchr(p + 1, ':');
        if (next == NULL)
            next = end;
        if (setting(p + 1, (size_t)(next - p - 1), spec) < 0)
            return -1;
        p = next;
    }
    if (spec->nth == 0 && spec->every == 0)
        spec->every = 1;
    if (spec->err == 0 && spec->keep == 0 && spec->craft == CRAFT_NONE)
        return -1;
    *c = (enum fault_call)call;
    return 0;
}

__attribute__((constructor)) static void read_environment(void)
{
    const char *env = getenv("BUDP_FAULTS");
    char rule[256];

    while (env != NULL && *env != '\0') {
        const char *semi = strchr(env, ';');
        size_t len = semi != NULL ? (size_t)(semi - env) : strlen(env);
        enum fault_call c;
        struct fault_spec spec;

        if (len >= sizeof rule) {
            fprintf(stderr, "BUDP_FAULTS: rule too long: %s\n", env);
            abort();
        }
        memcpy(rule, env, len);
        rule[len] = '\0';
        if (len > 0) {
            if (fault_parse(rule, &c, &spec) < 0) {
                fprintf(stderr, "BUDP_FAULTS: cannot read rule \"%s\"\n", rule);
                abort();
            }
            fault_rule(c, &spec);
        }
        env += semi != NULL ? len + 1 : len;
    }
}
