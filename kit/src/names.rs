//! Names for what the kernel says, in C words and in telephone words.
//!
//! The book shows C's `AF_INET` beside nix's `AddressFamily::Inet`; the
//! transcripts print the C spelling because that is what `man 2 socket`, strace
//! and every other tutorial use.

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, SockType, SockaddrIn};

pub fn family(f: AddressFamily) -> &'static str {
    match f {
        AddressFamily::Inet => "AF_INET",
        AddressFamily::Inet6 => "AF_INET6",
        AddressFamily::Unix => "AF_UNIX",
        _ => "another family",
    }
}

pub fn sock_type(t: SockType) -> &'static str {
    match t {
        SockType::Stream => "SOCK_STREAM",
        SockType::Datagram => "SOCK_DGRAM",
        SockType::SeqPacket => "SOCK_SEQPACKET",
        SockType::Raw => "SOCK_RAW",
        _ => "another type",
    }
}

/// `EADDRINUSE (Address already in use)`.
pub fn errno(e: Errno) -> String {
    format!("{e:?} ({})", e.desc())
}

/// What an errno means on the telephone.
pub fn errno_phone(e: Errno) -> &'static str {
    match e {
        Errno::EADDRINUSE => "that number is already taken by another phone",
        Errno::EADDRNOTAVAIL => "that number doesn't belong to this building",
        Errno::ECONNREFUSED => "nobody's phone is switched on at that number",
        Errno::ECONNRESET => "the other side slammed the phone down",
        Errno::EPIPE => "you're talking into a line the other side hung up",
        Errno::ENOTCONN => "this phone isn't on a call",
        Errno::EINVAL => "the exchange doesn't accept that request for this phone",
        Errno::EOPNOTSUPP => "this kind of phone can't do that",
        Errno::EACCES => "numbers below 1024 are reserved for the exchange's own staff (root)",
        Errno::ETIMEDOUT => "the call rang out with no answer",
        Errno::ENETUNREACH | Errno::EHOSTUNREACH => "there's no line to that place",
        Errno::EAGAIN => "nobody's there right now, and you asked not to wait",
        Errno::EMFILE | Errno::ENFILE => "there's no room for another handset",
        _ => "the exchange said no",
    }
}

/// `127.0.0.1:5000`, the way people write a number.
pub fn addr(a: &SockaddrIn) -> String {
    format!("{}:{}", a.ip(), a.port())
}
