//! Chapter 4, the reference answer: dial.
//!
//! Compiled in place of `chapters/04-dial/src/answer.rs` by
//! `cargo run -p ch04-dial --features solution`.

use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

/// Installs a phone and dials `number`: a new IPv4 stream socket, connected.
pub fn dial(number: SockaddrIn) -> nix::Result<OwnedFd> {
    // ANCHOR: dial
    // The same phone as chapter 1: IPv4, a stream, the usual protocol (TCP).
    let phone = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )?;
    // No bind(): connect() asks the exchange for a free number of its own
    // (an ephemeral port) and dials. If it fails, `?` returns the Err and
    // dropping `phone` closes it: a failed call leaves no handset behind.
    connect(phone.as_raw_fd(), &number)?;
    Ok(phone)
    // ANCHOR_END: dial
}
