//! Chapter 3, the reference answer: turn the phone on.
//!
//! Compiled in place of `chapters/03-turn-on/src/answer.rs` by
//! `cargo run -p ch03-turn-on --features solution`.

use nix::sys::socket::{
    bind, getsockname, listen, socket, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn,
};
use std::os::fd::{AsRawFd, OwnedFd};

/// Installs a phone, gives it a free loopback number and switches it on.
/// Returns the phone and its number, as the kernel reports it.
pub fn open_for_calls() -> nix::Result<(OwnedFd, SockaddrIn)> {
    // ANCHOR: open
    // Chapters 1 and 2: a stream socket with a kernel-chosen loopback number.
    let phone = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
    // ANCHOR: listen
    // Switch it on. From here the kernel answers callers for us and holds
    // their finished calls in a queue until we pick up (accept, chapter 5).
    // The backlog is how many calls that queue may hold: a few is plenty for
    // one caller at a time; a busy server passes Backlog::MAXCONN (SOMAXCONN).
    listen(&phone, Backlog::new(4)?)?;
    // ANCHOR_END: listen
    // Port 0 asked for any free number; the kernel knows which one it gave.
    let number = getsockname(phone.as_raw_fd())?;
    Ok((phone, number))
    // ANCHOR_END: open
}
