/* sys_error.c - platform error codes into the library's.  On POSIX systems
 * the library's codes are errno values, so the translation is a negation;
 * another platform puts its table here. */
#include "build_config.h"

#include <errno.h>

#include "sys.h"

int budp_sys_translate(int platform_code)
{
    /* A failure with no code (errno 0) must still read as a failure. */
    return platform_code > 0 ? -platform_code : -EIO;
}

int budp_sys_error(void)
{
    return budp_sys_translate(errno);
}
