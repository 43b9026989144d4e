/* fault_alloc.c - malloc and its family for the fault shim: the library's
 * allocations counted, failed when a FAULT_ALLOC rule says so, and tracked
 * until freed (fault_library_heap_live), so that a test can see every
 * allocation the library made given back.  Only the library's own calls
 * are touched (fault_rules.c); everyone else's pass straight through. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault_rules.h"

#define EXPORTED __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)
/* The interposers run inside malloc: thread-local state must not itself
 * allocate (the initial-exec model never does). */
#define LOCAL_TO_THREAD __thread __attribute__((tls_model("initial-exec")))

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);

/* dlsym may allocate while the real functions are being looked up: those
 * allocations come from here and are never freed. */
static _Alignas(64) unsigned char boot[16384];
static size_t boot_used;
static int resolving;

/* Set while this thread is inside the shim: its own calls pass through. */
static LOCAL_TO_THREAD int inside;

/* Live allocations the library made: open addressing, pointers only. */
#define TRACKED 65536
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static void *table[TRACKED];
static long live;
static int tracking;

static void *boot_alloc(size_t n)
{
    void *p;

    n = (n + 63) & ~(size_t)63;
    if (boot_used + n > sizeof boot)
        return NULL;
    p = boot + boot_used;
    boot_used += n;
    return p;
}

static int from_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

#define RESOLVE(name)                                   \
    do {                                                \
        void *f = dlsym(RTLD_NEXT, #name);              \
        memcpy(&real_##name, &f, sizeof f);             \
    } while (0)

static int ready(void)
{
    if (real_free != NULL)
        return 1;
    if (resolving)
        return 0;
    resolving = 1;
    RESOLVE(malloc);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(aligned_alloc);
    RESOLVE(posix_memalign);
    RESOLVE(free);
    resolving = 0;
    return 1;
}

static size_t slot_of(const void *p)
{
    return ((uintptr_t)p >> 4) * 2654435761u % TRACKED;
}

static void track(void *p)
{
    __atomic_store_n(&tracking, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&table_lock);
    for (size_t i = slot_of(p), k = 0; k < TRACKED; k++, i = (i + 1) % TRACKED)
        if (table[i] == NULL || table[i] == (void *)1) {
            table[i] = p;
            live++;
            break;
        }
    pthread_mutex_unlock(&table_lock);
}

static void untrack(void *p)
{
    /* Nothing to look for before the library's first allocation: and no
     * lock either, since a sanitizer's runtime frees memory while it sets
     * up the pthread calls. */
    if (!__atomic_load_n(&tracking, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&table_lock);
    for (size_t i = slot_of(p), k = 0; k < TRACKED && table[i] != NULL;
         k++, i = (i + 1) % TRACKED)
        if (table[i] == p) {
            table[i] = (void *)1; /* a tombstone keeps later probes going */
            live--;
            break;
        }
    pthread_mutex_unlock(&table_lock);
}

long fault_library_heap_live(void)
{
    long n;

    pthread_mutex_lock(&table_lock);
    n = live;
    pthread_mutex_unlock(&table_lock);
    return n;
}

/* Ask the rules about one allocation by caller: -1 to fail it, 1 when the
 * library makes it (to be tracked), 0 otherwise. */
static int decide(const void *caller)
{
    struct fault_spec rule;
    int verdict;

    if (inside)
        return 0;
    inside = 1;
    if (fault_take(FAULT_ALLOC, caller, &rule) && rule.err != 0)
        verdict = -1;
    else
        verdict = fault_from_library(caller);
    inside = 0;
    return verdict;
}

static void *kept(void *p, int verdict)
{
    if (p != NULL && verdict > 0)
        track(p);
    return p;
}

EXPORTED void *malloc(size_t n)
{
    int verdict;

    if (!ready())
        return boot_alloc(n);
    if ((verdict = decide(CALLER)) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    return kept(real_malloc(n), verdict);
}

EXPORTED void *calloc(size_t count, size_t size)
{
    int verdict;

    if (!ready()) {
        if (size != 0 && count > SIZE_MAX / size)
            return NULL;
        return boot_alloc(count * size); /* static: already zero */
    }
    if ((verdict = decide(CALLER)) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    return kept(real_calloc(count, size), verdict);
}

EXPORTED void *realloc(void *old, size_t n)
{
    int verdict;
    void *p;

    if (!ready() || from_boot(old)) {
        p = ready() ? real_malloc(n) : boot_alloc(n);
        if (p != NULL && old != NULL) {
            size_t room = (size_t)(boot + sizeof boot - (unsigned char *)old);
            memcpy(p, old, n < room ? n : room);
        }
        return p;
    }
    if ((verdict = decide(CALLER)) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    p = real_realloc(old, n);
    if (p != NULL && old != NULL)
        untrack(old);
    return kept(p, verdict);
}

EXPORTED void free(void *p)
{
    if (p == NULL || from_boot(p))
        return;
    if (!ready())
        return;
    untrack(p);
    real_free(p);
}

EXPORTED void *aligned_alloc(size_t align, size_t n)
{
    int verdict;

    if (!ready())
        return boot_alloc(n);
    if ((verdict = decide(CALLER)) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    return kept(real_aligned_alloc(align, n), verdict);
}

EXPORTED int posix_memalign(void **out, size_t align, size_t n)
{
    int verdict, rc;

    if (!ready()) {
        *out = boot_alloc(n);
        return *out != NULL ? 0 : ENOMEM;
    }
    if ((verdict = decide(CALLER)) < 0)
        return ENOMEM;
    rc = real_posix_memalign(out, align, n);
    if (rc == 0)
        kept(*out, verdict);
    return rc;
}
