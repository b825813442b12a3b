//! Chapter 3, your turn: turn the phone on.
//!
//! Fill in `open_for_calls` below, then:
//! - `cargo run -p ch03-turn-on` plays the scene with your phone;
//! - `cargo test -p ch03-turn-on` dials it to check that it rings.
//!
//! The book's page "Turn the phone on" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them.
#![allow(unused_imports)]
use nix::sys::socket::{
    bind, getsockname, listen, socket, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn,
};
use std::os::fd::{AsRawFd, OwnedFd};

/// Installs a phone, gives it a free number on the loopback line (127.0.0.1)
/// and switches it on so it can ring. Returns the phone and its number.
///
/// Return the kernel's answers as they are: `Ok(..)`, or the first `Err` it gave.
pub fn open_for_calls() -> nix::Result<(OwnedFd, SockaddrIn)> {
    // TODO: install an IPv4 stream socket (chapter 1) and bind() it to
    // 127.0.0.1 port 0 (chapter 2). Then switch it on with listen() and a
    // small backlog, and return the phone with the number getsockname() says.
    todo!("open_for_calls")
}
