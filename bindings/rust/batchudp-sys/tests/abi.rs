//! Calls through the raw declarations against the real library: versions,
//! errors, options, addresses and a loopback round trip.

use batchudp_sys::*;
use std::ffi::{c_char, CStr};
use std::ptr;

fn errstr(rc: i32) -> String {
    unsafe { CStr::from_ptr(budp_strerror(rc)) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn version_matches_the_header() {
    let v = unsafe { budp_version() };
    assert!(
        version_is_compatible(v),
        "library {v:#08x}, declarations {BUDP_VERSION:#08x}"
    );
    assert_eq!(
        (v >> 16, (v >> 8) & 0xff),
        (BUDP_VERSION_MAJOR, BUDP_VERSION_MINOR)
    );
    assert_eq!((BUDP_VERSION_MAJOR, BUDP_VERSION_MINOR), (0, 2));
    let s = unsafe { CStr::from_ptr(budp_version_string()) }
        .to_str()
        .unwrap();
    let expect = format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    assert_eq!(s, expect);
}

#[test]
fn version_rule() {
    let v = |major: u32, minor: u32, patch: u32| (major << 16) | (minor << 8) | patch;
    let cases = [
        // 0.x: major and minor both equal; the patch never matters.
        (v(0, 2, 0), v(0, 2, 0), true),
        (v(0, 2, 9), v(0, 2, 0), true),
        (v(0, 2, 0), v(0, 2, 4), true),
        (v(0, 1, 0), v(0, 2, 0), false),
        (v(0, 3, 0), v(0, 2, 0), false),
        (v(1, 2, 0), v(0, 2, 0), false),
        // From 1.0 on: equal major, minor the binding's or above.
        (v(1, 0, 0), v(1, 0, 0), true),
        (v(1, 3, 1), v(1, 2, 0), true),
        (v(1, 2, 0), v(1, 2, 5), true),
        (v(1, 1, 7), v(1, 2, 0), false),
        (v(2, 2, 0), v(1, 2, 0), false),
        (v(0, 2, 0), v(1, 2, 0), false),
    ];
    for (library, written_for, ok) in cases {
        assert_eq!(
            version_is_compatible_with(library, written_for),
            ok,
            "library {library:#08x}, binding {written_for:#08x}"
        );
    }
    assert!(version_is_compatible(v(0, 2, 3)));
    assert!(!version_is_compatible(v(0, 1, 0)));
}

#[test]
fn strerror_describes_codes() {
    assert!(!errstr(-22).is_empty());
    assert_eq!(errstr(-22), errstr(22));
    assert!(!errstr(-999_999).is_empty());
}

#[test]
fn options_set_get_bounds() {
    let mut o: *mut budp_options = ptr::null_mut();
    assert_eq!(unsafe { budp_options_new(&mut o) }, 0);
    assert!(!o.is_null());
    let (mut min, mut max, mut def) = (0i64, 0i64, 0i64);
    assert_eq!(
        unsafe { budp_options_bounds(BUDP_OPT_BATCH_SIZE, &mut min, &mut max, &mut def) },
        0
    );
    assert_eq!((min, max, def), (1, 1024, 32));
    let mut v = 0i64;
    assert_eq!(
        unsafe { budp_options_get(o, BUDP_OPT_BATCH_SIZE, &mut v) },
        0
    );
    assert_eq!(v, 32);
    assert_eq!(unsafe { budp_options_set(o, BUDP_OPT_BATCH_SIZE, 64) }, 0);
    assert_eq!(
        unsafe { budp_options_get(o, BUDP_OPT_BATCH_SIZE, &mut v) },
        0
    );
    assert_eq!(v, 64);
    // Out of bounds and unknown keys: -EINVAL, value unchanged.
    assert!(unsafe { budp_options_set(o, BUDP_OPT_BATCH_SIZE, 0) } < 0);
    assert!(unsafe { budp_options_set(o, 9999, 1) } < 0);
    assert_eq!(
        unsafe { budp_options_get(o, BUDP_OPT_BATCH_SIZE, &mut v) },
        0
    );
    assert_eq!(v, 64);
    unsafe { budp_options_free(o) };
    unsafe { budp_options_free(ptr::null_mut()) };
}

#[test]
fn addr_string_round_trip() {
    let mut a = budp_addr::default();
    assert_eq!(
        unsafe { budp_addr_from_string(&mut a, c"::1".as_ptr(), 4433) },
        0
    );
    assert_eq!(a.family, BUDP_AF_INET6);
    assert_eq!(a.port, 4433);
    assert_eq!(a.bytes[15], 1);
    let mut buf = [0 as c_char; 64];
    let n = unsafe { budp_addr_to_string(&a, buf.as_mut_ptr(), buf.len()) };
    assert_eq!(n, 3);
    assert_eq!(
        unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
        "::1"
    );
    assert!(unsafe { budp_addr_from_string(&mut a, c"not an address".as_ptr(), 1) } < 0);
}

#[test]
fn null_pointers_are_rejected() {
    assert!(unsafe { budp_bind(ptr::null_mut(), c"127.0.0.1".as_ptr(), 0, ptr::null()) } < 0);
    assert!(unsafe { budp_socket_fd(ptr::null()) } < 0);
    assert!(unsafe { budp_recv(ptr::null_mut(), ptr::null_mut(), 1) } < 0);
    unsafe { budp_close(ptr::null_mut()) };
}

#[test]
fn loopback_round_trip() {
    unsafe {
        let mut s: *mut budp_socket = ptr::null_mut();
        let rc = budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, ptr::null());
        assert_eq!(rc, 0, "{}", errstr(rc));
        let mut me = budp_addr::default();
        assert_eq!(budp_local_addr(s, &mut me), 0);
        let payload = b"hello";
        let d = budp_datagram {
            data: payload.as_ptr(),
            len: payload.len() as u32,
            peer: me,
            ..Default::default()
        };
        assert_eq!(budp_send(s, &d, 1), 1);
        assert_eq!(budp_wait(s, 5000), 1);
        let mut got: *const budp_datagram = ptr::null();
        let n = budp_recv(s, &mut got, 8);
        assert_eq!(n, 1, "{}", errstr(n));
        let g = &*got;
        assert_eq!(std::slice::from_raw_parts(g.data, g.len as usize), payload);
        assert_eq!(g.peer, me);
        // BUDP_OPT_TIMESTAMPS is off: no time; reserved is zero.
        assert_eq!(g.flags & BUDP_DGRAM_HAS_TIME, 0);
        assert_eq!(g.time_ns, 0);
        assert_eq!(g.reserved, [0; 21]);
        let mut st = budp_stats::default();
        let w = budp_get_stats(s, &mut st, std::mem::size_of::<budp_stats>());
        assert_eq!(w as usize, std::mem::size_of::<budp_stats>());
        assert_eq!(st.rx_datagrams, 1);
        assert_eq!(st.tx_datagrams, 1);
        assert_eq!(st.tx_unconfirmed, 0);
        assert_eq!((st.error_events, st.error_events_dropped), (0, 0));
        let name = CStr::from_ptr(budp_backend_name(s)).to_str().unwrap();
        let reason = CStr::from_ptr(budp_backend_reason(s)).to_str().unwrap();
        assert!(reason.starts_with(&format!("{name}: ")), "{reason}");
        budp_close(s);
    }
}

#[test]
fn send_refuses_time_ns_and_reserved_bytes() {
    unsafe {
        let s = bind_loopback(false);
        let mut me = budp_addr::default();
        assert_eq!(budp_local_addr(s, &mut me), 0);
        let ok = budp_datagram {
            data: b"x".as_ptr(),
            len: 1,
            peer: me,
            ..Default::default()
        };
        // Pacing is off by default: a departure time is -EINVAL, as is the
        // last reserved byte (which shows the struct reaches byte 95).
        let timed = budp_datagram { time_ns: 1, ..ok };
        assert_eq!(budp_send(s, &timed, 1), -22);
        let mut reserved = ok;
        reserved.reserved[20] = 1;
        assert_eq!(budp_send(s, &reserved, 1), -22);
        assert_eq!(budp_send(s, &ok, 1), 1);
        budp_close(s);
    }
}

/// Callback-thread mode: a callback that answers BUDP_CALLBACK_PAUSE stops
/// the receiver thread until budp_set_callback is called again.
#[test]
fn callback_pause_stops_the_receiver_until_set_again() {
    use std::ffi::{c_int, c_uint, c_void};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    unsafe extern "C" fn pause_each(
        user: *mut c_void,
        _d: *const budp_datagram,
        n: c_uint,
    ) -> c_int {
        let seen = unsafe { &*user.cast::<AtomicU32>() };
        seen.fetch_add(n, Ordering::SeqCst);
        BUDP_CALLBACK_PAUSE
    }
    fn wait_for(seen: &AtomicU32, n: u32, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while seen.load(Ordering::SeqCst) < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    unsafe {
        let mut o: *mut budp_options = ptr::null_mut();
        assert_eq!(budp_options_new(&mut o), 0);
        assert_eq!(budp_options_set(o, BUDP_OPT_THREADED, 1), 0);
        assert_eq!(budp_options_set(o, BUDP_OPT_CALLBACK_THREAD, 1), 0);
        let mut s: *mut budp_socket = ptr::null_mut();
        let rc = budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, o);
        budp_options_free(o);
        if rc == -ENOTSUP {
            eprintln!("skipped: threaded mode not available: {}", errstr(rc));
            return;
        }
        assert_eq!(rc, 0, "{}", errstr(rc));
        let mut me = budp_addr::default();
        assert_eq!(budp_local_addr(s, &mut me), 0);
        let seen = Box::new(AtomicU32::new(0));
        let user = (&*seen as *const AtomicU32).cast_mut().cast::<c_void>();
        let one = budp_datagram {
            data: b"x".as_ptr(),
            len: 1,
            peer: me,
            ..Default::default()
        };
        assert_eq!(budp_set_callback(s, Some(pause_each), user), 0);
        assert_eq!(budp_send(s, &one, 1), 1);
        assert!(
            wait_for(&seen, 1, Duration::from_secs(10)),
            "first datagram"
        );
        // Paused: the second one stays in the kernel's queue.
        assert_eq!(budp_send(s, &one, 1), 1);
        assert!(
            !wait_for(&seen, 2, Duration::from_millis(300)),
            "delivered while paused"
        );
        // Setting the same callback again resumes the receiver.
        assert_eq!(budp_set_callback(s, Some(pause_each), user), 0);
        assert!(wait_for(&seen, 2, Duration::from_secs(10)), "not resumed");
        budp_close(s);
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }
}

/// ENOTSUP: 95 on Linux, 45 on the BSD family.
const ENOTSUP: i32 = if cfg!(target_os = "linux") { 95 } else { 45 };

/// EBADF, the same number on Linux and the BSD family.
const EBADF: i32 = 9;

fn bind_loopback(threaded: bool) -> *mut budp_socket {
    unsafe {
        let mut o: *mut budp_options = ptr::null_mut();
        assert_eq!(budp_options_new(&mut o), 0);
        assert_eq!(budp_options_set(o, BUDP_OPT_THREADED, threaded as i64), 0);
        let mut s: *mut budp_socket = ptr::null_mut();
        let rc = budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, o);
        budp_options_free(o);
        assert_eq!(rc, 0, "{}", errstr(rc));
        s
    }
}

#[test]
fn shutdown_refuses_every_later_call() {
    assert_eq!(unsafe { budp_shutdown(ptr::null_mut()) }, -22);
    for threaded in [false, true] {
        let s = bind_loopback(threaded);
        unsafe {
            let mut me = budp_addr::default();
            assert_eq!(budp_local_addr(s, &mut me), 0);
            assert_eq!(budp_shutdown(s), 0);
            assert_eq!(budp_shutdown(s), 0, "a second shutdown does nothing");

            let mut a = budp_addr::default();
            let mut views: *const budp_datagram = ptr::null();
            let (mut buf, mut lens) = ([0u8; 64], [0u32; 4]);
            let d = budp_datagram {
                data: b"x".as_ptr(),
                len: 1,
                peer: me,
                ..Default::default()
            };
            let mut st = budp_stats::default();
            let calls: [(&str, i32); 12] = [
                ("connect", budp_connect(s, c"127.0.0.1".as_ptr(), 9)),
                ("local_addr", budp_local_addr(s, &mut a)),
                ("socket_fd", budp_socket_fd(s)),
                ("poll_fd", budp_poll_fd(s)),
                ("recv", budp_recv(s, &mut views, 4)),
                (
                    "recv_packed",
                    budp_recv_packed(
                        s,
                        buf.as_mut_ptr(),
                        buf.len(),
                        lens.as_mut_ptr(),
                        ptr::null_mut(),
                        ptr::null_mut(),
                        4,
                    ),
                ),
                ("wait 0", budp_wait(s, 0)),
                ("wait -1", budp_wait(s, -1)),
                ("set_callback", budp_set_callback(s, None, ptr::null_mut())),
                ("dispatch", budp_dispatch(s, 4)),
                ("send", budp_send(s, &d, 1)),
                (
                    "get_stats",
                    budp_get_stats(s, &mut st, std::mem::size_of::<budp_stats>()),
                ),
            ];
            for (what, rc) in calls {
                assert_eq!(rc, -EBADF, "threaded {threaded}: {what} after shutdown");
            }
            assert!(CStr::from_ptr(budp_backend_name(s)).to_bytes().is_empty());
            assert!(CStr::from_ptr(budp_backend_reason(s)).to_bytes().is_empty());
            budp_close(s);
        }
    }
}

/// A socket pointer handed to another thread: the C library allows
/// budp_wait there while this thread calls budp_shutdown.
struct SendPtr(*mut budp_socket);
unsafe impl Send for SendPtr {}

#[test]
fn shutdown_wakes_a_thread_blocked_in_wait() {
    for threaded in [false, true] {
        let s = bind_loopback(threaded);
        let (tx, rx) = std::sync::mpsc::channel();
        let p = SendPtr(s);
        let waiter = std::thread::spawn(move || {
            let p = p;
            tx.send(()).unwrap();
            let rc = unsafe { budp_wait(p.0, -1) };
            tx.send(()).unwrap();
            rc
        });
        rx.recv().unwrap();
        // Give the waiter time to fall asleep; it must wake either way.
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(unsafe { budp_shutdown(s) }, 0);
        rx.recv_timeout(std::time::Duration::from_secs(5))
            .unwrap_or_else(|_| {
                panic!("threaded {threaded}: budp_wait still asleep 5 s after budp_shutdown")
            });
        assert_eq!(waiter.join().unwrap(), -EBADF, "threaded {threaded}");
        unsafe { budp_close(s) };
    }
}

/// A socket bound on 127.0.0.1 with `key` set to `value`.
fn bind_with(key: i32, value: i64) -> *mut budp_socket {
    unsafe {
        let mut o: *mut budp_options = ptr::null_mut();
        assert_eq!(budp_options_new(&mut o), 0);
        assert_eq!(budp_options_set(o, key, value), 0);
        let mut s: *mut budp_socket = ptr::null_mut();
        let rc = budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, o);
        budp_options_free(o);
        assert_eq!(rc, 0, "{}", errstr(rc));
        s
    }
}

#[test]
fn new_option_bounds() {
    for (key, max) in [
        (BUDP_OPT_TIMESTAMPS, 1),
        (BUDP_OPT_PACING, 2),
        (BUDP_OPT_ERRORS, 1),
    ] {
        let (mut lo, mut hi, mut def) = (-1, -1, -1);
        assert_eq!(
            unsafe { budp_options_bounds(key, &mut lo, &mut hi, &mut def) },
            0
        );
        assert_eq!((lo, hi, def), (0, max, 0), "key {key}");
    }
}

#[test]
fn steering_option_bounds() {
    for (key, min, max, default) in [
        (
            BUDP_OPT_STEERING,
            0,
            BUDP_STEER_CPU as i64,
            BUDP_STEER_HASH as i64,
        ),
        (BUDP_OPT_STEER_OFFSET, 0, BUDP_STEER_PAYLOAD_MAX as i64, 0),
        (BUDP_OPT_STEER_LENGTH, 1, 8, 4),
    ] {
        let (mut lo, mut hi, mut def) = (-1, -1, -1);
        assert_eq!(
            unsafe { budp_options_bounds(key, &mut lo, &mut hi, &mut def) },
            0
        );
        assert_eq!((lo, hi, def), (min, max, default), "key {key}");
    }
}

/// A group through the raw API: members are sockets of one port, key
/// steering sends key k to member k mod n, a member's close counts what was
/// queued to it, and a second close is -EBADF.
#[cfg(target_os = "linux")]
#[test]
fn group_through_the_raw_api() {
    const EINVAL: i32 = 22;
    unsafe {
        let mut o: *mut budp_options = ptr::null_mut();
        assert_eq!(budp_options_new(&mut o), 0);
        assert_eq!(
            budp_options_set(o, BUDP_OPT_STEERING, BUDP_STEER_KEY.into()),
            0
        );
        assert_eq!(budp_options_set(o, BUDP_OPT_STEER_LENGTH, 1), 0);
        // Steering is for groups.
        let mut s: *mut budp_socket = ptr::null_mut();
        assert_eq!(budp_bind(&mut s, c"127.0.0.1".as_ptr(), 0, o), -EINVAL);
        assert!(s.is_null());
        let mut g: *mut budp_group = ptr::null_mut();
        let rc = budp_group_bind(&mut g, c"127.0.0.1".as_ptr(), 0, 3, o);
        budp_options_free(o);
        assert_eq!(rc, 0, "{}", errstr(rc));
        assert_eq!(budp_group_size(g), 3);
        let mut port = 0;
        for i in 0..3 {
            let m = budp_group_socket(g, i);
            assert!(!m.is_null());
            let mut a = budp_addr::default();
            assert_eq!(budp_local_addr(m, &mut a), 0);
            assert!(port == 0 || a.port == port);
            port = a.port;
        }
        assert!(budp_group_socket(g, 3).is_null());
        // Keys 0..9 from member 0, one send each (a GSO send would be
        // steered once, by its first datagram): key k reaches member k mod 3.
        let mut to = budp_addr::default();
        assert_eq!(
            budp_addr_from_string(&mut to, c"127.0.0.1".as_ptr(), port),
            0
        );
        for k in 0..9u8 {
            let d = budp_datagram {
                data: &k,
                len: 1,
                peer: to,
                ..Default::default()
            };
            assert_eq!(budp_send(budp_group_socket(g, 0), &d, 1), 1);
        }
        for i in 0..2 {
            let m = budp_group_socket(g, i);
            let mut got = 0;
            while got < 3 {
                assert_eq!(budp_wait(m, 5000), 1, "member {i}");
                let mut views: *const budp_datagram = ptr::null();
                let n = budp_recv(m, &mut views, 8);
                assert!(n >= 0, "{}", errstr(n));
                for d in std::slice::from_raw_parts(views, n as usize) {
                    assert_eq!(u32::from(*d.data) % 3, i);
                }
                got += n;
            }
        }
        // Member 2's three are still queued: its close drops and counts them.
        let m2 = budp_group_socket(g, 2);
        assert_eq!(budp_wait(m2, 5000), 1);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(budp_group_close_member(g, 2), 3);
        assert_eq!(budp_group_dropped(g), 3);
        assert!(budp_group_socket(g, 2).is_null());
        assert_eq!(budp_group_close_member(g, 2), -EBADF);
        assert_eq!(budp_group_close_member(g, 3), -EINVAL);
        budp_group_close(g);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn timestamps_and_error_events_through_the_raw_api() {
    unsafe {
        // A port nothing listens on: bound, noted, released.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);

        let s = bind_with(BUDP_OPT_ERRORS, 1);
        let mut dest = budp_addr::default();
        assert_eq!(
            budp_addr_from_string(&mut dest, c"127.0.0.1".as_ptr(), port),
            0
        );
        let d = budp_datagram {
            data: b"x".as_ptr(),
            len: 1,
            peer: dest,
            ..Default::default()
        };
        assert_eq!(budp_send(s, &d, 1), 1);
        assert_eq!(budp_wait(s, 5000), 1);
        let mut ev = [budp_error_event::default(); 4];
        let n = budp_recv_errors(s, ev.as_mut_ptr(), 4);
        assert_eq!(n, 1, "{}", errstr(n));
        assert_eq!(ev[0].destination, dest);
        assert_eq!(ev[0].error, -111); // ECONNREFUSED
        assert_eq!(ev[0].origin, BUDP_ERROR_ORIGIN_ICMP);
        assert_eq!(budp_recv_errors(s, ev.as_mut_ptr(), 4), 0);
        let mut st = budp_stats::default();
        budp_get_stats(s, &mut st, std::mem::size_of::<budp_stats>());
        assert_eq!(st.error_events, 1);
        budp_close(s);

        let s = bind_with(BUDP_OPT_TIMESTAMPS, 1);
        let mut me = budp_addr::default();
        budp_local_addr(s, &mut me);
        let d = budp_datagram {
            data: b"t".as_ptr(),
            len: 1,
            peer: me,
            ..Default::default()
        };
        assert_eq!(budp_send(s, &d, 1), 1);
        assert_eq!(budp_wait(s, 5000), 1);
        let mut got: *const budp_datagram = ptr::null();
        assert_eq!(budp_recv(s, &mut got, 1), 1);
        assert_ne!((*got).flags & BUDP_DGRAM_HAS_TIME, 0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        assert!(now.abs_diff((*got).time_ns) < 1_000_000_000);
        budp_close(s);
    }
}
