//! Chapter 4, your turn: dial.
//!
//! Fill in `dial` below, then:
//! - `cargo run -p ch04-dial` plays the scene with your phone;
//! - `cargo test -p ch04-dial` checks it with the kernel.
//!
//! The book's page "Dial" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

/// Installs a phone and dials `number`: a new IPv4 stream socket, connected.
///
/// Return the kernel's answer as it is: `Ok(phone)` once the call goes
/// through, or the `Err` it gave (for example `ECONNREFUSED` when nobody is
/// listening at that number).
pub fn dial(number: SockaddrIn) -> nix::Result<OwnedFd> {
    // TODO: install a phone (an IPv4 stream socket, as in chapter 1), then
    // connect() it to `number`. A caller needs no number of its own first.
    todo!("dial")
}
