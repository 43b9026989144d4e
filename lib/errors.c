/* errors.c - error descriptions. */
#include "build_config.h"

#include <errno.h>
#include <string.h>

#include "batchudp.h"

/* A fixed table rather than strerror(): the text must be static, the same
 * on every platform, and safe to call from any thread. */
static const struct { unsigned code; const char *text; } error_texts[] = {
    { 0,               "Success" },
    { EPERM,           "Operation not permitted" },
    { ENOENT,          "No such file or directory" },
    { EINTR,           "Interrupted system call" },
    { EIO,             "Input/output error" },
    { EBADF,           "Bad file descriptor, or socket shut down" },
    { EAGAIN,          "Resource temporarily unavailable" },
    { ENOMEM,          "Out of memory" },
    { EACCES,          "Permission denied" },
    { EFAULT,          "Bad address" },
    { EBUSY,           "Not allowed from inside the socket's callback" },
    { EINVAL,          "Invalid argument" },
    { ENOSPC,          "Buffer too small" },
    { ENOBUFS,         "No buffer space available" },
    { ENOTSOCK,        "Not a socket" },
    { EDESTADDRREQ,    "Destination address required" },
    { EMSGSIZE,        "Message too long" },
    { EPROTOTYPE,      "Not a UDP socket" },
    { ENOPROTOOPT,     "Protocol not available" },
    { ENOTSUP,         "Not supported" },
    { EAFNOSUPPORT,    "Address family not supported" },
    { EADDRINUSE,      "Address already in use" },
    { EADDRNOTAVAIL,   "Cannot assign requested address" },
    { ENETDOWN,        "Network is down" },
    { ENETUNREACH,     "Network is unreachable" },
    { ECONNRESET,      "Connection reset by peer" },
    { ENOTCONN,        "Socket is not connected" },
    { ETIMEDOUT,       "Timed out" },
    { ECONNREFUSED,    "Connection refused" },
    { EHOSTDOWN,       "Host is down" },
    { EHOSTUNREACH,    "No route to host" },
    { EPROTO,          "Protocol error" },
};

const char *budp_strerror(int err)
{
    /* Negate in unsigned arithmetic: -INT_MIN does not fit an int. */
    unsigned code = err < 0 ? 0u - (unsigned)err : (unsigned)err;

    for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
        if (error_texts[i].code == code)
            return error_texts[i].text;
    return "Unknown error";
}
