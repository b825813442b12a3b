//! Asking the kernel about a socket: the questions every chapter and check
//! repeats. Each is one syscall; the names say what they ask in telephone words.

use nix::errno::Errno;
use nix::sys::socket::{
    getpeername, getsockname, getsockopt, sockopt, AddressFamily, SockType, SockaddrIn,
    SockaddrLike, SockaddrStorage,
};
use std::os::fd::{AsFd, AsRawFd, RawFd};

/// `getsockopt(SO_TYPE)`: stream (a call) or datagram (postcards)?
pub fn line_kind<F: AsFd>(fd: &F) -> nix::Result<SockType> {
    getsockopt(fd, sockopt::SockType)
}

/// The address family the kernel filed the socket under. C would ask
/// `getsockopt(SO_DOMAIN)`; nix doesn't wrap that option, and the family of
/// `getsockname`'s answer is the same fact, even before `bind`.
pub fn network<F: AsFd>(fd: &F) -> nix::Result<Option<AddressFamily>> {
    let addr: SockaddrStorage = getsockname(fd.as_fd().as_raw_fd())?;
    Ok(addr.family())
}

/// `getsockname`: this phone's own number. `EAFNOSUPPORT` if it isn't IPv4.
pub fn own_number<F: AsFd>(fd: &F) -> nix::Result<SockaddrIn> {
    let addr: SockaddrStorage = getsockname(fd.as_fd().as_raw_fd())?;
    addr.as_sockaddr_in().copied().ok_or(Errno::EAFNOSUPPORT)
}

/// `getpeername`: caller ID, the number at the other end of the call.
pub fn other_end<F: AsFd>(fd: &F) -> nix::Result<SockaddrIn> {
    let addr: SockaddrStorage = getpeername(fd.as_fd().as_raw_fd())?;
    addr.as_sockaddr_in().copied().ok_or(Errno::EAFNOSUPPORT)
}

/// `getsockopt(SO_ACCEPTCONN)`: is the phone switched on (listening)?
pub fn switched_on<F: AsFd>(fd: &F) -> nix::Result<bool> {
    getsockopt(fd, sockopt::AcceptConn)
}

/// What `/proc/self/fd/N` says descriptor `N` is (e.g. `socket:[81723]`),
/// or `None` once it is closed. Linux-only, like the rest of the course.
pub fn fd_target(fd: RawFd) -> Option<String> {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .ok()
        .map(|p| p.display().to_string())
}

/// How many descriptors this process has open (a leaked handset shows here).
pub fn open_fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count().saturating_sub(1)) // read_dir's own descriptor
        .unwrap_or(0)
}
