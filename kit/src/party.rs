//! The other party: what a scene or a self-check does around the learner's
//! call, so the learner's one function has someone to talk to.
//!
//! Chapter 4's learner dials, so the scene and the check need a phone that is
//! switched on to be dialled; chapter 5's learner picks up, so they need a
//! caller. These helpers are the plain, reference versions of chapters 1-4
//! (socket, bind to 127.0.0.1 port 0, listen, connect), plus the two things a
//! test needs that a learner's program doesn't: waiting with a deadline
//! instead of forever, and the kernel's ephemeral port range.
//!
//! Everything here is loopback-only and lets the kernel pick the port, so two
//! tests (or two classmates) never fight over a number.

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    bind, connect, listen, recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, Backlog,
    MsgFlags, SockFlag, SockType, SockaddrIn, SockaddrIn6, SockaddrLike, SockaddrStorage, UnixAddr,
};
use nix::sys::time::{TimeVal, TimeValLike};
use nix::unistd::read;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::kernel;

/// A new, unnumbered IPv4 stream socket: chapter 1's phone, for the checks,
/// scenes and tests that need one as a prop rather than as the lesson.
/// Shorthand for `phone(Kind::IPV4_STREAM)`; [`phone`] makes any kind.
pub fn new_phone() -> nix::Result<OwnedFd> {
    phone(Kind::IPV4_STREAM)
}

/// What kind of phone: the network it is on (`socket()`'s domain) and the
/// kind of line (its type). Chapter 1's phone is `Kind::IPV4_STREAM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// `AF_INET`, `AF_INET6` or `AF_UNIX`.
    pub family: AddressFamily,
    /// `SOCK_STREAM` (a call), `SOCK_DGRAM` (postcards) or `SOCK_SEQPACKET`
    /// (a call that keeps each message whole; Unix only on Linux without SCTP).
    pub line: SockType,
}

impl Kind {
    /// An IPv4 stream: the phone of Parts I and II.
    pub const IPV4_STREAM: Kind = Kind::new(AddressFamily::Inet, SockType::Stream);

    pub const fn new(family: AddressFamily, line: SockType) -> Kind {
        Kind { family, line }
    }

    /// Does this kind of line have calls (`listen`/`accept`), rather than
    /// postcards sent one by one?
    pub fn has_calls(self) -> bool {
        matches!(self.line, SockType::Stream | SockType::SeqPacket)
    }
}

/// A new, unnumbered socket of any kind: a prop, like [`new_phone`].
pub fn phone(kind: Kind) -> nix::Result<OwnedFd> {
    socket(kind.family, kind.line, SockFlag::empty(), None)
}

/// A phone of `kind` with a number the kernel chose on this machine:
/// 127.0.0.1 or ::1 with port 0, or for `AF_UNIX` an abstract name
/// (`bind` with only the family, which Linux answers by "autobind": a
/// unique name like `@0001a`, in no directory, so there is no socket file
/// to remove afterwards and no two tests can collide).
pub fn numbered(kind: Kind) -> nix::Result<(OwnedFd, SockaddrStorage)> {
    let phone = phone(kind)?;
    let fd = phone.as_raw_fd();
    match kind.family {
        AddressFamily::Inet => bind(fd, &SockaddrIn::new(127, 0, 0, 1, 0))?,
        AddressFamily::Inet6 => bind(
            fd,
            &SockaddrIn6::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0, 0, 0)),
        )?,
        AddressFamily::Unix => bind(fd, &UnixAddr::new_unnamed())?,
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    let number = kernel::number_of(&phone)?;
    Ok((phone, number))
}

/// A phone of `kind` switched on at a kernel-chosen number ([`numbered`],
/// then `listen` with a backlog of 8). Only for kinds that have calls:
/// a datagram socket has no calls to queue (`EOPNOTSUPP`).
pub fn switched_on(kind: Kind) -> nix::Result<(OwnedFd, SockaddrStorage)> {
    let (phone, number) = numbered(kind)?;
    listen(&phone, Backlog::new(8)?)?;
    Ok((phone, number))
}

/// [`dial_within`] for any kind that has calls (`SOCK_STREAM`,
/// `SOCK_SEQPACKET`) in the address's family.
pub fn dial_kind_within(
    line: SockType,
    number: &dyn SockaddrLike,
    ring_out: Duration,
) -> nix::Result<OwnedFd> {
    let family = number.family().ok_or(Errno::EAFNOSUPPORT)?;
    let caller = phone(Kind::new(family, line))?;
    setsockopt(&caller, sockopt::SendTimeout, &timeval(ring_out))?;
    match connect(caller.as_raw_fd(), number) {
        Ok(()) => Ok(caller),
        // What the kernel said, as strace shows it: a blocking connect()
        // that ran out of SO_SNDTIMEO is EINPROGRESS (socket(7)), not
        // ETIMEDOUT, and the handshake may still finish after it.
        Err(e) => Err(e),
    }
}

/// One datagram as it arrived: its bytes and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub bytes: Vec<u8>,
    /// The sender's number; `None` from an unnamed Unix socket (a postcard
    /// with no return address).
    pub from: Option<SockaddrStorage>,
}

/// The next datagram on `postbox`, if one arrives within `within`: one
/// `recvfrom` for one datagram, never two joined (which [`hear`] does to
/// stream bytes): a datagram's boundaries are the lesson. `Ok(None)` if
/// nothing came. The buffer is sized by a peek first
/// ([`crate::wire::next_datagram`]), so nothing is ever cut off.
pub fn hear_datagram<F: AsFd>(postbox: &F, within: Duration) -> nix::Result<Option<Datagram>> {
    if !ready(postbox, within)? {
        return Ok(None);
    }
    let Some(size) = crate::wire::next_datagram(postbox)? else {
        return Ok(None);
    };
    // recvfrom, not recvmsg: nix 0.32's recvmsg leaves a Unix sender's
    // address length unset in a SockaddrStorage.
    let mut bytes = vec![0u8; size];
    let (n, from) = recvfrom::<SockaddrStorage>(postbox.as_fd().as_raw_fd(), &mut bytes)?;
    bytes.truncate(n);
    // An unnamed Unix sender comes back as an address with only a family.
    let from = from.filter(|a| a.as_unix_addr().is_none_or(|u| !u.is_unnamed()));
    Ok(Some(Datagram { bytes, from }))
}

/// Sends one datagram: `sendto(postbox, bytes, to)`.
pub fn post<F: AsFd>(postbox: &F, bytes: &[u8], to: &dyn SockaddrLike) -> nix::Result<()> {
    let n = sendto(postbox.as_fd().as_raw_fd(), bytes, to, MsgFlags::empty())?;
    // A datagram goes whole or not at all: a short count would be a kernel bug.
    debug_assert_eq!(n, bytes.len());
    Ok(())
}

/// A phone with a number on the loopback line but switched off: bound to
/// 127.0.0.1 port 0, never `listen`ed. Keep it while you need the number: as
/// long as it exists nobody else gets that port, and dialling it is refused.
pub fn numbered_phone() -> nix::Result<(OwnedFd, SockaddrIn)> {
    let phone = new_phone()?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
    let number = kernel::own_number(&phone)?;
    Ok((phone, number))
}

/// A phone switched on at a kernel-chosen loopback number: chapters 1-3 in
/// one call. A backlog of 8 is plenty for a scene or a check; a real server
/// would ask for more (`Backlog::MAXCONN`).
pub fn switched_on_phone() -> nix::Result<(OwnedFd, SockaddrIn)> {
    let (phone, number) = numbered_phone()?;
    listen(&phone, Backlog::new(8)?)?;
    Ok((phone, number))
}

/// The other party dials `number` (chapter 4's reference answer). To a phone
/// that is switched on on this machine, connect() returns at once: the kernel
/// completes the call and queues it, whether or not anyone picks up.
pub fn dial(number: &SockaddrIn) -> nix::Result<OwnedFd> {
    let phone = new_phone()?;
    connect(phone.as_raw_fd(), number)?;
    Ok(phone)
}

/// The other party dials `number` from a new phone, giving up after
/// `ring_out` (usually [`crate::patience::RING_OUT`]). For a test caller: a
/// learner's phone whose queue is full would keep a plain [`dial`] waiting
/// for minutes, the caller re-sending its SYN.
///
/// `SO_SNDTIMEO` bounds a blocking `connect()`; on Linux one that runs out
/// of that time fails with `EINPROGRESS` (socket(7)), passed on as the
/// kernel said it: the call rang out, though the handshake may still go on. The limit stays set on the phone, so each later `write`
/// on it gives up after `ring_out` too; [`be_patient`] bounds reads as well.
/// Any family the address is in (IPv4, IPv6, a Unix name), a stream phone.
pub fn dial_within(number: &dyn SockaddrLike, ring_out: Duration) -> nix::Result<OwnedFd> {
    dial_kind_within(SockType::Stream, number, ring_out)
}

/// Sets how long one read or write on `phone` may wait (`SO_RCVTIMEO`,
/// `SO_SNDTIMEO`): after that the call fails with `EAGAIN` instead of
/// waiting by the telephone for ever.
pub fn be_patient<F: AsFd>(phone: &F, patience: Duration) -> nix::Result<()> {
    let t = timeval(patience);
    setsockopt(phone, sockopt::ReceiveTimeout, &t)?;
    setsockopt(phone, sockopt::SendTimeout, &t)
}

/// A socket timeout's `timeval`; zero would mean "no limit", so it is at
/// least a microsecond.
fn timeval(limit: Duration) -> TimeVal {
    let micros = i64::try_from(limit.as_micros()).unwrap_or(i64::MAX).max(1);
    TimeVal::microseconds(micros)
}

/// Does `fd` have something to read within `within`? On a listening phone
/// that means a call is ringing (waiting for accept()); on a line, words or
/// the other side's hang-up. `Duration::ZERO` asks without waiting at all.
pub fn ready<F: AsFd>(fd: &F, within: Duration) -> nix::Result<bool> {
    let millis = u16::try_from(within.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    Ok(poll(&mut fds, PollTimeout::from(millis))? > 0)
}

/// Like [`ready`], but waits as long as it takes: a program waiting by the
/// telephone for a person to call. Ctrl-C is the way out.
pub fn wait_for_ring<F: AsFd>(fd: &F) -> nix::Result<()> {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::NONE)?;
    Ok(())
}

/// What the other side said, up to `want` bytes, stopping early at
/// end-of-file (the other side hung up) or when `within` runs out.
///
/// One write is not one read: the bytes may come in pieces, so this keeps
/// reading until it has them all, and never blocks past the deadline because
/// each read happens only after poll() says there is something to read.
pub fn hear<F: AsFd>(line: &F, want: usize, within: Duration) -> nix::Result<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut heard = Vec::with_capacity(want);
    let mut buf = [0u8; 1024];
    while heard.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !ready(line, left)? {
            break;
        }
        let room = (want - heard.len()).min(buf.len());
        match read(line.as_fd(), &mut buf[..room])? {
            0 => break, // end-of-file: the other side hung up
            n => heard.extend_from_slice(&buf[..n]),
        }
    }
    Ok(heard)
}

/// One line of what a person typed (up to `max` bytes, the newline included),
/// or less if they hang up or stay silent for `within`.
pub fn hear_line<F: AsFd>(line: &F, max: usize, within: Duration) -> nix::Result<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut heard = Vec::new();
    while heard.len() < max && !heard.ends_with(b"\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        // One byte at a time: a line is short, and reading past the newline
        // would swallow words meant for whoever reads next.
        let byte = hear(line, 1, left)?;
        if byte.is_empty() {
            break;
        }
        heard.extend_from_slice(&byte);
    }
    Ok(heard)
}

/// The kernel's pool of ephemeral numbers, the ports it hands to callers that
/// never bind: `/proc/sys/net/ipv4/ip_local_port_range` (e.g. 32768 60999).
pub fn ephemeral_range() -> Option<(u16, u16)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u16>().ok());
    Some((numbers.next()??, numbers.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::write;

    /// A switched-on phone rings when dialled; a numbered one refuses.
    #[test]
    fn switched_on_rings_and_switched_off_refuses() {
        let (on, on_number) = switched_on_phone().expect("loopback listener");
        assert!(
            !ready(&on, Duration::ZERO).expect("poll"),
            "nobody dialled yet"
        );
        let _caller = dial(&on_number).expect("dial a listening phone");
        assert!(ready(&on, Duration::from_secs(2)).expect("poll"));
        let (_off, off_number) = numbered_phone().expect("bound phone");
        assert_eq!(dial(&off_number).unwrap_err(), Errno::ECONNREFUSED);
    }

    /// hear() collects pieces, stops at end-of-file, and gives up on silence.
    #[test]
    fn hear_waits_for_all_but_not_forever() {
        let (on, number) = switched_on_phone().expect("loopback listener");
        let caller = dial(&number).expect("dial");
        let line = nix::sys::socket::accept(&on).expect("a call is queued");
        write(&caller, b"hel").expect("write");
        write(&caller, b"lo\nrest").expect("write");
        assert_eq!(
            hear_line(&line, 80, Duration::from_secs(2)).unwrap(),
            b"hello\n"
        );
        let silent = hear(&line, 100, Duration::from_millis(50)).unwrap();
        assert_eq!(silent, b"rest", "stops when the line goes quiet");
        drop(caller);
        assert!(hear(&line, 10, Duration::from_secs(2)).unwrap().is_empty());
    }

    #[test]
    fn the_ephemeral_range_is_readable_on_linux() {
        let (low, high) = ephemeral_range().expect("Linux has the file");
        assert!(low <= high);
    }

    const EVERY_CALL_KIND: [(AddressFamily, SockType); 4] = [
        (AddressFamily::Inet, SockType::Stream),
        (AddressFamily::Inet6, SockType::Stream),
        (AddressFamily::Unix, SockType::Stream),
        (AddressFamily::Unix, SockType::SeqPacket),
    ];

    /// Every kind of phone that has calls can be switched on, dialled and
    /// picked up, on a number of its own family, and is the kind asked for.
    #[test]
    fn every_kind_of_call_goes_through() {
        for (family, line) in EVERY_CALL_KIND {
            let kind = Kind::new(family, line);
            let (on, number) = switched_on(kind).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(number.family(), Some(family));
            let caller = dial_kind_within(line, &number, crate::patience::RING_OUT)
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let line_fd = nix::sys::socket::accept(&on).expect("a call is queued");
            assert_eq!(kernel::line_kind(&line_fd), Ok(line));
            assert_eq!(kernel::line_kind(&caller), Ok(line));
            assert_eq!(kernel::network(&caller), Ok(Some(family)));
            write(&caller, b"hi").expect("write");
            assert_eq!(hear(&line_fd, 2, Duration::from_secs(2)).unwrap(), b"hi");
        }
    }

    /// Datagram phones get a number but have no calls to switch on.
    #[test]
    fn postcards_have_numbers_but_no_calls() {
        for family in [
            AddressFamily::Inet,
            AddressFamily::Inet6,
            AddressFamily::Unix,
        ] {
            let kind = Kind::new(family, SockType::Datagram);
            assert!(!kind.has_calls());
            let (phone, number) = numbered(kind).expect("a numbered datagram phone");
            assert_eq!(kernel::line_kind(&phone), Ok(SockType::Datagram));
            assert_eq!(number.family(), Some(family));
            assert_eq!(switched_on(kind).unwrap_err(), Errno::EOPNOTSUPP);
        }
    }

    /// A bounded dial: refused at once where nothing listens, and rung out
    /// (EINPROGRESS, as the kernel says it), not hung, where the queue is full.
    #[test]
    fn a_bounded_dial_rings_out() {
        let (_off, off_number) = numbered_phone().expect("bound phone");
        let refused = dial_within(&off_number, crate::patience::RING_OUT);
        assert_eq!(refused.unwrap_err(), Errno::ECONNREFUSED);

        let (full, number) = numbered_phone().expect("bound phone");
        listen(&full, Backlog::new(0).expect("0 is a backlog")).expect("listen");
        // Linux queues backlog + 1 finished calls: the next caller's SYN is
        // ignored and its connect() waits, here for 300 ms at most.
        let _first = dial(&number).expect("the queue has room for one");
        let start = Instant::now();
        let late = dial_within(&number, Duration::from_millis(300));
        assert_eq!(late.unwrap_err(), Errno::EINPROGRESS);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    /// One datagram per hearing, boundaries and sender kept, an empty one
    /// included; silence is `None`, not a wait for ever.
    #[test]
    fn hear_datagram_keeps_boundaries_and_sender() {
        for family in [
            AddressFamily::Inet,
            AddressFamily::Inet6,
            AddressFamily::Unix,
        ] {
            let p = crate::wire::postal_pair(family).expect("two postboxes");
            for words in [&b"one"[..], b"", b"three"] {
                post(&p.friend, words, &p.your_number).expect("sendto");
            }
            for words in [&b"one"[..], b"", b"three"] {
                let got = hear_datagram(&p.you, Duration::from_secs(2))
                    .expect("recvmsg")
                    .expect("a datagram was posted");
                assert_eq!(got.bytes, words, "{family:?}");
                assert_eq!(got.from.as_ref(), Some(&p.friends_number), "{family:?}");
            }
            let silence = hear_datagram(&p.you, Duration::from_millis(20)).expect("poll");
            assert_eq!(silence, None);
        }
    }
}
