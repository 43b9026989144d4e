"""Loading libbatchudp and declaring its C ABI for ctypes.

Everything here mirrors include/batchudp.h: the constants, the four
fixed-layout structures and the argument and result types of every
function.  Nothing above this module touches a raw prototype.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import List, Optional, Tuple

#: The version of the C ABI (batchudp.h) this binding was written for.
ABI_MAJOR = 0
ABI_MINOR = 2


def version_compatible(version: int, major: int = ABI_MAJOR, minor: int = ABI_MINOR) -> bool:
    """Whether a library reporting ``version`` ((major << 16) | (minor << 8)
    | patch, as budp_version returns it) can be used by a binding written
    for ``major.minor``.

    The header's rule: the major numbers are equal and, while the major is
    0, the minor numbers are equal too (every 0.x release may change the
    ABI); from 1.0 on, the library's minor is the binding's or above (later
    1.x releases only add).  The patch number never matters.
    """
    lib_major, lib_minor = version >> 16, (version >> 8) & 0xFF
    if lib_major != major:
        return False
    if major == 0:
        return lib_minor == minor
    return lib_minor >= minor


def required_version(major: int = ABI_MAJOR, minor: int = ABI_MINOR) -> str:
    """The versions version_compatible() accepts, in words ("0.2.x")."""
    if major == 0:
        return "%d.%d.x" % (major, minor)
    return "%d.%d.x or a later %d.x" % (major, minor, major)

# --- constants (batchudp.h) ------------------------------------------------

BUDP_AF_UNSPEC = 0
BUDP_AF_INET = 4
BUDP_AF_INET6 = 6

BUDP_DGRAM_TRUNCATED = 0x1
BUDP_DGRAM_COALESCED = 0x2
BUDP_DGRAM_HAS_LOCAL = 0x4
BUDP_DGRAM_HAS_ECN = 0x8
BUDP_DGRAM_CONTROL_TRUNCATED = 0x10
BUDP_DGRAM_HAS_TIME = 0x20

BUDP_OPT_BATCH_SIZE = 1
BUDP_OPT_MAX_DATAGRAM = 2
BUDP_OPT_BACKEND = 3
BUDP_OPT_THREADED = 4
BUDP_OPT_RING_CAPACITY = 5
BUDP_OPT_OVERFLOW = 6
BUDP_OPT_GRO = 7
BUDP_OPT_GSO = 8
BUDP_OPT_PKTINFO = 9
BUDP_OPT_ECN = 10
BUDP_OPT_RECV_BUFFER = 11
BUDP_OPT_CALLBACK_THREAD = 12
BUDP_OPT_TIMESTAMPS = 13
BUDP_OPT_PACING = 14
BUDP_OPT_ERRORS = 15
BUDP_OPT_STEERING = 16
BUDP_OPT_STEER_OFFSET = 17
BUDP_OPT_STEER_LENGTH = 18
BUDP_OPT_ZEROCOPY = 19

#: BUDP_OPT_ZEROCOPY: the smallest GSO train sent without a copy, in bytes.
BUDP_ZEROCOPY_MIN_BYTES = 16384

#: BUDP_OPT_STEERING values: how a group's member is picked for each
#: arriving datagram (see budp_group_bind).
BUDP_STEER_HASH = 0
BUDP_STEER_KEY = 1
BUDP_STEER_CPU = 2

#: The largest UDP payload: a steering key ends within it.
BUDP_STEER_PAYLOAD_MAX = 65527

#: The most members a socket group may have.
BUDP_GROUP_MAX_MEMBERS = 256

BUDP_PACING_OFF = 0
BUDP_PACING_MONOTONIC = 1
BUDP_PACING_TAI = 2

#: Departure times within this many nanoseconds of the first of a run (and
#: in order) may leave together as one GSO send, at the first one's time.
BUDP_PACING_GRANULARITY_NS = 100000

BUDP_ERROR_ORIGIN_LOCAL = 1
BUDP_ERROR_ORIGIN_ICMP = 2
BUDP_ERROR_ORIGIN_ICMP6 = 3

#: Error events that wait for budp_recv_errors in threaded mode; more are
#: dropped and counted in error_events_dropped.
BUDP_ERROR_QUEUE_EVENTS = 64

#: The most receive memory one socket may take, in bytes (256 MiB): options
#: that would take more are refused by budp_bind/budp_open with -EINVAL.
BUDP_MEMORY_LIMIT = 256 * 1024 * 1024

BUDP_BACKEND_AUTO = 0
BUDP_BACKEND_MMSG = 1
BUDP_BACKEND_MSGX = 2
BUDP_BACKEND_LOOP = 3
BUDP_BACKEND_URING = 4

BUDP_OVERFLOW_WAIT = 0
BUDP_OVERFLOW_DROP = 1

#: budp_recv_fn return values: go on delivering ...
BUDP_CALLBACK_CONTINUE = 0
#: ... or (callback-thread mode) stop reading the socket until
#: budp_set_callback is called again.
BUDP_CALLBACK_PAUSE = 1


# --- structures --------------------------------------------------------------


class budp_addr(Structure):
    """``budp_addr``: an IPv4 or IPv6 address and a port (24 bytes)."""

    _fields_ = [
        ("family", c_uint16),
        ("port", c_uint16),
        ("scope_id", c_uint32),
        ("bytes", c_uint8 * 16),
    ]


class budp_datagram(Structure):
    """``budp_datagram``: one datagram view (96 bytes on 64-bit platforms)."""

    _fields_ = [
        ("data", c_void_p),
        ("len", c_uint32),
        ("flags", c_uint32),
        ("peer", budp_addr),
        ("local", budp_addr),
        ("time_ns", c_uint64),
        ("segment_size", c_uint16),
        ("ecn", c_uint8),
        ("reserved", c_uint8 * 21),
    ]


class budp_stats(Structure):
    """``budp_stats``: the counters of one socket, all ``uint64_t``."""

    _fields_ = [
        (name, c_uint64)
        for name in (
            "rx_datagrams",
            "rx_bytes",
            "rx_syscalls",
            "rx_truncated",
            "rx_kernel_drops",
            "rx_ring_full",
            "rx_dropped",
            "rx_errors",
            "tx_datagrams",
            "tx_bytes",
            "tx_syscalls",
            "tx_errors",
            "rx_coalesced",
            "tx_coalesced",
            "tx_gso_fallbacks",
            "rx_control_truncated",
            "kernel_anomalies",
            "tx_unconfirmed",
            "error_events",
            "error_events_dropped",
        )
    ]


class budp_error_event(Structure):
    """``budp_error_event``: one error the kernel reported for a datagram
    the socket sent (64 bytes)."""

    _fields_ = [
        ("destination", budp_addr),
        ("offender", budp_addr),
        ("error", c_int32),
        ("mtu", c_uint32),
        ("origin", c_uint8),
        ("icmp_type", c_uint8),
        ("icmp_code", c_uint8),
        ("reserved", c_uint8 * 5),
    ]


#: ``budp_recv_fn``: int (*)(void *user, const budp_datagram *d, unsigned n),
#: returning BUDP_CALLBACK_CONTINUE or BUDP_CALLBACK_PAUSE.
budp_recv_fn = CFUNCTYPE(c_int, c_void_p, POINTER(budp_datagram), c_uint)

# Opaque handles (budp_options *, budp_socket *, budp_group *) travel as
# c_void_p.
_P_HANDLE = POINTER(c_void_p)
_P_I64 = POINTER(c_int64)

#: name -> (restype, argtypes) for every function in batchudp.h.
PROTOTYPES = {
    "budp_version": (c_uint, []),
    "budp_version_string": (c_char_p, []),
    "budp_strerror": (c_char_p, [c_int]),
    "budp_options_new": (c_int, [_P_HANDLE]),
    "budp_options_set": (c_int, [c_void_p, c_int, c_int64]),
    "budp_options_get": (c_int, [c_void_p, c_int, _P_I64]),
    "budp_options_bounds": (c_int, [c_int, _P_I64, _P_I64, _P_I64]),
    "budp_options_free": (None, [c_void_p]),
    "budp_bind": (c_int, [_P_HANDLE, c_char_p, c_uint16, c_void_p]),
    "budp_open": (c_int, [_P_HANDLE, c_int, c_void_p]),
    "budp_connect": (c_int, [c_void_p, c_char_p, c_uint16]),
    "budp_local_addr": (c_int, [c_void_p, POINTER(budp_addr)]),
    "budp_socket_fd": (c_int, [c_void_p]),
    "budp_poll_fd": (c_int, [c_void_p]),
    "budp_backend_name": (c_char_p, [c_void_p]),
    "budp_backend_reason": (c_char_p, [c_void_p]),
    "budp_addr_from_string": (c_int, [POINTER(budp_addr), c_char_p, c_uint16]),
    "budp_addr_to_string": (c_int, [POINTER(budp_addr), c_char_p, c_size_t]),
    "budp_shutdown": (c_int, [c_void_p]),
    "budp_close": (None, [c_void_p]),
    "budp_recv": (c_int, [c_void_p, POINTER(c_void_p), c_uint]),
    # Buffers are passed as integer addresses (c_void_p): the receive path
    # precomputes them once, which keeps the per-batch call cheap.
    "budp_recv_packed": (
        c_int,
        [c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p, c_uint],
    ),
    "budp_wait": (c_int, [c_void_p, c_int]),
    "budp_set_callback": (c_int, [c_void_p, budp_recv_fn, c_void_p]),
    "budp_dispatch": (c_int, [c_void_p, c_uint]),
    "budp_send": (c_int, [c_void_p, c_void_p, c_uint]),
    "budp_recv_errors": (c_int, [c_void_p, POINTER(budp_error_event), c_uint]),
    "budp_pacing_support": (c_int, [c_void_p, POINTER(budp_addr), c_char_p, c_size_t]),
    "budp_get_stats": (c_int, [c_void_p, POINTER(budp_stats), c_size_t]),
    "budp_group_bind": (c_int, [_P_HANDLE, c_char_p, c_uint16, c_uint, c_void_p]),
    "budp_group_size": (c_uint, [c_void_p]),
    "budp_group_socket": (c_void_p, [c_void_p, c_uint]),
    "budp_group_close_member": (c_int, [c_void_p, c_uint]),
    "budp_group_dropped": (c_uint64, [c_void_p]),
    "budp_group_close": (None, [c_void_p]),
}


# --- finding and loading the library ----------------------------------------


def _library_names() -> List[str]:
    """File names the shared library may have in a system directory."""
    if sys.platform == "darwin":
        return ["libbatchudp.1.dylib", "libbatchudp.dylib"]
    return ["libbatchudp.so.1", "libbatchudp.so"]


#: The file name of the library a wheel carries inside the package (setup.py
#: builds it under this name).
BUNDLED_NAME = "libbatchudp.dylib" if sys.platform == "darwin" else "libbatchudp.so"


def bundled_path() -> str:
    """Where a library carried by the package lies: next to this module."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), BUNDLED_NAME)


def _pkg_config_libdir() -> Tuple[Optional[str], str]:
    """Ask pkg-config for batchudp's libdir.  Returns (libdir, note)."""
    # Imported here: only the system lookup needs them, and a package that
    # carries its library should import without the cost.
    import shutil
    import subprocess

    exe = shutil.which("pkg-config")
    if exe is None:
        return None, "pkg-config: not installed"
    try:
        res = subprocess.run(
            [exe, "--variable=libdir", "batchudp"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "pkg-config --variable=libdir batchudp: %s" % exc
    libdir = res.stdout.decode(errors="replace").strip()
    if res.returncode != 0 or not libdir:
        return None, "pkg-config --variable=libdir batchudp: package not found"
    return libdir, ""


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _try_load(path: str) -> Tuple[Optional[ctypes.CDLL], str]:
    """Load path and check it.  Returns (lib, "") or (None, why not)."""
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        return None, str(exc)
    try:
        _declare(lib)
    except AttributeError as exc:
        return None, "not a usable libbatchudp (%s)" % exc
    version = lib.budp_version()
    if not version_compatible(version):
        return None, "version %d.%d.%d, this binding (written for %d.%d) needs %s" % (
            version >> 16,
            (version >> 8) & 0xFF,
            version & 0xFF,
            ABI_MAJOR,
            ABI_MINOR,
            required_version(),
        )
    return lib, ""


def load() -> Tuple[ctypes.CDLL, str]:
    """Find, load and check libbatchudp.  Returns (library, path).

    Order: the ``BATCHUDP_LIBRARY`` environment variable (a path; when set,
    nothing else is tried), then the library carried inside the package
    (:func:`bundled_path`), then the system's:
    ``pkg-config --variable=libdir batchudp``, then
    ``ctypes.util.find_library("batchudp")``.  Raises ImportError naming
    everything that was tried when none loads.
    """
    tried: List[str] = []
    env = os.environ.get("BATCHUDP_LIBRARY")
    if env:
        lib, why = _try_load(env)
        if lib is not None:
            return lib, env
        raise ImportError(
            "batchudp: cannot load libbatchudp from BATCHUDP_LIBRARY=%s: %s" % (env, why)
        )
    tried.append("BATCHUDP_LIBRARY: not set")

    bundled = bundled_path()
    if os.path.exists(bundled):
        lib, why = _try_load(bundled)
        if lib is not None:
            return lib, bundled
        tried.append("%s (in the package): %s" % (bundled, why))
    else:
        tried.append("%s (in the package): no such file" % bundled)

    found, path = _load_system(tried)
    if found is not None:
        return found, path
    raise ImportError(
        "batchudp: libbatchudp %s not found; tried:\n  %s\n"
        "Set BATCHUDP_LIBRARY to the library's path, or make "
        "`pkg-config --variable=libdir batchudp` point to it."
        % (required_version(), "\n  ".join(tried))
    )


def _load_system(tried: List[str]) -> Tuple[Optional[ctypes.CDLL], str]:
    """A library installed on the system, through pkg-config, then
    ctypes.util.find_library.  Appends to tried what failed."""
    libdir, note = _pkg_config_libdir()
    if libdir is None:
        tried.append(note)
    else:
        for name in _library_names():
            path = os.path.join(libdir, name)
            if not os.path.exists(path):
                tried.append("%s (from pkg-config): no such file" % path)
                continue
            lib, why = _try_load(path)
            if lib is not None:
                return lib, path
            tried.append("%s (from pkg-config): %s" % (path, why))

    # ctypes.util imports subprocess (find_library runs ldconfig or the
    # compiler): loaded only when the lookup gets this far.
    import ctypes.util

    found = ctypes.util.find_library("batchudp")
    if found is None:
        tried.append('ctypes.util.find_library("batchudp"): nothing found')
    else:
        lib, why = _try_load(found)
        if lib is not None:
            return lib, _resolve_path(lib, found)
        tried.append("%s (from ctypes.util.find_library): %s" % (found, why))
    return None, ""


def _resolve_path(lib: ctypes.CDLL, name: str) -> str:
    """The file a library loaded by bare name came from, where knowable."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and os.path.basename(parts[5].strip()) == name:
                        return parts[5].strip()
        except OSError:
            pass
    return name


LIB, LIB_PATH = load()
