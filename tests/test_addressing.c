/* test_addressing.c - the path a datagram takes decides its control
 * messages: a dual-stack "::" socket reaches IPv4 peers on the IPv4 path,
 * where only IP_TOS sets ECN and IP_PKTINFO picks the source; and the
 * destination addresses reported carry the socket's real port, also for a
 * wrapped fd that was unbound until its first send. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

static budp_socket *ecn_socket(const char *host)
{
    budp_options *o = tu_options(BUDP_OPT_ECN, (int64_t)1, BUDP_OPT_PKTINFO,
                                 (int64_t)1, BUDP_OPT_GSO, (int64_t)0, 0);
    budp_socket *s = tu_bind(host, o);

    budp_options_free(o);
    return s;
}

/* Receive one datagram (waiting up to a second) and copy out its view. */
static budp_datagram recv_one(budp_socket *rx, uint8_t *copy, size_t size)
{
    const budp_datagram *v;
    budp_datagram d;
    int n;

    ck_assert_int_eq(budp_wait(rx, 1000), 1);
    n = budp_recv(rx, &v, 1);
    ck_assert_int_eq(n, 1);
    d = v[0];
    ck_assert_uint_le(d.len, size);
    memcpy(copy, d.data, d.len);
    d.data = copy;
    return d;
}

/* The ways a "::" socket names an IPv4 peer. */
enum v4_peer { PEER_V4, PEER_V4_MAPPED, PEER_CONNECTED, PEER_KINDS };
static const char *const peer_kind[] = { "IPv4", "IPv4-mapped", "connected" };

static budp_addr mapped(const budp_addr *v4)
{
    budp_addr a;

    memset(&a, 0, sizeof a);
    a.family = BUDP_AF_INET6;
    a.port = v4->port;
    a.bytes[10] = a.bytes[11] = 0xff;
    memcpy(&a.bytes[12], v4->bytes, 4);
    return a;
}

/* Every ECN codepoint from a dual-stack socket to an IPv4 receiver, however
 * the peer is named, arrives as sent. */
START_TEST(dual_stack_ecn_to_ipv4)
{
    const enum v4_peer kind = (enum v4_peer)_i;
    budp_socket *rx = ecn_socket("127.0.0.1"), *tx = ecn_socket("::");
    budp_addr dest = tu_local(rx), peer;
    uint8_t payload[4] = { 'e', 'c', 'n', 0 }, copy[16];

    if (kind == PEER_CONNECTED) {
        ck_assert_int_eq(budp_connect(tx, "127.0.0.1", dest.port), 0);
        memset(&peer, 0, sizeof peer);
    } else {
        peer = kind == PEER_V4 ? dest : mapped(&dest);
    }
    for (uint8_t ecn = 0; ecn <= 3; ecn++) {
        budp_datagram d = tu_datagram(payload, sizeof payload, &peer), got;

        payload[3] = ecn;
        d.ecn = ecn;
        ck_assert_int_eq(budp_send(tx, &d, 1), 1);
        got = recv_one(rx, copy, sizeof copy);
        ck_assert_uint_eq(got.len, sizeof payload);
        ck_assert_uint_eq(copy[3], ecn);
        ck_assert(got.flags & BUDP_DGRAM_HAS_ECN);
        ck_assert_msg(got.ecn == ecn, "%s peer: sent ECN %u, received %u",
                      peer_kind[kind], ecn, got.ecn);
    }
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* ECN on the IPv6 path of the same socket still uses the traffic class. */
START_TEST(dual_stack_ecn_to_ipv6)
{
    budp_socket *rx = ecn_socket("::1"), *tx = ecn_socket("::");
    budp_addr dest = tu_local(rx);
    uint8_t payload[3] = { 'v', '6', 0 }, copy[16];

    for (uint8_t ecn = 0; ecn <= 3; ecn++) {
        budp_datagram d = tu_datagram(payload, sizeof payload, &dest), got;

        d.ecn = ecn;
        ck_assert_int_eq(budp_send(tx, &d, 1), 1);
        got = recv_one(rx, copy, sizeof copy);
        ck_assert(got.flags & BUDP_DGRAM_HAS_ECN);
        ck_assert_uint_eq(got.ecn, ecn);
    }
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* The source address of an IPv4 datagram from a "::" socket, given as
 * IPv4 or IPv4-mapped, is used; one of the other family is refused. */
START_TEST(dual_stack_source_address)
{
    budp_socket *rx = ecn_socket("0.0.0.0"), *tx = ecn_socket("::");
    budp_addr dest, src, v6src;
    uint8_t payload[2] = { 's', 0 }, copy[8];

    ck_assert_int_eq(budp_addr_from_string(&dest, "127.0.0.1", tu_local(rx).port), 0);
    for (int form = 0; form < 2; form++) {
        budp_datagram d = tu_datagram(payload, sizeof payload, &dest), got;
        char text[64];

        ck_assert_int_eq(budp_addr_from_string(&src, "127.0.0.2", 0), 0);
        d.local = form == 0 ? src : mapped(&src);
        ck_assert_int_eq(budp_send(tx, &d, 1), 1);
        got = recv_one(rx, copy, sizeof copy);
        ck_assert_int_ge(budp_addr_to_string(&got.peer, text, sizeof text), 0);
        ck_assert_msg(strcmp(text, "127.0.0.2") == 0 ||
                          strcmp(text, "::ffff:127.0.0.2") == 0,
                      "form %d: source %s", form, text);
    }
    /* An IPv6 source for an IPv4 destination cannot be. */
    ck_assert_int_eq(budp_addr_from_string(&v6src, "::1", 0), 0);
    {
        budp_datagram d = tu_datagram(payload, sizeof payload, &dest);
        d.local = v6src;
        ck_assert_int_eq(budp_send(tx, &d, 1), -EINVAL);
    }
    budp_close(tx);
    budp_close(rx);
}
END_TEST

/* A wrapped fd unbound at budp_open: the kernel binds it on the first
 * send, and destination addresses then carry that port, not 0. */
START_TEST(wrapped_unbound_fd_learns_its_port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    budp_options *o = tu_options(BUDP_OPT_PKTINFO, (int64_t)1, 0);
    budp_socket *s = NULL, *peer = tu_bind("127.0.0.1", NULL);
    budp_addr peer_addr = tu_local(peer), bound;
    uint8_t ping[4] = "ping", copy[16];
    budp_datagram d = tu_datagram(ping, sizeof ping, &peer_addr), got;
    const budp_datagram *v;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(budp_open(&s, fd, o), 0);
    budp_options_free(o);
    ck_assert_int_eq(budp_local_addr(s, &bound), 0);
    ck_assert_uint_eq(bound.port, 0);
    ck_assert_int_eq(budp_send(s, &d, 1), 1);
    /* The peer answers whoever sent. */
    ck_assert_int_eq(budp_wait(peer, 1000), 1);
    ck_assert_int_eq(budp_recv(peer, &v, 1), 1);
    d = tu_datagram(ping, sizeof ping, &v[0].peer);
    ck_assert_int_eq(budp_send(peer, &d, 1), 1);
    got = recv_one(s, copy, sizeof copy);
    ck_assert_int_eq(budp_local_addr(s, &bound), 0);
    ck_assert_uint_ne(bound.port, 0);
    ck_assert(got.flags & BUDP_DGRAM_HAS_LOCAL);
    ck_assert_msg(got.local.port == bound.port, "local port %u, bound to %u",
                  got.local.port, bound.port);
    budp_close(s);
    budp_close(peer);
    close(fd);
}
END_TEST

static Suite *addressing_suite(void)
{
    Suite *s = suite_create("addressing");
    TCase *tc = tcase_create("paths");

    tcase_add_loop_test(tc, dual_stack_ecn_to_ipv4, 0, PEER_KINDS);
    tcase_add_test(tc, dual_stack_ecn_to_ipv6);
    tcase_add_test(tc, dual_stack_source_address);
    tcase_add_test(tc, wrapped_unbound_fd_learns_its_port);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(addressing_suite());
}
