/* build_config.h - what the platform offers, for every way the library is
 * built.  Each source file includes this first, before any system header.
 *
 * An autotools build defines HAVE_CONFIG_H and takes configure's findings
 * from config.h.  The language package managers run no configure step:
 * SwiftPM's C target (Package.swift), the Rust crate's `bundled` feature
 * and the Python wheel compile lib/ as it is, and get the same facts from
 * the compiler's predefined platform macros below.  tests/build-config.sh
 * checks, on every `make check`, that the two agree on the machine running
 * it, so a new configure test the library relies on cannot be forgotten
 * here. */
#ifndef BUDP_BUILD_CONFIG_H
#define BUDP_BUILD_CONFIG_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#else

#if defined(__linux__)
/* glibc, musl and Android's bionic all have these. */
#  ifndef _GNU_SOURCE
#    define _GNU_SOURCE 1
#  endif
#  define HAVE_RECVMMSG 1
#  define HAVE_SENDMMSG 1
#  define HAVE_EVENTFD 1
#  define HAVE_SYS_EVENTFD_H 1
#  define HAVE_PIPE2 1
#  define HAVE_ACCEPT4 1
#  define HAVE_LINUX_UDP_H 1
#  define HAVE_LINUX_SOCK_DIAG_H 1
#elif defined(__APPLE__)
/* macOS, iOS, tvOS, watchOS, visionOS: no recvmmsg, no eventfd, no pipe2;
 * IPv6 PKTINFO has its RFC 3542 meaning only when asked for. */
#  ifndef _DARWIN_C_SOURCE
#    define _DARWIN_C_SOURCE 1
#  endif
#  ifndef __APPLE_USE_RFC_3542
#    define __APPLE_USE_RFC_3542 1
#  endif
#elif defined(__FreeBSD__)
#  define HAVE_RECVMMSG 1
#  define HAVE_SENDMMSG 1
#  define HAVE_PIPE2 1
#  define HAVE_ACCEPT4 1
#endif

/* The backend using Apple's private recvmsg_x/sendmsg_x is built, as by
 * configure's default; define BUDP_WITHOUT_MSGX to leave it out (the
 * equivalent of --disable-msgx, e.g. for an app store build that must not
 * look up private symbols). */
#ifndef BUDP_WITHOUT_MSGX
#  define BUDP_WITH_MSGX 1
#endif

/* The io_uring backend needs liburing, which these builds do not link:
 * it is left out unless the builder defines BUDP_WITH_URING (and links
 * -luring), the equivalent of configure's --with-liburing. */

#endif /* HAVE_CONFIG_H */

#endif
