//! Chapter 5, your turn: pick up.
//!
//! Fill in `pick_up` below, then:
//! - `cargo run -p ch05-pick-up` plays the scene with your answer;
//! - `cargo test -p ch05-pick-up` checks it with the kernel.
//!
//! The book's page "Pick up" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::sys::socket::{accept, getpeername, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

/// Picks up one ringing call on `phone`, a phone that is switched on
/// (listening). Returns the line for this one conversation and the caller's
/// number (caller ID).
///
/// Return the kernel's answer as it is: `Ok((line, caller))`, or the `Err`
/// it gave.
pub fn pick_up(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
    // TODO: accept() the call waiting on `phone`; it gives you a NEW
    // descriptor for this conversation. Then ask getpeername() on that new
    // descriptor who is calling, and return both.
    todo!("pick_up")
}
