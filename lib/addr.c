/* addr.c - budp_addr <-> sockaddr, numeric host parsing. */
#include "build_config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/* An IPv4 address in its one standard form: four decimal parts.  Not
 * getaddrinfo's inet_aton rules, which read "127.1" as 127.0.0.1,
 * "017.0.0.1" as 15.0.0.1 and "1" as 0.0.0.1. */
static int parse_ipv4(struct sockaddr_storage *ss, socklen_t *len,
                      const char *host, uint16_t port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        return -EINVAL;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    *len = (socklen_t)sizeof *sin;
    return 0;
}

int budp_addr_parse(struct sockaddr_storage *ss, socklen_t *len,
                    const char *host, uint16_t port)
{
    struct addrinfo hints, *res = NULL;
    char service[8];

    /* Every IPv6 address has a colon, no IPv4 one does. */
    if (strchr(host, ':') == NULL)
        return parse_ipv4(ss, len, host, port);
    /* IPv6 through getaddrinfo, for its zone ids ("fe80::1%eth0"); its
     * IPv6 parsing is inet_pton's. */
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET6;
    hints.ai_socktype = SOCK_DGRAM;
    /* Numeric only: a library call must never block on a name lookup. */
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL)
        return -EINVAL;
    if (res->ai_addrlen > sizeof *ss || res->ai_family != AF_INET6) {
        freeaddrinfo(res);
        return -EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = (socklen_t)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int budp_addr_from_string(budp_addr *out, const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc;

    if (out == NULL || host == NULL)
        return -EINVAL;
    rc = budp_addr_parse(&ss, &len, host, port);
    if (rc < 0)
        return rc;
    budp_addr_from_sockaddr(out, (const struct sockaddr *)&ss, len);
    return 0;
}

int budp_addr_to_string(const budp_addr *a, char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN + 16];
    size_t n;

    if (a == NULL || buf == NULL)
        return -EINVAL;
    if (a->family == BUDP_AF_INET) {
        if (inet_ntop(AF_INET, a->bytes, text, sizeof text) == NULL)
            return -EINVAL;
    } else if (a->family == BUDP_AF_INET6) {
        if (inet_ntop(AF_INET6, a->bytes, text, sizeof text) == NULL)
            return -EINVAL;
        if (a->scope_id != 0) {
            n = strlen(text);
            snprintf(text + n, sizeof text - n, "%%%u", (unsigned)a->scope_id);
        }
    } else {
        return -EINVAL;
    }
    n = strlen(text);
    if (n + 1 > size)
        return -ENOSPC;
    memcpy(buf, text, n + 1);
    return (int)n;
}

int budp_addr_equal(const budp_addr *a, const budp_addr *b)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    if (a->family == BUDP_AF_INET)
        return memcmp(a->bytes, b->bytes, 4) == 0;
    if (a->family == BUDP_AF_INET6)
        return a->scope_id == b->scope_id && memcmp(a->bytes, b->bytes, 16) == 0;
    return 1;
}
