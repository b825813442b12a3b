//! Chapter 11, the reference answer: International calls.
//!
//! Compiled in place of `chapters/11-international-calls/src/answer.rs` by
//! `cargo run -p ch11-international-calls --features solution`.

use nix::errno::Errno;
use nix::sys::socket::{
    bind, connect, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
    SockaddrIn6, SockaddrStorage,
};
use nix::sys::time::{TimeVal, TimeValLike};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Dials each number in turn until one answers.
pub fn dial_each(numbers: &[SocketAddr], ring_out: Duration) -> nix::Result<(OwnedFd, SocketAddr)> {
    // ANCHOR: dial_each
    // An empty list (a name with no numbers) is a failure too.
    let mut last = Errno::EADDRNOTAVAIL;
    for &number in numbers {
        match dial_one(number, ring_out) {
            Ok(line) => return Ok((line, number)),
            // Refused, rang out, no route: this number is no good, the next
            // may be. The phone that failed was dropped (closed) in dial_one.
            Err(e) => last = e,
        }
    }
    // Nobody answered: say why the last one didn't.
    Err(last)
    // ANCHOR_END: dial_each
}

/// One attempt: a new phone of the number's own family, a bounded dial.
fn dial_one(number: SocketAddr, ring_out: Duration) -> nix::Result<OwnedFd> {
    // ANCHOR: dial_one
    // A phone of the number's own family: an AF_INET phone can't dial an
    // IPv6 number (EAFNOSUPPORT), nor an AF_INET6 one a plain IPv4 number.
    let family = match number {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let phone = socket(family, SockType::Stream, SockFlag::empty(), None)?;
    // SO_SNDTIMEO bounds a blocking connect() on Linux: when it runs out
    // the call fails with EINPROGRESS. (It stays set: later writes on the
    // line give up after ring_out too.) Zero would mean "no limit".
    let micros = i64::try_from(ring_out.as_micros()).unwrap_or(i64::MAX);
    let limit = TimeVal::microseconds(micros.max(1));
    setsockopt(&phone, sockopt::SendTimeout, &limit)?;
    match connect(phone.as_raw_fd(), &SockaddrStorage::from(number)) {
        Ok(()) => Ok(phone),
        // Rang out: returning drops the phone, and close() calls the
        // attempt off (the kernel would otherwise go on sending SYNs).
        Err(Errno::EINPROGRESS) => Err(Errno::ETIMEDOUT),
        Err(e) => Err(e),
    }
    // ANCHOR_END: dial_one
}

/// An IPv6 phone switched on at `number`, v6-only exactly as asked.
pub fn open_listener(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
    // ANCHOR: open_listener
    let phone = socket(
        AddressFamily::Inet6,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )?;
    // Set either way: left alone it is net.ipv6.bindv6only, which differs
    // from machine to machine. And before bind(): Linux refuses to change
    // it on a phone that already has a number (EINVAL).
    setsockopt(&phone, sockopt::Ipv6V6Only, &v6only)?;
    bind(phone.as_raw_fd(), &number)?;
    // SOMAXCONN: callers who ring together wait instead of being turned away.
    listen(&phone, Backlog::MAXCONN)?;
    Ok(phone)
    // ANCHOR_END: open_listener
}
