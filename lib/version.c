/* version.c - the version of the library loaded. */
#include "config.h"

#include "batchudp.h"

unsigned budp_version(void)
{
    return BUDP_VERSION;
}

const char *budp_version_string(void)
{
    return PACKAGE_VERSION;
}
