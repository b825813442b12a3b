//! Chapter 8, the reference answer: an answering service.
//!
//! Compiled in place of `chapters/08-answering-service/src/answer.rs` by
//! `cargo run -p ch08-answering-service --features solution`.

use nix::errno::Errno;
use nix::sys::socket::accept;
use nix::unistd::{read, write};
use std::os::fd::OwnedFd;

/// How many bytes one `read` may bring in: all the service ever holds.
pub const CHUNK: usize = 4096;

/// Says every byte of `bytes` on `line`.
pub fn send_all(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
    // ANCHOR: send_all
    let mut left = bytes;
    while !left.is_empty() {
        match write(line, left) {
            // The exchange took `n` bytes, perhaps fewer than we offered:
            // the rest is still ours to say.
            Ok(n) => left = &left[n..],
            // A signal interrupted the call before it took anything: ask again.
            Err(Errno::EINTR) => continue,
            // EPIPE, ECONNRESET, EAGAIN (the send timeout ran out): the
            // caller isn't there or isn't listening. Their problem, our news.
            Err(e) => return Err(e),
        }
    }
    Ok(())
    // ANCHOR_END: send_all
}

/// Answers one call: the greeting, then an echo of everything, until the
/// caller hangs up.
pub fn answer_one_call(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
    // ANCHOR: answer_one_call
    // Speak first, like a daytime server (RFC 867): the caller knows who picked up.
    send_all(&line, format!("{greeting}\n").as_bytes())?;
    let mut chunk = [0u8; CHUNK];
    let mut echoed: u64 = 0;
    loop {
        // One read brings whatever has arrived: part of a line, two lines,
        // a megabyte's first 4 KiB. It is never "one message".
        let n = match read(&line, &mut chunk) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            // ECONNRESET: the caller slammed the phone down mid-call.
            Err(e) => return Err(e),
        };
        if n == 0 {
            // End of file: the caller hung up (or said "that's all"). Not an
            // error: the normal end of every call.
            return Ok(echoed);
        }
        send_all(&line, &chunk[..n])?;
        echoed += n as u64;
    }
    // `line` is dropped on every return above: close() hangs up, and the
    // caller's next read returns 0, their end of file.
    // ANCHOR_END: answer_one_call
}

/// The answering service: one caller after another.
pub fn serve(
    phone: &OwnedFd,
    callers: usize,
    greeting: &str,
    log: &mut dyn FnMut(nix::Result<u64>),
) -> nix::Result<()> {
    // ANCHOR: serve
    for _ in 0..callers {
        let line = loop {
            match accept(phone) {
                Ok(line) => break line,
                // Interrupted, or trouble with the call that was ringing (it
                // gave up, or its network went away): not the phone's fault,
                // and no caller was answered, so pick up again. accept(2)
                // asks Linux servers to retry on these.
                Err(
                    Errno::EINTR
                    | Errno::ECONNABORTED
                    | Errno::EPROTO
                    | Errno::ENETDOWN
                    | Errno::ENOPROTOOPT
                    | Errno::EHOSTDOWN
                    | Errno::ENONET
                    | Errno::EHOSTUNREACH
                    | Errno::EOPNOTSUPP
                    | Errno::ENETUNREACH,
                ) => continue,
                Err(e) => return Err(e),
            }
        };
        // Whatever this caller did (hung up, slammed the phone down, stopped
        // listening), it is logged and the service goes on.
        log(answer_one_call(line, greeting));
    }
    Ok(())
    // ANCHOR_END: serve
}
