/* relay_methods.c - the rows of --mode relay: ways of forwarding what a
 * relay receives to another address.  A table of its own, apart from
 * methods.c, since no method is shared between the relay and the other
 * modes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "bench.h"

const struct method relay_methods[] = {
    { "relay-recvfrom", KIND_RELAY_RECVFROM, 0, LIB_INLINE, 0, 0,
      "recvfrom + sendto per datagram (what most relays do): the\n"
      "                 reference of every ratio in relay mode", API_RECV, 0 },
    { "relay-mmsg", KIND_RELAY_MMSG, 0, LIB_INLINE, 0, 0,
      "a plain recvmmsg of --batch, then one sendmmsg of what came,\n"
      "                 from the same buffers; no library", API_RECV, 0 },
    { "relay-lib", KIND_RELAY_LIB, BUDP_BACKEND_AUTO, LIB_INLINE, 0, 0,
      "library inline: budp_recv of --batch, then budp_send of\n"
      "                 datagrams pointing at the received views' data (no\n"
      "                 copy); GRO and GSO off", API_RECV, 0 },
    { "relay-lib-gro", KIND_RELAY_LIB, BUDP_BACKEND_AUTO, LIB_INLINE, 1, 1,
      "as relay-lib, with BUDP_OPT_GRO=1 on the relay's socket (the\n"
      "                 sender's runs arrive whole) and BUDP_OPT_GSO=1 for its\n"
      "                 sends (each batch goes out as one UDP_SEGMENT send)", API_RECV, 0 },
};

const unsigned relay_method_count = sizeof relay_methods / sizeof relay_methods[0];

int method_relays(const struct method *m)
{
    return m->kind == KIND_RELAY_RECVFROM || m->kind == KIND_RELAY_MMSG ||
           m->kind == KIND_RELAY_LIB;
}

const struct method *relay_method_find(const char *name)
{
    unsigned i;

    for (i = 0; i < relay_method_count; i++)
        if (strcmp(relay_methods[i].name, name) == 0)
            return &relay_methods[i];
    return NULL;
}
