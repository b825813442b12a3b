//! Chapter 7, your turn: hang up properly.
//!
//! Fill in `hear_out`, then `ask_and_hear_back`, then:
//! - `cargo run -p ch07-hang-up` plays the scene with your functions;
//! - `cargo test -p ch07-hang-up` checks them against callers who hang up
//!   politely, half-way (shutdown), rudely (a reset), or not at all.
//!
//! `say_all` is done for you: it is chapter 6's `send_all`, with `send`.
//! The book's page "Hang up" explains every piece you need.

// These are the pieces you'll need; the allow stops the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::errno::Errno;
use nix::sys::socket::{send, shutdown, MsgFlags, Shutdown};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};

/// Says every byte of `words` (chapter 6's `send_all`, with `send`).
///
/// `MSG_NOSIGNAL`: if the other side has hung up, return `EPIPE` rather than
/// raise `SIGPIPE`. Rust programs ignore `SIGPIPE` anyway; a C program
/// wouldn't, and this flag makes the call safe in any program.
pub fn say_all(line: &OwnedFd, words: &[u8]) -> nix::Result<()> {
    let mut rest = words;
    while !rest.is_empty() {
        match send(line.as_raw_fd(), rest, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => rest = &rest[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e), // EPIPE: talking into a dead line
        }
    }
    Ok(())
}

/// Listens until the other side hangs up, and returns all it said.
/// `read` returning 0 is the end of the call (Ok); a reset is an error.
pub fn hear_out(line: &OwnedFd) -> nix::Result<Vec<u8>> {
    // TODO: read() in a loop, appending what you hear. 0 bytes means the
    // other side hung up: return what you heard. Retry on Errno::EINTR,
    // return any other error (ECONNRESET: they slammed the phone down).
    todo!("hear_out")
}

/// Asks `question`, says "I'm done talking" (half-close), hears the whole
/// answer, and hangs up: the line is closed when this returns, either way.
pub fn ask_and_hear_back(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
    // TODO: say_all() the question; shutdown() only your talking half
    // (Shutdown::Write) so the other side's read() returns 0; hear_out()
    // the answer; then let `line` go (drop it) so the call is over.
    todo!("ask_and_hear_back")
}
