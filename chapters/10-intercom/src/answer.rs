//! Chapter 10, your turn: The intercom.
//!
//! Three functions for a phone that only rings inside this machine, whose
//! number is a path in the filesystem:
//! - `open_intercom` puts it on the wall at a path, without taking the line
//!   from a server that is already there;
//! - `answer_with_caller_id` picks up a call and says who is calling;
//! - `close_intercom` takes it off the wall and leaves no file behind.
//!
//! Then:
//! - `cargo run -p ch10-intercom` plays the scene with your answer;
//! - `cargo test -p ch10-intercom` checks it with the kernel;
//! - `cargo run -p ch10-intercom -- --listen` lets `socat`, `nc -U` or
//!   Python call it.

// These are the pieces you'll need; the allows stop the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::errno::Errno;
use nix::sys::socket::{
    accept, bind, connect, getsockopt, listen, socket, sockopt, AddressFamily, Backlog, SockFlag,
    SockType, UnixAddr, UnixCredentials,
};
use std::os::fd::{AsRawFd, OwnedFd};

/// Puts an intercom on the wall at `path`: an `AF_UNIX` stream socket,
/// bound to `path` and listening.
///
/// A socket file may already be there. Ring it first: if somebody answers,
/// a server is using it, so leave the file alone and return
/// `Err(Errno::EADDRINUSE)`; if the call is refused (`ECONNREFUSED`), the
/// file is a crashed server's leftover: remove it, then bind. A path too
/// long for `sun_path` is `Err(Errno::ENAMETOOLONG)` (never a panic); any
/// other error the kernel gives, return as it is.
pub fn open_intercom(path: &str) -> nix::Result<OwnedFd> {
    // TODO: UnixAddr::new(path)? (it refuses a path that is too long). Dial
    // it from a new AF_UNIX stream socket: Ok means someone is there
    // (EADDRINUSE); ECONNREFUSED means a stale file (std::fs::remove_file);
    // ENOENT means no file. Then socket(), bind() and listen().
    todo!("open_intercom")
}

/// Picks up the next call on `intercom` and returns the line with the
/// caller's ID: the pid, uid and gid the kernel noted when they dialled.
pub fn answer_with_caller_id(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)> {
    // TODO: accept() the call, then ask the kernel who is on that line:
    // getsockopt(&line, sockopt::PeerCredentials).
    todo!("answer_with_caller_id")
}

/// Takes the intercom off the wall: switches it off and removes its socket
/// file at `path`, so the next server can have the name.
pub fn close_intercom(intercom: OwnedFd, path: &str) -> nix::Result<()> {
    // TODO: drop the intercom (close), then remove the file at `path`; an
    // error removing it comes back as its errno.
    todo!("close_intercom")
}
