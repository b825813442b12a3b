//! Names for what the kernel says, in C words and in telephone words.
//!
//! The book shows C's `AF_INET` beside nix's `AddressFamily::Inet`; the
//! transcripts print the C spelling because that is what `man 2 socket`, strace
//! and every other tutorial use.

use crate::party::Kind;
use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, SockType, SockaddrIn, SockaddrLike, SockaddrStorage};

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

/// What an errno means on the telephone, for the phone of Parts I and II
/// (an IPv4 stream): [`errno_phone_on`] with [`Kind::IPV4_STREAM`].
pub fn errno_phone(e: Errno) -> &'static str {
    errno_phone_on(e, Kind::IPV4_STREAM)
}

/// What an errno means on the telephone for this kind of phone: some
/// errors mean something else on another kind of line. A refused call
/// (`ECONNREFUSED`) is nobody switched on at that number; a refused
/// postcard is the post office's "return to sender" notice, which arrives
/// later, on the next call on that socket. `EACCES` is a reserved number on
/// the network but a locked door for a Unix name.
pub fn errno_phone_on(e: Errno, kind: Kind) -> &'static str {
    let postcards = kind.line == SockType::Datagram;
    let unix = kind.family == AddressFamily::Unix;
    match e {
        Errno::ECONNREFUSED if postcards => {
            "return to sender: the post office says nobody collects mail at that number"
        }
        Errno::ECONNREFUSED if unix => "that name exists, but nobody's phone there is switched on",
        Errno::EACCES if unix => {
            "you may not go where that name lives (the permissions of its directory or file)"
        }
        Errno::ENOTCONN if postcards => "this postbox has no address to send to: name one",
        Errno::EISCONN if postcards => {
            "this postbox is already addressed to one place (connect): it can't name another"
        }
        _ => errno_words(e),
    }
}

/// The words for an errno that means the same on every kind of phone.
fn errno_words(e: Errno) -> &'static str {
    match e {
        Errno::EADDRINUSE => "that number is already taken by another phone",
        Errno::EADDRNOTAVAIL => "that number doesn't belong to this building",
        Errno::ECONNREFUSED => "nobody's phone is switched on at that number",
        Errno::ECONNRESET => "the other side slammed the phone down",
        Errno::EPIPE => "you're talking into a line the other side hung up",
        Errno::ENOTCONN => "this phone isn't on a call",
        Errno::EISCONN => "this phone is already on a call: hang up before you dial again",
        Errno::EINVAL => "the exchange doesn't accept that request for this phone",
        Errno::EOPNOTSUPP => "this kind of phone can't do that",
        Errno::EACCES => "numbers below 1024 are reserved for the exchange's own staff (root)",
        Errno::ETIMEDOUT => "the call rang out with no answer",
        // A blocking connect() that ran out of SO_SNDTIMEO (Linux).
        Errno::EINPROGRESS => {
            "it rang out before anyone answered (the exchange may still connect it later)"
        }
        Errno::ENETUNREACH | Errno::EHOSTUNREACH => "there's no line to that place",
        Errno::EAGAIN => "nobody's there right now, and you asked not to wait",
        Errno::EMFILE | Errno::ENFILE => "there's no room for another handset",
        Errno::EMSGSIZE => "that postcard is too big: one datagram can't carry that much",
        Errno::EDESTADDRREQ => "a postcard with no address on it: say where it goes",
        Errno::ENOENT => "there's no phone by that name: nothing is at that path",
        Errno::ENAMETOOLONG => "that name is too long for the directory (108 bytes at most)",
        Errno::EAFNOSUPPORT => "this phone can't take numbers of that kind (IPv4, IPv6, Unix)",
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

/// Any family's number, the way `ss` writes it: `127.0.0.1:5000`,
/// `[::1]:5000`, a path `/tmp/intercom`, an abstract name `@name` (its
/// bytes escaped), or `(no name)` for an unnamed Unix socket.
pub fn number(a: &SockaddrStorage) -> String {
    if let Some(v4) = a.as_sockaddr_in() {
        return addr(v4);
    }
    if let Some(v6) = a.as_sockaddr_in6() {
        return format!("[{}]:{}", v6.ip(), v6.port());
    }
    match a.as_unix_addr() {
        Some(u) => match (u.path(), u.as_abstract()) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(name)) => format!("@{}", name.escape_ascii()),
            (None, None) => "(no name)".to_string(),
        },
        None => format!("a number in {}", a.family().map_or("no family", family)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{kernel, party};

    /// Any family's number is written the way `ss` writes it.
    #[test]
    fn numbers_of_every_family() {
        let numbered = |family| {
            let (phone, number) = party::numbered(Kind::new(family, SockType::Datagram))
                .expect("a numbered loopback phone");
            (phone, number)
        };
        let (_v4, n) = numbered(AddressFamily::Inet);
        assert!(number(&n).starts_with("127.0.0.1:"), "{}", number(&n));
        let (_v6, n) = numbered(AddressFamily::Inet6);
        assert!(number(&n).starts_with("[::1]:"), "{}", number(&n));
        let (_unix, n) = numbered(AddressFamily::Unix);
        assert!(
            number(&n).starts_with('@'),
            "autobind is abstract: {}",
            number(&n)
        );
        let unnamed = party::phone(Kind::new(AddressFamily::Unix, SockType::Datagram)).unwrap();
        let n = kernel::number_of(&unnamed).expect("getsockname");
        assert_eq!(number(&n), "(no name)");
    }

    /// The same errno reads differently where it means something else.
    #[test]
    fn words_depend_on_the_kind_of_phone() {
        let udp = Kind::new(AddressFamily::Inet, SockType::Datagram);
        let unix = Kind::new(AddressFamily::Unix, SockType::Stream);
        assert!(errno_phone(Errno::ECONNREFUSED).contains("switched on"));
        assert!(errno_phone_on(Errno::ECONNREFUSED, udp).contains("return to sender"));
        assert!(errno_phone(Errno::EACCES).contains("1024"));
        assert!(errno_phone_on(Errno::EACCES, unix).contains("permissions"));
        for e in [
            Errno::EMSGSIZE,
            Errno::EDESTADDRREQ,
            Errno::EISCONN,
            Errno::ENOENT,
            Errno::EACCES,
            Errno::ENAMETOOLONG,
            Errno::EAFNOSUPPORT,
        ] {
            for kind in [Kind::IPV4_STREAM, udp, unix] {
                let words = errno_phone_on(e, kind);
                assert_ne!(words, "the exchange said no", "{e:?} on {kind:?}");
            }
        }
    }

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
