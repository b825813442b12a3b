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

/// `getsockname`: this phone's own number, in whatever family it is
/// (IPv4, IPv6, a Unix name; [`crate::names::number`] writes it down).
pub fn number_of<F: AsFd>(fd: &F) -> nix::Result<SockaddrStorage> {
    getsockname(fd.as_fd().as_raw_fd())
}

/// `getpeername`: caller ID, the number at the other end, in any family.
/// `ENOTCONN` for a phone on no call (a datagram socket never `connect`ed).
pub fn other_end_of<F: AsFd>(fd: &F) -> nix::Result<SockaddrStorage> {
    getpeername(fd.as_fd().as_raw_fd())
}

/// [`number_of`] for an IPv4 phone, as Parts I and II use it.
/// `EAFNOSUPPORT` if it isn't IPv4.
pub fn own_number<F: AsFd>(fd: &F) -> nix::Result<SockaddrIn> {
    ipv4(number_of(fd)?)
}

/// [`other_end_of`] for an IPv4 call: caller ID.
pub fn other_end<F: AsFd>(fd: &F) -> nix::Result<SockaddrIn> {
    ipv4(other_end_of(fd)?)
}

fn ipv4(addr: SockaddrStorage) -> nix::Result<SockaddrIn> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names;
    use crate::party::{self, Kind};
    use nix::sys::socket::{accept, socketpair, SockFlag};

    /// Own number and caller ID answer for IPv6 as for IPv4; the IPv4
    /// questions refuse an IPv6 phone instead of answering wrong.
    #[test]
    fn numbers_in_any_family() {
        let kind = Kind::new(AddressFamily::Inet6, SockType::Stream);
        let (on, number) = party::switched_on(kind).expect("a listener on ::1");
        let caller = party::dial_within(&number, crate::patience::RING_OUT).expect("dial ::1");
        let line = accept(&on).expect("queued");
        assert_eq!(other_end_of(&caller), Ok(number));
        assert_eq!(other_end_of(&line), number_of(&caller));
        assert!(names::number(&number_of(&line).unwrap()).starts_with("[::1]:"));
        assert_eq!(own_number(&line), Err(Errno::EAFNOSUPPORT));
        assert_eq!(other_end(&line), Err(Errno::EAFNOSUPPORT));
    }

    /// A socketpair's ends are Unix phones with no names; a datagram phone
    /// never connected has no other end.
    #[test]
    fn unix_and_unconnected_phones() {
        let (a, _b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::empty(),
        )
        .expect("socketpair");
        assert_eq!(network(&a), Ok(Some(AddressFamily::Unix)));
        assert_eq!(line_kind(&a), Ok(SockType::SeqPacket));
        assert_eq!(names::number(&other_end_of(&a).unwrap()), "(no name)");
        let (postbox, _) = party::numbered(Kind::new(AddressFamily::Inet, SockType::Datagram))
            .expect("a numbered postbox");
        assert_eq!(other_end_of(&postbox), Err(Errno::ENOTCONN));
    }
}
