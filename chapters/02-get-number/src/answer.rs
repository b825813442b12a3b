//! Chapter 2, your turn: get a number.
//!
//! Fill in `get_a_number` below, then:
//! - `cargo run -p ch02-get-number` plays the scene with your function;
//! - `cargo test -p ch02-get-number` checks it with the kernel.
//!
//! The book's page "Get a number" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them (and about `phone`) until you use them.
#![allow(unused_imports, unused_variables)]
use nix::sys::socket::{bind, getsockname, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

/// Gives `phone` (a new IPv4 stream socket, installed for you) a free number
/// on this machine's loopback line, 127.0.0.1, and returns that number.
///
/// Return the kernel's answers as they are: `Ok(number)`, or the `Err` it gave.
pub fn get_a_number(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
    // TODO: bind() the phone to the address 127.0.0.1 with port 0, which asks
    // the exchange to pick any free number. Then ask getsockname() which
    // number you really got, and return that.
    todo!("get_a_number")
}
