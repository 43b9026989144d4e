"""The wait between sends refused with ENOBUFS.

A full interface queue (Apple's connected sockets; Linux under qdisc
pressure) comes back from budp_send as -ENOBUFS, and poll() gives no sign
when it clears: the socket's own send buffer has room, so the socket stays
writable all along.  The helpers that send everything (sendall, send_all,
the transport) therefore sleep and try again, 1 ms first, doubling to at
most 16 ms while the refusals go on, and back to 1 ms once a send takes
something.  16 ms bounds how long a sender sleeps past the moment the
queue drains, or past a shutdown.
"""

from __future__ import annotations

#: The first sleep after a refusal, in seconds.
FIRST_DELAY = 0.001
#: The longest sleep, in seconds.
MAX_DELAY = 0.016


class Backoff:
    """The sleeps of one sender: :meth:`next_delay` after each ENOBUFS,
    :meth:`reset` after each send that took something."""

    __slots__ = ("_delay",)

    def __init__(self) -> None:
        self._delay = FIRST_DELAY

    def next_delay(self) -> float:
        """The seconds to sleep now; the next one is twice as long, up to
        :data:`MAX_DELAY`."""
        delay = self._delay
        self._delay = min(delay * 2, MAX_DELAY)
        return delay

    def reset(self) -> None:
        self._delay = FIRST_DELAY
