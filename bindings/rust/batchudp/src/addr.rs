//! Conversions between `std::net::SocketAddr` and `budp_addr`, and the
//! numeric host strings that `budp_bind` and `budp_connect` take.

use batchudp_sys as sys;
use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

pub(crate) fn to_budp(addr: Option<&SocketAddr>) -> sys::budp_addr {
    let mut out = sys::budp_addr::default();
    match addr {
        None => {}
        Some(SocketAddr::V4(a)) => {
            out.family = sys::BUDP_AF_INET;
            out.port = a.port();
            out.bytes[..4].copy_from_slice(&a.ip().octets());
        }
        Some(SocketAddr::V6(a)) => {
            out.family = sys::BUDP_AF_INET6;
            out.port = a.port();
            out.scope_id = a.scope_id();
            out.bytes = a.ip().octets();
        }
    }
    out
}

pub(crate) fn from_budp(a: &sys::budp_addr) -> Option<SocketAddr> {
    match a.family {
        sys::BUDP_AF_INET => {
            let ip = Ipv4Addr::new(a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]);
            Some(SocketAddr::V4(SocketAddrV4::new(ip, a.port)))
        }
        sys::BUDP_AF_INET6 => {
            let ip = Ipv6Addr::from(a.bytes);
            Some(SocketAddr::V6(SocketAddrV6::new(ip, a.port, 0, a.scope_id)))
        }
        _ => None,
    }
}

/// The numeric host of `addr` as the C library parses it: "127.0.0.1",
/// "::1", "fe80::1%2" (numeric scope).
pub(crate) fn host_cstring(addr: &SocketAddr) -> CString {
    let text = match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) if a.scope_id() != 0 => format!("{}%{}", a.ip(), a.scope_id()),
        SocketAddr::V6(a) => a.ip().to_string(),
    };
    // An IP address in text never holds a NUL byte.
    CString::new(text).expect("IP address text has no NUL")
}

/// Runs `f` on each address `addr` resolves to until one succeeds; returns
/// the last error otherwise (like `std::net::UdpSocket::bind`).
pub(crate) fn each_addr<A, T, F>(addr: A, mut f: F) -> io::Result<T>
where
    A: std::net::ToSocketAddrs,
    F: FnMut(&SocketAddr) -> io::Result<T>,
{
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(&a) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

pub(crate) fn unspecified() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for text in ["127.0.0.1:4433", "[::1]:9", "[fe80::1%3]:53", "0.0.0.0:0"] {
            let a: SocketAddr = text.parse().unwrap();
            assert_eq!(from_budp(&to_budp(Some(&a))), Some(a));
        }
        assert_eq!(to_budp(None).family, sys::BUDP_AF_UNSPEC);
        assert_eq!(from_budp(&to_budp(None)), None);
    }

    #[test]
    fn host_strings() {
        let a: SocketAddr = "[fe80::1%3]:53".parse().unwrap();
        assert_eq!(host_cstring(&a).to_str().unwrap(), "fe80::1%3");
        let a: SocketAddr = "10.1.2.3:1".parse().unwrap();
        assert_eq!(host_cstring(&a).to_str().unwrap(), "10.1.2.3");
    }
}
