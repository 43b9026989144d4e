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
    assert_eq!(v >> 16, BUDP_VERSION_MAJOR, "library major version");
    let s = unsafe { CStr::from_ptr(budp_version_string()) }
        .to_str()
        .unwrap();
    let expect = format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    assert_eq!(s, expect);
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
        let mut st = budp_stats::default();
        let w = budp_get_stats(s, &mut st, std::mem::size_of::<budp_stats>());
        assert_eq!(w as usize, std::mem::size_of::<budp_stats>());
        assert_eq!(st.rx_datagrams, 1);
        assert_eq!(st.tx_datagrams, 1);
        budp_close(s);
    }
}

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
