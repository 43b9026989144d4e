/* msgx_gate.h - whether AUTO may use recvmsg_x/sendmsg_x on this system.
 *
 * Before macOS 15.6 (xnu-11417.140.69), recvmsg_x can return with the
 * socket's lock still held when several processes receive on one shared
 * socket: the next receive deadlocks on it, and the kernel's loopback input
 * thread blocks behind it, dropping every loopback packet of the machine
 * until a reboot.  iOS, iPadOS and tvOS 18.6, watchOS 11.6 and visionOS 2.6
 * carry the same kernel release.  AUTO therefore passes msgx over on older
 * systems; BUDP_BACKEND_MSGX still takes it, for a program that knows its
 * socket is never shared between processes. */
#ifndef BUDP_MSGX_GATE_H
#define BUDP_MSGX_GATE_H

#include <stddef.h>

/* The systems whose versions are known, and "darwin" for the kernel's own
 * release (kern.osrelease: 24.6 is the release of macOS 15.6). */
enum budp_apple_os {
    BUDP_OS_MACOS,
    BUDP_OS_IOS,      /* iOS and iPadOS */
    BUDP_OS_TVOS,
    BUDP_OS_WATCHOS,
    BUDP_OS_VISIONOS,
    BUDP_OS_DARWIN
};

/* The name of os as a person reads it ("macOS", "iOS", "Darwin"). */
const char *budp_apple_os_name(enum budp_apple_os os);

/* The first release of os with the fix, as "major.minor" text
 * ("15.6"). */
const char *budp_msgx_first_fixed(enum budp_apple_os os);

/* Whether version (as sysctl reports it: "15.6", "15.5.1", "26.0",
 * "24.6.0") of os has the fix: 1 yes, 0 no, -1 when version is not one
 * (empty, not digits and dots, a part above 99999). */
int budp_msgx_version_fixed(enum budp_apple_os os, const char *version);

/* What the gate found when asked (budp_msgx_gate). */
enum budp_msgx_gate_verdict {
    BUDP_MSGX_GATE_OPEN,      /* a release with the fix */
    BUDP_MSGX_GATE_OLD,       /* a release before it */
    BUDP_MSGX_GATE_UNKNOWN    /* the version could not be read */
};

/* Read the system's version (sysctlbyname "kern.osproductversion" for the
 * platform this was built for, else "kern.osrelease") and judge it.  why
 * receives a phrase for budp_backend_reason ("macOS 26.1", "recvmsg_x
 * avoided below macOS 15.6 (this is macOS 15.5)").  sysctlbyname is found
 * at run time like recvmsg_x itself, so that the test suite's emulation of
 * XNU can stand in for it on Linux. */
enum budp_msgx_gate_verdict budp_msgx_gate(char *why, size_t size);

#endif
