//! Chapter 5, the reference answer: pick up.
//!
//! Compiled in place of `chapters/05-pick-up/src/answer.rs` by
//! `cargo run -p ch05-pick-up --features solution`.

use nix::sys::socket::{accept, getpeername, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

/// Picks up one ringing call on `phone`: the new line and the caller's number.
pub fn pick_up(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
    // ANCHOR: pick_up
    // accept() takes the first call off the phone's queue and returns a NEW
    // descriptor for that conversation. `phone` stays switched on, ringing
    // for the next caller. With nobody calling, accept() blocks: waiting by
    // the telephone.
    let line = accept(phone)?;
    // Caller ID: the number at the other end of the NEW line. (getsockname
    // would be your own number, the same one the phone on the wall has.)
    let caller: SockaddrIn = getpeername(line.as_raw_fd())?;
    Ok((line, caller))
    // ANCHOR_END: pick_up
}
