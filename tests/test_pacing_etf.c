/* test_pacing_etf.c - budp_pacing_support with etf, the queue discipline
 * that honours departure times in the clock it was set up with: a socket
 * pacing in that clock is told yes, one in another clock no.  Exits 77
 * (skipped, with the reason) where namespaces cannot be made or the
 * kernel has no etf (CONFIG_NET_SCH_ETF). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"
#include "netpath.h"
#include "testutil.h"

START_TEST(pacing_support_reads_etf_clock)
{
    budp_socket *tai, *mono;
    int f1, f2;
    char detail[128];
    budp_addr dest;

    ck_assert_int_eq(budp_addr_from_string(&dest, "10.204.1.2", 9), 0);
    tai = netpath_paced(BUDP_PACING_TAI, &f1);
    mono = netpath_paced(BUDP_PACING_MONOTONIC, &f2);
    ck_assert_int_eq(tn_run("ip netns exec %s tc qdisc replace dev va root etf "
                            "clockid CLOCK_TAI delta 500000", ns_a), 0);
    ck_assert_int_eq(netpath_support_from_a(tai, &dest, detail, sizeof detail), 1);
    printf("etf, CLOCK_TAI socket: %s\n", detail);
    ck_assert_ptr_nonnull(strstr(detail, "etf, CLOCK_TAI honoured"));
    ck_assert_int_eq(netpath_support_from_a(mono, &dest, detail, sizeof detail), 0);
    printf("etf, CLOCK_MONOTONIC socket: %s\n", detail);
    ck_assert_ptr_nonnull(strstr(detail, "does not honour CLOCK_MONOTONIC"));
    tn_run("ip netns exec %s tc qdisc del dev va root 2>/dev/null", ns_a);
    budp_close(tai);
    budp_close(mono);
    close(f1);
    close(f2);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;

    if (netpath_setup_or_skip("the etf pacing test") != 0 ||
        netpath_qdisc_or_skip("etf clockid CLOCK_TAI delta 500000", "CONFIG_NET_SCH_ETF",
                              "the etf pacing test") != 0)
        return 77;
    s = suite_create("pacing_etf");
    tc = tcase_create("etf");
    tcase_add_test(tc, pacing_support_reads_etf_clock);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
