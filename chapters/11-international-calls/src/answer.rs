//! Chapter 11, your turn: International calls.
//!
//! Fill in `get_a_phone` below, then:
//! - `cargo run -p ch11-international-calls` plays the scene with your answer;
//! - `cargo test -p ch11-international-calls` checks it with the kernel.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them.
#![allow(unused_imports)]
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::OwnedFd;

/// Gets a phone of your own: a new IPv4 stream socket.
///
/// Return the kernel's answer as it is: `Ok(fd)`, or the `Err` it gave.
pub fn get_a_phone() -> nix::Result<OwnedFd> {
    // TODO: ask the kernel for a socket in the IPv4 family (AF_INET) of the
    // stream type (SOCK_STREAM), with no flags and the default protocol.
    todo!("get_a_phone")
}
