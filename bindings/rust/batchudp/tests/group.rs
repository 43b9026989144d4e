//! Socket groups: the kernel's hash keeps each flow on one member, key
//! steering sends key k to member k mod n whatever the source, datagrams
//! too short for the key follow their source, CPU steering follows the CPU
//! that sent (loopback receives there); members are ordinary sockets, on
//! threads of their own, borrowed or owned, in callback-thread mode too;
//! closing a member, by `close_member` or by dropping it, counts what was
//! queued to it; a member outlives the `Group` value; bad input opens
//! nothing.  Flows are std sockets, one per source port, sending one
//! datagram per call (a GSO send would be steered once, as a whole).
//!
//! Linux: the library spreads by key and CPU there only.
#![cfg(target_os = "linux")]

mod common;

use batchudp::{Group, Options, OutgoingDatagram, Socket, Steering};
use common::*;
use std::collections::{BTreeSet, HashMap};
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

/// Every test reads it; the ones that count the process's fds take it
/// alone, so that no other test opens or closes one meanwhile.
static FDS: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    FDS.read().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Room for every datagram a test sends before it reads any.
fn group_options() -> Options {
    Options::new().recv_buffer(4 << 20)
}

fn bind(n: usize, options: Options) -> Group {
    let group = Group::bind("127.0.0.1:0", n, options).expect("Group::bind");
    assert_eq!(group.len(), n);
    group
}

/// A group in a mode the library may not offer here (threaded): None after
/// saying why when it answers ENOTSUP.
fn bind_or_skip_group(n: usize, options: Options, what: &str) -> Option<Group> {
    match Group::bind("127.0.0.1:0", n, options) {
        Ok(group) => Some(group),
        Err(e) if e.raw_os_error() == Some(errno::ENOTSUP) => {
            skip(&format!("{what}: the library returned ENOTSUP ({e})"));
            None
        }
        Err(e) => panic!("Group::bind for {what}: {e}"),
    }
}

/// `n` flows: sockets of distinct source ports.
fn flows(n: usize) -> Vec<UdpSocket> {
    (0..n)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect()
}

/// A 12-byte payload: flow, sequence number and key, big-endian each.
fn keyed(flow: usize, seq: usize, key: u32) -> [u8; 12] {
    let mut p = [0; 12];
    p[..4].copy_from_slice(&(flow as u32).to_be_bytes());
    p[4..8].copy_from_slice(&(seq as u32).to_be_bytes());
    p[8..].copy_from_slice(&key.to_be_bytes());
    p
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

/// Sends `per` datagrams from each flow, round after round;
/// `payload(flow, seq)` makes each.  Returns the count.
fn send_rounds<P: AsRef<[u8]>>(
    flows: &[UdpSocket],
    to: SocketAddr,
    per: usize,
    payload: impl Fn(usize, usize) -> P,
) -> usize {
    for seq in 0..per {
        for (flow, sock) in flows.iter().enumerate() {
            let p = payload(flow, seq);
            assert_eq!(sock.send_to(p.as_ref(), to).unwrap(), p.as_ref().len());
        }
    }
    flows.len() * per
}

/// One datagram as a member received it.
#[derive(Debug)]
struct Arrival {
    member: usize,
    data: Vec<u8>,
}

/// Receives on every member the group holds, each on a scoped thread of
/// its own (borrowed from the group), while `send` runs on this thread,
/// until `want` datagrams arrived in all (or PATIENCE passed).
fn receive_while(group: &mut Group, want: usize, send: impl FnOnce()) -> Vec<Arrival> {
    let total = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let threads: Vec<_> = group
            .members_mut()
            .map(|(member, sock)| {
                let total = &total;
                scope.spawn(move || {
                    let mut got = Vec::new();
                    let deadline = Instant::now() + PATIENCE;
                    while total.load(SeqCst) < want && Instant::now() < deadline {
                        match sock.recv_timeout(Duration::from_millis(20)) {
                            Ok(batch) => {
                                got.extend(batch.iter().map(|d| Arrival {
                                    member,
                                    data: d.data().to_vec(),
                                }));
                                total.fetch_add(batch.len(), SeqCst);
                            }
                            Err(e) if e.kind() == ErrorKind::TimedOut => {}
                            Err(e) => panic!("member {member}: {e}"),
                        }
                    }
                    got
                })
            })
            .collect();
        send();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("a member's thread"))
            .collect()
    })
}

/// The member each flow (the payload's first byte for a short datagram,
/// else its first four) arrived on, checking each arrived on one only, and
/// how many arrived per flow.
fn members_of_flows(arrivals: &[Arrival]) -> (HashMap<u32, usize>, HashMap<u32, usize>) {
    let (mut member_of, mut count) = (HashMap::new(), HashMap::new());
    for a in arrivals {
        let flow = if a.data.len() < 4 {
            u32::from(a.data[0])
        } else {
            be32(&a.data)
        };
        let first = *member_of.entry(flow).or_insert(a.member);
        assert_eq!(
            first, a.member,
            "flow {flow} reached members {first} and {}",
            a.member
        );
        *count.entry(flow).or_insert(0) += 1;
    }
    (member_of, count)
}

fn members_used(arrivals: &[Arrival]) -> BTreeSet<usize> {
    arrivals.iter().map(|a| a.member).collect()
}

fn rx_datagrams(group: &Group) -> u64 {
    group.members().map(|(_, s)| s.stats().rx_datagrams).sum()
}

fn hash_keeps_flows_together(options: Options, label: &str) {
    const FLOWS: usize = 100;
    const PER: usize = 10;
    let _gate = shared();
    let mut group = bind(4, options);
    let to = group.local_addr();
    let flows = flows(FLOWS);
    let arrivals = receive_while(&mut group, FLOWS * PER, || {
        send_rounds(&flows, to, PER, |flow, seq| keyed(flow, seq, 0));
    });
    assert_eq!(arrivals.len(), FLOWS * PER, "{label}");
    let (member_of, count) = members_of_flows(&arrivals);
    assert_eq!(member_of.len(), FLOWS, "{label}");
    assert!(count.values().all(|&c| c == PER), "{label}: {count:?}");
    // 100 flows hashed onto 4 members: all on fewer than 3 has a chance
    // far below 1e-20.
    assert!(members_used(&arrivals).len() >= 3, "{label}");
    assert_eq!(rx_datagrams(&group), (FLOWS * PER) as u64, "{label}");
    assert_eq!(group.dropped(), 0);
}

#[test]
fn hash_steering_keeps_each_of_100_flows_on_one_member() {
    hash_keeps_flows_together(group_options(), "inline");
}

#[test]
fn hash_steering_keeps_each_of_100_flows_on_one_member_threaded() {
    hash_keeps_flows_together(group_options().threaded(true), "threaded");
}

#[test]
fn key_steering_sends_key_k_to_member_k_mod_4_whatever_the_source() {
    const FLOWS: usize = 20;
    const PER: usize = 20;
    let _gate = shared();
    let options = group_options().steering(Steering::Key {
        offset: 8,
        length: 4,
    });
    let mut group = bind(4, options);
    let to = group.local_addr();
    let flows = flows(FLOWS);
    let key = |flow: usize, seq: usize| (flow * 7 + seq * 13) as u32;
    let arrivals = receive_while(&mut group, FLOWS * PER, || {
        send_rounds(&flows, to, PER, |flow, seq| {
            keyed(flow, seq, key(flow, seq))
        });
    });
    assert_eq!(arrivals.len(), FLOWS * PER);
    for a in &arrivals {
        assert_eq!(a.data.len(), 12);
        let (flow, seq) = (be32(&a.data) as usize, be32(&a.data[4..]) as usize);
        assert_eq!(be32(&a.data[8..]), key(flow, seq));
        assert_eq!(
            key(flow, seq) as usize % 4,
            a.member,
            "flow {flow} seq {seq}"
        );
    }
    // Each flow's keys vary, so each flow reaches every member.
    assert_eq!(members_used(&arrivals).len(), 4);
}

#[test]
fn key_of_eight_bytes_counts_every_byte() {
    const COUNT: usize = 300;
    let _gate = shared();
    let options = group_options().steering(Steering::Key {
        offset: 4,
        length: 8,
    });
    let mut group = bind(3, options);
    let to = group.local_addr();
    let flow = flows(1);
    // A generator that changes high and low bytes alike.
    let keys: Vec<u64> = (0..COUNT)
        .scan(0x0123_4567_89ab_cdef_u64, |k, _| {
            *k = k
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            Some(*k)
        })
        .collect();
    let arrivals = receive_while(&mut group, COUNT, || {
        send_rounds(&flow, to, COUNT, |_, seq| {
            let mut p = [0u8; 12];
            p[4..].copy_from_slice(&keys[seq].to_be_bytes());
            p
        });
    });
    assert_eq!(arrivals.len(), COUNT);
    for a in &arrivals {
        let k = u64::from_be_bytes(a.data[4..12].try_into().unwrap());
        assert_eq!((k % 3) as usize, a.member, "key {k:#x}");
    }
    assert_eq!(members_used(&arrivals).len(), 3);
}

#[test]
fn datagrams_too_short_for_the_key_follow_their_source() {
    const FLOWS: usize = 60;
    const PER: usize = 5;
    let _gate = shared();
    // The key ends at byte 4; every datagram has 3.
    let options = group_options().steering(Steering::Key {
        offset: 2,
        length: 2,
    });
    let mut group = bind(4, options);
    let to = group.local_addr();
    let flows = flows(FLOWS);
    let arrivals = receive_while(&mut group, FLOWS * PER, || {
        send_rounds(&flows, to, PER, |flow, seq| [flow as u8, seq as u8, 0xff]);
    });
    assert_eq!(arrivals.len(), FLOWS * PER);
    let (member_of, count) = members_of_flows(&arrivals);
    assert_eq!(member_of.len(), FLOWS);
    assert!(count.values().all(|&c| c == PER), "{count:?}");
    // Spread by source, not all on one member.
    assert!(members_used(&arrivals).len() >= 3);
}

/// glibc's, for pinning this thread (std has no call for it).
mod affinity {
    use std::ffi::c_int;

    /// `cpu_set_t`: 1024 bits.
    pub type CpuSet = [u64; 16];

    extern "C" {
        fn sched_getaffinity(pid: c_int, size: usize, mask: *mut CpuSet) -> c_int;
        fn sched_setaffinity(pid: c_int, size: usize, mask: *const CpuSet) -> c_int;
    }

    pub fn get() -> CpuSet {
        let mut set = [0; 16];
        // SAFETY: set is a writable cpu_set_t; pid 0 is this thread.
        assert_eq!(
            unsafe { sched_getaffinity(0, std::mem::size_of::<CpuSet>(), &mut set) },
            0
        );
        set
    }

    pub fn set(set: &CpuSet) -> bool {
        // SAFETY: set is a cpu_set_t; pid 0 is this thread.
        unsafe { sched_setaffinity(0, std::mem::size_of::<CpuSet>(), set) == 0 }
    }

    pub fn has(set: &CpuSet, cpu: usize) -> bool {
        set[cpu / 64] & (1 << (cpu % 64)) != 0
    }

    pub fn only(cpu: usize) -> CpuSet {
        let mut set = [0; 16];
        set[cpu / 64] = 1 << (cpu % 64);
        set
    }
}

#[test]
fn cpu_steering_follows_the_sending_cpu() {
    const PER: usize = 50;
    const MEMBERS: usize = 2;
    let _gate = shared();
    let mut group = bind(MEMBERS, group_options().steering(Steering::Cpu));
    let to = group.local_addr();
    let flow = flows(1);
    // Sent from CPU c, a datagram is received on loopback on CPU c.
    let before = affinity::get();
    let mut tried = 0;
    for cpu in (0..4).filter(|&c| affinity::has(&before, c)) {
        if !affinity::set(&affinity::only(cpu)) {
            continue;
        }
        let arrivals = receive_while(&mut group, PER, || {
            send_rounds(&flow, to, PER, |_, seq| keyed(0, seq, 0));
        });
        assert_eq!(arrivals.len(), PER, "cpu {cpu}");
        assert!(
            arrivals.iter().all(|a| a.member == cpu % MEMBERS),
            "sent from cpu {cpu}: {:?}",
            members_used(&arrivals)
        );
        tried += 1;
    }
    assert!(affinity::set(&before));
    assert!(tried > 0, "no CPU to pin to");
    if tried < MEMBERS {
        report(&format!(
            "cpu steering: {tried} CPU(s) here, member 1 untried"
        ));
    }
}

/// Sends 60 flows of 8 into 4 members, takes what reaches every member but
/// `GONE`, then closes `GONE` with `close`, which returns the count the
/// close dropped: what the others received and the close dropped add up
/// to what was sent, and from then on every flow reaches the open members.
fn closing_counts_what_was_queued(threaded: bool, close: impl FnOnce(&mut Group) -> u64) {
    const FLOWS: usize = 60;
    const PER: usize = 8;
    const GONE: usize = 1;
    let _gate = shared();
    let mut group = bind(4, group_options().threaded(threaded));
    let to = group.local_addr();
    let flows = flows(FLOWS);
    let sent = send_rounds(&flows, to, PER, |flow, seq| keyed(flow, seq, 0));
    // The others' datagrams, until none came for 300 ms.
    let mut others = 0;
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_millis(300) {
        for (i, sock) in group.members_mut() {
            if i == GONE {
                continue;
            }
            let n = sock.recv().unwrap().len();
            if n > 0 {
                others += n;
                quiet_since = Instant::now();
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let dropped = close(&mut group);
    assert!(group.member(GONE).is_none());
    // 60 flows on 4 members: member 1 had some.
    assert!(dropped > 0);
    assert_eq!(others as u64 + dropped, sent as u64);
    assert_eq!(group.dropped(), dropped);
    // A second close is the library's EBADF.
    let err = group.close_member(GONE).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EBADF));

    // Every flow again: all reach the open members, each flow one.
    let arrivals = receive_while(&mut group, FLOWS * PER, || {
        send_rounds(&flows, to, PER, |flow, seq| keyed(flow, seq, 0));
    });
    assert_eq!(arrivals.len(), FLOWS * PER);
    let (member_of, _) = members_of_flows(&arrivals);
    assert_eq!(member_of.len(), FLOWS);
    assert!(!members_used(&arrivals).contains(&GONE));
    assert_eq!(group.dropped(), dropped);
}

#[test]
fn close_member_counts_what_was_queued_to_it() {
    closing_counts_what_was_queued(false, |group| group.close_member(1).unwrap());
}

#[test]
fn close_member_counts_what_was_queued_to_it_threaded() {
    closing_counts_what_was_queued(true, |group| group.close_member(1).unwrap());
}

#[test]
fn dropping_a_taken_member_on_its_thread_counts_what_was_queued_to_it() {
    closing_counts_what_was_queued(false, |group| {
        let member = group.take_member(1).unwrap();
        // Open and owned elsewhere: not the group's to close.
        assert_eq!(
            group.close_member(1).unwrap_err().raw_os_error(),
            Some(errno::EBUSY)
        );
        let tx = member.sender();
        std::thread::spawn(move || drop(member)).join().unwrap();
        // The Sender keeps it open, and sending.
        assert_eq!(group.dropped(), 0);
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send(&[OutgoingDatagram::to(
            &b"still here"[..],
            peer.local_addr().unwrap(),
        )])
        .unwrap();
        let mut buf = [0; 16];
        peer.set_read_timeout(Some(PATIENCE)).unwrap();
        assert_eq!(peer.recv_from(&mut buf).unwrap(), (10, group.local_addr()));
        // Its last handle: the member closes here.
        drop(tx);
        group.dropped()
    });
}

#[test]
fn members_echo_on_threads_of_their_own() {
    const FLOWS: usize = 20;
    const PER: usize = 10;
    let _gate = shared();
    let Some(mut group) = bind_or_skip_group(4, group_options().threaded(true), "threaded group")
    else {
        return;
    };
    let to = group.local_addr();
    // Each member, owned, on a thread: echo every datagram until shut down,
    // then say which flows it served and how many it echoed.
    let mut stoppers = Vec::new();
    let threads: Vec<_> = group
        .take_members()
        .into_iter()
        .map(|(i, mut sock)| {
            assert_eq!(sock.group_member(), Some(i));
            let tx = sock.sender();
            stoppers.push(sock.sender());
            std::thread::spawn(move || {
                let mut flows = BTreeSet::new();
                let mut echoed = 0;
                loop {
                    let batch = match sock.recv_timeout(PATIENCE) {
                        Ok(batch) => batch,
                        Err(e) if e.raw_os_error() == Some(errno::EBADF) => break,
                        Err(e) => panic!("member {i}: {e}"),
                    };
                    flows.extend(batch.iter().map(|d| be32(d.data())));
                    let replies: Vec<OutgoingDatagram> =
                        batch.iter().map(OutgoingDatagram::reply).collect();
                    tx.send_all(&replies).unwrap();
                    echoed += replies.len();
                }
                (i, flows, echoed, sock.stats())
            })
        })
        .collect();
    assert_eq!(group.take_members().len(), 0);
    let flows = flows(FLOWS);
    send_rounds(&flows, to, PER, |flow, seq| keyed(flow, seq, 0));
    for (f, sock) in flows.iter().enumerate() {
        sock.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0; 16];
        for seq in 0..PER {
            let (n, from) = sock.recv_from(&mut buf).expect("an echo");
            assert_eq!(from, to, "echoed from the group's address");
            assert_eq!(buf[..n], keyed(f, seq, 0), "flow {f}");
        }
    }
    // Every echo arrived, but a member may still be returning from its
    // last send, which it counts on return: wait until each has counted
    // a reply for every datagram it took, so that the counters frozen by
    // the shutdown are whole.
    for s in &stoppers {
        let deadline = Instant::now() + PATIENCE;
        while s.stats().tx_datagrams < s.stats().rx_datagrams {
            assert!(Instant::now() < deadline, "a member never counted its replies");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    for s in &stoppers {
        s.shutdown();
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for t in threads {
        let (i, served, echoed, stats) = t.join().expect("a member's thread");
        assert_eq!(stats.rx_datagrams, echoed as u64, "member {i}");
        assert_eq!(stats.tx_datagrams, echoed as u64, "member {i}");
        assert_eq!(echoed, served.len() * PER, "member {i}: whole flows");
        assert!(served.is_disjoint(&seen), "member {i} shares a flow");
        seen.extend(served);
        total += echoed;
    }
    assert_eq!(total, FLOWS * PER);
    // The Senders are the last handles: dropping them closes the members,
    // which held nothing.
    drop(stoppers);
    assert_eq!(group.dropped(), 0);
    for i in 0..4 {
        let err = group.close_member(i).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(errno::EBADF), "member {i}");
    }
}

#[test]
fn members_are_sockets() {
    let _gate = shared();
    let mut group = bind(3, Options::new());
    let to = group.local_addr();
    assert_eq!(to.ip().to_string(), "127.0.0.1");
    assert_ne!(to.port(), 0);
    for (i, sock) in group.members() {
        assert_eq!(sock.local_addr().unwrap(), to, "member {i}");
        assert_eq!(sock.group_member(), Some(i));
    }
    assert!(group.member(3).is_none());
    assert!(group.member_mut(3).is_none());
    assert!(group.take_member(3).is_none());
    // Sends go out from the group's address.
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let dest = peer.local_addr().unwrap();
    group
        .member(2)
        .unwrap()
        .send(&[OutgoingDatagram::to(&b"from member 2"[..], dest)])
        .unwrap();
    let mut buf = [0; 32];
    assert_eq!(peer.recv_from(&mut buf).unwrap(), (13, to));
    // dispatch and wait on a member, whichever the flow reached.
    peer.send_to(b"to the group", to).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while got.is_empty() && Instant::now() < deadline {
        for (_, sock) in group.members_mut() {
            if sock.wait(Some(Duration::from_millis(10))).unwrap() {
                sock.dispatch(8, |batch| {
                    got.extend(batch.iter().map(|d| d.data().to_vec()))
                })
                .unwrap();
            }
        }
    }
    assert_eq!(got, [b"to the group".to_vec()]);
    let shown = format!("{group:?}");
    assert!(shown.contains("held: [0, 1, 2]"), "{shown}");

    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Group>();
}

#[test]
fn callback_thread_members() {
    const KEYS: u8 = 30;
    let _gate = shared();
    let options = group_options()
        .threaded(true)
        .callback_thread(true)
        .steering(Steering::Key {
            offset: 0,
            length: 1,
        });
    let Some(mut group) = bind_or_skip_group(3, options, "callback-thread group") else {
        return;
    };
    let (tx, rx) = mpsc::channel();
    for (i, sock) in group.members_mut() {
        let tx = tx.clone();
        sock.set_callback(move |batch| {
            for d in batch {
                tx.send((i, d.data()[0])).unwrap();
            }
        })
        .unwrap();
    }
    let flow = flows(1);
    send_rounds(&flow, group.local_addr(), KEYS as usize, |_, k| [k as u8]);
    let mut keys = BTreeSet::new();
    for _ in 0..KEYS {
        let (member, key) = rx.recv_timeout(PATIENCE).expect("a datagram");
        assert_eq!(key as usize % 3, member, "key {key}");
        keys.insert(key);
    }
    assert_eq!(keys.len(), KEYS as usize);
    // A member with its callback set closes (the closure goes with it).
    assert_eq!(group.close_member(0).unwrap(), 0);
    assert!(group.member(0).is_none());
    // Key 0 now reaches the next open member, 1.
    flow[0].send_to(&[0], group.local_addr()).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), (1, 0));
}

#[test]
fn a_member_outlives_the_group_value() {
    let _gate = shared();
    let mut group = bind(2, Options::new());
    let to = group.local_addr();
    let mut member = group.take_member(0).unwrap();
    let sender_of_1 = group.member(1).unwrap().sender();
    // Member 1, still held, closes with the Group... but its Sender keeps
    // it open; member 0 was taken and goes on.
    drop(group);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(PATIENCE)).unwrap();
    let dest = peer.local_addr().unwrap();
    sender_of_1
        .send(&[OutgoingDatagram::to(&b"one"[..], dest)])
        .unwrap();
    member
        .send(&[OutgoingDatagram::to(&b"zero"[..], dest)])
        .unwrap();
    let mut buf = [0; 8];
    assert_eq!(peer.recv_from(&mut buf).unwrap().1, to);
    assert_eq!(peer.recv_from(&mut buf).unwrap().1, to);
    // Member 1 closed: the next datagram of any flow reaches member 0.
    drop(sender_of_1);
    peer.send_to(b"back", to).unwrap();
    assert_eq!(member.recv_timeout(PATIENCE).unwrap()[0].data(), b"back");
    // The group's memory goes with its last member, and nothing holds the
    // port any more.
    drop(member);
    UdpSocket::bind(to).expect("the group's port is free again");
}

#[test]
fn a_member_dropped_inside_its_own_callback_frees_the_group() {
    let _gate = shared();
    let options = Options::new().threaded(true).callback_thread(true);
    let Some(mut group) = bind_or_skip_group(2, options, "callback-thread group") else {
        return;
    };
    let to = group.local_addr();
    let mut member = group.take_member(0).unwrap();
    // Member 1 closes: every flow reaches member 0.
    drop(group);
    let holder: Arc<Mutex<Option<Socket>>> = Arc::new(Mutex::new(None));
    let inside = Arc::clone(&holder);
    let (done, was_done) = mpsc::channel();
    member
        .set_callback(move |_batch| {
            // The member's last handle, and the group's: both go here.
            if let Some(s) = inside.lock().unwrap().take() {
                drop(s);
                let _ = done.send(());
            }
        })
        .unwrap();
    *holder.lock().unwrap() = Some(member);
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"drop yourself", to)
        .unwrap();
    was_done.recv_timeout(PATIENCE).expect("the callback ran");
    let deadline = Instant::now() + PATIENCE;
    while let Err(e) = UdpSocket::bind(to) {
        assert!(Instant::now() < deadline, "{to} still bound: {e}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn close_member_errors() {
    let _gate = shared();
    let mut group = bind(3, Options::new());
    assert_eq!(
        group.close_member(3).unwrap_err().raw_os_error(),
        Some(errno::EINVAL)
    );
    assert_eq!(
        group.close_member(usize::MAX).unwrap_err().raw_os_error(),
        Some(errno::EINVAL)
    );
    // Shared with a Sender: EBUSY, and it stays, working.
    let tx = group.member(0).unwrap().sender();
    let err = group.close_member(0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EBUSY));
    assert!(group.member(0).is_some());
    assert!(group.member_mut(0).unwrap().recv().unwrap().is_empty());
    drop(tx);
    assert_eq!(group.close_member(0).unwrap(), 0);
    assert_eq!(
        group.close_member(0).unwrap_err().raw_os_error(),
        Some(errno::EBADF)
    );
    // Taken and still open: EBUSY; once dropped: EBADF.
    let member = group.take_member(2).unwrap();
    assert_eq!(
        group.close_member(2).unwrap_err().raw_os_error(),
        Some(errno::EBUSY)
    );
    drop(member);
    assert_eq!(
        group.close_member(2).unwrap_err().raw_os_error(),
        Some(errno::EBADF)
    );
    let held: Vec<usize> = group.members().map(|(i, _)| i).collect();
    assert_eq!(held, [1]);
    assert_eq!(group.len(), 3);
}

#[test]
fn bad_input_is_the_library_error_and_opens_nothing() {
    let _alone = FDS.write().unwrap_or_else(|e| e.into_inner());
    // A free port, to see that nothing holds it afterwards.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let fds = open_fds();
    let key = |offset, length| Options::new().steering(Steering::Key { offset, length });
    let cases = [
        ("0 members", 0, Options::new()),
        ("257 members", 257, Options::new()),
        ("more members than a c_uint", usize::MAX, Options::new()),
        ("key ending past the largest payload", 2, key(65_524, 4)),
        ("key offset past the largest payload", 2, key(65_528, 1)),
        ("key of 0 bytes", 2, key(0, 0)),
        ("key of 9 bytes", 2, key(0, 9)),
    ];
    for (what, n, options) in cases {
        let err = Group::bind(addr, n, options).expect_err(what);
        assert_eq!(err.raw_os_error(), Some(errno::EINVAL), "{what}: {err}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}");
        assert_eq!(open_fds(), fds, "{what}: an fd left open");
    }
    // The largest key that fits is fine.
    drop(Group::bind(addr, 2, key(65_519, 8)).expect("a key ending at 65527"));
    assert_eq!(open_fds(), fds);
    // Steering is for groups.
    let err = Socket::bind(addr, key(0, 4)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(errno::EINVAL));
    assert_eq!(open_fds(), fds);
    // A socket outside any group on the address: EADDRINUSE, and the
    // members opened before the failure are closed again.
    let lone = UdpSocket::bind(addr).unwrap();
    let fds_with_lone = open_fds();
    let err = Group::bind(addr, 3, Options::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
    assert_eq!(open_fds(), fds_with_lone);
    drop(lone);
    UdpSocket::bind(addr).expect("nothing holds the port");
}

#[test]
fn the_largest_group_opens_and_steers() {
    const N: usize = batchudp_sys::BUDP_GROUP_MAX_MEMBERS as usize;
    let _gate = shared();
    let options = Options::new()
        .batch_size(4)
        .gro(false)
        .steering(Steering::Key {
            offset: 0,
            length: 4,
        });
    let mut group = bind(N, options);
    let flow = flows(1);
    // Keys 0..512: two to each member.
    send_rounds(&flow, group.local_addr(), 2 * N, |_, k| {
        (k as u32).to_be_bytes()
    });
    for (i, sock) in group.members_mut() {
        let mut got = 0;
        while got < 2 {
            for d in &sock.recv_timeout(PATIENCE).expect("two keys each") {
                assert_eq!(be32(d.data()) as usize % N, i);
                got += 1;
            }
        }
        assert_eq!(got, 2, "member {i}");
    }
}
