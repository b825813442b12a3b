//! Chapter 11, your turn: International calls.
//!
//! Two functions:
//! - `dial_each` dials a name's numbers (IPv4 and IPv6 mixed, as
//!   `getaddrinfo` gives them) one after another until one answers;
//! - `open_listener` puts an IPv6 phone on the wall, v6-only as asked.
//!
//! Then:
//! - `cargo run -p ch11-international-calls` plays the scene with your answer;
//! - `cargo test -p ch11-international-calls` checks it with the kernel;
//! - `cargo run -p ch11-international-calls -- --listen` lets `nc -6`,
//!   `socat` or Python call your phone on [::1].

// These are the pieces you'll need; the allows stop the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::errno::Errno;
use nix::sys::socket::{
    bind, connect, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
    SockaddrIn6, SockaddrStorage,
};
use nix::sys::time::{TimeVal, TimeValLike};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Dials `numbers` in order (what a name resolved to: IPv4 and IPv6 mixed)
/// and returns the first line that connects, with the number that answered.
///
/// Each attempt may ring for at most `ring_out`: a number that never
/// answers must not hold up the ones after it. If nobody answers, return an
/// `Err` (the last attempt's is a good one to give).
pub fn dial_each(numbers: &[SocketAddr], ring_out: Duration) -> nix::Result<(OwnedFd, SocketAddr)> {
    // TODO: for each number: a new socket() of that number's family
    // (SocketAddr::V4 is AF_INET, V6 is AF_INET6), SO_SNDTIMEO set to
    // ring_out, then connect(fd, &SockaddrStorage::from(number)). On success
    // return the socket and the number; on any error drop the socket (a
    // failed one can't be trusted for the next try) and go on to the next.
    // connect() giving up after SO_SNDTIMEO says EINPROGRESS.
    todo!("dial_each")
}

/// Puts an IPv6 phone on the wall at `number` and switches it on, with
/// `IPV6_V6ONLY` set to `v6only`, whatever this machine's default is.
pub fn open_listener(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
    // TODO: socket(AF_INET6, SOCK_STREAM), setsockopt(sockopt::Ipv6V6Only,
    // &v6only) *before* bind, bind(fd, &number), listen. Return the phone.
    todo!("open_listener")
}
