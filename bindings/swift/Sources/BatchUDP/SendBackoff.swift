// The wait between sends refused with ENOBUFS.
//
// A full interface queue (Apple's connected sockets; Linux under qdisc
// pressure) comes back from budp_send as ENOBUFS, and poll() gives no sign
// when it clears: the socket's own send buffer has room, so the socket
// stays writable all along.  sendAll therefore sleeps and tries again: 1 ms
// first, doubling to at most 16 ms while the refusals go on, back to 1 ms
// once a send takes something.  16 ms bounds how long it sleeps past the
// moment the queue drains, or past a shutdown.

/// The sleeps of one ``BatchUDPSocket/sendAll(_:isolation:)``.
struct SendBackoff {
    static let firstDelay = Duration.milliseconds(1)
    static let maxDelay = Duration.milliseconds(16)

    private var next = SendBackoff.firstDelay

    /// How long to sleep now; the next sleep is twice as long, up to
    /// ``maxDelay``.
    mutating func nextDelay() -> Duration {
        let delay = next
        next = min(delay * 2, SendBackoff.maxDelay)
        return delay
    }

    mutating func reset() {
        next = SendBackoff.firstDelay
    }
}
