/* socket_create.h - the ways socket.c makes a handle that other files use. */
#ifndef BUDP_SOCKET_CREATE_H
#define BUDP_SOCKET_CREATE_H

#include <stdint.h>

#include "batchudp.h"

/* budp_bind for one member of a group: the socket shares host:port with
 * the group's others (budp_sys_bind_udp's shared), and o may steer. */
int budp_bind_member(budp_socket **out, const char *host, uint16_t port,
                     const budp_options *o);

#endif
