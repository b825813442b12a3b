//! The self-check for chapter 11: the learner's `dial_each()` is given lists
//! of numbers of both families, some dead, one that never answers; the
//! learner's `open_listener()` is asked for IPv6 phones, v6-only on and off,
//! and IPv4 and IPv6 callers ring them.
//!
//! Nothing reads the learner's source. Every number is on this machine's
//! loopback lines (127.0.0.1, `::1`, the IPv4-mapped `::ffff:127.0.0.1`),
//! with ports the kernel chose. A dead number is a phone with that number
//! that is switched off (the kernel refuses calls to it); a number that
//! never answers is a switched-on phone whose queue is full (the kernel
//! ignores the caller's SYN, so `connect()` would wait for minutes). What the
//! kernel says about the line that comes back (its type, flags, the other
//! end, who else holds it) and what the check's phones saw name the mistake.
//! A given-up attempt whose phone was never closed goes on sending its SYN:
//! once the full phone has room, that call arrives, and /proc/net/tcp with
//! the learner's descriptor table says whose it is.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::Trouble;
use dialtone_kit::party::{self, Kind};
use dialtone_kit::patience::{ALREADY_IN_THE_KERNEL, PEER_REPLY, RING_OUT};
use dialtone_kit::{kernel, learner_call, names, task, wire};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{
    accept, getsockopt, listen, sockopt, AddressFamily, Backlog, SockType, SockaddrIn6,
    SockaddrStorage,
};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The shape of `dial_each`.
pub type DialEach = fn(&[SocketAddr], Duration) -> nix::Result<(OwnedFd, SocketAddr)>;
/// The shape of `open_listener`.
pub type OpenListener = fn(SockaddrIn6, bool) -> nix::Result<OwnedFd>;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub dial_each: DialEach,
    pub open_listener: OpenListener,
}

/// How long the check lets each of its own numbers ring: short, so a
/// verdict lands in seconds, and far longer than a loopback call takes.
pub const RING: Duration = Duration::from_millis(300);
/// How much longer than [`RING`] for the one number that never answers
/// (plus the quick refusals and the call that goes through) a right answer
/// may take on a busy machine. An attempt bounded by a limit of its own of
/// 1.3 s or more (two seconds, the kernel's minutes) takes longer.
const SLACK: Duration = Duration::from_secs(1);
/// How long after the attempt on the full phone began the check listens for
/// it to come back: Linux sends the caller's first SYN again after 1 s (the
/// initial retransmission timeout), so an attempt nobody closed shows up
/// well within this once the queue has room.
const LEAK_WAIT: Duration = Duration::from_millis(1700);

/// `::1`, IPv6's 127.0.0.1.
const V6_LOOPBACK: Ipv6Addr = Ipv6Addr::LOCALHOST;
/// 127.0.0.1 written in IPv6, the way a dual-stack phone sees an IPv4 caller.
const V4_MAPPED_LOOPBACK: Ipv6Addr = Ipv4Addr::LOCALHOST.to_ipv6_mapped();

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    passed.saw(has_ipv6_loopback()?);
    passed.saw(check_one_number(answer)?);
    passed.saw(check_dead_first(answer)?);
    passed.saw(check_rings_out(answer)?);
    passed.saw(check_nobody_answers(answer)?);
    passed.saw(check_v6_only_phone(answer)?);
    passed.saw(check_dual_stack(answer)?);
    passed.saw(check_v6_only_refuses_ipv4(answer)?);
    Ok(passed)
}

// ---------------------------------------------------------------- the props

/// Does this machine have `::1`? Without it no IPv6 check can run: say so
/// in one line, and fail (a skipped check proves nothing).
fn has_ipv6_loopback() -> Result<String, Failure> {
    match party::numbered(Kind::new(AddressFamily::Inet6, SockType::Stream)) {
        Ok(_) => Ok("this machine has ::1, the IPv6 loopback line".into()),
        Err(e) => Err(Failure::new("ch11.no-ipv6", "this machine has no ::1 (IPv6 loopback): the IPv6 checks can't run")
            .expected("bind([::1]:0) to work on this machine")
            .got(names::errno(e))
            .phone("the exchange here has no international lines at all; your code isn't to blame.")
            .syscall("enable IPv6 on loopback (sysctl net.ipv6.conf.lo.disable_ipv6=0; in Docker, --sysctl the same), then run the check again.")),
    }
}

/// A switched-on phone on the loopback line of `family`, and its number.
fn answering(family: AddressFamily) -> Result<(OwnedFd, SocketAddr), Failure> {
    let (phone, number) =
        party::switched_on(Kind::new(family, SockType::Stream)).map_err(setup("listen"))?;
    Ok((
        phone,
        std_number(&number).ok_or_else(|| setup("getsockname")(Errno::EAFNOSUPPORT))?,
    ))
}

/// A dead number: a phone that has it and is switched off. Keep the phone:
/// while it lives, nobody else gets the number, and calls to it are refused.
fn dead(family: AddressFamily) -> Result<(OwnedFd, SocketAddr), Failure> {
    let (phone, number) =
        party::numbered(Kind::new(family, SockType::Stream)).map_err(setup("bind"))?;
    Ok((
        phone,
        std_number(&number).ok_or_else(|| setup("getsockname")(Errno::EAFNOSUPPORT))?,
    ))
}

/// A number that never answers: a switched-on phone with room for one
/// waiting call, and that call already waiting. Linux ignores the next
/// caller's SYN (the queue is full), so its `connect()` rings until it gives
/// up. Keep all three: the phone, the call in its queue, the number.
struct FullPhone {
    phone: OwnedFd,
    _waiting: OwnedFd,
    number: SocketAddr,
}

fn never_answers(family: AddressFamily) -> Result<FullPhone, Failure> {
    let (phone, number) =
        party::numbered(Kind::new(family, SockType::Stream)).map_err(setup("bind"))?;
    listen(&phone, Backlog::new(0).map_err(setup("listen"))?).map_err(setup("listen"))?;
    let waiting = party::dial_within(&number, RING_OUT).map_err(setup("connect"))?;
    let number = std_number(&number).ok_or_else(|| setup("getsockname")(Errno::EAFNOSUPPORT))?;
    Ok(FullPhone {
        phone,
        _waiting: waiting,
        number,
    })
}

/// nix's number of any family as std writes it (what `ToSocketAddrs` gives).
pub fn std_number(number: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = number.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    number
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// A list as a verdict shows it: `[127.0.0.1:5000, [::1]:5001]`.
fn list(numbers: &[SocketAddr]) -> String {
    let shown: Vec<String> = numbers.iter().map(ToString::to_string).collect();
    format!("[{}]", shown.join(", "))
}

// ---------------------------------------------------------------- dial_each

/// One number that answers, IPv6 and then IPv4: each needs a phone of its
/// own family, and what comes back must be a real, blocking call to it.
fn check_one_number(answer: &Answer) -> Result<String, Failure> {
    for family in [AddressFamily::Inet6, AddressFamily::Inet] {
        let (phone, number) = answering(family)?;
        let numbers = vec![number];
        let got = dial(answer, &numbers, chapter().timeout())?;
        match got {
            Err(e @ (Errno::EAFNOSUPPORT | Errno::EINVAL)) => return Err(wrong_family(number, e)),
            Err(e) => return Err(dial_error(&numbers, e)),
            Ok((line, said)) => check_line(&line, said, number, &phone)?,
        }
    }
    Ok("dial_each() reached an IPv6 number and an IPv4 one, each on a blocking stream of its family".into())
}

/// A dead number first (IPv4), then one that answers (IPv6): the list a
/// name gives when the program you want listens on only one of them.
fn check_dead_first(answer: &Answer) -> Result<String, Failure> {
    let (_off, gone) = dead(AddressFamily::Inet)?;
    let (phone, number) = answering(AddressFamily::Inet6)?;
    let numbers = vec![gone, number];
    let got = dial(answer, &numbers, chapter().timeout())?;
    match got {
        Err(Errno::ECONNREFUSED) => Err(Failure::new("ch11.first-only", "dial_each() gave up when the first number was refused")
            .expected(format!("the line to {number}, the second number, which answers"))
            .got(format!("Err(ECONNREFUSED) for {}", list(&numbers)))
            .phone("the directory gave two numbers; the first was dead and you never tried the second. \"Works with 127.0.0.1, fails with localhost\" is this bug.")
            .syscall("a name's numbers are a list to go through: on an error from connect(), go on to the next number (no `?` inside the loop); return the error only when every number failed.")),
        Err(e @ (Errno::EAFNOSUPPORT | Errno::EINVAL)) => Err(Failure::new("ch11.reused-socket", "dial_each() dialled the second number on the first number's phone")
            .expected(format!("the line to {number} on a new AF_INET6 phone"))
            .got(format!("Err({}) for {}: an AF_INET phone can't dial an IPv6 number", names::errno(e), list(&numbers)))
            .phone("the first call failed and you dialled the next number on the same handset, a handset of the wrong kind for it.")
            .syscall("after a failed connect() the socket's state is unspecified (connect(2): close it and make a new one). Make a new socket() per number, in that number's family, and let the failed one drop.")),
        Err(e) => Err(dial_error(&numbers, e)),
        Ok((line, said)) => {
            check_line(&line, said, number, &phone)?;
            Ok(format!("dial_each() went past the refused {gone} and reached {number}"))
        }
    }
}

/// A number that never answers first, then a dead one, then one that
/// answers: each attempt must ring for at most the time it was given, and
/// a given-up attempt must be called off (its phone closed).
fn check_rings_out(answer: &Answer) -> Result<String, Failure> {
    let full = never_answers(AddressFamily::Inet)?;
    let (_off, gone) = dead(AddressFamily::Inet6)?;
    let (phone, number) = answering(AddressFamily::Inet)?;
    let numbers = vec![full.number, gone, number];
    let started = Instant::now();
    let call = dial(answer, &numbers, PEER_REPLY);
    let took = started.elapsed();
    let got = call.map_err(|e| match e.trouble {
        Trouble::Hung(_) => no_ring_out(&numbers),
        _ => e.into(),
    })?;
    if took > RING + SLACK {
        return Err(Failure::new("ch11.ring-out-ignored", "dial_each() let a number ring longer than it was given")
            .expected(format!("{} numbers tried within about {} ms: ring_out is {} ms", numbers.len(), (RING + SLACK).as_millis(), RING.as_millis()))
            .got(format!("dial_each() took {} ms for {}", took.as_millis(), list(&numbers)))
            .phone("you were told how long to let each number ring, and waited longer by the clock of your own.")
            .syscall("set SO_SNDTIMEO to ring_out itself (TimeVal from the Duration) on each phone before connect(), not a time of your own."));
    }
    match got {
        Err(e) => Err(Failure::new("ch11.stops-at-error", "dial_each() stopped at a number that didn't answer")
            .expected(format!("the line to {number}, the third number"))
            .got(format!("Err({}) for {}: the first rang out, the second was refused", names::errno(e), list(&numbers)))
            .phone("one number rang with no answer, so you gave up on the whole list; a refusal isn't the only way a number fails.")
            .syscall("every error from one attempt (ETIMEDOUT or EINPROGRESS from a ring-out, ECONNREFUSED, ENETUNREACH, EADDRNOTAVAIL) means: try the next number.")),
        Ok((line, said)) => {
            check_line(&line, said, number, &phone)?;
            check_called_off(&full, started)?;
            Ok(format!(
                "dial_each() let {} ring {} ms, called it off, went past {gone} and reached {number}",
                full.number,
                RING.as_millis()
            ))
        }
    }
}

/// The attempt on the full phone rang out. Once there is room in its queue,
/// does that attempt come back? Only if its phone was never closed: the
/// kernel goes on sending the SYN for a socket still open. A late call
/// counts only if the learner's process holds its phone: a copy a child
/// process inherited (a socket made without SOCK_CLOEXEC, while a test
/// beside this one started a program) rings too, but isn't the learner's.
fn check_called_off(full: &FullPhone, started: Instant) -> Result<(), Failure> {
    // Take the call that was waiting: the queue has room again.
    let _first = accept(&full.phone).map_err(setup("accept"))?;
    loop {
        let left = (started + LEAK_WAIT).saturating_duration_since(Instant::now());
        if !party::ready(&full.phone, left).map_err(setup("poll"))? {
            return Ok(());
        }
        let late = accept(&full.phone).map_err(setup("accept"))?;
        let Ok(from) = kernel::other_end_of(&late) else {
            continue;
        };
        let Some(inode) = from
            .as_sockaddr_in()
            .and_then(|f| tcp_inode(f.port(), full.number.port()))
        else {
            continue;
        };
        if wire::handsets_for(&format!("socket:[{inode}]")) == 0 {
            continue;
        }
        return Err(Failure::new("ch11.leaked-attempt", "dial_each() kept the phone of an attempt that rang out")
            .expected(format!("nothing more at {} once dial_each() had returned", full.number))
            .got(format!("a call from {} got through to it afterwards: that attempt was still ringing", names::number(&from)))
            .phone("you gave up on a number but left the handset off the hook, still dialling it: the kernel put the call through later, to nobody.")
            .syscall("drop (close) the socket of every failed attempt: close() calls a connect() in progress off. Don't keep it (a Vec, into_raw_fd(), mem::forget)."));
    }
}

/// The inode of the IPv4 TCP socket on this machine with local port
/// `local` and remote port `remote` on 127.0.0.1, from /proc/net/tcp
/// (Linux; ports in hex, the inode the tenth column).
fn tcp_inode(local: u16, remote: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    // 127.0.0.1 as the kernel prints it: its four bytes in memory order.
    let ip = format!("{:08X}", u32::from_ne_bytes([127, 0, 0, 1]));
    let (me, them) = (format!("{ip}:{local:04X}"), format!("{ip}:{remote:04X}"));
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(1) == Some(&me.as_str()) && cols.get(2) == Some(&them.as_str()))
            .then(|| cols.get(9).map(|i| i.to_string()))
            .flatten()
            .filter(|i| i != "0")
    })
}

/// Nobody answers: the result is an error, the last attempt's, and a ring-out
/// says ETIMEDOUT.
fn check_nobody_answers(answer: &Answer) -> Result<String, Failure> {
    let (_off, gone) = dead(AddressFamily::Inet)?;
    let full = never_answers(AddressFamily::Inet6)?;
    let numbers = vec![gone, full.number];
    let call = dial(answer, &numbers, PEER_REPLY);
    let got = call.map_err(|e| match e.trouble {
        Trouble::Hung(_) => no_ring_out(&numbers),
        _ => e.into(),
    })?;
    match got {
        Err(Errno::ETIMEDOUT) => Ok(format!(
            "with nobody answering, dial_each() said why the last one didn't: ETIMEDOUT (rang out) for {}",
            full.number
        )),
        Ok((line, said)) => {
            let peer = kernel::other_end_of(&line).map_or_else(names::errno, |n| names::number(&n));
            Err(Failure::new("ch11.dead-line-returned", "dial_each() returned a line although nobody answered")
                .expected(format!("Err(..): nobody answered at {}", list(&numbers)))
                .got(format!("Ok(fd {}, {said}); the other end: {peer}", line.as_raw_fd()))
                .phone("you handed over a handset with nobody on the line.")
                .syscall("return Ok only from a connect() that returned Ok(()); after the last number, return the last error."))
        }
        Err(e) => Err(Failure::new("ch11.wrong-error", "dial_each() gave the wrong reason for nobody answering")
            .expected(format!("Err(ETIMEDOUT): the last number, {}, rang out", full.number))
            .got(format!("Err({}) for {}", names::errno(e), list(&numbers)))
            .phone("every number failed; the caller should hear why the last one did, not another story.")
            .syscall("keep the last attempt's error and return it after the loop; connect() giving up after SO_SNDTIMEO says EINPROGRESS (the call is still ringing): report that as ETIMEDOUT.")),
    }
}

/// What `dial_each` handed back for `expected`: a blocking stream of the
/// number's family, the only descriptor for a call that really reached
/// the check's `phone`, with the right number said to have answered.
fn check_line(
    line: &OwnedFd,
    said: SocketAddr,
    expected: SocketAddr,
    phone: &OwnedFd,
) -> Result<(), Failure> {
    let whose = "the line dial_each() returned";
    let kind =
        kernel::line_kind(line).map_err(|e| task::unreadable(chapter(), "SO_TYPE", whose, e))?;
    if kind != SockType::Stream {
        return Err(Failure::new("ch11.wrong-type", "dial_each() dialled on the wrong kind of line")
            .expected(format!("SO_TYPE = SOCK_STREAM: a call to {expected}"))
            .got(format!("SO_TYPE = {}", names::sock_type(kind)))
            .phone("you sent a postcard and called it a call: connect() on a datagram socket only writes the address down, so even a dead number \"answers\".")
            .syscall("socket(family, SockType::Stream, SockFlag::empty(), None) for each attempt."));
    }
    let flags = fcntl(line, FcntlArg::F_GETFL)
        .map(OFlag::from_bits_truncate)
        .map_err(|e| task::unreadable(chapter(), "F_GETFL", whose, e))?;
    if flags.contains(OFlag::O_NONBLOCK) {
        return Err(Failure::new("ch11.nonblocking", "dial_each() returned a non-blocking line")
            .expected("fcntl(F_GETFL) without O_NONBLOCK: the caller's reads wait for words")
            .got("F_GETFL has O_NONBLOCK")
            .phone("the call went through, but every read on it now says \"nothing yet\" (EAGAIN) instead of waiting.")
            .syscall("bound the ring with SO_SNDTIMEO on a blocking socket; if you used O_NONBLOCK and poll() to wait, clear it (F_SETFL) before returning."));
    }
    if said != expected {
        return Err(Failure::new(
            "ch11.wrong-answerer",
            "dial_each() named the wrong number as the one that answered",
        )
        .expected(format!("{expected}, the number the line is connected to"))
        .got(format!("{said}"))
        .phone("you reached one number and wrote another in the log.")
        .syscall("return the number whose connect() returned Ok(()), with its socket."));
    }
    let peer = kernel::other_end_of(line);
    if peer.as_ref().ok().and_then(std_number) != Some(expected) {
        let got = peer.map_or_else(
            |e| format!("getpeername: {}", names::errno(e)),
            |n| format!("getpeername = {}", names::number(&n)),
        );
        return Err(not_connected(expected, got));
    }
    let handsets = wire::handsets_on(line);
    if handsets > 1 {
        return Err(Failure::new("ch11.extra-handset", "dial_each() kept a second handset on the call")
            .expected("one descriptor for the call: the one dial_each() returned")
            .got(format!("{handsets} descriptors name {}", kernel::fd_target(line.as_raw_fd()).unwrap_or_default()))
            .phone("you kept an extension on the line: when the caller hangs up, the call stays up and the other side never hears the click.")
            .syscall("return the OwnedFd socket() gave you; keep no try_clone() (dup) of it."));
    }
    // The call is really in the check's phone's queue, from this line.
    if !party::ready(phone, ALREADY_IN_THE_KERNEL).map_err(setup("poll"))? {
        return Err(not_connected(expected, "no call waiting at it".into()));
    }
    let theirs = accept(phone).map_err(setup("accept"))?;
    let from = kernel::other_end_of(&theirs).map_err(setup("getpeername"))?;
    if kernel::number_of(line).ok() != Some(from) {
        return Err(not_connected(
            expected,
            format!(
                "the call waiting there is from {}, not from your line",
                names::number(&from)
            ),
        ));
    }
    Ok(())
}

/// The learner's `dial_each(numbers, RING)`, given `within` to return.
fn dial(
    answer: &Answer,
    numbers: &[SocketAddr],
    within: Duration,
) -> Result<nix::Result<(OwnedFd, SocketAddr)>, dialtone_kit::learner::LearnerError> {
    let numbers = numbers.to_vec();
    learner_call!(
        chapter(),
        answer.dial_each,
        move |dial_each| dial_each(&numbers, RING),
        within = within
    )
}

fn not_connected(expected: SocketAddr, got: String) -> Failure {
    Failure::new(
        "ch11.not-connected",
        "the line dial_each() returned isn't the call that went through",
    )
    .expected(format!("a line connected to {expected}"))
    .got(got)
    .phone("you handed over a handset that isn't on the call you made.")
    .syscall("return the very socket whose connect() returned Ok(()), not a new or another one.")
}

fn wrong_family(number: SocketAddr, e: Errno) -> Failure {
    let (want, other) = match number {
        SocketAddr::V4(_) => ("AF_INET", "AF_INET6"),
        SocketAddr::V6(_) => ("AF_INET6", "AF_INET"),
    };
    Failure::new("ch11.wrong-family", format!("dial_each() dialled {number} on a phone of the wrong family"))
        .expected(format!("a line to {number} on an {want} phone"))
        .got(format!("Err({}): an {other} phone can't take that number", names::errno(e)))
        .phone(format!("{}: IPv6 is a second family of numbers, and each needs a phone of its own family.", names::errno_phone(e)))
        .syscall(format!("pick the family from the number: SocketAddr::V4 is AddressFamily::Inet, V6 is Inet6; socket({want}, ..) for {number}."))
}

fn dial_error(numbers: &[SocketAddr], e: Errno) -> Failure {
    Failure::new("ch11.dial-error", "dial_each() couldn't reach a number that answers")
        .expected(format!("a line to the number that answers in {}", list(numbers)))
        .got(format!("Err({})", names::errno(e)))
        .phone(format!("{}.", names::errno_phone(e)))
        .syscall("for each number: socket() of its family, setsockopt(SO_SNDTIMEO, ring_out), connect(fd, &SockaddrStorage::from(number)); return the first that works.")
}

fn no_ring_out(numbers: &[SocketAddr]) -> Failure {
    Failure::new("ch11.no-ring-out", "dial_each() waited on a number that never answers")
        .expected(format!("each number given up after ring_out ({} ms), then the next tried", RING.as_millis()))
        .got(format!("dial_each() hadn't returned after {} s for {}", PEER_REPLY.as_secs(), list(numbers)))
        .phone("the first number rang and rang, and you stood there listening for minutes while the next numbers went untried.")
        .syscall("a blocking connect() to a phone whose queue is full waits for minutes; set SO_SNDTIMEO to ring_out before connect() (it then fails with EINPROGRESS), or connect non-blocking and poll() for ring_out.")
}

// ------------------------------------------------------------ open_listener

/// The phone `open_listener` makes for `[::1]:0`, v6-only: an IPv6 stream,
/// switched on at `::1`; an IPv6 caller gets through. (Whether IPV6_V6ONLY
/// was set can't be seen here: Linux turns it on by itself when a phone is
/// bound to one IPv6 number; it matters for `::` and IPv4-mapped numbers.)
fn check_v6_only_phone(answer: &Answer) -> Result<String, Failure> {
    let asked = SockaddrIn6::from(SocketAddrV6::new(V6_LOOPBACK, 0, 0, 0));
    let phone = open(answer, asked, true)?;
    check_phone(&phone, V6_LOOPBACK)?;
    let number = kernel::number_of(&phone).map_err(setup("getsockname"))?;
    let caller = party::dial_within(&number, RING_OUT).map_err(|e| phone_trouble(&number, e))?;
    let line = accept(&phone).map_err(setup("accept"))?;
    let from = kernel::other_end_of(&line).map_err(setup("getpeername"))?;
    debug_assert_eq!(kernel::number_of(&caller).ok(), Some(from));
    Ok(format!(
        "open_listener([::1]:0, true) switched on an AF_INET6 phone at {}; an IPv6 caller got through from {}",
        names::number(&number),
        names::number(&from)
    ))
}

/// With v6-only off, an IPv6 phone takes an IPv4 number written the IPv6
/// way (`::ffff:127.0.0.1`), and an IPv4 caller shows up under it.
fn check_dual_stack(answer: &Answer) -> Result<String, Failure> {
    let asked = SockaddrIn6::from(SocketAddrV6::new(V4_MAPPED_LOOPBACK, 0, 0, 0));
    let phone = match learner_call!(chapter(), answer.open_listener(asked, false))? {
        Err(Errno::EINVAL) => return Err(blocks_ipv4()),
        other => opened(other, asked)?,
    };
    check_phone(&phone, V4_MAPPED_LOOPBACK)?;
    let number = kernel::number_of(&phone).map_err(setup("getsockname"))?;
    let port = number.as_sockaddr_in6().map_or(0, |n| n.port());
    let as_ipv4 = SockaddrStorage::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    let _caller = party::dial_within(&as_ipv4, RING_OUT).map_err(|e| phone_trouble(&as_ipv4, e))?;
    let line = accept(&phone).map_err(setup("accept"))?;
    let from = kernel::other_end_of(&line).map_err(setup("getpeername"))?;
    Ok(format!(
        "open_listener([::ffff:127.0.0.1]:0, false) took an IPv4 call to 127.0.0.1:{port}; caller ID says {}",
        names::number(&from)
    ))
}

/// Calls `open_listener(asked, v6only)` and names any refusal.
fn open(answer: &Answer, asked: SockaddrIn6, v6only: bool) -> Result<OwnedFd, Failure> {
    let got = learner_call!(chapter(), answer.open_listener(asked, v6only))?;
    opened(got, asked)
}

fn opened(got: nix::Result<OwnedFd>, asked: SockaddrIn6) -> Result<OwnedFd, Failure> {
    let at = SocketAddrV6::from(asked);
    got.map_err(|e| match e {
        Errno::ENOPROTOOPT | Errno::EAFNOSUPPORT => Failure::new("ch11.listener-not-ipv6", "open_listener() made a phone of the wrong family")
            .expected(format!("an AF_INET6 phone switched on at {at}"))
            .got(format!("Err({}): an AF_INET phone has no IPV6_V6ONLY (ENOPROTOOPT) and can't take an IPv6 number (EAFNOSUPPORT)", names::errno(e)))
            .phone("you installed an IPv4 phone and tried to give it an international number.")
            .syscall("socket(AddressFamily::Inet6, SockType::Stream, SockFlag::empty(), None)."),
        Errno::EINVAL => Failure::new("ch11.v6only-after-bind", "open_listener() was refused EINVAL")
            .expected(format!("Ok(phone) switched on at {at}"))
            .got("Err(EINVAL (Invalid argument))")
            .phone("you tried to change what the phone accepts after it already had its number.")
            .syscall("set IPV6_V6ONLY before bind(): Linux refuses to change it once the socket has a number (EINVAL)."),
        e => Failure::new("ch11.listener-error", "open_listener() returned an error")
            .expected(format!("Ok(phone) switched on at {at}"))
            .got(format!("Err({})", names::errno(e)))
            .phone(format!("{}.", names::errno_phone(e)))
            .syscall("socket(Inet6, Stream), setsockopt(Ipv6V6Only, &v6only), bind(fd, &number), listen(); return the phone."),
    })
}

/// What the kernel says about the phone `open_listener` made: an IPv6
/// stream at `ip` (asked first: a phone on every interface is news even
/// before it is switched on), switched on.
fn check_phone(phone: &OwnedFd, ip: Ipv6Addr) -> Result<(), Failure> {
    let whose = "the phone open_listener() returned";
    let kind =
        kernel::line_kind(phone).map_err(|e| task::unreadable(chapter(), "SO_TYPE", whose, e))?;
    if kind != SockType::Stream {
        return Err(Failure::new(
            "ch11.wrong-type",
            "open_listener() installed the wrong kind of line",
        )
        .expected("SO_TYPE = SOCK_STREAM: a phone that takes calls")
        .got(format!("SO_TYPE = {}", names::sock_type(kind)))
        .phone("a postbox takes no calls.")
        .syscall("SockType::Stream in socket()."));
    }
    let number = kernel::number_of(phone)
        .map_err(|e| task::unreadable(chapter(), "getsockname", whose, e))?;
    let got_ip = number.as_sockaddr_in6().map(|n| n.ip());
    if got_ip == Some(Ipv6Addr::UNSPECIFIED) {
        return Err(Failure::new("ch11.all-interfaces", "open_listener() put the phone on every interface")
            .expected(format!("getsockname = [{ip}]:PORT: this machine only"))
            .got(format!("getsockname = {} (::, every interface)", names::number(&number)))
            .phone("you put your phone on every line into the building, the street's included: anyone who can reach this machine can call.")
            .syscall("bind(fd, &number) with the number you were given ([::1] stays on this machine); never :: unless you mean it."));
    }
    if got_ip != Some(ip) {
        return Err(Failure::new(
            "ch11.wrong-number",
            "open_listener() put the phone at another number",
        )
        .expected(format!("getsockname = [{ip}]:PORT"))
        .got(format!("getsockname = {}", names::number(&number)))
        .phone("callers dial the number you were given; your phone is somewhere else.")
        .syscall("bind(fd, &number) with the SockaddrIn6 you were passed."));
    }
    if !kernel::switched_on(phone)
        .map_err(|e| task::unreadable(chapter(), "SO_ACCEPTCONN", whose, e))?
    {
        return Err(Failure::new(
            "ch11.not-listening",
            "open_listener() left the phone switched off",
        )
        .expected("SO_ACCEPTCONN = 1: listening")
        .got("SO_ACCEPTCONN = 0")
        .phone("the phone has its number but nobody switched it on: callers are refused.")
        .syscall("call listen(&phone, Backlog::MAXCONN) after bind()."));
    }
    Ok(())
}

/// v6-only asked for at an IPv4-mapped number: the kernel must refuse the
/// number (EINVAL), since a v6-only phone takes no IPv4 calls. A phone that
/// gets it was left at this machine's default, v6-only off.
fn check_v6_only_refuses_ipv4(answer: &Answer) -> Result<String, Failure> {
    let asked = SockaddrIn6::from(SocketAddrV6::new(V4_MAPPED_LOOPBACK, 0, 0, 0));
    let got = learner_call!(chapter(), answer.open_listener(asked, true))?;
    let phone = match got {
        Err(Errno::EINVAL) => {
            return Ok("open_listener([::ffff:127.0.0.1]:0, true) was refused (EINVAL): a v6-only phone takes no IPv4 number".into())
        }
        other => opened(other, asked)?,
    };
    let is = getsockopt(&phone, sockopt::Ipv6V6Only).map_err(|e| {
        task::unreadable(
            chapter(),
            "IPV6_V6ONLY",
            "the phone open_listener() returned",
            e,
        )
    })?;
    let default = bindv6only().map_or("unknown".into(), |d| u8::from(d).to_string());
    let number = kernel::number_of(&phone).map_or_else(names::errno, |n| names::number(&n));
    Err(Failure::new("ch11.v6only-default", "open_listener() didn't set IPV6_V6ONLY as asked")
        .expected("Err(EINVAL) from bind(): v6only = true, and a v6-only phone can't have the IPv4 number ::ffff:127.0.0.1")
        .got(format!("a phone at {number} with IPV6_V6ONLY = {}; this machine's default (net.ipv6.bindv6only) is {default}", u8::from(is)))
        .phone("whether callers from home may ring was left to the building's habit, not decided as asked: on another machine the same program behaves the other way.")
        .syscall("setsockopt(&phone, sockopt::Ipv6V6Only, &v6only) before bind(), every time, true or false: its default is the sysctl net.ipv6.bindv6only, which differs between machines."))
}

/// `net.ipv6.bindv6only`: IPV6_V6ONLY's default on this machine (Linux).
pub fn bindv6only() -> Option<bool> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").ok()?;
    match text.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn blocks_ipv4() -> Failure {
    let default = match bindv6only() {
        Some(true) => " (net.ipv6.bindv6only is 1 here, so that is what you get unless you set it)",
        _ => "",
    };
    Failure::new("ch11.v6only-blocks-ipv4", "open_listener() made a v6-only phone where IPv4 callers were wanted")
        .expected("an AF_INET6 phone at [::ffff:127.0.0.1]:PORT taking IPv4 calls (v6only = false)")
        .got(format!("Err(EINVAL): with IPV6_V6ONLY on, an IPv6 phone can't have an IPv4 number{default}"))
        .phone("with IPV6_V6ONLY on, the phone takes international calls only: at :: every IPv4 caller is refused, and an IPv4 number like ::ffff:127.0.0.1 is refused outright.")
        .syscall("setsockopt(&phone, sockopt::Ipv6V6Only, &v6only) with the v6only you were given (false here), before bind().")
}

/// A caller couldn't reach the phone `open_listener` made.
fn phone_trouble(number: &SockaddrStorage, e: Errno) -> Failure {
    let at = names::number(number);
    Failure::new(
        "ch11.not-listening",
        "a caller couldn't get through to the phone open_listener() made",
    )
    .expected(format!("connect({at}) to succeed"))
    .got(names::errno(e))
    .phone(format!("{}.", names::errno_phone(e)))
    .syscall("bind(fd, &number), then listen(): return the phone that is switched on.")
}

/// The check's own setup failed: not the learner's fault, but say so plainly.
fn setup(call: &'static str) -> impl Fn(Errno) -> Failure {
    move |e| {
        Failure::new(
            "ch11.setup",
            format!("the self-check couldn't set up its own phones ({call})"),
        )
        .expected(format!("{call} to succeed"))
        .got(names::errno(e))
        .phone("the exchange is out of order on this machine, not in your code.")
        .syscall("check ulimit -n and that loopback (127.0.0.1 and ::1) works, then run the check again.")
    }
}
