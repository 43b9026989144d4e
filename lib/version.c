/* version.c - the version of the library loaded. */
#include "build_config.h"

#include "batchudp.h"

#define BUDP_STRINGIFY(x) #x
#define BUDP_DECIMAL(x) BUDP_STRINGIFY(x)

unsigned budp_version(void)
{
    return BUDP_VERSION;
}

/* From the header's numbers, so that a build without configure reports the
 * same string; test_abi_ffi checks it against configure's PACKAGE_VERSION. */
const char *budp_version_string(void)
{
    return BUDP_DECIMAL(BUDP_VERSION_MAJOR) "." BUDP_DECIMAL(BUDP_VERSION_MINOR) "."
        BUDP_DECIMAL(BUDP_VERSION_PATCH);
}
