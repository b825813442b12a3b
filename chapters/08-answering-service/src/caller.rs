//! The callers who ring the answering service in the scene, the self-check and
//! the benchmark: a few lines of client code with a deadline on every step.
//!
//! Every blocking step is bounded by the caller's patience (`SO_RCVTIMEO` and
//! `SO_SNDTIMEO`), so a service that never answers, never echoes or never
//! hangs up makes a caller give up in seconds instead of hanging the check.
//! What a caller heard is returned as data ([`Heard`]), so the check can say
//! which mistake it was.

use dialtone_kit::party;
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{recv, setsockopt, shutdown, sockopt, MsgFlags, Shutdown, SockaddrIn};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// What a caller heard before it stopped listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// What it was waiting for arrived (for [`hear_the_end`]: end of file).
    All(Vec<u8>),
    /// Its patience ran out with only these bytes.
    Quiet(Vec<u8>),
    /// The service hung up (end of file, or a reset) after these bytes.
    HungUp(Vec<u8>),
}

impl Heard {
    /// The bytes heard, however it ended.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Heard::All(b) | Heard::Quiet(b) | Heard::HungUp(b) => b,
        }
    }
}

/// Installs a phone and dials `number`, ringing for at most `patience`;
/// every later read or write on it gives up after `patience` too.
pub fn dial(number: &SockaddrIn, patience: Duration) -> nix::Result<OwnedFd> {
    let phone = party::dial_within(number, patience)?;
    be_patient(&phone, patience)?;
    Ok(phone)
}

/// Sets how long one read or write on a phone may wait (`SO_RCVTIMEO`, `SO_SNDTIMEO`).
pub use dialtone_kit::party::be_patient;

/// Says all of `bytes` (the caller's own write loop, shared with the checks).
pub use dialtone_kit::wire::say_all as say;

/// Listens until `done` says the bytes so far are enough, the service hangs
/// up, or patience runs out; never keeps more than `max` bytes.
fn hear_until(phone: &OwnedFd, max: usize, done: impl Fn(&[u8]) -> bool) -> Heard {
    let mut heard = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while !done(&heard) {
        let room = chunk.len().min(max.saturating_sub(heard.len())).max(1);
        match read(phone, &mut chunk[..room]) {
            Ok(0) => return Heard::HungUp(heard),
            Ok(n) => heard.extend_from_slice(&chunk[..n]),
            Err(Errno::EINTR) => {}
            // EAGAIN is SO_RCVTIMEO running out: nothing came in time.
            Err(Errno::EAGAIN) => return Heard::Quiet(heard),
            // ECONNRESET and friends: the line went dead.
            Err(_) => return Heard::HungUp(heard),
        }
        if heard.len() >= max {
            break;
        }
    }
    Heard::All(heard)
}

/// Listens for exactly `n` bytes.
pub fn hear_exactly(phone: &OwnedFd, n: usize) -> Heard {
    hear_until(phone, n, |b| b.len() >= n)
}

/// Listens for one line, up to and including its `\n` (at most 64 KiB).
///
/// It may read past the newline if the service said more at once; a caller
/// here only asks for a line when nothing else is due.
pub fn hear_line(phone: &OwnedFd) -> Heard {
    match hear_until(phone, 64 * 1024, |b| b.contains(&b'\n')) {
        Heard::All(b) if !b.contains(&b'\n') => Heard::Quiet(b),
        other => other,
    }
}

/// Listens until the service hangs up: `All` on end of file.
pub fn hear_the_end(phone: &OwnedFd, max: usize) -> Heard {
    match hear_until(phone, max, |_| false) {
        Heard::HungUp(b) => Heard::All(b),
        Heard::All(b) => Heard::Quiet(b), // `max` reached and still talking
        quiet => quiet,
    }
}

/// "That's all from me": shut down our sending side; we still listen.
pub fn done_talking(phone: &OwnedFd) -> nix::Result<()> {
    shutdown(phone.as_raw_fd(), Shutdown::Write)
}

/// Waits (up to the phone's patience) until at least one byte has arrived,
/// without taking it off the line.
pub fn wait_for_first_byte(phone: &OwnedFd) -> nix::Result<usize> {
    let mut one = [0u8; 1];
    recv(phone.as_raw_fd(), &mut one, MsgFlags::MSG_PEEK)
}

/// Slams the phone down: `SO_LINGER` with a zero timeout makes `close()`
/// send a reset (RST) instead of a polite end of file, so the other side's
/// next read fails with `ECONNRESET`.
pub fn slam_down(phone: OwnedFd) -> nix::Result<()> {
    // ANCHOR: slam
    let abrupt = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    setsockopt(&phone, sockopt::Linger, &abrupt)?;
    drop(phone);
    // ANCHOR_END: slam
    Ok(())
}
