//! A UDP echo server on batchudp and the standard library alone.
//!
//! Every datagram received is sent back to its source, straight from the
//! receive buffers (no copy): one system call per batch each way.
//!
//! ```text
//! echo [--bind ADDR] [--count N] [--idle SECS] [--batch N] [--threaded] [--self-test]
//!
//!   --bind ADDR   address to listen on (default 127.0.0.1:7777; port 0 picks one)
//!   --count N     exit after echoing N datagrams
//!   --idle SECS   exit after SECS seconds without a datagram
//!   --batch N     datagrams per system call (default 32)
//!   --threaded    receive on the library's receiver thread
//!   --self-test   bind a free loopback port, run a client thread that sends
//!                 --count datagrams (default 100) and checks every echo,
//!                 then exit (status 0 when all came back intact)
//! ```
//!
//! Try it with `cargo run --example echo -- --count 3` and, in another
//! terminal, a few datagrams to 127.0.0.1:7777 (for example with
//! `nc -u 127.0.0.1 7777`).

use batchudp::{Options, OutgoingDatagram, PartialSend, Socket};
use std::io::{self, ErrorKind, Write};
use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::Duration;

struct Args {
    bind: String,
    count: Option<u64>,
    idle: Option<Duration>,
    batch: usize,
    threaded: bool,
    self_test: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: echo [--bind ADDR] [--count N] [--idle SECS] [--batch N] [--threaded] [--self-test]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        bind: "127.0.0.1:7777".into(),
        count: None,
        idle: None,
        batch: 32,
        threaded: false,
        self_test: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--bind" => args.bind = value(),
            "--count" => args.count = Some(value().parse().unwrap_or_else(|_| usage())),
            "--idle" => {
                args.idle = Some(Duration::from_secs_f64(
                    value().parse().unwrap_or_else(|_| usage()),
                ))
            }
            "--batch" => args.batch = value().parse().unwrap_or_else(|_| usage()),
            "--threaded" => args.threaded = true,
            "--self-test" => args.self_test = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if args.self_test {
        args.bind = "127.0.0.1:0".into();
        args.count.get_or_insert(100);
        // A lost datagram must end the run, not hang it.
        args.idle.get_or_insert(Duration::from_secs(10));
    }
    args
}

/// Echoes until `count` datagrams were echoed or `idle` passed without any.
/// Returns the number echoed.
fn serve(sock: &mut Socket, count: Option<u64>, idle: Option<Duration>) -> io::Result<u64> {
    let mut echoed = 0u64;
    while count.map_or(true, |c| echoed < c) {
        // Duration::MAX: no time-out.
        let batch = match sock.recv_timeout(idle.unwrap_or(Duration::MAX)) {
            Ok(batch) => batch,
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                eprintln!("echo: idle for {:?}, stopping", idle.unwrap_or_default());
                break;
            }
            Err(e) => return Err(e),
        };
        // Replies borrow the received payloads: zero-copy.
        let replies: Vec<OutgoingDatagram> = batch.iter().map(OutgoingDatagram::reply).collect();
        send_replies(batch.socket(), &replies);
        echoed += batch.len() as u64;
    }
    Ok(echoed)
}

/// Sends every reply, waiting for room in the send buffer; a reply that
/// cannot go (e.g. its sender is gone) is reported and skipped.
fn send_replies(sock: &Socket, replies: &[OutgoingDatagram]) {
    let mut from = 0;
    while from < replies.len() {
        match sock.send_all(&replies[from..]) {
            Ok(()) => return,
            Err(e) => {
                let failed = from + PartialSend::of(&e).map_or(0, PartialSend::sent);
                eprintln!("echo: reply to {:?}: {e}", replies[failed].peer());
                from = failed + 1;
            }
        }
    }
}

/// The client side of --self-test: sends `count` datagrams of varying
/// sizes in bursts and checks each echo.
fn client(server: std::net::SocketAddr, count: u64) -> io::Result<()> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = vec![0u8; 65536];
    let mut next = 0u64;
    while next < count {
        let burst = (count - next).min(16);
        for i in next..next + burst {
            sock.send_to(&message(i), server)?;
        }
        for i in next..next + burst {
            let (n, from) = sock.recv_from(&mut buf)?;
            if from != server || buf[..n] != message(i)[..] {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    format!("echo {i}: wrong reply from {from}"),
                ));
            }
        }
        next += burst;
    }
    Ok(())
}

fn message(i: u64) -> Vec<u8> {
    let mut m = format!("echo test {i}").into_bytes();
    m.resize(m.len() + (i as usize * 37) % 1200, b'.');
    m
}

fn main() -> ExitCode {
    let args = parse_args();
    let options = Options::new()
        .batch_size(args.batch)
        .threaded(args.threaded)
        .pktinfo(true);
    let mut sock = match Socket::bind(args.bind.as_str(), options) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("echo: bind {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let addr = sock.local_addr().expect("local address");
    println!(
        "echo: listening on {addr} (backend {}, batch {})",
        sock.backend_name(),
        sock.batch_size()
    );
    let _ = io::stdout().flush();

    let client = args.self_test.then(|| {
        let count = args.count.unwrap_or(0);
        std::thread::spawn(move || client(addr, count))
    });

    let result = serve(&mut sock, args.count, args.idle);
    let stats = sock.stats();
    match &result {
        Ok(n) => println!(
            "echo: echoed {n} datagrams in {} receive and {} send system calls",
            stats.rx_syscalls, stats.tx_syscalls
        ),
        Err(e) => eprintln!("echo: {e}"),
    }
    let mut ok = result.is_ok();
    if let Some(client) = client {
        match client.join().expect("client thread") {
            Ok(()) => println!("echo: self-test passed: every echo came back intact"),
            Err(e) => {
                eprintln!("echo: self-test failed: {e}");
                ok = false;
            }
        }
        ok &= result.ok() == args.count;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
