//! Chapter 1, the reference answer: install a phone.
//!
//! Compiled in place of `chapters/01-install-phone/src/answer.rs` by
//! `cargo run -p ch01-install-phone --features solution`.

use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::OwnedFd;

/// Installs a telephone: a new IPv4 stream socket, not yet numbered or on.
pub fn install_phone() -> nix::Result<OwnedFd> {
    // ANCHOR: install
    // Family: IPv4. Type: a stream (a call), not datagrams (postcards).
    // No flags, and protocol None (C's 0): the kernel picks TCP, the one
    // stream protocol IPv4 has.
    socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    // ANCHOR_END: install
}
