/* fuzz_addr.c - addresses as text and as sockaddr: what parses prints and
 * parses back to the same address, printing never writes past the size it
 * is given, and a sockaddr of any family and length gives a family the
 * library knows or none, reading only the bytes it was given.
 *
 * Input: a selector byte, then a host string (NUL-terminated or to the
 * end), a port, a budp_addr's bytes, a buffer size and a raw sockaddr. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST_MAX 96

/* Print a into a buffer of exactly size bytes (past it, ASan reports a
 * write) and check what came back. */
static int print_checked(const budp_addr *a, size_t size, char *out, size_t out_size)
{
    char *buf = malloc(size ? size : 1);
    int rc;

    if (buf == NULL)
        return -ENOMEM;
    memset(buf, '#', size ? size : 1);
    rc = budp_addr_to_string(a, buf, size);
    if (rc >= 0) {
        FUZZ_CHECK((size_t)rc < size);
        FUZZ_CHECK(buf[rc] == '\0' && strlen(buf) == (size_t)rc);
        FUZZ_CHECK(a->family == BUDP_AF_INET || a->family == BUDP_AF_INET6);
        if ((size_t)rc < out_size)
            memcpy(out, buf, (size_t)rc + 1);
    } else {
        FUZZ_CHECK(rc == -EINVAL || rc == -ENOSPC);
        FUZZ_CHECK(rc == -ENOSPC || (a->family != BUDP_AF_INET &&
                                     a->family != BUDP_AF_INET6));
        /* A call that fails writes nothing. */
        for (size_t i = 0; i < size; i++)
            FUZZ_CHECK(buf[i] == '#');
    }
    free(buf);
    return rc;
}

/* Text from a parsed address parses back to it. */
static void round_trip(const budp_addr *a)
{
    char text[64];
    budp_addr back;
    int n = print_checked(a, sizeof text, text, sizeof text);

    /* 64 bytes always suffice. */
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(print_checked(a, (size_t)n, NULL, 0) == -ENOSPC);
    FUZZ_CHECK(print_checked(a, (size_t)n + 1, NULL, 0) == n);
    FUZZ_CHECK(budp_addr_from_string(&back, text, a->port) == 0);
    FUZZ_CHECK(budp_addr_equal(a, &back));
    FUZZ_CHECK(fuzz_addr_is_clean(&back));
}

static void check_parse(const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    budp_addr a, b;
    int rc = budp_addr_from_string(&a, host, port);
    int rc2 = budp_addr_parse(&ss, &len, host, port);

    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    FUZZ_CHECK(rc == rc2);
    if (rc < 0)
        return;
    FUZZ_CHECK(a.family == BUDP_AF_INET || a.family == BUDP_AF_INET6);
    FUZZ_CHECK(a.port == port);
    FUZZ_CHECK(fuzz_addr_is_clean(&a));
    FUZZ_CHECK(len == (a.family == BUDP_AF_INET ? sizeof(struct sockaddr_in)
                                                : sizeof(struct sockaddr_in6)));
    budp_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, len);
    FUZZ_CHECK(budp_addr_equal(&a, &b));
    /* Only the standard forms: an IPv4 address has no colon, an IPv6 one
     * does. */
    FUZZ_CHECK((a.family == BUDP_AF_INET6) == (strchr(host, ':') != NULL));
    round_trip(&a);
}

/* Any budp_addr: printing is bounded; a known family converts to a
 * sockaddr and back. */
static void check_addr(const budp_addr *a, size_t size, int sock_family)
{
    struct sockaddr_storage ss;
    budp_addr b;
    int rc;

    print_checked(a, size, NULL, 0);
    rc = budp_addr_to_sockaddr(a, sock_family, &ss);
    if (a->family == BUDP_AF_UNSPEC) {
        FUZZ_CHECK(rc == 0);
        return;
    }
    if (a->family != BUDP_AF_INET && a->family != BUDP_AF_INET6) {
        FUZZ_CHECK(rc == -EINVAL);
        return;
    }
    FUZZ_CHECK(rc == (int)sizeof(struct sockaddr_in) ||
               rc == (int)sizeof(struct sockaddr_in6));
    budp_addr_from_sockaddr(&b, (const struct sockaddr *)&ss, (socklen_t)rc);
    FUZZ_CHECK(b.port == a->port);
    if (a->family == BUDP_AF_INET && sock_family == BUDP_AF_INET6) {
        /* Mapped: ::ffff:a.b.c.d. */
        static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        FUZZ_CHECK(b.family == BUDP_AF_INET6);
        FUZZ_CHECK(memcmp(b.bytes, prefix, 12) == 0 && memcmp(b.bytes + 12, a->bytes, 4) == 0);
    } else {
        FUZZ_CHECK(budp_addr_equal(a, &b));
        if (a->family == BUDP_AF_INET6) {
            char text[64];
            /* Every IPv6 address prints and parses back, scope and all. */
            FUZZ_CHECK(print_checked(a, sizeof text, text, sizeof text) > 0);
            round_trip(a);
        }
    }
}

/* A sockaddr of len bytes, in a buffer of exactly that size. */
static void check_sockaddr(struct fuzz_input *in)
{
    size_t len = fuzz_u8(in) % (sizeof(struct sockaddr_storage) + 1);
    uint8_t *raw = malloc(len ? len : 1);
    budp_addr a;

    if (raw == NULL)
        return;
    fuzz_bytes(in, raw, len);
    if (len >= offsetof(struct sockaddr, sa_family) + sizeof(sa_family_t)) {
        uint8_t f = fuzz_u8(in);
        sa_family_t fam = (f & 3) == 0 ? AF_INET : (f & 3) == 1 ? AF_INET6
                                                  : (sa_family_t)(f >> 2);
        memcpy(raw + offsetof(struct sockaddr, sa_family), &fam, sizeof fam);
    }
    budp_addr_from_sockaddr(&a, (const struct sockaddr *)raw, (socklen_t)len);
    FUZZ_CHECK(fuzz_addr_is_clean(&a));
    if (a.family == BUDP_AF_INET)
        FUZZ_CHECK(len >= sizeof(struct sockaddr_in));
    if (a.family == BUDP_AF_INET6)
        FUZZ_CHECK(len >= sizeof(struct sockaddr_in6));
    free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in;
    char host[HOST_MAX + 1];
    size_t n = 0;
    uint16_t port;
    budp_addr a;
    uint8_t sel, b;

    fuzz_input_init(&in, data, size);
    sel = fuzz_u8(&in);
    while (n < HOST_MAX && !fuzz_empty(&in) && (b = fuzz_u8(&in)) != 0)
        host[n++] = (char)b;
    host[n] = '\0';
    port = fuzz_u16(&in);
    check_parse(host, port);

    fuzz_bytes(&in, &a, sizeof a);
    /* Mostly a family the library knows, so the conversions go deep. */
    if ((sel & 3) == 0)
        a.family = BUDP_AF_INET;
    else if ((sel & 3) == 1)
        a.family = BUDP_AF_INET6;
    if (a.family == BUDP_AF_INET6 && (sel & 4))
        a.scope_id = 0;
    check_addr(&a, fuzz_u8(&in) % 80, (sel & 8) ? BUDP_AF_INET6 : BUDP_AF_INET);

    check_sockaddr(&in);

    /* NULL pointers are refused, not followed. */
    FUZZ_CHECK(budp_addr_from_string(NULL, host, port) == -EINVAL);
    FUZZ_CHECK(budp_addr_from_string(&a, NULL, port) == -EINVAL);
    FUZZ_CHECK(budp_addr_to_string(NULL, host, sizeof host) == -EINVAL);
    FUZZ_CHECK(budp_addr_to_string(&a, NULL, 64) == -EINVAL);
    return 0;
}
