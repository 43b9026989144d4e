"""Errors: negative return codes of the C library become exceptions."""

from __future__ import annotations

import errno as _errno

from ._lib import LIB

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from typing import Dict, NoReturn, Optional, Type


class Error(OSError):
    """An error reported by libbatchudp (or by this binding).

    A subclass of :class:`OSError` with ``errno`` and ``strerror`` set.  An
    error that Python maps to a builtin OSError subclass is raised as a class
    deriving from both, so ``except ConnectionRefusedError`` and
    ``except batchudp.Error`` both catch a refused connection.  ``EINVAL``
    also derives from :class:`ValueError`.
    """


Error.__module__ = "batchudp"

_classes: Dict[int, Type[Error]] = {}


def error_class(err: int) -> Type[Error]:
    """The exception class for the positive errno value ``err``."""
    cls = _classes.get(err)
    if cls is not None:
        return cls
    builtin = type(OSError(err, ""))
    if builtin is not OSError:
        cls = type(builtin.__name__, (Error, builtin), {"__module__": "batchudp"})
    elif err == _errno.EINVAL:
        cls = type("InvalidArgumentError", (Error, ValueError), {"__module__": "batchudp"})
    else:
        cls = Error
    _classes[err] = cls
    return cls


def strerror(code: int) -> str:
    """libbatchudp's description of an error code (negative or positive)."""
    text: bytes = LIB.budp_strerror(code)
    return text.decode("utf-8", "replace")


def make_error(code: int, detail: Optional[str] = None) -> Error:
    """Build the exception for a return code (negative errno)."""
    err = -code if code < 0 else code
    msg = strerror(err)
    if detail:
        msg = "%s: %s" % (detail, msg)
    return error_class(err)(err, msg)


def raise_error(code: int, detail: Optional[str] = None) -> NoReturn:
    """Raise the exception for a return code (negative errno)."""
    raise make_error(code, detail)


class ClosedError(Error, ValueError):
    """Raised by any operation on a closed :class:`Socket` (errno ``EBADF``).

    Also a :class:`ValueError`, as operations on closed files are, so that
    ``selectors`` can unregister a socket after it was closed.
    """


ClosedError.__module__ = "batchudp"


def closed_error() -> ClosedError:
    """The error raised by any call on a closed socket."""
    return ClosedError(_errno.EBADF, "socket is closed")
