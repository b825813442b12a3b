//! Chapter 1, your turn: install a phone.
//!
//! Fill in `install_phone` below, then:
//! - `cargo run -p ch01-install-phone` plays the scene with your phone;
//! - `cargo test -p ch01-install-phone` checks it with the kernel.
//!
//! The book's page "Install a phone" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them.
#![allow(unused_imports)]
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::OwnedFd;

/// Installs a telephone: a new IPv4 stream socket, not yet numbered or on.
///
/// Return the kernel's answer as it is: `Ok(fd)`, or the `Err` it gave.
pub fn install_phone() -> nix::Result<OwnedFd> {
    // TODO: ask the kernel for a socket in the IPv4 family (AF_INET) of the
    // stream type (SOCK_STREAM), with no flags and the default protocol.
    todo!("install_phone")
}
