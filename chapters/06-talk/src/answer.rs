//! Chapter 6, your turn: talk, and frame what you say.
//!
//! A stream socket carries bytes, not messages: one `write` may arrive in
//! several `read`s, and two `write`s in one. Fill in the four functions below,
//! in order, then:
//! - `cargo run -p ch06-talk` plays the scene with your functions;
//! - `cargo test -p ch06-talk` checks them with a deliberately awkward caller
//!   (one byte at a time, two lines at once, short writes, hang-ups).
//!
//! The book's page "Talk" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them (and clippy from suggesting a slice for
// `pending`, which your read_line will grow).
#![allow(unused_imports, unused_variables, clippy::ptr_arg)]
use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, OwnedFd};

/// The largest frame `read_frame` accepts and `write_frame` sends: 64 KiB.
/// The self-check sends a frame of exactly this size and a length one bigger.
pub const MAX_FRAME: usize = 64 * 1024;

/// Says every byte of `bytes` on the line, however many `write` calls it takes.
pub fn send_all(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
    // TODO: write(line, rest) returns how many bytes it took, which may be
    // fewer than you offered. Loop until nothing is left; try again on
    // Errno::EINTR, return any other error.
    todo!("send_all")
}

/// Hears one line (the bytes before the next `\n`, without the `\n`).
///
/// `pending` holds what an earlier call read past its newline: use it first,
/// and leave there whatever you read past this line's newline.
/// Return `Ok(None)` if the caller hung up cleanly between lines (`read`
/// returned 0 and `pending` is empty), and `Err(Errno::EPROTO)` if they
/// hung up in the middle of a line (a truncated line: a protocol error, not
/// a reset). Any error `read` gives (e.g. `ECONNRESET`) goes back as it is.
pub fn read_line(line: &OwnedFd, pending: &mut Vec<u8>) -> nix::Result<Option<Vec<u8>>> {
    // TODO: loop: if `pending` holds a '\n', take the line out of it and
    // return it; otherwise read() more bytes onto the end of `pending`.
    // read() returning 0 is the end of the call, not an error and not "try again".
    todo!("read_line")
}

/// Says one frame: the payload's length as 4 bytes, big-endian, then the payload.
/// A payload over `MAX_FRAME` is refused with `Err(Errno::EMSGSIZE)`, nothing sent.
pub fn write_frame(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
    // TODO: build length.to_be_bytes() followed by the payload, and say it
    // all with send_all().
    todo!("write_frame")
}

/// Hears one frame and returns its payload.
///
/// `Ok(None)` if the caller hung up cleanly before a new frame began; a length
/// over `MAX_FRAME` is `Err(Errno::EMSGSIZE)` (refuse it before allocating);
/// a hang-up in the middle of a frame is `Err(Errno::EPROTO)`. Read no
/// further than this frame: the next one stays on the line for the next call.
pub fn read_frame(line: &OwnedFd) -> nix::Result<Option<Vec<u8>>> {
    // TODO: read exactly 4 bytes (however many reads that takes), decode
    // them with u32::from_be_bytes, check the limit, then read exactly that
    // many bytes. recv(line.as_raw_fd(), buf, MsgFlags::MSG_WAITALL) helps,
    // but can still return early: keep a loop.
    todo!("read_frame")
}
