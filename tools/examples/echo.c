/* echo.c - a UDP echo server on libbatchudp: receive a batch, send it back
 * to where each datagram came from, with one system call each way.
 * Usage: echo [port] [count]  (stops after count datagrams; 0 = forever). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <batchudp.h>

int main(int argc, char **argv)
{
    uint16_t port = argc > 1 ? (uint16_t)atoi(argv[1]) : 9000;
    unsigned long limit = argc > 2 ? strtoul(argv[2], NULL, 10) : 0, echoed = 0;
    budp_options *opts;
    budp_socket *sock;
    budp_datagram replies[64];
    int rc;

    if ((rc = budp_options_new(&opts)) < 0 ||
        (rc = budp_options_set(opts, BUDP_OPT_BATCH_SIZE, 64)) < 0 ||
        (rc = budp_bind(&sock, "::", port, opts)) < 0) {
        fprintf(stderr, "echo: %s\n", budp_strerror(rc));
        return 1;
    }
    budp_options_free(opts);
    printf("echo: listening on [::]:%u with backend %s\n", port, budp_backend_name(sock));
    fflush(stdout);

    while (limit == 0 || echoed < limit) {
        const budp_datagram *in;
        int n = budp_recv(sock, &in, 64);

        if (n == 0) {
            budp_wait(sock, -1);
            continue;
        }
        if (n < 0) {
            /* ICMP-borne errors are reported once; the socket stays usable. */
            fprintf(stderr, "echo: %s\n", budp_strerror(n));
            continue;
        }
        for (int i = 0; i < n; i++) {
            /* The same bytes (valid until the next recv), back to the sender. */
            memset(&replies[i], 0, sizeof replies[i]);
            replies[i].data = in[i].data;
            replies[i].len = in[i].len;
            replies[i].peer = in[i].peer;
        }
        for (int sent = 0; sent < n;) {
            rc = budp_send(sock, replies + sent, (unsigned)(n - sent));
            if (rc < 0)
                break; /* a full send buffer drops the rest, as UDP would */
            sent += rc;
        }
        echoed += (unsigned long)n;
    }
    budp_close(sock);
    return 0;
}
