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

/// Bytes as text, the way a learner would print them: `"hello\n"` (Rust's
/// `{:?}` of the text; bytes that aren't UTF-8 show as `\u{fffd}`).
pub fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

/// Like [`show`], but more than `most` bytes are only counted: `70000 bytes`.
/// For a verdict's got/expected line, which must stay one readable line.
pub fn show_or_count(bytes: &[u8], most: usize) -> String {
    if bytes.len() > most {
        return format!("{} bytes", bytes.len());
    }
    show(bytes)
}

/// The first `most` bytes, escaped byte by byte (`\xff`, `\n`) so binary
/// garbage reads as what it is, then how many there were in all:
/// `"hello"... (1048576 bytes)`; `nothing` for no bytes at all.
pub fn quote(bytes: &[u8], most: usize) -> String {
    if bytes.is_empty() {
        return "nothing".into();
    }
    let head = &bytes[..bytes.len().min(most)];
    let more = if bytes.len() > head.len() {
        format!("... ({} bytes)", bytes.len())
    } else {
        String::new()
    };
    format!("\"{}\"{more}", head.escape_ascii())
}

/// `127.0.0.1:5000`, the way people write a number.
pub fn addr(a: &SockaddrIn) -> String {
    format!("{}:{}", a.ip(), a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three ways bytes are quoted, exactly as the chapters printed them.
    #[test]
    fn bytes_read_as_the_chapters_printed_them() {
        assert_eq!(show(b"hello\n"), r#""hello\n""#);
        assert_eq!(show(&[0xff]), "\"\u{fffd}\"");
        assert_eq!(show_or_count(b"hi", 48), r#""hi""#);
        assert_eq!(show_or_count(&[b'x'; 49], 48), "49 bytes");
        assert_eq!(quote(b"", 40), "nothing");
        assert_eq!(quote(b"a\xff\n", 40), r#""a\xff\n""#);
        let long = format!("\"{}\"... (41 bytes)", "y".repeat(40));
        assert_eq!(quote(&[b'y'; 41], 40), long);
    }
}
