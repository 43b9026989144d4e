/* msgx_gate.c - which Apple releases AUTO trusts with recvmsg_x (see
 * msgx_gate.h): a pure version check, and the read of the system's
 * version that feeds it. */
#include "build_config.h"

/* Part of the msgx backend: left out with it. */
#ifdef BUDP_WITH_MSGX

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#if defined(__APPLE__)
#include <TargetConditionals.h>
#endif

#include "msgx_gate.h"

/* First fixed release of each system, in the order of enum budp_apple_os:
 * all shipped together in July 2025 with xnu-11417.140.69. */
static const struct {
    const char *name;
    unsigned major, minor;
    const char *text;
} releases[] = {
    { "macOS", 15, 6, "15.6" },
    { "iOS", 18, 6, "18.6" },
    { "tvOS", 18, 6, "18.6" },
    { "watchOS", 11, 6, "11.6" },
    { "visionOS", 2, 6, "2.6" },
    { "Darwin", 24, 6, "24.6" },
};

const char *budp_apple_os_name(enum budp_apple_os os)
{
    return releases[os].name;
}

const char *budp_msgx_first_fixed(enum budp_apple_os os)
{
    return releases[os].text;
}

/* Read a decimal part of at most 5 digits at *p, moving past it. */
static int read_part(const char **p, unsigned *out)
{
    unsigned v = 0, digits = 0;

    while (**p >= '0' && **p <= '9') {
        if (++digits > 5)
            return -1;
        v = v * 10 + (unsigned)(**p - '0');
        (*p)++;
    }
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

int budp_msgx_version_fixed(enum budp_apple_os os, const char *version)
{
    const char *p = version;
    unsigned major, minor = 0, patch;

    if (p == NULL || read_part(&p, &major) < 0)
        return -1;
    if (*p == '.') {
        p++;
        if (read_part(&p, &minor) < 0)
            return -1;
        /* The patch level never decides: the fix came with a minor
         * release. */
        while (*p == '.') {
            p++;
            if (read_part(&p, &patch) < 0)
                return -1;
        }
    }
    if (*p != '\0')
        return -1;
    if (major != releases[os].major)
        return major > releases[os].major;
    return minor >= releases[os].minor;
}

/* The system this library was built for, as its product version names it.
 * Mac Catalyst reads the kernel's release: an iOS app on a Mac may be told
 * an iOS-like product version.  A build for another system runs msgx only
 * against the test suite's emulation, which stands for macOS. */
static enum budp_apple_os built_for(void)
{
#if defined(__APPLE__) && TARGET_OS_MACCATALYST
    return BUDP_OS_DARWIN;
#elif defined(__APPLE__) && defined(TARGET_OS_VISION) && TARGET_OS_VISION
    return BUDP_OS_VISIONOS;
#elif defined(__APPLE__) && TARGET_OS_WATCH
    return BUDP_OS_WATCHOS;
#elif defined(__APPLE__) && TARGET_OS_TV
    return BUDP_OS_TVOS;
#elif defined(__APPLE__) && TARGET_OS_IOS
    return BUDP_OS_IOS;
#else
    return BUDP_OS_MACOS;
#endif
}

typedef int (*sysctlbyname_fn)(const char *name, void *old, size_t *oldlen,
                               void *new_value, size_t newlen);

/* A string sysctl into buf, NUL-terminated; 0, or -1 when it cannot be
 * read. */
static int read_sysctl(sysctlbyname_fn fn, const char *name, char *buf,
                       size_t size)
{
    size_t len = size - 1;

    /* len counts the terminating NUL where the kernel wrote one; the one
     * written here ends the text either way. */
    if (fn == NULL || fn(name, buf, &len, NULL, 0) != 0 || len == 0 ||
        len >= size)
        return -1;
    buf[len] = '\0';
    return 0;
}

enum budp_msgx_gate_verdict budp_msgx_gate(char *why, size_t size)
{
    sysctlbyname_fn fn = NULL;
    enum budp_apple_os os = built_for();
    const char *key = os == BUDP_OS_DARWIN ? "kern.osrelease"
                                           : "kern.osproductversion";
    void *sym = dlsym(RTLD_DEFAULT, "sysctlbyname");
    char version[32];
    int fixed = -1;

    /* Casting a data pointer to a function pointer is what dlsym
     * requires. */
    memcpy(&fn, &sym, sizeof fn);
    if (read_sysctl(fn, key, version, sizeof version) == 0)
        fixed = budp_msgx_version_fixed(os, version);
    if (fixed < 0 && os != BUDP_OS_DARWIN) {
        os = BUDP_OS_DARWIN;
        if (read_sysctl(fn, "kern.osrelease", version, sizeof version) == 0)
            fixed = budp_msgx_version_fixed(os, version);
    }
    if (fixed < 0) {
        snprintf(why, size, "recvmsg_x avoided: the system's version could "
                            "not be read");
        return BUDP_MSGX_GATE_UNKNOWN;
    }
    if (!fixed) {
        snprintf(why, size, "recvmsg_x avoided below %s %s (this is %s %s)",
                 budp_apple_os_name(os), budp_msgx_first_fixed(os),
                 budp_apple_os_name(os), version);
        return BUDP_MSGX_GATE_OLD;
    }
    snprintf(why, size, "recvmsg_x/sendmsg_x, %s %s", budp_apple_os_name(os),
             version);
    return BUDP_MSGX_GATE_OPEN;
}

#endif /* BUDP_WITH_MSGX */
