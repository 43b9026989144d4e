/* test_timestamps.c - BUDP_OPT_TIMESTAMPS: every received datagram carries
 * the kernel's receive time, on every backend and in every mode, and the
 * segments of a GRO receive carry their packet's. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

static uint64_t realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static budp_socket *receiver(const char *host, int backend, enum tu_mode mode, int on)
{
    budp_options *o = tu_mode_options(mode);
    budp_socket *s;

    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_TIMESTAMPS, on), 0);
    ck_assert_int_eq(budp_options_set(o, BUDP_OPT_BACKEND, backend), 0);
    s = tu_bind(host, o);
    budp_options_free(o);
    return s;
}

/* Send count datagrams to rx and check every one that arrives: flagged
 * and timed when on (within a second of the clock read around the
 * receive, never earlier than the one before), untimed when off. */
static void burst(const char *host, int backend, enum tu_mode mode, int on)
{
    enum { COUNT = 64 };
    budp_socket *rx = receiver(host, backend, mode, on);
    budp_socket *tx = tu_bind(host, NULL);
    budp_addr dest = tu_local(rx);
    uint64_t before = realtime_ns(), last = 0;
    unsigned got = 0;
    double deadline = tu_now_ms() + 5000;

    tu_send_seq(tx, &dest, 0, 0, COUNT, 100, 16);
    while (got < COUNT && tu_now_ms() < deadline) {
        const budp_datagram *d;
        int n;

        ck_assert_int_ge(budp_wait(rx, 100), 0);
        n = budp_recv(rx, &d, COUNT);
        ck_assert_int_ge(n, 0);
        for (int i = 0; i < n; i++, got++) {
            uint64_t now = realtime_ns();

            if (!on) {
                ck_assert_uint_eq(d[i].flags & BUDP_DGRAM_HAS_TIME, 0);
                ck_assert_uint_eq(d[i].time_ns, 0);
                continue;
            }
            ck_assert_msg(d[i].flags & BUDP_DGRAM_HAS_TIME, "datagram %u untimed", got);
            ck_assert_msg(d[i].time_ns + 1000000000u >= before && d[i].time_ns <= now + 1000000000u,
                          "datagram %u: time %llu, clock %llu", got,
                          (unsigned long long)d[i].time_ns, (unsigned long long)now);
            ck_assert_msg(d[i].time_ns >= last, "datagram %u earlier than the one before", got);
            last = d[i].time_ns;
        }
    }
    ck_assert_uint_eq(got, COUNT);
    budp_close(rx);
    budp_close(tx);
}

START_TEST(timed_inline_mmsg_v4)   { burst("127.0.0.1", BUDP_BACKEND_MMSG, TU_INLINE, 1); }
END_TEST
START_TEST(timed_inline_mmsg_v6)   { burst("::1", BUDP_BACKEND_MMSG, TU_INLINE, 1); }
END_TEST
START_TEST(timed_inline_loop)      { burst("127.0.0.1", BUDP_BACKEND_LOOP, TU_INLINE, 1); }
END_TEST
START_TEST(timed_threaded)         { burst("127.0.0.1", BUDP_BACKEND_AUTO, TU_THREADED, 1); }
END_TEST
START_TEST(untimed_when_off)       { burst("127.0.0.1", BUDP_BACKEND_AUTO, TU_INLINE, 0); }
END_TEST

/* One GSO send of 20 datagrams, received by GRO as one packet: all 20
 * views carry that packet's time. */
START_TEST(gro_segments_share_the_time)
{
    budp_options *o = tu_options(BUDP_OPT_TIMESTAMPS, (int64_t)1, BUDP_OPT_GRO, (int64_t)1,
                                 BUDP_OPT_MAX_DATAGRAM, (int64_t)2048, 0);
    budp_socket *rx = tu_bind("127.0.0.1", o);
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(rx);
    budp_datagram d[20];
    uint8_t payload[20][1000];
    const budp_datagram *v;
    budp_stats st;
    unsigned got = 0, coalesced = 0;
    uint64_t packet_time = 0;

    budp_options_free(o);
    for (unsigned i = 0; i < 20; i++) {
        tu_payload_fill(payload[i], sizeof payload[i], 0, i);
        d[i] = tu_datagram(payload[i], sizeof payload[i], &dest);
    }
    ck_assert_int_eq(budp_send(tx, d, 20), 20);
    st = tu_stats(tx);
    ck_assert_uint_eq(st.tx_coalesced, 1);
    while (got < 20) {
        int n;
        ck_assert_int_eq(budp_wait(rx, 2000), 1);
        n = budp_recv(rx, &v, 64);
        ck_assert_int_gt(n, 0);
        for (int i = 0; i < n; i++, got++) {
            ck_assert(v[i].flags & BUDP_DGRAM_HAS_TIME);
            if (v[i].flags & BUDP_DGRAM_COALESCED) {
                if (coalesced++ == 0)
                    packet_time = v[i].time_ns;
                ck_assert_uint_eq(v[i].time_ns, packet_time);
            }
        }
    }
    /* Loopback keeps the GSO packet whole: GRO hands it over as one. */
    ck_assert_uint_eq(coalesced, 20);
    ck_assert_uint_ne(packet_time, 0);
    budp_close(rx);
    budp_close(tx);
}
END_TEST

/* A time on a datagram to send is refused while pacing is off. */
START_TEST(send_time_refused_without_pacing)
{
    budp_socket *tx = tu_bind("127.0.0.1", NULL);
    budp_addr dest = tu_local(tx);
    uint8_t byte = 1;
    budp_datagram d = tu_datagram(&byte, 1, &dest);

    d.time_ns = 1;
    ck_assert_int_eq(budp_send(tx, &d, 1), -EINVAL);
    ck_assert_uint_eq(tu_stats(tx).tx_datagrams, 0);
    budp_close(tx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timestamps");
    TCase *tc = tcase_create("receive");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, timed_inline_mmsg_v4);
    tcase_add_test(tc, timed_inline_mmsg_v6);
    tcase_add_test(tc, timed_inline_loop);
    tcase_add_test(tc, timed_threaded);
    tcase_add_test(tc, untimed_when_off);
    tcase_add_test(tc, gro_segments_share_the_time);
    tcase_add_test(tc, send_time_refused_without_pacing);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
