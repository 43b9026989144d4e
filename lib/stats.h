/* stats.h - adding to a socket's counters from a view fill, and
 * budp_get_stats. */
#ifndef BUDP_STATS_H
#define BUDP_STATS_H

#include "handle.h"
#include "views.h"

/* Add a view fill's tally to the socket's stats. */
void budp_stats_add_tally(struct budp_socket *s, const struct budp_view_tally *t);

#endif
