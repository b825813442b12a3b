//! Chapter 8, your turn: an answering service.
//!
//! Three functions, each built on the one before:
//! - `send_all` says every byte, even when the exchange takes only part;
//! - `answer_one_call` greets one caller, then says back everything it hears
//!   (the echo service of RFC 862) until the caller hangs up;
//! - `serve` answers one caller after another.
//!
//! Then:
//! - `cargo run -p ch08-answering-service` plays the scene with your service;
//! - `cargo test -p ch08-answering-service` checks it with real callers;
//! - `cargo run -p ch08-answering-service -- --listen 127.0.0.1:0` lets `nc`,
//!   `socat` or Python call it.
//!
//! This file stands alone (only `std` and `nix`): if you wrote a `send_all` in
//! chapter 6, you may copy it here.

// These are the pieces you'll need; the allows stop the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::errno::Errno;
use nix::sys::socket::accept;
use nix::unistd::{read, write};
use std::os::fd::OwnedFd;

/// How many bytes one `read` may bring in. The service never holds more than
/// this: echo doesn't need whole lines, so a caller who sends a megabyte
/// without a newline costs you 4 KiB, not a megabyte.
pub const CHUNK: usize = 4096;

/// Says every byte of `bytes` on `line`.
///
/// `write` may take only part of what you hand it (here: when the line's send
/// timeout runs out while the caller is slow to listen); it returns how many
/// bytes it took. Return `Ok(())` once all of them are said, or the kernel's
/// `Err` (e.g. `EPIPE`: the caller hung up; `EAGAIN`: the caller stopped
/// listening until the send timeout ran out).
pub fn send_all(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
    // TODO: loop until nothing is left: write() what is left, then drop the
    // part it took from the front. Try again on Errno::EINTR (a signal
    // interrupted the call); return any other error.
    todo!("send_all")
}

/// Answers one call: says `greeting` and a newline, then says back every byte
/// the caller says, as it arrives, until the caller hangs up.
///
/// Returns how many bytes were echoed (not counting the greeting). When the
/// caller hangs up properly (`read` returns 0) that is `Ok(count)`; if they
/// slam the phone down (`ECONNRESET`) return the `Err`. Either way the line
/// must be closed when this returns, so the caller hears you hang up.
pub fn answer_one_call(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
    // TODO: send_all() the greeting and "\n". Then loop: read() into a
    // [u8; CHUNK] buffer; 0 bytes means the caller hung up (return the count);
    // otherwise send_all() exactly the bytes you read and count them.
    todo!("answer_one_call")
}

/// The answering service: picks up `callers` calls, one after another, and
/// answers each with `answer_one_call(line, greeting)`.
///
/// Hand each call's result to `log` (`log(result)`), good or bad: one
/// caller's error must not end the service. Return `Ok(())` after the last
/// caller, or the `Err` of `accept` if the phone itself fails.
pub fn serve(
    phone: &OwnedFd,
    callers: usize,
    greeting: &str,
    log: &mut dyn FnMut(nix::Result<u64>),
) -> nix::Result<()> {
    // TODO: `callers` times: accept() a line from the phone, answer it,
    // log() what answer_one_call returned, and go on to the next caller.
    todo!("serve")
}
