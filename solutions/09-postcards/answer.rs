//! Chapter 9, the reference answer: Postcards.
//!
//! Compiled in place of `chapters/09-postcards/src/answer.rs` by
//! `cargo run -p ch09-postcards --features solution`.

use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::OwnedFd;

/// Gets a phone of your own: a new IPv4 stream socket.
pub fn get_a_phone() -> nix::Result<OwnedFd> {
    // ANCHOR: get_a_phone
    // IPv4, a stream (a call, not postcards), no flags, and protocol None
    // (C's 0): the kernel picks TCP, the one stream protocol IPv4 has.
    socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    // ANCHOR_END: get_a_phone
}
