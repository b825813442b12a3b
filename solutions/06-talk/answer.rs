//! Chapter 6, the reference answer: talk, and frame what you say.
//!
//! Compiled in place of `chapters/06-talk/src/answer.rs` by
//! `cargo run -p ch06-talk --features solution`.

use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, OwnedFd};

/// The largest frame `read_frame` accepts and `write_frame` sends: 64 KiB.
pub const MAX_FRAME: usize = 64 * 1024;

/// Says every byte of `bytes` on the line, however many `write` calls it takes.
pub fn send_all(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
    // ANCHOR: send_all
    let mut rest = bytes;
    while !rest.is_empty() {
        match write(line, rest) {
            // write() may take less than we offered (a full send buffer and
            // a timeout, a signal, a non-blocking line): say the rest next.
            Ok(n) => rest = &rest[n..],
            // A signal interrupted the call before anything was written: try again.
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
    // ANCHOR_END: send_all
}

/// Hears one line (the bytes before the next `\n`, without it).
///
/// `pending` holds what an earlier call read past its newline; it is used
/// first, and whatever this call reads past its own newline is left there.
/// `Ok(None)`: the caller hung up cleanly between lines. A hang-up in the
/// middle of a line is an error (`EPROTO`): half a sentence is not a line.
pub fn read_line(line: &OwnedFd, pending: &mut Vec<u8>) -> nix::Result<Option<Vec<u8>>> {
    // ANCHOR: read_line
    let mut chunk = [0u8; 512];
    loop {
        // A whole line may already be waiting from the last read.
        if let Some(at) = pending.iter().position(|&b| b == b'\n') {
            let mut said: Vec<u8> = pending.drain(..=at).collect();
            said.pop(); // the '\n' ends the line; it isn't part of it
            return Ok(Some(said));
        }
        let n = match read(line, &mut chunk) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e), // e.g. ECONNRESET: the caller slammed the phone down
        };
        if n == 0 {
            // End of file: the caller hung up. Between lines that's goodbye;
            // mid-line, the sentence was cut off: a protocol error, not a
            // reset (nobody slammed the phone down; they just stopped).
            return if pending.is_empty() {
                Ok(None)
            } else {
                Err(Errno::EPROTO)
            };
        }
        pending.extend_from_slice(&chunk[..n]);
    }
    // ANCHOR_END: read_line
}

/// Says one frame: a 4-byte big-endian length, then the payload.
/// A payload over `MAX_FRAME` is refused with `EMSGSIZE` and nothing is sent.
pub fn write_frame(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
    // ANCHOR: write_frame
    if payload.len() > MAX_FRAME {
        return Err(Errno::EMSGSIZE);
    }
    let length = u32::try_from(payload.len()).map_err(|_| Errno::EMSGSIZE)?;
    // Network byte order (big-endian): 5 is 00 00 00 05 on the wire.
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(payload);
    send_all(line, &frame)
    // ANCHOR_END: write_frame
}

/// Hears one frame and returns its payload; `Ok(None)` if the caller hung up
/// cleanly between frames. A length over `MAX_FRAME` is refused with
/// `EMSGSIZE` before anything is allocated; a hang-up mid-frame is `EPROTO`.
pub fn read_frame(line: &OwnedFd) -> nix::Result<Option<Vec<u8>>> {
    // ANCHOR: read_frame
    let mut header = [0u8; 4];
    if !hear_exactly(line, &mut header)? {
        return Ok(None); // hung up between frames: a clean goodbye
    }
    let length = u32::from_be_bytes(header) as usize;
    if length > MAX_FRAME {
        // Garbage or hostile: don't allocate what a stranger asks for.
        return Err(Errno::EMSGSIZE);
    }
    let mut payload = vec![0u8; length];
    // (An empty payload is complete at once: hear_exactly has nothing to do.)
    if !hear_exactly(line, &mut payload)? {
        return Err(Errno::EPROTO); // the length promised more than came
    }
    Ok(Some(payload))
    // ANCHOR_END: read_frame
}

// ANCHOR: hear_exactly
/// Fills `buf` completely. `Ok(false)` if the line ended before the first
/// byte; `EPROTO` (a truncated message) if it ended part-way. Reads no
/// further than `buf`, so the next frame stays on the line for the next call.
fn hear_exactly(line: &OwnedFd, buf: &mut [u8]) -> nix::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        // MSG_WAITALL asks the kernel to wait until the whole buffer is full,
        // but it still returns early on end-of-file or a signal: keep the loop.
        match recv(line.as_raw_fd(), &mut buf[got..], MsgFlags::MSG_WAITALL) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(Errno::EPROTO),
            Ok(n) => got += n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
// ANCHOR_END: hear_exactly
