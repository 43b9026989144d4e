//! [`Group`]: sockets bound to one address together, among which the kernel
//! spreads the datagrams that arrive (`budp_group_bind`).

use batchudp_sys as sys;
use std::ffi::c_uint;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::addr;
use crate::check;
use crate::options::Options;
use crate::socket::{Membership, Socket};
#[cfg(doc)] // for the links in the docs
use crate::{Sender, Steering};

/// `EBUSY`, the same number on every supported system.
pub(crate) const EBUSY: i32 = 16;

/// The group's C handle, shared by the [`Group`] and every member's
/// handle, freed (`budp_group_close`) when the last of them goes.
///
/// Each member's `Inner` holds one reference and closes its member in its
/// own drop, before it lets the reference go; so when this drops, every
/// member is closed and `budp_group_close` only frees the memory (and would
/// close a member left open, which cannot happen).
pub(crate) struct RawGroup(NonNull<sys::budp_group>);

// SAFETY: through `&RawGroup` only calls the library makes safe on any
// thread are made: budp_group_socket and budp_group_close_member take the
// group's lock, budp_group_dropped reads an atomic counter, budp_group_size
// a value set at bind.  A member's close goes through it only from the
// handle that owns the member alone (see Socket::close_member and Inner's
// drop).  budp_group_close runs in Drop, when no reference is left.
unsafe impl Send for RawGroup {}
unsafe impl Sync for RawGroup {}

impl RawGroup {
    pub(crate) fn ptr(&self) -> *mut sys::budp_group {
        self.0.as_ptr()
    }
}

impl Drop for RawGroup {
    fn drop(&mut self) {
        // The last handle is gone: every member is closed already.
        unsafe { sys::budp_group_close(self.0.as_ptr()) }
    }
}

/// `n` UDP sockets bound to one address together (`SO_REUSEPORT`), among
/// which the kernel spreads the datagrams that arrive, so that `n` threads
/// receive on one address: a socket group.
///
/// Each member is an ordinary [`Socket`], in the mode the [`Options`] say
/// (inline, threaded, callback-thread): it receives, sends, waits, takes a
/// [`Sender`], goes on a tokio runtime as an `AsyncSocket` (with the
/// `tokio` feature), and is [`Send`], so that each member can live on a
/// thread of its own.  How datagrams are spread is the
/// [`Options::steering`] option: by the kernel's hash of the flow
/// ([`Steering::Hash`], the default), by a key in the payload
/// ([`Steering::Key`]), or by the CPU that received the packet
/// ([`Steering::Cpu`]).  Port 0 picks one free port for all
/// ([`local_addr`](Group::local_addr)).
///
/// Linux; FreeBSD spreads by hash only ([`Steering::Key`] and
/// [`Steering::Cpu`] are `ENOTSUP` there); elsewhere [`bind`](Group::bind)
/// fails with `ENOTSUP`.
///
/// ```
/// use batchudp::{Group, Options};
/// use std::net::UdpSocket;
/// use std::time::Duration;
///
/// # if cfg!(target_os = "linux") {
/// let mut group = Group::bind("127.0.0.1:0", 4, Options::new())?;
/// let addr = group.local_addr();
///
/// // 40 flows (source ports), 5 datagrams each: each flow reaches one member.
/// let flows: Vec<UdpSocket> =
///     (0..40).map(|_| UdpSocket::bind("127.0.0.1:0")).collect::<Result<_, _>>()?;
/// for flow in &flows {
///     for _ in 0..5 {
///         flow.send_to(b"hello", addr)?;
///     }
/// }
///
/// // One thread per member; each counts what reached it.
/// let threads: Vec<_> = group
///     .take_members()
///     .into_iter()
///     .map(|(_i, mut sock)| {
///         std::thread::spawn(move || {
///             let mut got = 0;
///             while let Ok(batch) = sock.recv_timeout(Duration::from_millis(200)) {
///                 got += batch.len();
///             }
///             got
///         })
///     })
///     .collect();
/// let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
/// assert_eq!(total, 200);
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Ownership
///
/// The group holds its members until they are taken: borrowed with
/// [`member`](Group::member), [`member_mut`](Group::member_mut) and
/// [`members_mut`](Group::members_mut) (for scoped threads), or taken out
/// as owned [`Socket`]s with [`take_member`](Group::take_member) and
/// [`take_members`](Group::take_members) (for threads of their own, tokio
/// tasks).  The C group's memory, which every member's close goes through,
/// is shared by the `Group` and each member's handles (the `Socket`, its
/// `Sender`s) through an `Arc`: it is freed once the `Group` and the last
/// handle of every member are gone, so no member can outlive it.
///
/// A member is closed exactly once, as any [`Socket`]: when its last handle
/// is dropped (the `Socket` and every `Sender`; see
/// [Closing](Socket#closing)), wherever that is, or by
/// [`close_member`](Group::close_member), which closes a member the group
/// still holds, with no `Sender` left, and returns how many datagrams its
/// close dropped.  Either way, what was queued to it and not yet received
/// is counted in [`dropped`](Group::dropped), and the kernel steers its
/// datagrams to the open members from then on.  Dropping the `Group` closes
/// the members it still holds; those taken out go on working.
///
/// A member's close waits for its receiver thread (threaded mode) and
/// takes the group's lock: a callback-thread closure that closes another
/// member (drops its last handle) while that member's own callback waits
/// for the first can deadlock, as two threads joining each other would.
pub struct Group {
    /// Member i, until it is taken or closed.
    members: Vec<Option<Socket>>,
    raw: Arc<RawGroup>,
    local_addr: SocketAddr,
}

impl Group {
    /// Opens `members` UDP sockets bound to `addr` together (port 0 picks
    /// one free port for all), each with `options` applied, spread by
    /// [`Options::steering`].  `addr` must resolve to a numeric IPv4 or
    /// IPv6 address; each address it resolves to is tried in turn.
    ///
    /// Errors carry the errno of the C library, and then nothing is left
    /// open: `EINVAL` for `members` 0 or above
    /// [`BUDP_GROUP_MAX_MEMBERS`](batchudp_sys::BUDP_GROUP_MAX_MEMBERS)
    /// (256), a steering key out of bounds (see [`Steering::Key`]) and the
    /// options [`Socket::bind`] refuses; `ENOTSUP` where the system cannot
    /// spread as asked; `EADDRINUSE` when a socket outside any group, or
    /// another user's group, holds the address; and the errors of
    /// [`Socket::bind`].
    ///
    /// The group must be alone on its address: another socket bound there
    /// with `SO_REUSEPORT` (Linux lets any of the same user) would join it
    /// and shift the kernel's numbering of its members.
    ///
    /// ```
    /// use batchudp::{Group, Options};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let group = Group::bind("127.0.0.1:0", 2, Options::new().threaded(true))?;
    /// assert_eq!(group.len(), 2);
    /// assert_eq!(group.member(1).unwrap().local_addr()?, group.local_addr());
    ///
    /// for bad in [0, 257] {
    ///     let err = Group::bind("127.0.0.1:0", bad, Options::new()).unwrap_err();
    ///     assert_eq!(err.raw_os_error(), Some(22)); // EINVAL
    /// }
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A, members: usize, options: Options) -> io::Result<Group> {
        let raw_options = options.make_raw()?;
        // A count that does not fit is out of bounds: the library says so.
        let n = c_uint::try_from(members).unwrap_or(c_uint::MAX);
        addr::each_addr(addr, |a| {
            let host = addr::host_cstring(a);
            let mut g = ptr::null_mut();
            check(unsafe {
                sys::budp_group_bind(&mut g, host.as_ptr(), a.port(), n, raw_options.as_ptr())
            })?;
            let raw = Arc::new(RawGroup(
                NonNull::new(g).expect("budp_group_bind succeeded with a NULL group"),
            ));
            let members: Vec<Option<Socket>> = (0..n)
                .map(|index| {
                    // SAFETY: every member is open right after the bind.
                    let s = unsafe { sys::budp_group_socket(raw.ptr(), index) };
                    let member = Membership {
                        group: Arc::clone(&raw),
                        index,
                    };
                    Some(Socket::from_member(s, &raw_options, member))
                })
                .collect();
            let local_addr = match &members[0] {
                Some(first) => first.local_addr()?,
                None => unreachable!("member 0 was just made"),
            };
            Ok(Group {
                members,
                raw,
                local_addr,
            })
        })
    }

    /// The number of members, as given to [`bind`](Group::bind), closed and
    /// taken ones included: members are numbered `0..len()`.  Never 0.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let mut group = batchudp::Group::bind("127.0.0.1:0", 3, batchudp::Options::new())?;
    /// group.close_member(0)?;
    /// assert_eq!(group.len(), 3);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // a group has one member at least
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// The address every member is bound to (with the port picked for
    /// port 0).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let group = batchudp::Group::bind("127.0.0.1:0", 2, batchudp::Options::new())?;
    /// assert_ne!(group.local_addr().port(), 0);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Member `i`, borrowed, while the group holds it: `None` once it is
    /// taken or closed, or when `i` is out of range.  Every `&self` method
    /// of [`Socket`] works on it (send, stats, [`sender`](Socket::sender),
    /// ...).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let group = batchudp::Group::bind("127.0.0.1:0", 2, batchudp::Options::new())?;
    /// assert!(group.member(1).is_some());
    /// assert!(group.member(2).is_none());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn member(&self, i: usize) -> Option<&Socket> {
        self.members.get(i)?.as_ref()
    }

    /// Member `i`, borrowed mutably, for receiving, while the group holds
    /// it (else `None`, as for [`member`](Group::member)).
    ///
    /// ```
    /// use batchudp::{Group, Options};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let mut group = Group::bind("127.0.0.1:0", 2, Options::new())?;
    /// assert!(group.member_mut(0).unwrap().recv()?.is_empty());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn member_mut(&mut self, i: usize) -> Option<&mut Socket> {
        self.members.get_mut(i)?.as_mut()
    }

    /// The members the group holds, with their numbers, borrowed.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let mut group = batchudp::Group::bind("127.0.0.1:0", 3, batchudp::Options::new())?;
    /// group.close_member(1)?;
    /// let held: Vec<usize> = group.members().map(|(i, _)| i).collect();
    /// assert_eq!(held, [0, 2]);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn members(&self) -> impl Iterator<Item = (usize, &Socket)> + '_ {
        self.members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| Some((i, m.as_ref()?)))
    }

    /// The members the group holds, with their numbers, borrowed mutably:
    /// one for each scoped thread, say.  The group stays where it is and
    /// keeps them.
    ///
    /// ```
    /// use batchudp::{Group, Options};
    /// use std::time::Duration;
    ///
    /// # if cfg!(target_os = "linux") {
    /// let mut group = Group::bind("127.0.0.1:0", 2, Options::new())?;
    /// let to = group.local_addr();
    /// std::net::UdpSocket::bind("127.0.0.1:0")?.send_to(b"one flow", to)?;
    /// let got: usize = std::thread::scope(|scope| {
    ///     let threads: Vec<_> = group
    ///         .members_mut()
    ///         .map(|(_i, sock)| {
    ///             scope.spawn(move || sock.recv_timeout(Duration::from_millis(300)).map_or(0, |b| b.len()))
    ///         })
    ///         .collect();
    ///     threads.into_iter().map(|t| t.join().unwrap()).sum()
    /// });
    /// assert_eq!(got, 1);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn members_mut(&mut self) -> impl Iterator<Item = (usize, &mut Socket)> + '_ {
        self.members
            .iter_mut()
            .enumerate()
            .filter_map(|(i, m)| Some((i, m.as_mut()?)))
    }

    /// Takes member `i` out of the group, as an owned [`Socket`] for a
    /// thread or task of its own; `None` when it was taken or closed
    /// already, or `i` is out of range.  It stays a member: dropping its
    /// last handle closes it through the group (see
    /// [Ownership](Group#ownership)).
    ///
    /// ```
    /// use batchudp::{Group, Options, OutgoingDatagram};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let mut group = Group::bind("127.0.0.1:0", 2, Options::new())?;
    /// let member = group.take_member(1).unwrap();
    /// assert!(group.take_member(1).is_none());
    /// // An ordinary socket: it sends too, from the group's address.
    /// let peer = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// member.send(&[OutgoingDatagram::to(&b"hi"[..], peer.local_addr()?)])?;
    /// let (_, from) = peer.recv_from(&mut [0; 8])?;
    /// assert_eq!(from, group.local_addr());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_member(&mut self, i: usize) -> Option<Socket> {
        self.members.get_mut(i)?.take()
    }

    /// Takes every member the group still holds, with their numbers, in
    /// order (right after [`bind`](Group::bind): all of them, `0..len()`).
    /// See [`take_member`](Group::take_member).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let mut group = batchudp::Group::bind("127.0.0.1:0", 3, batchudp::Options::new())?;
    /// let members = group.take_members();
    /// assert_eq!(members.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 2]);
    /// assert!(group.take_members().is_empty());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_members(&mut self) -> Vec<(usize, Socket)> {
        self.members
            .iter_mut()
            .enumerate()
            .filter_map(|(i, m)| Some((i, m.take()?)))
            .collect()
    }

    /// Closes member `i`, which the group holds, the other members going
    /// on, and returns how many datagrams its close dropped: those queued
    /// to it and not yet received (in the kernel, the ring of threaded
    /// mode, or the rest of a GRO receive), also added to
    /// [`dropped`](Group::dropped).  The kernel stops steering to it first;
    /// from then on its datagrams go to the open members (with
    /// [`Steering::Key`] and [`Steering::Cpu`], member `m`'s go to the
    /// next open member after `m`; with [`Steering::Hash`], every flow is
    /// steered by a hash of its source among the open members).
    ///
    /// Errors, the member then left as it was: `EINVAL` (the library's)
    /// when `i` is out of range; `EBADF` (the library's) when member `i`
    /// is closed already, so a second close is an error; `EBUSY` when the
    /// member is open but not the group's alone to close: taken out with
    /// [`take_member`](Group::take_member) (drop that `Socket` and its
    /// `Sender`s to close it), or sharing its handle with a [`Sender`]
    /// (drop them first); and the library's errors of changing the
    /// steering program.
    ///
    /// ```
    /// use batchudp::{Group, Options};
    ///
    /// # if cfg!(target_os = "linux") {
    /// let mut group = Group::bind("127.0.0.1:0", 2, Options::new())?;
    /// assert_eq!(group.close_member(1)?, 0); // nothing was queued to it
    /// assert!(group.member(1).is_none());
    /// assert_eq!(group.close_member(1).unwrap_err().raw_os_error(), Some(9)); // EBADF
    /// assert_eq!(group.close_member(2).unwrap_err().raw_os_error(), Some(22)); // EINVAL
    ///
    /// let tx = group.member(0).unwrap().sender();
    /// assert_eq!(group.close_member(0).unwrap_err().raw_os_error(), Some(16)); // EBUSY
    /// drop(tx);
    /// group.close_member(0)?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close_member(&mut self, i: usize) -> io::Result<u64> {
        let index = c_uint::try_from(i).unwrap_or(c_uint::MAX);
        match self.members.get_mut(i).and_then(Option::take) {
            Some(mut member) => match member.close_member() {
                Ok(dropped) => Ok(dropped),
                Err(e) => {
                    self.members[i] = Some(member);
                    Err(e)
                }
            },
            // SAFETY: the group is alive; a member it does not hold is not
            // touched: out of range (EINVAL), or closed, which it stays
            // (EBADF).
            None if unsafe { sys::budp_group_socket(self.raw.ptr(), index) }.is_null() => {
                check(unsafe { sys::budp_group_close_member(self.raw.ptr(), index) })
                    .map(|n| n as u64)
            }
            // Open, and owned by the Socket taken out: its drop closes it.
            None => Err(io::Error::from_raw_os_error(EBUSY)),
        }
    }

    /// Datagrams dropped by the closes of members so far: by
    /// [`close_member`](Group::close_member) and by the drops of members'
    /// last handles, wherever they ran.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let mut group = batchudp::Group::bind("127.0.0.1:0", 2, batchudp::Options::new())?;
    /// drop(group.take_member(0));
    /// assert_eq!(group.dropped(), 0); // nothing was queued to it
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dropped(&self) -> u64 {
        unsafe { sys::budp_group_dropped(self.raw.ptr()) }
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("local_addr", &self.local_addr)
            .field("len", &self.len())
            .field("held", &self.members().map(|(i, _)| i).collect::<Vec<_>>())
            .field("dropped", &self.dropped())
            .finish()
    }
}
