//! Chapter 10, the reference answer: The intercom.
//!
//! Compiled in place of `chapters/10-intercom/src/answer.rs` by
//! `cargo run -p ch10-intercom --features solution`.

use nix::errno::Errno;
use nix::sys::socket::{
    accept, bind, connect, getsockopt, listen, socket, sockopt, AddressFamily, Backlog, SockFlag,
    SockType, UnixAddr, UnixCredentials,
};
use std::os::fd::{AsRawFd, OwnedFd};

/// Puts an intercom on the wall at `path`, safely.
pub fn open_intercom(path: &str) -> nix::Result<OwnedFd> {
    // ANCHOR: open_intercom
    // sockaddr_un's sun_path holds 108 bytes, the last one for C's closing
    // NUL: nix refuses a longer path with ENAMETOOLONG, and so do we, as an
    // Err, not a panic.
    let name = UnixAddr::new(path)?;
    let intercom = || {
        socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
    };
    // Is anybody there? Ring before touching the file.
    let probe = intercom()?;
    match connect(probe.as_raw_fd(), &name) {
        // Someone answered: a live server owns the name. Leave its file alone.
        Ok(()) => return Err(Errno::EADDRINUSE),
        // A socket file with nobody listening: a crashed server's leftover.
        Err(Errno::ECONNREFUSED) => std::fs::remove_file(path).map_err(io_errno)?,
        // No file at all: the name is free.
        Err(Errno::ENOENT) => {}
        // EACCES, ENOTDIR, ...: not ours to decide; say what the kernel said.
        Err(e) => return Err(e),
    }
    drop(probe);
    let phone = intercom()?;
    // bind() creates the socket file; it fails with EADDRINUSE if any file
    // (stale or not) is already there.
    bind(phone.as_raw_fd(), &name)?;
    // 16 callers may wait while we answer one; a busy server would ask for
    // Backlog::MAXCONN.
    listen(&phone, Backlog::new(16)?)?;
    Ok(phone)
    // ANCHOR_END: open_intercom
}

/// A std::io::Error as the errno it carries (EIO if it carries none).
fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(Errno::EIO as i32))
}

/// Picks up the next call on `intercom` and says who is calling.
pub fn answer_with_caller_id(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)> {
    // ANCHOR: answer_with_caller_id
    let call = accept(intercom)?;
    // Asked of the call, not of the intercom: the kernel wrote down the
    // caller's pid, uid and gid when they called connect(). Nothing they
    // send can change it.
    let caller = getsockopt(&call, sockopt::PeerCredentials)?;
    Ok((call, caller))
    // ANCHOR_END: answer_with_caller_id
}

/// Takes the intercom off the wall: closes it and removes its socket file.
pub fn close_intercom(intercom: OwnedFd, path: &str) -> nix::Result<()> {
    // ANCHOR: close_intercom
    // Closing the last descriptor switches the intercom off, but the file
    // stays: the kernel never removes a socket file. Removing it is ours
    // to do, or the next server's bind() fails with EADDRINUSE.
    drop(intercom);
    std::fs::remove_file(path).map_err(io_errno)
    // ANCHOR_END: close_intercom
}
