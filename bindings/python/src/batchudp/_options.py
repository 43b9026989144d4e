"""Keyword options -> a budp_options object."""

from __future__ import annotations

import ctypes
import errno

from . import _lib
from ._errors import Error, raise_error
from ._lib import LIB

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping

#: keyword -> BUDP_OPT_* key
KEYS: Dict[str, int] = {
    "batch_size": _lib.BUDP_OPT_BATCH_SIZE,
    "max_datagram": _lib.BUDP_OPT_MAX_DATAGRAM,
    "backend": _lib.BUDP_OPT_BACKEND,
    "threaded": _lib.BUDP_OPT_THREADED,
    "ring_capacity": _lib.BUDP_OPT_RING_CAPACITY,
    "overflow": _lib.BUDP_OPT_OVERFLOW,
    "gro": _lib.BUDP_OPT_GRO,
    "gso": _lib.BUDP_OPT_GSO,
    "pktinfo": _lib.BUDP_OPT_PKTINFO,
    "ecn": _lib.BUDP_OPT_ECN,
    "recv_buffer": _lib.BUDP_OPT_RECV_BUFFER,
    "callback_thread": _lib.BUDP_OPT_CALLBACK_THREAD,
    "timestamps": _lib.BUDP_OPT_TIMESTAMPS,
    "pacing": _lib.BUDP_OPT_PACING,
    "errors": _lib.BUDP_OPT_ERRORS,
    # Group.bind only (Socket.bind refuses anything but "hash"):
    "steering": _lib.BUDP_OPT_STEERING,
    "steer_offset": _lib.BUDP_OPT_STEER_OFFSET,
    "steer_length": _lib.BUDP_OPT_STEER_LENGTH,
    # backend="uring" only (ENOTSUP with any other backend):
    "zerocopy": _lib.BUDP_OPT_ZEROCOPY,
}

BACKENDS: Dict[str, int] = {
    "auto": _lib.BUDP_BACKEND_AUTO,
    "mmsg": _lib.BUDP_BACKEND_MMSG,
    "msgx": _lib.BUDP_BACKEND_MSGX,
    "loop": _lib.BUDP_BACKEND_LOOP,
    "uring": _lib.BUDP_BACKEND_URING,
}

OVERFLOWS: Dict[str, int] = {
    "wait": _lib.BUDP_OVERFLOW_WAIT,
    "drop": _lib.BUDP_OVERFLOW_DROP,
}

#: pacing= values: the clock of departure times (OutgoingDatagram.time_ns).
PACINGS: Dict[str, int] = {
    "off": _lib.BUDP_PACING_OFF,
    "monotonic": _lib.BUDP_PACING_MONOTONIC,
    "tai": _lib.BUDP_PACING_TAI,
}

#: steering= values (or a batchudp.Steering member): how a group's member
#: is picked for each arriving datagram.
STEERINGS: Dict[str, int] = {
    "hash": _lib.BUDP_STEER_HASH,
    "key": _lib.BUDP_STEER_KEY,
    "cpu": _lib.BUDP_STEER_CPU,
}

_FLAGS = {
    "threaded", "gro", "gso", "pktinfo", "ecn", "callback_thread", "timestamps", "errors",
    "zerocopy",
}
_NAMED = {
    "backend": BACKENDS,
    "overflow": OVERFLOWS,
    "pacing": PACINGS,
    "steering": STEERINGS,
}


def bounds(name: str) -> "tuple[int, int, int]":
    """(min, max, default) of the option ``name``, as the library reports them."""
    lo, hi, default = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
    rc = LIB.budp_options_bounds(
        KEYS[name], ctypes.byref(lo), ctypes.byref(hi), ctypes.byref(default)
    )
    if rc < 0:
        raise_error(rc, "option %s" % name)
    return lo.value, hi.value, default.value


def to_value(name: str, value: Any) -> int:
    """The int64 the C library takes for keyword ``name`` given ``value``."""
    if name in _NAMED:
        table = _NAMED[name]
        if isinstance(value, str):
            try:
                return table[value]
            except KeyError:
                raise ValueError(
                    "%s must be one of %s, not %r" % (name, ", ".join(map(repr, table)), value)
                ) from None
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)  # an IntEnum member (batchudp.Steering) too
        raise TypeError("%s must be a str, not %s" % (name, type(value).__name__))
    if name in _FLAGS:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int) and value in (0, 1):
            return value
        if isinstance(value, int):
            raise_error(-errno.EINVAL, "option %s=%d: must be a bool" % (name, value))
        raise TypeError("%s must be a bool, not %s" % (name, type(value).__name__))
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    return value


class Options:
    """A budp_options object filled from keyword arguments (a context manager)."""

    def __init__(self, options: Mapping[str, Any]):
        for name in options:
            if name not in KEYS:
                raise TypeError(
                    "unknown option %r (known: %s)" % (name, ", ".join(sorted(KEYS)))
                )
        values = {name: to_value(name, v) for name, v in options.items()}
        handle = ctypes.c_void_p()
        rc = LIB.budp_options_new(ctypes.byref(handle))
        if rc < 0:
            raise_error(rc, "budp_options_new")
        self.handle = handle
        try:
            for name, v in values.items():
                self._set(name, v)
        except BaseException:
            self.free()
            raise

    def _set(self, name: str, value: int) -> None:
        if not -(2**63) <= value < 2**63:
            raise_error(-errno.EINVAL, "option %s=%d: out of range" % (name, value))
        rc = LIB.budp_options_set(self.handle, KEYS[name], value)
        if rc < 0:
            detail = "option %s=%d" % (name, value)
            try:
                lo, hi, _ = bounds(name)
                if name == "ring_capacity":
                    detail += ": must be 0 (automatic) or a power of two in 2..%d" % hi
                else:
                    detail += ": must be in %d..%d" % (lo, hi)
            except Error:
                pass
            raise_error(rc, detail)

    def get(self, name: str) -> int:
        """The value of option ``name`` held by this object."""
        out = ctypes.c_int64()
        rc = LIB.budp_options_get(self.handle, KEYS[name], ctypes.byref(out))
        if rc < 0:
            raise_error(rc, "option %s" % name)
        return out.value

    def free(self) -> None:
        """Free the C object (idempotent)."""
        if self.handle.value:
            LIB.budp_options_free(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self) -> "Options":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.free()
