//! The address structs, measured: every offset and size here comes from
//! `std::mem::offset_of!` and `size_of` on the `libc` types this build
//! links against, and every length from nix's own `SockaddrLike::len`, the
//! number nix hands `bind()` and `connect()` as their third argument. None
//! of it is typed by hand, so the page can't say 16 where the machine says
//! something else.

use dialtone_kit::kernel;
use dialtone_kit::party::{self, Kind};
use nix::libc;
use nix::sys::socket::{bind, AddressFamily, SockType};
use nix::sys::socket::{SockaddrIn, SockaddrIn6, SockaddrLike, SockaddrStorage, UnixAddr};
use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::AsRawFd;

/// One field of a C struct: where it starts, how long it is, what it holds.
struct Field {
    name: &'static str,
    offset: usize,
    size: usize,
    holds: &'static str,
}

/// One struct: its C name, its size, what it is for, and its fields.
struct Layout {
    name: &'static str,
    size: usize,
    what: &'static str,
    fields: Vec<Field>,
}

/// The size of the field `pick` borrows, without making a value: the
/// closure is never called, only its return type is measured.
fn size_of_field<T, F>(_pick: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// `field!(libc::sockaddr_in, sin_port, "...")`: offset and size measured.
macro_rules! field {
    ($ty:ty, $name:ident, $holds:expr) => {
        Field {
            name: stringify!($name),
            offset: offset_of!($ty, $name),
            size: size_of_field(|s: &$ty| &s.$name),
            holds: $holds,
        }
    };
}

fn layouts() -> Vec<Layout> {
    // sockaddr_storage's padding fields are private in libc (their names
    // are glibc's business): what follows ss_family is measured as the
    // struct's size minus the family's end.
    let family_end = offset_of!(libc::sockaddr_storage, ss_family) + size_of::<libc::sa_family_t>();
    let storage = size_of::<libc::sockaddr_storage>();
    vec![
        Layout {
            name: "sockaddr",
            size: size_of::<libc::sockaddr>(),
            what: "the generic one, which bind() takes",
            fields: vec![
                field!(libc::sockaddr, sa_family, "AF_INET, AF_INET6, AF_UNIX..."),
                field!(
                    libc::sockaddr,
                    sa_data,
                    "the address; its shape is the family's"
                ),
            ],
        },
        Layout {
            name: "sockaddr_in",
            size: size_of::<libc::sockaddr_in>(),
            what: "AF_INET: an IPv4 number",
            fields: vec![
                field!(libc::sockaddr_in, sin_family, "AF_INET"),
                field!(libc::sockaddr_in, sin_port, "the port, big-endian (htons)"),
                field!(libc::sockaddr_in, sin_addr, "the IPv4 address, big-endian"),
                field!(
                    libc::sockaddr_in,
                    sin_zero,
                    "zeros, to fill sockaddr's size"
                ),
            ],
        },
        Layout {
            name: "sockaddr_in6",
            size: size_of::<libc::sockaddr_in6>(),
            what: "AF_INET6: an IPv6 number",
            fields: vec![
                field!(libc::sockaddr_in6, sin6_family, "AF_INET6"),
                field!(libc::sockaddr_in6, sin6_port, "the port, big-endian"),
                field!(libc::sockaddr_in6, sin6_flowinfo, "flow label (0 here)"),
                field!(libc::sockaddr_in6, sin6_addr, "the IPv6 address"),
                field!(libc::sockaddr_in6, sin6_scope_id, "which link, for fe80::"),
            ],
        },
        Layout {
            name: "sockaddr_un",
            size: size_of::<libc::sockaddr_un>(),
            what: "AF_UNIX: a path on this machine",
            fields: vec![
                field!(libc::sockaddr_un, sun_family, "AF_UNIX"),
                field!(
                    libc::sockaddr_un,
                    sun_path,
                    "the path, or \\0 + an abstract name"
                ),
            ],
        },
        Layout {
            name: "sockaddr_storage",
            size: storage,
            what: "room for any family's address",
            fields: vec![
                field!(
                    libc::sockaddr_storage,
                    ss_family,
                    "whichever family it holds"
                ),
                Field {
                    name: "(private)",
                    offset: family_end,
                    size: storage - family_end,
                    holds: "room, aligned for any address",
                },
            ],
        },
    ]
}

/// One address as nix hands it to the kernel: what it is, nix's type, the
/// size of that Rust type, and the length argument nix passes with it.
struct Passed {
    address: String,
    nix_type: &'static str,
    type_size: usize,
    len: u32,
    why: String,
}

fn passed() -> Result<Vec<Passed>, String> {
    let v4 = SockaddrIn::new(127, 0, 0, 1, 0);
    let v6 = SockaddrIn6::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0, 0, 0));
    let path = "/tmp/intercom";
    let named = UnixAddr::new(path).map_err(|e| format!("UnixAddr::new({path:?}): {e}"))?;
    let abstract_name = b"intercom";
    let hidden = UnixAddr::new_abstract(abstract_name)
        .map_err(|e| format!("UnixAddr::new_abstract: {e}"))?;
    let unnamed = UnixAddr::new_unnamed();
    let path_at = offset_of!(libc::sockaddr_un, sun_path);
    let from_v4 = SockaddrStorage::from(std::net::SocketAddrV4::new([127, 0, 0, 1].into(), 0));
    // A storage holding a Unix address knows that address's own length. nix
    // makes one only from the kernel's answer, so ask it: bind with only the
    // family, and Linux "autobinds" an abstract name of five hex digits
    // (unix(7)), no file anywhere.
    let autobound = party::phone(Kind::new(AddressFamily::Unix, SockType::Datagram))
        .and_then(|phone| {
            bind(phone.as_raw_fd(), &UnixAddr::new_unnamed())?;
            kernel::number_of(&phone)
        })
        .map_err(|e| format!("an autobound Unix socket: {e}"))?;
    let fixed = |size: usize| format!("sizeof = {size}");
    Ok(vec![
        Passed {
            address: "127.0.0.1 port 0".into(),
            nix_type: "SockaddrIn",
            type_size: size_of::<SockaddrIn>(),
            len: v4.len(),
            why: fixed(size_of::<libc::sockaddr_in>()),
        },
        Passed {
            address: "::1 port 0".into(),
            nix_type: "SockaddrIn6",
            type_size: size_of::<SockaddrIn6>(),
            len: v6.len(),
            why: fixed(size_of::<libc::sockaddr_in6>()),
        },
        Passed {
            address: format!("{path:?}"),
            nix_type: "UnixAddr",
            type_size: size_of::<UnixAddr>(),
            len: named.len(),
            // nix leaves the path's closing \0 out of the length; Linux
            // accepts it either way (unix(7)).
            why: format!("{path_at} + {} (no \\0)", path.len()),
        },
        Passed {
            address: format!("@{} (abstract)", String::from_utf8_lossy(abstract_name)),
            nix_type: "UnixAddr",
            type_size: size_of::<UnixAddr>(),
            len: hidden.len(),
            why: format!("{path_at} + 1 (\\0) + {}", abstract_name.len()),
        },
        Passed {
            address: "(unnamed)".into(),
            nix_type: "UnixAddr",
            type_size: size_of::<UnixAddr>(),
            len: unnamed.len(),
            why: format!("{path_at}: the family only"),
        },
        Passed {
            address: "127.0.0.1 port 0".into(),
            nix_type: "SockaddrStorage",
            type_size: size_of::<SockaddrStorage>(),
            len: from_v4.len(),
            // Not 16: nix passes the whole storage for an IP address, and
            // Linux reads the 16 bytes AF_INET needs from it.
            why: "all of it (Linux reads 16)".into(),
        },
        Passed {
            address: "@xxxxx (autobind)".into(),
            nix_type: "SockaddrStorage",
            type_size: size_of::<SockaddrStorage>(),
            len: autobound.len(),
            why: format!("what it holds: {path_at} + 1 + 5"),
        },
    ])
}

/// The report `addresses` prints with no arguments.
pub fn report() -> Result<String, String> {
    let mut s = String::new();
    // `write!` to a String cannot fail.
    let _ = writeln!(
        s,
        "The family of addresses, measured in this build (bytes; Linux, libc types)"
    );
    for l in layouts() {
        let _ = writeln!(s, "\nstruct {:<17} {:>3} bytes  {}", l.name, l.size, l.what);
        let _ = writeln!(s, "  offset size  field          holds");
        for f in &l.fields {
            let _ = writeln!(
                s,
                "  {:>6} {:>4}  {:<14} {}",
                f.offset, f.size, f.name, f.holds
            );
        }
    }
    let _ = writeln!(
        s,
        "\nWhat nix passes to bind() beside the pointer: SockaddrLike::len()"
    );
    let _ = writeln!(
        s,
        "  {:<20} {:<16} {:>7} {:>4}  why",
        "address", "nix type", "size_of", "len"
    );
    for p in passed()? {
        let _ = writeln!(
            s,
            "  {:<20} {:<16} {:>7} {:>4}  {}",
            p.address, p.nix_type, p.type_size, p.len, p.why
        );
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each struct's fields tile it in order, without overlapping, and
    /// every address struct starts with its family at offset 0, the one
    /// field bind() can read before it knows which struct it was given.
    #[test]
    fn fields_tile_their_struct_and_the_family_comes_first() {
        for l in layouts() {
            assert_eq!(l.fields[0].offset, 0, "{}", l.name);
            assert_eq!(
                l.fields[0].size,
                size_of::<libc::sa_family_t>(),
                "{}",
                l.name
            );
            let mut at = 0;
            for f in &l.fields {
                assert!(f.offset >= at, "{}.{} overlaps", l.name, f.name);
                at = f.offset + f.size;
            }
            assert!(at <= l.size, "{} overflows", l.name);
        }
    }

    /// Storage is big enough for every family, which is its whole point.
    #[test]
    fn storage_holds_every_family() {
        let storage = size_of::<libc::sockaddr_storage>();
        for l in layouts() {
            assert!(l.size <= storage, "{} is larger than storage", l.name);
        }
    }
}
