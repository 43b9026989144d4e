/* Prints the layout of the public types and the values of the public
 * constants as the C compiler sees include/batchudp.h, one "KEY VALUE" line
 * each, for tests/layout.rs to compare with the Rust declarations. */
#include <stddef.h>
#include <stdio.h>
#include <batchudp.h>

#define TYPE(t) \
    printf("size %s %zu\n", #t, sizeof(t)); \
    printf("align %s %zu\n", #t, (size_t)_Alignof(t))
#define FIELD(t, f) \
    printf("offset %s.%s %zu\n", #t, #f, offsetof(t, f)); \
    printf("fieldsize %s.%s %zu\n", #t, #f, sizeof(((t *)0)->f))
#define CONST(c) printf("const %s %lld\n", #c, (long long)(c))

int main(void)
{
    TYPE(budp_addr);
    FIELD(budp_addr, family);
    FIELD(budp_addr, port);
    FIELD(budp_addr, scope_id);
    FIELD(budp_addr, bytes);

    TYPE(budp_datagram);
    FIELD(budp_datagram, data);
    FIELD(budp_datagram, len);
    FIELD(budp_datagram, flags);
    FIELD(budp_datagram, peer);
    FIELD(budp_datagram, local);
    FIELD(budp_datagram, time_ns);
    FIELD(budp_datagram, segment_size);
    FIELD(budp_datagram, ecn);
    FIELD(budp_datagram, reserved);

    TYPE(budp_stats);
    FIELD(budp_stats, rx_datagrams);
    FIELD(budp_stats, rx_bytes);
    FIELD(budp_stats, rx_syscalls);
    FIELD(budp_stats, rx_truncated);
    FIELD(budp_stats, rx_kernel_drops);
    FIELD(budp_stats, rx_ring_full);
    FIELD(budp_stats, rx_dropped);
    FIELD(budp_stats, rx_errors);
    FIELD(budp_stats, tx_datagrams);
    FIELD(budp_stats, tx_bytes);
    FIELD(budp_stats, tx_syscalls);
    FIELD(budp_stats, tx_errors);
    FIELD(budp_stats, rx_coalesced);
    FIELD(budp_stats, tx_coalesced);
    FIELD(budp_stats, tx_gso_fallbacks);
    FIELD(budp_stats, rx_control_truncated);
    FIELD(budp_stats, kernel_anomalies);
    FIELD(budp_stats, tx_unconfirmed);
    FIELD(budp_stats, error_events);
    FIELD(budp_stats, error_events_dropped);

    TYPE(budp_error_event);
    FIELD(budp_error_event, destination);
    FIELD(budp_error_event, offender);
    FIELD(budp_error_event, error);
    FIELD(budp_error_event, mtu);
    FIELD(budp_error_event, origin);
    FIELD(budp_error_event, icmp_type);
    FIELD(budp_error_event, icmp_code);
    FIELD(budp_error_event, reserved);

    CONST(BUDP_VERSION_MAJOR);
    CONST(BUDP_VERSION_MINOR);
    CONST(BUDP_VERSION_PATCH);
    CONST(BUDP_VERSION);
    CONST(BUDP_AF_UNSPEC);
    CONST(BUDP_AF_INET);
    CONST(BUDP_AF_INET6);
    CONST(BUDP_DGRAM_TRUNCATED);
    CONST(BUDP_DGRAM_COALESCED);
    CONST(BUDP_DGRAM_HAS_LOCAL);
    CONST(BUDP_DGRAM_HAS_ECN);
    CONST(BUDP_DGRAM_CONTROL_TRUNCATED);
    CONST(BUDP_DGRAM_HAS_TIME);
    CONST(BUDP_OPT_BATCH_SIZE);
    CONST(BUDP_OPT_MAX_DATAGRAM);
    CONST(BUDP_OPT_BACKEND);
    CONST(BUDP_OPT_THREADED);
    CONST(BUDP_OPT_RING_CAPACITY);
    CONST(BUDP_OPT_OVERFLOW);
    CONST(BUDP_OPT_GRO);
    CONST(BUDP_OPT_GSO);
    CONST(BUDP_OPT_PKTINFO);
    CONST(BUDP_OPT_ECN);
    CONST(BUDP_OPT_RECV_BUFFER);
    CONST(BUDP_OPT_CALLBACK_THREAD);
    CONST(BUDP_OPT_TIMESTAMPS);
    CONST(BUDP_OPT_PACING);
    CONST(BUDP_OPT_ERRORS);
    CONST(BUDP_OPT_STEERING);
    CONST(BUDP_OPT_STEER_OFFSET);
    CONST(BUDP_OPT_STEER_LENGTH);
    CONST(BUDP_OPT_ZEROCOPY);
    CONST(BUDP_ZEROCOPY_MIN_BYTES);
    CONST(BUDP_STEER_HASH);
    CONST(BUDP_STEER_KEY);
    CONST(BUDP_STEER_CPU);
    CONST(BUDP_STEER_PAYLOAD_MAX);
    CONST(BUDP_PACING_OFF);
    CONST(BUDP_PACING_MONOTONIC);
    CONST(BUDP_PACING_TAI);
    CONST(BUDP_PACING_GRANULARITY_NS);
    CONST(BUDP_ERROR_ORIGIN_LOCAL);
    CONST(BUDP_ERROR_ORIGIN_ICMP);
    CONST(BUDP_ERROR_ORIGIN_ICMP6);
    CONST(BUDP_ERROR_QUEUE_EVENTS);
    CONST(BUDP_MEMORY_LIMIT);
    CONST(BUDP_APPLE_SEND_BUFFER);
    CONST(BUDP_BACKEND_AUTO);
    CONST(BUDP_BACKEND_MMSG);
    CONST(BUDP_BACKEND_MSGX);
    CONST(BUDP_BACKEND_LOOP);
    CONST(BUDP_BACKEND_URING);
    CONST(BUDP_OVERFLOW_WAIT);
    CONST(BUDP_OVERFLOW_DROP);
    CONST(BUDP_CALLBACK_CONTINUE);
    CONST(BUDP_CALLBACK_PAUSE);
    CONST(BUDP_GROUP_MAX_MEMBERS);
    return 0;
}
