/* test_options.c - version, error texts and the options object: defaults,
 * bounds, rejected values leaving the object unchanged, and the socket's own
 * copy of the options it was created with. */
#include "config.h"

#include <check.h>
#include <unistd.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchudp.h"
#include "testutil.h"

#define FIRST_KEY BUDP_OPT_BATCH_SIZE
#define LAST_KEY  BUDP_OPT_ZEROCOPY

/* The documented table (include/batchudp.h), kept here on purpose: a change
 * in the library that does not follow the header shows up. */
static const struct {
    int key;
    int64_t min, max, def;
} documented[] = {
    { BUDP_OPT_BATCH_SIZE, 1, 1024, 32 },
    { BUDP_OPT_MAX_DATAGRAM, 1, 65535, 2048 },
    { BUDP_OPT_BACKEND, BUDP_BACKEND_AUTO, BUDP_BACKEND_URING, BUDP_BACKEND_AUTO },
    { BUDP_OPT_THREADED, 0, 1, 0 },
    { BUDP_OPT_RING_CAPACITY, 0, 65536, 0 },
    { BUDP_OPT_OVERFLOW, BUDP_OVERFLOW_WAIT, BUDP_OVERFLOW_DROP, BUDP_OVERFLOW_WAIT },
    { BUDP_OPT_GRO, 0, 1, 1 },
    { BUDP_OPT_GSO, 0, 1, 1 },
    { BUDP_OPT_PKTINFO, 0, 1, 0 },
    { BUDP_OPT_ECN, 0, 1, 0 },
    { BUDP_OPT_RECV_BUFFER, 0, 1073741824, 0 },
    { BUDP_OPT_CALLBACK_THREAD, 0, 1, 0 },
    { BUDP_OPT_TIMESTAMPS, 0, 1, 0 },
    { BUDP_OPT_PACING, BUDP_PACING_OFF, BUDP_PACING_TAI, BUDP_PACING_OFF },
    { BUDP_OPT_ERRORS, 0, 1, 0 },
    { BUDP_OPT_STEERING, BUDP_STEER_HASH, BUDP_STEER_CPU, BUDP_STEER_HASH },
    { BUDP_OPT_STEER_OFFSET, 0, 65527, 0 },
    { BUDP_OPT_STEER_LENGTH, 1, 8, 4 },
    { BUDP_OPT_ZEROCOPY, 0, 1, 0 },
};
#define NDOCUMENTED (sizeof documented / sizeof documented[0])

/* ------------------------------------------------------------------ */

START_TEST(version_agrees)
{
    char expect[32];

    ck_assert_uint_eq(budp_version(), BUDP_VERSION);
    ck_assert_uint_eq(budp_version() >> 16, BUDP_VERSION_MAJOR);
    ck_assert_uint_eq((budp_version() >> 8) & 0xff, BUDP_VERSION_MINOR);
    ck_assert_uint_eq(budp_version() & 0xff, BUDP_VERSION_PATCH);
    snprintf(expect, sizeof expect, "%d.%d.%d", BUDP_VERSION_MAJOR,
             BUDP_VERSION_MINOR, BUDP_VERSION_PATCH);
    ck_assert_ptr_nonnull(budp_version_string());
    ck_assert_str_eq(budp_version_string(), expect);
    /* Static: the same pointer each time. */
    ck_assert_ptr_eq(budp_version_string(), budp_version_string());
}
END_TEST

START_TEST(strerror_known_codes)
{
    static const int codes[] = {
        EINVAL, EBADF, ENOTSOCK, ENOMEM, EMSGSIZE, EAGAIN, EBUSY, ENOSPC,
        EPROTOTYPE, EAFNOSUPPORT, ENOTSUP, EDESTADDRREQ, ECONNREFUSED,
        EADDRINUSE, EHOSTUNREACH, ENETUNREACH,
    };

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *neg = budp_strerror(-codes[i]);
        const char *pos = budp_strerror(codes[i]);

        ck_assert_ptr_nonnull(neg);
        ck_assert_ptr_nonnull(pos);
        ck_assert_msg(strlen(neg) > 0, "empty text for %d", codes[i]);
        ck_assert_msg(strcmp(neg, "Unknown error") != 0,
                      "errno %d has no description", codes[i]);
        ck_assert_str_eq(neg, pos);
        /* Distinct codes get distinct texts. */
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(neg, budp_strerror(-codes[j])) != 0,
                          "errno %d and %d share a text", codes[i], codes[j]);
    }
    ck_assert_str_eq(budp_strerror(-EINVAL), "Invalid argument");
}
END_TEST

START_TEST(strerror_unknown_codes)
{
    static const int codes[] = { 99999, -99999, 123456789, -123456789,
                                 -2147483647 };

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *t = budp_strerror(codes[i]);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(t, "Unknown error");
    }
    /* INT_MIN has no positive counterpart: still a text, never a crash. */
    ck_assert_ptr_nonnull(budp_strerror(-2147483647 - 1));
    ck_assert_ptr_nonnull(budp_strerror(0));
}
END_TEST

START_TEST(bounds_match_header)
{
    for (size_t i = 0; i < NDOCUMENTED; i++) {
        int64_t min = -7, max = -7, def = -7;

        ck_assert_int_eq(budp_options_bounds(documented[i].key, &min, &max, &def), 0);
        ck_assert_msg(min == documented[i].min && max == documented[i].max &&
                          def == documented[i].def,
                      "key %d: [%lld; %lld..%lld], header says [%lld; %lld..%lld]",
                      documented[i].key, (long long)def, (long long)min,
                      (long long)max, (long long)documented[i].def,
                      (long long)documented[i].min, (long long)documented[i].max);
        /* Each output pointer may be NULL. */
        ck_assert_int_eq(budp_options_bounds(documented[i].key, NULL, NULL, NULL), 0);
        min = -7;
        ck_assert_int_eq(budp_options_bounds(documented[i].key, &min, NULL, NULL), 0);
        ck_assert_int_eq(min, documented[i].min);
        max = -7;
        ck_assert_int_eq(budp_options_bounds(documented[i].key, NULL, &max, NULL), 0);
        ck_assert_int_eq(max, documented[i].max);
        def = -7;
        ck_assert_int_eq(budp_options_bounds(documented[i].key, NULL, NULL, &def), 0);
        ck_assert_int_eq(def, documented[i].def);
    }
}
END_TEST

START_TEST(defaults_equal_bounds_defaults)
{
    budp_options *o = NULL;

    ck_assert_int_eq(budp_options_new(&o), 0);
    ck_assert_ptr_nonnull(o);
    for (int key = FIRST_KEY; key <= LAST_KEY; key++) {
        int64_t def = -7, v = -9;
        ck_assert_int_eq(budp_options_bounds(key, NULL, NULL, &def), 0);
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_msg(v == def, "key %d: new gives %lld, bounds say %lld", key,
                      (long long)v, (long long)def);
    }
    budp_options_free(o);
}
END_TEST

START_TEST(set_get_at_bounds)
{
    budp_options *o = NULL;

    ck_assert_int_eq(budp_options_new(&o), 0);
    for (int key = FIRST_KEY; key <= LAST_KEY; key++) {
        int64_t min, max, def, v = -9;

        ck_assert_int_eq(budp_options_bounds(key, &min, &max, &def), 0);
        ck_assert_msg(budp_options_set(o, key, min) == 0, "key %d min", key);
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_int_eq(v, min);
        ck_assert_msg(budp_options_set(o, key, max) == 0, "key %d max", key);
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_int_eq(v, max);
        ck_assert_int_eq(budp_options_set(o, key, def), 0);
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_int_eq(v, def);
    }
    budp_options_free(o);
}
END_TEST

/* A rejected set leaves the value as it was; the value before is made
 * different from the default to catch a reset. */
START_TEST(out_of_range_rejected_unchanged)
{
    budp_options *o = NULL;

    ck_assert_int_eq(budp_options_new(&o), 0);
    for (int key = FIRST_KEY; key <= LAST_KEY; key++) {
        int64_t min, max, v = -9;
        static const int64_t far[] = { INT64_MIN, INT64_MAX, -1 };

        ck_assert_int_eq(budp_options_bounds(key, &min, &max, NULL), 0);
        ck_assert_int_eq(budp_options_set(o, key, max), 0);
        ck_assert_msg(budp_options_set(o, key, min - 1) == -EINVAL, "key %d min-1", key);
        ck_assert_msg(budp_options_set(o, key, max + 1) == -EINVAL, "key %d max+1", key);
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_msg(v == max, "key %d changed by a rejected set", key);

        ck_assert_int_eq(budp_options_set(o, key, min), 0);
        ck_assert_int_eq(budp_options_set(o, key, max + 1), -EINVAL);
        ck_assert_int_eq(budp_options_set(o, key, min - 1), -EINVAL);
        for (size_t i = 0; i < sizeof far / sizeof far[0]; i++)
            if (far[i] < min || far[i] > max)
                ck_assert_int_eq(budp_options_set(o, key, far[i]), -EINVAL);
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_msg(v == min, "key %d changed by a rejected set", key);
    }
    budp_options_free(o);
}
END_TEST

START_TEST(unknown_keys_rejected)
{
    static const int keys[] = { 0, LAST_KEY + 1, -1, 1000, -2147483647 - 1 };
    budp_options *o = NULL;
    int64_t before[LAST_KEY + 1];

    ck_assert_int_eq(budp_options_new(&o), 0);
    for (int key = FIRST_KEY; key <= LAST_KEY; key++)
        ck_assert_int_eq(budp_options_get(o, key, &before[key]), 0);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t v = 12345, min = 1, max = 2, def = 3;

        ck_assert_int_eq(budp_options_set(o, keys[i], 0), -EINVAL);
        ck_assert_int_eq(budp_options_set(o, keys[i], 1), -EINVAL);
        ck_assert_int_eq(budp_options_get(o, keys[i], &v), -EINVAL);
        ck_assert_int_eq(v, 12345);
        ck_assert_int_eq(budp_options_bounds(keys[i], &min, &max, &def), -EINVAL);
        ck_assert(min == 1 && max == 2 && def == 3);
    }
    /* 20: the first number past the last key. */
    ck_assert_int_eq(budp_options_set(o, 20, 1), -EINVAL);
    for (int key = FIRST_KEY; key <= LAST_KEY; key++) {
        int64_t v;
        ck_assert_int_eq(budp_options_get(o, key, &v), 0);
        ck_assert_int_eq(v, before[key]);
    }
    budp_options_free(o);
}
END_TEST

START_TEST(ring_capacity_power_of_two)
{
    static const int64_t bad[] = { 3, 5, 6, 7, 100, 255, 257, 1000, 65535, 12288 };
    budp_options *o = NULL;
    int64_t v;

    ck_assert_int_eq(budp_options_new(&o), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RING_CAPACITY, 1024), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(budp_options_set(o, BUDP_OPT_RING_CAPACITY, bad[i]) == -EINVAL,
                      "ring capacity %lld accepted", (long long)bad[i]);
        ck_assert_int_eq(budp_options_get(o, BUDP_OPT_RING_CAPACITY, &v), 0);
        ck_assert_int_eq(v, 1024);
    }
    for (int64_t p = 2; p <= 65536; p *= 2) {
        ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RING_CAPACITY, p), 0);
        ck_assert_int_eq(budp_options_get(o, BUDP_OPT_RING_CAPACITY, &v), 0);
        ck_assert_int_eq(v, p);
    }
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RING_CAPACITY, 1), -EINVAL);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RING_CAPACITY, 131072), -EINVAL);
    ck_assert_int_eq(budp_options_get(o, BUDP_OPT_RING_CAPACITY, &v), 0);
    ck_assert_int_eq(v, 65536);
    /* 0: the automatic size. */
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_RING_CAPACITY, 0), 0);
    ck_assert_int_eq(budp_options_get(o, BUDP_OPT_RING_CAPACITY, &v), 0);
    ck_assert_int_eq(v, 0);
    budp_options_free(o);
}
END_TEST

/* Options whose memory would pass BUDP_MEMORY_LIMIT are refused before
 * anything is allocated; the automatic ring stays small. */
START_TEST(memory_limit)
{
    static const struct { int64_t ring, max_datagram, gro, threaded; } over[] = {
        { 65536, 2048, 1, 1 },   /* 65536 GRO slots: 4 GiB */
        { 65536, 65535, 0, 1 },  /* 65536 slots of 64 KiB */
        { 8192, 2048, 1, 1 },    /* 512 MiB */
    };

    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
        budp_options *o = tu_options(BUDP_OPT_THREADED, over[i].threaded,
                                     BUDP_OPT_RING_CAPACITY, over[i].ring,
                                     BUDP_OPT_MAX_DATAGRAM, over[i].max_datagram,
                                     BUDP_OPT_GRO, over[i].gro, 0);
        budp_socket *s = (budp_socket *)(uintptr_t)0x5a5a5a5a;
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        ck_assert_msg(budp_bind(&s, "127.0.0.1", 0, o) == -EINVAL, "case %zu", i);
        ck_assert_int_eq(budp_open(&s, fd, o), -EINVAL);
        ck_assert_ptr_eq(s, (budp_socket *)(uintptr_t)0x5a5a5a5a);
        close(fd);
        budp_options_free(o);
    }
}
END_TEST

START_TEST(null_pointers)
{
    budp_options *o = NULL;
    int64_t v = 77;

    ck_assert_int_eq(budp_options_new(NULL), -EINVAL);
    ck_assert_int_eq(budp_options_set(NULL, BUDP_OPT_BATCH_SIZE, 8), -EINVAL);
    ck_assert_int_eq(budp_options_get(NULL, BUDP_OPT_BATCH_SIZE, &v), -EINVAL);
    ck_assert_int_eq(v, 77);
    ck_assert_int_eq(budp_options_new(&o), 0);
    ck_assert_int_eq(budp_options_get(o, BUDP_OPT_BATCH_SIZE, NULL), -EINVAL);
    budp_options_free(o);
}
END_TEST

START_TEST(free_null_is_noop)
{
    budp_options_free(NULL);
    ck_assert(1);
}
END_TEST

/* Each options object is independent. */
START_TEST(objects_independent)
{
    budp_options *a = NULL, *b = NULL;
    int64_t v;

    ck_assert_int_eq(budp_options_new(&a), 0);
    ck_assert_int_eq(budp_options_new(&b), 0);
    ck_assert_ptr_ne(a, b);
    ck_assert_int_eq(budp_options_set(a, BUDP_OPT_BATCH_SIZE, 7), 0);
    ck_assert_int_eq(budp_options_get(b, BUDP_OPT_BATCH_SIZE, &v), 0);
    ck_assert_int_eq(v, 32);
    budp_options_free(a);
    budp_options_free(b);
}
END_TEST

/* The socket copies its options: freeing them right after bind, or changing
 * them, does not affect it.  MAX_DATAGRAM 100 shows through truncation. */
START_TEST(socket_keeps_own_copy)
{
    budp_options *o = tu_options(BUDP_OPT_MAX_DATAGRAM, (int64_t)100,
                                 BUDP_OPT_GRO, (int64_t)0, 0);
    budp_socket *rx, *tx;
    budp_addr dest;
    budp_datagram d;
    const budp_datagram *v;
    uint8_t payload[300];
    int n, w;

    rx = tu_bind("127.0.0.1", o);
    /* Poison the object before freeing it: the socket must not look. */
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_MAX_DATAGRAM, 65535), 0);
    budp_options_free(o);
    tx = tu_bind("127.0.0.1", NULL);
    dest = tu_local(rx);

    tu_payload_fill(payload, sizeof payload, 1, 0);
    memset(&d, 0, sizeof d);
    d.data = payload;
    d.len = sizeof payload;
    d.peer = dest;
    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    w = budp_wait(rx, 5000);
    ck_assert_int_eq(w, 1);
    n = budp_recv(rx, &v, 8);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(v[0].len, 100);
    ck_assert_uint_eq(v[0].flags & BUDP_DGRAM_TRUNCATED, BUDP_DGRAM_TRUNCATED);
    ck_assert_mem_eq(v[0].data, payload, 100);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* NULL options mean the defaults. */
START_TEST(null_options_are_defaults)
{
    budp_socket *rx = tu_bind("127.0.0.1", NULL), *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    static uint8_t payload[2048];
    budp_datagram d;
    const budp_datagram *v;

    tu_payload_fill(payload, sizeof payload, 2, 0);
    memset(&d, 0, sizeof d);
    d.data = payload;
    d.len = sizeof payload;
    d.peer = dest;
    ck_assert_int_eq(budp_send(tx, &d, 1), 1);
    ck_assert_int_eq(budp_wait(rx, 5000), 1);
    ck_assert_int_eq(budp_recv(rx, &v, 8), 1);
    /* 2048 is the default MAX_DATAGRAM: accepted whole. */
    ck_assert_uint_eq(v[0].len, 2048);
    ck_assert_uint_eq(v[0].flags & BUDP_DGRAM_TRUNCATED, 0);
    ck_assert_mem_eq(v[0].data, payload, 2048);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, version_agrees);
    tcase_add_test(tc, strerror_known_codes);
    tcase_add_test(tc, strerror_unknown_codes);
    tcase_add_test(tc, bounds_match_header);
    tcase_add_test(tc, defaults_equal_bounds_defaults);
    tcase_add_test(tc, set_get_at_bounds);
    tcase_add_test(tc, out_of_range_rejected_unchanged);
    tcase_add_test(tc, unknown_keys_rejected);
    tcase_add_test(tc, ring_capacity_power_of_two);
    tcase_add_test(tc, memory_limit);
    tcase_add_test(tc, null_pointers);
    tcase_add_test(tc, free_null_is_noop);
    tcase_add_test(tc, objects_independent);
    tcase_add_test(tc, socket_keeps_own_copy);
    tcase_add_test(tc, null_options_are_defaults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(options_suite());
}
