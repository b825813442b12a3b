//! Chapter 7, the reference answer: hang up properly.
//!
//! Compiled in place of `chapters/07-hang-up/src/answer.rs` by
//! `cargo run -p ch07-hang-up --features solution`.

use nix::errno::Errno;
use nix::sys::socket::{send, shutdown, MsgFlags, Shutdown};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};

/// Says every byte of `words` (chapter 6's `send_all`, with `send`).
///
/// `MSG_NOSIGNAL`: if the other side has hung up, return `EPIPE` rather than
/// raise `SIGPIPE`. Rust programs ignore `SIGPIPE` anyway; a C program
/// wouldn't, and this flag makes the call safe in any program.
// ANCHOR: say_all
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
// ANCHOR_END: say_all

/// Listens until the other side hangs up, and returns all it said.
/// `read` returning 0 is the end of the call (Ok); a reset is an error.
pub fn hear_out(line: &OwnedFd) -> nix::Result<Vec<u8>> {
    // ANCHOR: hear_out
    let mut heard = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match read(line, &mut buf) {
            // End of file: they hung up (or shut their side). Done, not failed.
            Ok(0) => return Ok(heard),
            Ok(n) => heard.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e), // ECONNRESET: they slammed the phone down
        }
    }
    // ANCHOR_END: hear_out
}

/// Asks `question`, says "I'm done talking" (half-close), hears the whole
/// answer, and hangs up: the line is closed when this returns, either way.
pub fn ask_and_hear_back(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
    // ANCHOR: ask
    say_all(&line, question)?;
    // "Over to you": the other side's read() returns 0, so it knows the
    // question is complete. We can still hear; we just can't talk.
    shutdown(line.as_raw_fd(), Shutdown::Write)?;
    let answer = hear_out(&line)?;
    drop(line); // close(): put the handset down (returning would too)
    Ok(answer)
    // ANCHOR_END: ask
}
