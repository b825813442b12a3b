//! The kinds of phone side by side, each claim of the opening page's two
//! tables shown by a small run on this machine (`addresses --try`).
//!
//! Every demonstration uses loopback (127.0.0.1, ::1) with kernel-chosen
//! ports, a socketpair, or a Unix socket in a folder of its own that is
//! removed when the run ends, however it ends. Nothing waits without a
//! limit: a blocking receive has `SO_RCVTIMEO` set, a wait for bytes polls
//! with a deadline, and no demonstration sleeps to let a peer catch up.
//! Each line has an id (`B1`, `R3`...) that the page's tables cite.
//!
//! What is left to the chapters: sending and receiving postcards in your own
//! code (chapter 9), the socket file's life and permissions (chapter 10),
//! dual stack and names to numbers (chapter 11).

use dialtone_kit::names::{number, show};
use dialtone_kit::party::{self, be_patient, dial_within, numbered, switched_on, Kind};
use dialtone_kit::patience::ALREADY_IN_THE_KERNEL as SOON;
use dialtone_kit::wire::{self, call_pair};
use nix::errno::Errno;
use nix::sys::socket::{
    accept, bind, connect, getpeername, getsockname, getsockopt, listen, recv, recvfrom, send,
    sendto, setsockopt, socketpair, sockopt, AddressFamily, Backlog, MsgFlags, SockFlag, SockType,
    SockaddrIn, SockaddrIn6, SockaddrStorage, UnixAddr,
};
use nix::unistd::{read, write};
use std::fmt::Write as _;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

type Demo = Result<String, String>;

/// One printed line: the id a table cites, the kind of phone, what happened.
type Line = (&'static str, &'static str, String);

/// A failed step, named: what was being done and what the kernel said.
fn failed(what: &str) -> impl Fn(Errno) -> String + '_ {
    move |e| format!("{what}: {}", dialtone_kit::names::errno(e))
}

/// `EAGAIN`, `ECONNREFUSED`...: what people search for.
fn name(e: Errno) -> String {
    format!("{e:?}")
}

/// An outcome as a line shows it: `sent 11` or the errno's name.
fn outcome(r: nix::Result<usize>, ok: &str) -> String {
    match r {
        Ok(n) => format!("{ok} {n}"),
        Err(e) => name(e),
    }
}

const PIECES: [&[u8]; 3] = [b"one", b"two", b"three"];
const WHOLE: &[u8] = b"onetwothree";

/// A Unix socket pair of `line` kind, both ends patient.
fn unix_pair(line: SockType) -> Result<(OwnedFd, OwnedFd), String> {
    let (a, b) = socketpair(AddressFamily::Unix, line, None, SockFlag::empty())
        .map_err(failed("socketpair"))?;
    be_patient(&b, SOON).map_err(failed("SO_RCVTIMEO"))?;
    Ok((a, b))
}

/// Three receives of one datagram each, as `3 "one", 3 "two", 5 "three"`.
fn three_receives(postbox: &OwnedFd) -> Demo {
    let mut got = Vec::new();
    for _ in PIECES {
        let mut buf = [0u8; 64];
        let n = recv(postbox.as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(failed("recv"))?;
        got.push(format!("{n} {}", show(&buf[..n])));
    }
    Ok(format!("three receives: {}", got.join(", ")))
}

/// B1: a TCP stream joins three sends into one read.
fn boundaries_tcp() -> Demo {
    let pair = call_pair().map_err(failed("a call on loopback"))?;
    for piece in PIECES {
        write(&pair.caller, piece).map_err(failed("write"))?;
    }
    // Wait until all 11 bytes have arrived, so what one read returns
    // doesn't depend on how fast loopback ran.
    if !wire::wait_until_queued(&pair.callee, WHOLE.len(), SOON) {
        return Err("the 11 bytes did not arrive within 2 s".into());
    }
    let mut buf = [0u8; 64];
    let n = read(pair.callee.as_fd(), &mut buf).map_err(failed("read"))?;
    Ok(format!("one read: {n} bytes {}", show(&buf[..n])))
}

/// B2 (Unix stream) and B4 (Unix datagram, B5 seqpacket): one process,
/// both ends, so every send is queued before its call returns.
fn boundaries_unix(line: SockType) -> Demo {
    let (a, b) = unix_pair(line)?;
    for piece in PIECES {
        send(a.as_raw_fd(), piece, MsgFlags::empty()).map_err(failed("send"))?;
    }
    if line == SockType::Stream {
        let mut buf = [0u8; 64];
        let n = read(b.as_fd(), &mut buf).map_err(failed("read"))?;
        return Ok(format!("one read: {n} bytes {}", show(&buf[..n])));
    }
    three_receives(&b)
}

/// B3: UDP keeps each sendto whole, one datagram per receive.
fn boundaries_udp() -> Demo {
    let kind = Kind::new(AddressFamily::Inet, SockType::Datagram);
    let (postbox, at) = numbered(kind).map_err(failed("a numbered postcard box"))?;
    be_patient(&postbox, SOON).map_err(failed("SO_RCVTIMEO"))?;
    let sender = party::phone(kind).map_err(failed("socket"))?;
    for piece in PIECES {
        sendto(sender.as_raw_fd(), piece, &at, MsgFlags::empty()).map_err(failed("sendto"))?;
    }
    three_receives(&postbox)
}

/// T1: a stream keeps what a small buffer couldn't take for the next read.
fn small_buffer_tcp() -> Demo {
    let pair = call_pair().map_err(failed("a call on loopback"))?;
    write(&pair.caller, WHOLE).map_err(failed("write"))?;
    if !wire::wait_until_queued(&pair.callee, WHOLE.len(), SOON) {
        return Err("the 11 bytes did not arrive within 2 s".into());
    }
    let mut small = [0u8; 4];
    let n = read(pair.callee.as_fd(), &mut small).map_err(failed("read"))?;
    let mut rest = [0u8; 64];
    let m = read(pair.callee.as_fd(), &mut rest).map_err(failed("read"))?;
    Ok(format!(
        "read {n} {}, the next read {m} {}",
        show(&small[..n]),
        show(&rest[..m])
    ))
}

/// T2: a datagram bigger than the buffer is cut, and the rest is gone.
/// `MSG_TRUNC` makes Linux's recv return the card's real length.
fn small_buffer_udp() -> Demo {
    let kind = Kind::new(AddressFamily::Inet, SockType::Datagram);
    let (postbox, at) = numbered(kind).map_err(failed("a numbered postcard box"))?;
    be_patient(&postbox, SOON).map_err(failed("SO_RCVTIMEO"))?;
    let sender = party::phone(kind).map_err(failed("socket"))?;
    for _ in 0..2 {
        sendto(sender.as_raw_fd(), WHOLE, &at, MsgFlags::empty()).map_err(failed("sendto"))?;
    }
    let mut small = [0u8; 4];
    let n = recv(postbox.as_raw_fd(), &mut small, MsgFlags::empty()).map_err(failed("recv"))?;
    let real = recv(postbox.as_raw_fd(), &mut small, MsgFlags::MSG_TRUNC)
        .map_err(failed("recv MSG_TRUNC"))?;
    // Both cards have been taken: the 7 bytes cut from each are nowhere.
    let after = recv(postbox.as_raw_fd(), &mut small, MsgFlags::MSG_DONTWAIT);
    Ok(format!(
        "recv {n} {}; with MSG_TRUNC: {real} (the card's length); then {}",
        show(&small[..n]),
        outcome(after, "got")
    ))
}

/// `sendto` of `sizes` bytes each from a new box of `kind` to a box of
/// ours: what the kernel says to each.
fn sends_of(kind: Kind, sizes: &[usize]) -> Demo {
    let (_postbox, at) = numbered(kind).map_err(failed("a numbered postcard box"))?;
    let sender = party::phone(kind).map_err(failed("socket"))?;
    let said: Vec<String> = sizes
        .iter()
        .map(|&size| {
            let card = vec![0u8; size];
            let r = sendto(sender.as_raw_fd(), &card, &at, MsgFlags::empty());
            format!("{size} bytes: {}", outcome(r, "sent"))
        })
        .collect();
    Ok(format!("sendto {}", said.join("; ")))
}

/// M1-M3: one datagram has a most: what fits in one IP packet (65535
/// bytes, less the headers: IPv4's 20 and UDP's 8; IPv6 doesn't count its
/// own 40), or for Unix datagrams the sender's buffer (`SO_SNDBUF`).
/// M4: a stream has no such thing.
fn too_big() -> Result<[String; 4], String> {
    let dgram = |family| Kind::new(family, SockType::Datagram);
    let v4 = sends_of(dgram(AddressFamily::Inet), &[65507, 65508])?;
    let v6 = sends_of(dgram(AddressFamily::Inet6), &[65527, 65528])?;
    let unix = sends_of(dgram(AddressFamily::Unix), &[65508, 1 << 20])?;
    let pair = call_pair().map_err(failed("a call on loopback"))?;
    let over = vec![0u8; 65508];
    let took = send(pair.caller.as_raw_fd(), &over, MsgFlags::empty());
    Ok([
        v4,
        v6,
        unix,
        format!("send 65508 bytes: {}", outcome(took, "took")),
    ])
}

/// R1, R6: dialling a number nobody switched on is refused at once.
fn refused_tcp(family: AddressFamily) -> Demo {
    // A phone with a number, never switched on: the port is ours, and dead.
    let (_dead, at) =
        numbered(Kind::new(family, SockType::Stream)).map_err(failed("a numbered phone"))?;
    match dial_within(&at, SOON) {
        Ok(_) => Ok("connect: the call went through (nobody should be there)".into()),
        Err(e) => Ok(format!("connect: {}", name(e))),
    }
}

/// R2 and R3: a postcard to a port nobody has. The "return to sender"
/// notice (ICMP port unreachable) comes back after sendto has returned;
/// only a connected datagram socket is told, on its next call.
fn refused_udp() -> Result<(String, String), String> {
    let kind = Kind::new(AddressFamily::Inet, SockType::Datagram);
    // A numbered box dropped at once: its port is free again, and nobody
    // is there. (A live box of ours would take the card.)
    let at = numbered(kind).map_err(failed("a numbered postcard box"))?.1;
    let loose = party::phone(kind).map_err(failed("socket"))?;
    be_patient(&loose, SOON).map_err(failed("SO_RCVTIMEO"))?;
    let sent_loose = sendto(loose.as_raw_fd(), b"hello?", &at, MsgFlags::empty());
    let tied = party::phone(kind).map_err(failed("socket"))?;
    be_patient(&tied, SOON).map_err(failed("SO_RCVTIMEO"))?;
    connect(tied.as_raw_fd(), &at).map_err(failed("connect"))?;
    let sent_tied = send(tied.as_raw_fd(), b"hello?", MsgFlags::empty());
    let mut buf = [0u8; 16];
    // Waits (at most 2 s) until the notice arrives and wakes it.
    let heard_tied = recv(tied.as_raw_fd(), &mut buf, MsgFlags::empty());
    // The loose box's notice was sent first, so by now it has come and gone.
    let heard_loose = recv(loose.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT);
    let pending = getsockopt(&loose, sockopt::SocketError).map_err(failed("SO_ERROR"))?;
    Ok((
        format!(
            "sendto: {}; recv: {}; SO_ERROR {pending}",
            outcome(sent_loose, "sent"),
            outcome(heard_loose, "got")
        ),
        format!(
            "send: {}; the next recv: {}",
            outcome(sent_tied, "sent"),
            outcome(heard_tied, "got")
        ),
    ))
}

/// A folder of this run's own for Unix socket files, removed on drop, so
/// no file is left behind even when a demonstration fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        // The pid and a count: two runs at once, in one process or two,
        // never share a folder.
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let name = format!("dialtone-addresses-{}-{run}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
    fn path(&self, name: &str) -> Result<UnixAddr, String> {
        UnixAddr::new(&self.0.join(name)).map_err(failed("UnixAddr::new"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// R4, R5: on one machine the kernel knows at once. No file: `ENOENT`; a
/// file nobody answers (a stale one): `ECONNREFUSED`, for calls and for
/// postcards alike, in the call that sent, not a later one.
fn refused_unix(scratch: &Scratch) -> Result<(String, String), String> {
    let missing = scratch.path("nobody")?;
    let stale = scratch.path("stale")?;
    let gone =
        party::phone(Kind::new(AddressFamily::Unix, SockType::Stream)).map_err(failed("socket"))?;
    bind(gone.as_raw_fd(), &stale).map_err(failed("bind"))?;
    // The server "crashes": its socket closes, its file stays.
    drop(gone);
    let dial = |to: &UnixAddr| dial_within(to, SOON).map(|_| 0);
    let stream = format!(
        "connect, no file: {}; a stale file: {}",
        outcome(dial(&missing), "connected"),
        outcome(dial(&stale), "connected")
    );
    let poster = party::phone(Kind::new(AddressFamily::Unix, SockType::Datagram))
        .map_err(failed("socket"))?;
    let post = |to: &UnixAddr| sendto(poster.as_raw_fd(), b"hello?", to, MsgFlags::empty());
    let datagram = format!(
        "sendto, no file: {}; a stale file: {}",
        outcome(post(&missing), "sent"),
        outcome(post(&stale), "sent")
    );
    Ok((stream, datagram))
}

/// N1-N3: who is on the other end of a call, as getpeername says it on
/// each side, in each domain.
fn peers(kind: Kind, scratch: &Scratch) -> Demo {
    let (listener, at) = if kind.family == AddressFamily::Unix {
        let phone = party::phone(kind).map_err(failed("socket"))?;
        let at = scratch.path("intercom")?;
        bind(phone.as_raw_fd(), &at).map_err(failed("bind"))?;
        listen(&phone, Backlog::new(1).map_err(failed("backlog"))?).map_err(failed("listen"))?;
        let at = dialtone_kit::kernel::number_of(&phone).map_err(failed("getsockname"))?;
        (phone, at)
    } else {
        switched_on(kind).map_err(failed("a switched-on phone"))?
    };
    let caller = dial_within(&at, SOON).map_err(failed("connect"))?;
    if !party::ready(&listener, SOON).map_err(failed("poll"))? {
        return Err("the call did not ring within 2 s".into());
    }
    let line = accept(&listener).map_err(failed("accept"))?;
    let theirs: SockaddrStorage = getpeername(caller.as_raw_fd()).map_err(failed("getpeername"))?;
    let ours: SockaddrStorage = getpeername(line.as_raw_fd()).map_err(failed("getpeername"))?;
    Ok(format!(
        "caller sees {}; callee sees {}",
        number(&theirs),
        number(&ours)
    ))
}

/// N4: a socketpair's ends have no names at all.
fn peers_socketpair() -> Demo {
    let (a, _b) = unix_pair(SockType::Stream)?;
    let other: SockaddrStorage = getpeername(a.as_raw_fd()).map_err(failed("getpeername"))?;
    Ok(format!("each end sees {}", number(&other)))
}

/// N5-N8: a postcard's return address, from recvfrom, and the sender's
/// own number. A UDP sender gets a number at its first sendto; an unbound
/// Unix sender has none, so nobody can write back. Two short lines each
/// (no line with a port in it wraps, so a 4-digit port can't move a break).
fn senders(family: AddressFamily) -> Result<(String, String), String> {
    let kind = Kind::new(family, SockType::Datagram);
    let (postbox, at) = numbered(kind).map_err(failed("a numbered postcard box"))?;
    be_patient(&postbox, SOON).map_err(failed("SO_RCVTIMEO"))?;
    let sender = party::phone(kind).map_err(failed("socket"))?;
    let own = |fd: &OwnedFd| -> Result<String, String> {
        let a: SockaddrStorage = getsockname(fd.as_raw_fd()).map_err(failed("getsockname"))?;
        Ok(number(&a))
    };
    let before = own(&sender)?;
    sendto(sender.as_raw_fd(), b"hi", &at, MsgFlags::empty()).map_err(failed("sendto"))?;
    let after = own(&sender)?;
    let mut buf = [0u8; 16];
    let (_, from) =
        recvfrom::<SockaddrStorage>(postbox.as_raw_fd(), &mut buf).map_err(failed("recvfrom"))?;
    let from = from.map_or_else(|| "(no name)".to_string(), |a| number(&a));
    Ok((
        format!("recvfrom names the sender: {from}"),
        format!("own number {before} before sendto, {after} after"),
    ))
}

/// How many UDP datagrams this network namespace's kernel has dropped for
/// a full receive buffer: `RcvbufErrors` in `/proc/net/snmp` (IPv4) or
/// `Udp6RcvbufErrors` in `/proc/net/snmp6`, the counters `netstat -su`
/// reads.
fn full_box_drops(family: AddressFamily) -> Result<u64, String> {
    let (file, ipv6) = match family {
        AddressFamily::Inet6 => ("/proc/net/snmp6", true),
        _ => ("/proc/net/snmp", false),
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let number = |s: &str| s.parse::<u64>().ok();
    let found = if ipv6 {
        text.lines()
            .find_map(|l| l.strip_prefix("Udp6RcvbufErrors"))
            .and_then(|n| number(n.trim()))
    } else {
        // Two "Udp:" lines: the field names, then their values.
        let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
        let (names, values) = (udp.next().unwrap_or(""), udp.next().unwrap_or(""));
        names
            .split_whitespace()
            .position(|n| n == "RcvbufErrors")
            .and_then(|i| values.split_whitespace().nth(i))
            .and_then(number)
    };
    found.ok_or_else(|| format!("{file} has no UDP RcvbufErrors counter"))
}

/// G1, G3: UDP drops what a full box can't hold, and tells the sender
/// nothing; only the kernel's counters know.
fn loss_udp(family: AddressFamily) -> Demo {
    let kind = Kind::new(family, SockType::Datagram);
    let (postbox, at) = numbered(kind).map_err(failed("a numbered postcard box"))?;
    // The smallest box the kernel allows (it doubles the ask, with a floor
    // of about two such cards).
    setsockopt(&postbox, sockopt::RcvBuf, &1).map_err(failed("SO_RCVBUF"))?;
    let sender = party::phone(kind).map_err(failed("socket"))?;
    const CARDS: u64 = 64;
    let card = [7u8; 1000];
    let before = full_box_drops(family)?;
    let mut accepted = 0;
    for _ in 0..CARDS {
        if sendto(sender.as_raw_fd(), &card, &at, MsgFlags::empty()).is_ok() {
            accepted += 1;
        }
    }
    // Each card either lands in the box or is counted as dropped; wait
    // (at most 2 s) until every accepted card is one or the other.
    let deadline = std::time::Instant::now() + SOON;
    let (mut arrived, mut dropped) = (0, 0);
    let mut buf = [0u8; 1000];
    while arrived + dropped < accepted && std::time::Instant::now() < deadline {
        let tick = std::time::Duration::from_millis(10);
        if party::ready(&postbox, tick).map_err(failed("poll"))? {
            recv(postbox.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT).map_err(failed("recv"))?;
            arrived += 1;
        }
        dropped = full_box_drops(family)?.saturating_sub(before);
    }
    let verdict = match (arrived < accepted, arrived + dropped >= accepted) {
        (true, true) => "fewer arrived; the kernel counted the rest as RcvbufErrors",
        (true, false) => "fewer arrived",
        (false, _) => "all arrived (no loss this time)",
    };
    Ok(format!(
        "sendto {CARDS} cards: {accepted} accepted; {verdict}"
    ))
}

/// G2: a full Unix datagram box makes the sender wait (here: `EAGAIN`, it
/// asked not to wait) instead of losing a card.
fn no_loss_unix() -> Demo {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::Datagram,
        None,
        SockFlag::SOCK_NONBLOCK,
    )
    .map_err(failed("socketpair"))?;
    let card = [7u8; 1000];
    let mut accepted = 0;
    let refusal = loop {
        match send(a.as_raw_fd(), &card, MsgFlags::empty()) {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
        if accepted > 100_000 {
            return Err("the box never filled".into());
        }
    };
    let mut arrived = 0;
    let mut buf = [0u8; 1000];
    while recv(b.as_raw_fd(), &mut buf, MsgFlags::empty()).is_ok() {
        arrived += 1;
    }
    let all = if arrived == accepted {
        "every accepted card arrived"
    } else {
        "some accepted cards were lost"
    };
    Ok(format!("send until full: {}; {all}", name(refusal)))
}

/// F1, F2: the kernel reads sa_family and the length before anything else.
fn family_and_length() -> Result<(String, String), String> {
    let v4 = party::phone(Kind::IPV4_STREAM).map_err(failed("socket"))?;
    let v6_address = SockaddrIn6::from(std::net::SocketAddrV6::new(
        std::net::Ipv6Addr::LOCALHOST,
        0,
        0,
        0,
    ));
    let wrong_family = bind(v4.as_raw_fd(), &v6_address).map(|()| 0);
    let v6 = party::phone(Kind::new(AddressFamily::Inet6, SockType::Stream))
        .map_err(failed("socket"))?;
    let short = bind(v6.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).map(|()| 0);
    Ok((
        format!(
            "IPv4 socket, bind(sockaddr_in6, 28): {}",
            outcome(wrong_family, "bound")
        ),
        format!(
            "IPv6 socket, bind(sockaddr_in, 16): {}",
            outcome(short, "bound")
        ),
    ))
}

/// Every demonstration, in the order the page's tables cite them.
pub fn report() -> Result<String, String> {
    let scratch = Scratch::new()?;
    let unix = |line| Kind::new(AddressFamily::Unix, line);
    let [m1, m2, m3, m4] = too_big()?;
    let v6 = AddressFamily::Inet6;
    let (r2, r3) = refused_udp()?;
    let (r4, r5) = refused_unix(&scratch)?;
    let (f1, f2) = family_and_length()?;
    let (udp_from, udp_own) = senders(AddressFamily::Inet)?;
    let (unix_from, unix_own) = senders(AddressFamily::Unix)?;
    let sections: Vec<(&str, Vec<Line>)> = vec![
        (
            "Boundaries: three sends, \"one\", \"two\", \"three\"",
            vec![
                ("B1", "TCP", boundaries_tcp()?),
                ("B2", "Unix stream", boundaries_unix(SockType::Stream)?),
                ("B3", "UDP", boundaries_udp()?),
                ("B4", "Unix datagram", boundaries_unix(SockType::Datagram)?),
                (
                    "B5",
                    "Unix seqpacket",
                    boundaries_unix(SockType::SeqPacket)?,
                ),
            ],
        ),
        (
            "A buffer of 4 bytes for an 11-byte message",
            vec![
                ("T1", "TCP", small_buffer_tcp()?),
                ("T2", "UDP", small_buffer_udp()?),
            ],
        ),
        (
            "Too big for one message",
            vec![
                ("M1", "UDP", m1),
                ("M2", "UDP over IPv6", m2),
                ("M3", "Unix datagram", m3),
                ("M4", "TCP", m4),
            ],
        ),
        (
            "Nobody there",
            vec![
                ("R1", "TCP", refused_tcp(AddressFamily::Inet)?),
                ("R2", "UDP", r2),
                ("R3", "UDP connected", r3),
                ("R4", "Unix stream", r4),
                ("R5", "Unix datagram", r5),
                ("R6", "TCP over IPv6", refused_tcp(v6)?),
            ],
        ),
        (
            "Who is on the other end",
            vec![
                ("N1", "TCP", peers(Kind::IPV4_STREAM, &scratch)?),
                (
                    "N2",
                    "TCP over IPv6",
                    peers(Kind::new(AddressFamily::Inet6, SockType::Stream), &scratch)?,
                ),
                (
                    "N3",
                    "Unix stream",
                    peers(unix(SockType::Stream), &scratch)?,
                ),
                ("N4", "socketpair", peers_socketpair()?),
                ("N5", "UDP", udp_from),
                ("N6", "Unix datagram", unix_from),
                ("N7", "UDP", udp_own),
                ("N8", "Unix datagram", unix_own),
            ],
        ),
        (
            "A full postcard box",
            vec![
                ("G1", "UDP", loss_udp(AddressFamily::Inet)?),
                ("G2", "Unix datagram", no_loss_unix()?),
                ("G3", "UDP over IPv6", loss_udp(v6)?),
            ],
        ),
        (
            "The family and the length come first",
            vec![("F1", "TCP", f1), ("F2", "TCP over IPv6", f2)],
        ),
    ];
    let dir = scratch.0.display().to_string();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "($DIR: this run's own folder in the temp folder, removed at the end)\n"
    );
    for (i, (title, rows)) in sections.iter().enumerate() {
        let gap = if i == 0 { "" } else { "\n" };
        let _ = writeln!(s, "{gap}{title}");
        for (id, kind, said) in rows {
            // Paths inside this run's folder are written from $DIR, so a
            // line breaks in the same place on every run.
            let said = said.replace(&dir, "$DIR");
            let label = format!("  {id} {kind:<15}");
            s.push_str(&dialtone_kit::text::wrap(
                &said,
                80,
                &label,
                &" ".repeat(label.len()),
            ));
            s.push('\n');
        }
    }
    Ok(s)
}
