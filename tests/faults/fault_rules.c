/* fault_rules.c - the rules of the fault shim (see fault_shim.h): which of
 * the library's calls to change, and how.  Calls are counted and matched
 * only when the library makes them, told by the caller's return address:
 * a test's own calls, libc's internal ones and a sanitizer's never are. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "fault_rules.h"

struct rule {
    struct fault_spec spec;
    int set;
    int left;
    unsigned calls;     /* calls the library made */
    unsigned counted;   /* of those, the ones the rule counts */
    unsigned injected;
};

static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[FAULT_CALLS];

/* The library's loaded segments, found once. */
static struct { uintptr_t start, end; } text[8];
static unsigned ntext;
static int located;

static int find_segments(struct dl_phdr_info *info, size_t size, void *want)
{
    const char *base = info->dlpi_name != NULL ? strrchr(info->dlpi_name, '/') : NULL;

    (void)size;
    /* By file name: a directory may be called libbatchudp-0.2.0 too. */
    base = base != NULL ? base + 1 : info->dlpi_name;
    if (base == NULL || strncmp(base, "libbatchudp.", 12) != 0)
        return 0;
    for (unsigned i = 0; i < info->dlpi_phnum && ntext < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        text[ntext].start = info->dlpi_addr + ph->p_vaddr;
        text[ntext].end = text[ntext].start + ph->p_memsz;
        ntext++;
    }
    *(int *)want = 1;
    return 1;
}

/* Found once everything the program needs is loaded, before main: never
 * from inside malloc, where a sanitizer's runtime may still be setting up
 * the very calls dl_iterate_phdr makes. */
__attribute__((constructor)) static void locate_library(void)
{
    int found = 0;

    dl_iterate_phdr(find_segments, &found);
    __atomic_store_n(&located, found, __ATOMIC_RELEASE);
}

int fault_from_library(const void *caller)
{
    uintptr_t at = (uintptr_t)caller;

    if (!__atomic_load_n(&located, __ATOMIC_ACQUIRE))
        return 0;
    for (unsigned i = 0; i < ntext; i++)
        if (at >= text[i].start && at < text[i].end)
            return 1;
    return 0;
}

void fault_rule(enum fault_call c, const struct fault_spec *spec)
{
    if ((unsigned)c >= FAULT_CALLS)
        return;
    pthread_mutex_lock(&rules_lock);
    rules[c].spec = *spec;
    rules[c].set = 1;
    rules[c].left = spec->count;
    rules[c].counted = 0; /* "every N-th" counts from here */
    pthread_mutex_unlock(&rules_lock);
}

void fault_rules_reset(void)
{
    pthread_mutex_lock(&rules_lock);
    memset(rules, 0, sizeof rules);
    pthread_mutex_unlock(&rules_lock);
}

static int matches(const struct rule *r)
{
    if (r->left == 0)
        return 0;
    if (r->spec.nth > 0)
        return r->counted == r->spec.nth;
    return r->spec.every > 0 && r->counted % r->spec.every == 0;
}

/* Count one call (results: 0) or one call that returned data (results:
 * 1) and match it against the rule: a rule that crafts results counts
 * only calls that have some, one that fails calls counts every call. */
static int take(enum fault_call c, const void *caller, int results,
                struct fault_spec *out)
{
    struct rule *r = &rules[c];
    int hit = 0;

    if (!fault_from_library(caller))
        return 0;
    pthread_mutex_lock(&rules_lock);
    if (!results)
        r->calls++;
    if (r->set && (r->spec.craft != CRAFT_NONE) == results) {
        r->counted++;
        hit = matches(r);
    }
    if (hit) {
        if (r->left > 0)
            r->left--;
        r->injected++;
        *out = r->spec;
    }
    pthread_mutex_unlock(&rules_lock);
    return hit;
}

int fault_take(enum fault_call c, const void *caller, struct fault_spec *out)
{
    return take(c, caller, 0, out);
}

int fault_take_result(enum fault_call c, const void *caller, struct fault_spec *out)
{
    return take(c, caller, 1, out);
}

unsigned fault_calls(enum fault_call c)
{
    unsigned n;

    pthread_mutex_lock(&rules_lock);
    n = (unsigned)c < FAULT_CALLS ? rules[c].calls : 0;
    pthread_mutex_unlock(&rules_lock);
    return n;
}

unsigned fault_injected(enum fault_call c)
{
    unsigned n;

    pthread_mutex_lock(&rules_lock);
    n = (unsigned)c < FAULT_CALLS ? rules[c].injected : 0;
    pthread_mutex_unlock(&rules_lock);
    return n;
}
