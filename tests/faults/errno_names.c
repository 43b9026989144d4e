/* errno_names.c - the errnos the fault rules and scenarios name. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "errno_names.h"

static const struct { const char *name; int value; } errnos[] = {
    { "EINTR", EINTR }, { "EAGAIN", EAGAIN }, { "ENOBUFS", ENOBUFS },
    { "ENOMEM", ENOMEM }, { "EBADF", EBADF }, { "ECONNREFUSED", ECONNREFUSED },
    { "EIO", EIO }, { "EMSGSIZE", EMSGSIZE }, { "ENOPROTOOPT", ENOPROTOOPT },
    { "EPERM", EPERM }, { "EMFILE", EMFILE }, { "EINVAL", EINVAL },
};

int fault_errno_named(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (strlen(errnos[i].name) == len && strncmp(errnos[i].name, name, len) == 0)
            return errnos[i].value;
    return 0;
}
