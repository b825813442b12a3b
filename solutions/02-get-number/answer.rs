//! Chapter 2, the reference answer: get a number.
//!
//! Compiled in place of `chapters/02-get-number/src/answer.rs` by
//! `cargo run -p ch02-get-number --features solution`.

use nix::sys::socket::{bind, getsockname, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

/// Gives `phone` a free number on the loopback line and returns the number
/// the exchange picked, as the kernel reports it.
pub fn get_a_number(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
    // ANCHOR: bind
    // 127.0.0.1 is the loopback line: only programs on this machine can ring
    // it. Port 0 means "any free number, please". nix takes the port in host
    // byte order and does C's htons() itself.
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
    // bind() only says yes or no; it doesn't say which number we were given.
    // The kernel knows: ask it rather than guess.
    getsockname(phone.as_raw_fd())
    // ANCHOR_END: bind
}
