/* errno_names.h - errnos by name, for BUDP_FAULTS and the scenarios'
 * arguments (errno_names.c). */
#ifndef BUDP_ERRNO_NAMES_H
#define BUDP_ERRNO_NAMES_H

#include <stddef.h>

/* The errno the len bytes at name spell ("EINTR"...), or 0 for a name not
 * in the list. */
int fault_errno_named(const char *name, size_t len);

#endif
