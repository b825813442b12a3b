//! Chapter 11 (International calls): solution, starter, wrong answers,
//! transcript, `--listen`, callers nobody here wrote (`nc -6`, `socat TCP6`,
//! Python), and `::` (every interface) shown inside a network namespace of
//! the test's own.
//!
//! Each wrong answer is a mistake programs really make with two families
//! of numbers; each must fail with the message meant for it. Every number
//! is on loopback (127.0.0.1, ::1, ::ffff:127.0.0.1).

use ch11_international_calls::{chapter, check, scene};
use dialtone_kit::child::run_limited;
use dialtone_kit::kernel;
use dialtone_kit::scene::SceneError;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    bind, connect, getsockopt, listen, setsockopt, shutdown, socket, sockopt, AddressFamily,
    Backlog, Shutdown, SockFlag, SockType, SockaddrIn6, SockaddrStorage,
};
use nix::sys::time::{TimeVal, TimeValLike};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/11-international-calls/answer.rs"]
mod solution;
#[path = "../../chapters/11-international-calls/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    dial_each: solution::dial_each,
    open_listener: solution::open_listener,
};

fn with_dial(dial_each: check::DialEach) -> check::Answer {
    check::Answer {
        dial_each,
        ..SOLUTION
    }
}

fn with_listener(open_listener: check::OpenListener) -> check::Answer {
    check::Answer {
        open_listener,
        ..SOLUTION
    }
}

// ------------------------------------------- pieces of the wrong answers

fn family_of(number: SocketAddr) -> AddressFamily {
    match number {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn limit(phone: &OwnedFd, ring_out: Duration) -> nix::Result<()> {
    let micros = i64::try_from(ring_out.as_micros())
        .unwrap_or(i64::MAX)
        .max(1);
    setsockopt(phone, sockopt::SendTimeout, &TimeVal::microseconds(micros))
}

/// One bounded attempt, in a phone of `family`, of `line` type.
fn attempt_with(
    family: AddressFamily,
    line: SockType,
    number: SocketAddr,
    ring_out: Duration,
) -> nix::Result<OwnedFd> {
    let phone = socket(family, line, SockFlag::empty(), None)?;
    limit(&phone, ring_out)?;
    match connect(phone.as_raw_fd(), &SockaddrStorage::from(number)) {
        Ok(()) => Ok(phone),
        Err(Errno::EINPROGRESS) => Err(Errno::ETIMEDOUT),
        Err(e) => Err(e),
    }
}

fn attempt(number: SocketAddr, ring_out: Duration) -> nix::Result<OwnedFd> {
    attempt_with(family_of(number), SockType::Stream, number, ring_out)
}

/// dial_each's loop around any attempt.
fn each(
    numbers: &[SocketAddr],
    mut try_one: impl FnMut(SocketAddr) -> nix::Result<OwnedFd>,
) -> nix::Result<(OwnedFd, SocketAddr)> {
    let mut last = Errno::EADDRNOTAVAIL;
    for &number in numbers {
        match try_one(number) {
            Ok(line) => return Ok((line, number)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn six(ip: Ipv6Addr) -> SockaddrIn6 {
    SockaddrIn6::from(SocketAddrV6::new(ip, 0, 0, 0))
}

// ------------------------------------------------------- solution, starter

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert_eq!(passed.0.len(), 8, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its first todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    let starter = check::Answer {
        dial_each: starter::dial_each,
        open_listener: starter::open_listener,
    };
    expect_unfinished(check::run(&starter), chapter());
}

// -------------------------------------------------------------- dial_each

/// Mistake: only the first number is tried (`numbers[0]`, or `?` in the loop).
#[test]
fn trying_only_the_first_number_is_caught() {
    fn first_only(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        let number = *numbers.first().ok_or(Errno::EADDRNOTAVAIL)?;
        Ok((attempt(number, ring_out)?, number))
    }
    let f = expect_mistake(check::run(&with_dial(first_only)), "ch11.first-only");
    assert!(f.got.contains("ECONNREFUSED"), "{f}");
}

/// Mistake: only a refusal means "try the next"; any other error ends it.
#[test]
fn stopping_at_the_first_other_error_is_caught() {
    fn refusals_only(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        for &number in numbers {
            match attempt(number, ring_out) {
                Ok(line) => return Ok((line, number)),
                Err(Errno::ECONNREFUSED) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Errno::ECONNREFUSED)
    }
    let f = expect_mistake(check::run(&with_dial(refusals_only)), "ch11.stops-at-error");
    assert!(f.got.contains("ETIMEDOUT"), "{f}");
}

/// Mistake: one phone for every attempt, made for the first number's family.
#[test]
fn reusing_a_failed_socket_is_caught() {
    fn one_phone(numbers: &[SocketAddr], ring_out: Duration) -> nix::Result<(OwnedFd, SocketAddr)> {
        let first = *numbers.first().ok_or(Errno::EADDRNOTAVAIL)?;
        let phone = socket(family_of(first), SockType::Stream, SockFlag::empty(), None)?;
        limit(&phone, ring_out)?;
        let mut last = Errno::EADDRNOTAVAIL;
        for &number in numbers {
            match connect(phone.as_raw_fd(), &SockaddrStorage::from(number)) {
                Ok(()) => return Ok((phone, number)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
    let f = expect_mistake(check::run(&with_dial(one_phone)), "ch11.reused-socket");
    assert!(
        f.got.contains("EINVAL") || f.got.contains("EAFNOSUPPORT"),
        "{f}"
    );
}

/// Mistake: an AF_INET phone for every number, IPv6 ones included.
#[test]
fn an_ipv4_phone_for_an_ipv6_number_is_caught() {
    fn always_inet(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            attempt_with(AddressFamily::Inet, SockType::Stream, n, ring_out)
        })
    }
    let f = expect_mistake(check::run(&with_dial(always_inet)), "ch11.wrong-family");
    assert!(f.got.contains("EAFNOSUPPORT"), "{f}");
}

/// Mistake: an AF_INET6 phone for every number, IPv4 ones included.
#[test]
fn an_ipv6_phone_for_an_ipv4_number_is_caught() {
    fn always_inet6(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            attempt_with(AddressFamily::Inet6, SockType::Stream, n, ring_out)
        })
    }
    let f = expect_mistake(check::run(&with_dial(always_inet6)), "ch11.wrong-family");
    assert!(f.got.contains("AF_INET6 phone can't take"), "{f}");
}

/// Mistake: a type the family has no streams of (SOCK_SEQPACKET on IP).
#[test]
fn a_phone_the_kernel_refuses_is_caught() {
    fn seqpacket(numbers: &[SocketAddr], ring_out: Duration) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            attempt_with(family_of(n), SockType::SeqPacket, n, ring_out)
        })
    }
    let f = expect_mistake(check::run(&with_dial(seqpacket)), "ch11.dial-error");
    assert!(f.got.starts_with("Err("), "{f}");
}

/// Mistake: postcards. connect() on a datagram socket rings nobody, so even
/// a dead number "answers".
#[test]
fn a_datagram_socket_is_caught() {
    fn postcards(numbers: &[SocketAddr], ring_out: Duration) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            attempt_with(family_of(n), SockType::Datagram, n, ring_out)
        })
    }
    let f = expect_mistake(check::run(&with_dial(postcards)), "ch11.wrong-type");
    assert!(f.got.contains("SOCK_DGRAM"), "{f}");
}

/// The unbounded wrong answer's phones, and whether it should stop: once
/// its verdict is in, the test calls its attempt off (shutdown on a phone
/// still ringing aborts the connect()), so no stray call from it reaches a
/// number another test has been given since.
static UNBOUNDED: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());
static CALL_IT_OFF: AtomicBool = AtomicBool::new(false);

/// Mistake: no limit on the ring: connect() to a full queue waits minutes.
#[test]
fn no_ring_out_is_caught_in_seconds() {
    fn unbounded(
        numbers: &[SocketAddr],
        _ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            if CALL_IT_OFF.load(Ordering::SeqCst) {
                return Err(Errno::ECANCELED);
            }
            let phone = socket(family_of(n), SockType::Stream, SockFlag::empty(), None)?;
            // A copy to call it off with, kept only while it rings.
            keep(&UNBOUNDED, phone.try_clone().map_err(|_| Errno::EMFILE)?);
            let rang = connect(phone.as_raw_fd(), &SockaddrStorage::from(n));
            UNBOUNDED.lock().unwrap_or_else(|p| p.into_inner()).pop();
            rang?;
            Ok(phone)
        })
    }
    let started = std::time::Instant::now();
    let verdict = check::run(&with_dial(unbounded));
    CALL_IT_OFF.store(true, Ordering::SeqCst);
    for phone in UNBOUNDED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
    {
        let _ = shutdown(phone.as_raw_fd(), Shutdown::Both);
    }
    expect_mistake(verdict, "ch11.no-ring-out");
    assert!(started.elapsed() < chapter().timeout() + Duration::from_secs(1));
}

/// Mistake: a limit of one's own (2 s) instead of the ring_out given.
#[test]
fn a_ring_out_of_ones_own_is_caught() {
    fn two_seconds(
        numbers: &[SocketAddr],
        _ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| attempt(n, Duration::from_secs(2)))
    }
    let f = expect_mistake(check::run(&with_dial(two_seconds)), "ch11.ring-out-ignored");
    assert!(f.got.contains(" ms for "), "{f}");
}

/// Where the wrong answers put what they keep, one for each test (they run
/// at the same time): emptied when the verdict is in.
static KEPT_ATTEMPTS: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());
static KEPT_COPIES: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

fn keep(kept: &Mutex<Vec<OwnedFd>>, fd: OwnedFd) {
    kept.lock().unwrap_or_else(|p| p.into_inner()).push(fd);
}

fn let_go(kept: &Mutex<Vec<OwnedFd>>) {
    kept.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// Mistake: the phone of an attempt that rang out is kept, still dialling.
#[test]
fn keeping_a_rung_out_attempt_is_caught() {
    fn keeps_attempts(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        let mut last = Errno::EADDRNOTAVAIL;
        for &number in numbers {
            let phone = socket(family_of(number), SockType::Stream, SockFlag::empty(), None)?;
            limit(&phone, ring_out)?;
            match connect(phone.as_raw_fd(), &SockaddrStorage::from(number)) {
                Ok(()) => return Ok((phone, number)),
                Err(e) => {
                    last = e;
                    keep(&KEPT_ATTEMPTS, phone); // "close them all at the end" (never comes)
                }
            }
        }
        Err(last)
    }
    let f = expect_mistake(
        check::run(&with_dial(keeps_attempts)),
        "ch11.leaked-attempt",
    );
    let_go(&KEPT_ATTEMPTS);
    assert!(f.got.contains("still ringing"), "{f}");
}

/// Mistake: a second handset (a dup) kept back on the call.
#[test]
fn a_dup_kept_back_is_caught() {
    fn keeps_a_copy(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        let (line, number) = each(numbers, |n| attempt(n, ring_out))?;
        keep(&KEPT_COPIES, line.try_clone().map_err(|_| Errno::EMFILE)?);
        Ok((line, number))
    }
    let f = expect_mistake(check::run(&with_dial(keeps_a_copy)), "ch11.extra-handset");
    let_go(&KEPT_COPIES);
    assert!(f.got.starts_with("2 descriptors"), "{f}");
}

/// Mistake: a non-blocking connect waited on with poll(), O_NONBLOCK left on.
#[test]
fn a_line_left_non_blocking_is_caught() {
    fn nonblocking(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            let phone = socket(
                family_of(n),
                SockType::Stream,
                SockFlag::SOCK_NONBLOCK,
                None,
            )?;
            match connect(phone.as_raw_fd(), &SockaddrStorage::from(n)) {
                Ok(()) => return Ok(phone),
                Err(Errno::EINPROGRESS) => {}
                Err(e) => return Err(e),
            }
            let millis = u16::try_from(ring_out.as_millis()).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(phone.as_fd(), PollFlags::POLLOUT)];
            if poll(&mut fds, PollTimeout::from(millis))? == 0 {
                return Err(Errno::ETIMEDOUT);
            }
            match getsockopt(&phone, sockopt::SocketError)? {
                0 => Ok(phone),
                e => Err(Errno::from_raw(e)),
            }
        })
    }
    let f = expect_mistake(check::run(&with_dial(nonblocking)), "ch11.nonblocking");
    assert!(f.got.contains("O_NONBLOCK"), "{f}");
}

/// Mistake: the first number of the list named as the one that answered.
#[test]
fn naming_the_wrong_number_is_caught() {
    fn says_first(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        let (line, _) = each(numbers, |n| attempt(n, ring_out))?;
        Ok((line, numbers[0]))
    }
    let f = expect_mistake(check::run(&with_dial(says_first)), "ch11.wrong-answerer");
    assert!(f.got.starts_with("127.0.0.1:"), "{f}");
}

/// Mistake: each number "probed" with one call, then dialled again; the
/// probe is hung up, and the check's phone sees it first.
#[test]
fn a_line_that_is_not_the_call_is_caught() {
    fn probes_first(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            drop(attempt(n, ring_out)?); // "is anyone there?"
            attempt(n, ring_out)
        })
    }
    let f = expect_mistake(check::run(&with_dial(probes_first)), "ch11.not-connected");
    assert!(f.got.contains("not from your line"), "{f}");
}

/// Mistake: when nobody answers, the last attempt's phone handed back as Ok.
#[test]
fn a_dead_line_handed_back_is_caught() {
    fn last_phone(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        let mut last = None;
        for &number in numbers {
            let phone = socket(family_of(number), SockType::Stream, SockFlag::empty(), None)?;
            limit(&phone, ring_out)?;
            match connect(phone.as_raw_fd(), &SockaddrStorage::from(number)) {
                Ok(()) => return Ok((phone, number)),
                Err(_) => last = Some((phone, number)),
            }
        }
        last.ok_or(Errno::EADDRNOTAVAIL)
    }
    let f = expect_mistake(
        check::run(&with_dial(last_phone)),
        "ch11.dead-line-returned",
    );
    assert!(f.got.starts_with("Ok(fd"), "{f}");
}

/// Mistake: a ring-out passed on as connect() said it: EINPROGRESS.
#[test]
fn a_ring_out_reported_as_in_progress_is_caught() {
    fn as_it_came(
        numbers: &[SocketAddr],
        ring_out: Duration,
    ) -> nix::Result<(OwnedFd, SocketAddr)> {
        each(numbers, |n| {
            let phone = socket(family_of(n), SockType::Stream, SockFlag::empty(), None)?;
            limit(&phone, ring_out)?;
            connect(phone.as_raw_fd(), &SockaddrStorage::from(n))?;
            Ok(phone)
        })
    }
    let f = expect_mistake(check::run(&with_dial(as_it_came)), "ch11.wrong-error");
    assert!(f.got.contains("EINPROGRESS"), "{f}");
}

// ----------------------------------------------------------- open_listener

fn listener_with(
    family: AddressFamily,
    line: SockType,
    number: SockaddrIn6,
    v6only: Option<bool>,
    listening: bool,
) -> nix::Result<OwnedFd> {
    let phone = socket(family, line, SockFlag::empty(), None)?;
    if let Some(on) = v6only {
        setsockopt(&phone, sockopt::Ipv6V6Only, &on)?;
    }
    bind(phone.as_raw_fd(), &number)?;
    if listening {
        listen(&phone, Backlog::new(8)?)?;
    }
    Ok(phone)
}

/// Mistake: an AF_INET phone given IPV6_V6ONLY (ENOPROTOOPT).
#[test]
fn an_ipv4_listener_is_caught() {
    fn inet(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet,
            SockType::Stream,
            number,
            Some(v6only),
            true,
        )
    }
    let f = expect_mistake(check::run(&with_listener(inet)), "ch11.listener-not-ipv6");
    assert!(f.got.contains("ENOPROTOOPT"), "{f}");
}

/// Mistake: IPV6_V6ONLY set after bind(): Linux says EINVAL.
#[test]
fn v6only_after_bind_is_caught() {
    fn too_late(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
        let phone = listener_with(AddressFamily::Inet6, SockType::Stream, number, None, false)?;
        setsockopt(&phone, sockopt::Ipv6V6Only, &v6only)?;
        listen(&phone, Backlog::new(8)?)?;
        Ok(phone)
    }
    expect_mistake(
        check::run(&with_listener(too_late)),
        "ch11.v6only-after-bind",
    );
}

/// Mistake: bind() without listen(): a number, but switched off.
#[test]
fn a_listener_never_switched_on_is_caught() {
    fn no_listen(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet6,
            SockType::Stream,
            number,
            Some(v6only),
            false,
        )
    }
    let f = expect_mistake(check::run(&with_listener(no_listen)), "ch11.not-listening");
    assert!(f.got.contains("SO_ACCEPTCONN = 0"), "{f}");
}

/// Mistake: a postbox for a listener: listen() says EOPNOTSUPP.
#[test]
fn a_datagram_listener_is_caught() {
    fn postbox(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet6,
            SockType::Datagram,
            number,
            Some(v6only),
            true,
        )
    }
    let f = expect_mistake(check::run(&with_listener(postbox)), "ch11.listener-error");
    assert!(f.got.contains("EOPNOTSUPP"), "{f}");
}

/// Mistake: every interface (`::`) instead of the number given. (The wrong
/// answer never listens: this suite puts no phone on every interface; the
/// check reads the number before it asks whether the phone is on.)
#[test]
fn binding_every_interface_is_caught() {
    fn everywhere(_number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet6,
            SockType::Stream,
            six(Ipv6Addr::UNSPECIFIED),
            Some(v6only),
            false,
        )
    }
    let f = expect_mistake(
        check::run(&with_listener(everywhere)),
        "ch11.all-interfaces",
    );
    assert!(f.got.contains("every interface"), "{f}");
}

/// Mistake: always ::1, whatever number was asked for.
#[test]
fn a_hard_coded_number_is_caught() {
    fn always_loopback(_number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet6,
            SockType::Stream,
            six(Ipv6Addr::LOCALHOST),
            Some(v6only),
            true,
        )
    }
    let f = expect_mistake(
        check::run(&with_listener(always_loopback)),
        "ch11.wrong-number",
    );
    assert!(f.expected.contains("::ffff:127.0.0.1"), "{f}");
}

/// Mistake: v6-only always on ("IPv6 is IPv6"): no IPv4 caller can come.
#[test]
fn v6only_always_on_is_caught() {
    fn always_on(number: SockaddrIn6, _v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet6,
            SockType::Stream,
            number,
            Some(true),
            true,
        )
    }
    let f = expect_mistake(
        check::run(&with_listener(always_on)),
        "ch11.v6only-blocks-ipv4",
    );
    assert!(f.got.contains("EINVAL"), "{f}");
}

/// Mistake: IPV6_V6ONLY never set: whatever net.ipv6.bindv6only says.
/// (On a machine where it says 1, this answer fails the dual-stack step
/// instead, with the same advice; this machine's is read to know which.)
#[test]
fn v6only_left_to_the_default_is_caught() {
    fn default(number: SockaddrIn6, _v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(AddressFamily::Inet6, SockType::Stream, number, None, true)
    }
    let id = match check::bindv6only() {
        Some(true) => "ch11.v6only-blocks-ipv4",
        _ => "ch11.v6only-default",
    };
    let f = expect_mistake(check::run(&with_listener(default)), id);
    assert!(f.syscall.contains("net.ipv6.bindv6only"), "{f}");
}

// ---------------------------------------------------------------- the scene

/// What differs from run to run in an IPv6 number: its port. The suite's
/// redactions cover `a.b.c.d:PORT`; `[::1]:PORT` is this chapter's.
fn redact_ipv6_ports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("]:") {
        let (head, tail) = rest.split_at(at + 2);
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && !tail.starts_with('0') {
            out.push_str("[PORT]");
        } else {
            out.push_str(&tail[..digits]);
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "IPV6_V6ONLY) = 1",
        "= ECONNREFUSED",
        "= Ok(fd",
        "getpeername(fd",
        "[::ffff:127.0.0.1]:",
        "= Err(EINVAL)",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    crate::assert_transcript!("ch11-transcript", redact_ipv6_ports(&text));
}

/// The scene with the starter stops at the first todo!() with one paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let starter = check::Answer {
        dial_each: starter::dial_each,
        open_listener: starter::open_listener,
    };
    let (text, result) = play(chapter(), |s| scene::play(s, &starter, &[]));
    let err = result.expect_err("the starter can't finish the scene");
    assert!(!text.contains("open_listener([::1]:0, true) ="), "{text}");
    crate::assert_transcript!("ch11-starter", err.as_printed(80));
}

/// A phone left at the default (v6-only off here) takes the IPv4 number
/// when asked for v6-only: the scene says so in one line and stops.
#[test]
fn a_scene_with_v6only_unset_tells_the_truth_and_stops() {
    fn never_set(number: SockaddrIn6, _v6only: bool) -> nix::Result<OwnedFd> {
        listener_with(
            AddressFamily::Inet6,
            SockType::Stream,
            number,
            Some(false),
            true,
        )
    }
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &with_listener(never_set), &[])
    });
    let line = result
        .expect_err("v6-only off takes the IPv4 number")
        .to_string();
    assert!(text.contains("true) = Ok(fd"), "{text}");
    assert!(
        line.contains("cargo run -- check 11") && !line.contains('\n'),
        "{line}"
    );
}

// ----------------------------------------------------------------- --listen

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A bare --listen is [::1]:0; a port alone is [::1]:PORT; a number is as typed.
#[test]
fn listen_defaults_to_ipv6_loopback() {
    let listen = |v: &[&str]| match scene::parse(&strings(v)) {
        Ok(scene::Mode::Listen(a)) => (a.ip(), a.port()),
        other => panic!("{v:?}: {other:?}"),
    };
    assert_eq!(listen(&["--listen"]), (Ipv6Addr::LOCALHOST, 0));
    assert_eq!(listen(&["--listen", "5000"]), (Ipv6Addr::LOCALHOST, 5000));
    let mapped = "::ffff:127.0.0.1".parse::<Ipv6Addr>().unwrap();
    assert_eq!(listen(&["--listen", "[::ffff:127.0.0.1]:7"]), (mapped, 7));
    assert_eq!(scene::parse(&[]).unwrap(), scene::Mode::Scene);
    assert!(scene::v6only_for(&six(Ipv6Addr::LOCALHOST)));
    assert!(!scene::v6only_for(&six(mapped)));
    assert!(!scene::v6only_for(&six(Ipv6Addr::UNSPECIFIED)));
}

/// Nonsense gets one usage line; an IPv4 number is told how to write it.
#[test]
fn nonsense_arguments_get_a_usage_line() {
    for (bad, says) in [
        (&["--listen", "nonsense"][..], "expected [IPV6]:PORT"),
        (&["--listen", "[::1]:99999"], "expected [IPV6]:PORT"),
        (&["--listen", "127.0.0.1:0"], "[::ffff:127.0.0.1]:0"),
        (&["--listen", "[::1]:0", "extra"], "\"extra\""),
        (&["--bogus"], "takes no arguments"),
    ] {
        match scene::parse(&strings(bad)) {
            Err(SceneError::Usage(line)) => assert!(
                line.contains(says) && line.contains("Usage: ") && !line.contains('\n'),
                "{bad:?}: {line}"
            ),
            other => panic!("{bad:?}: expected a usage line, got {other:?}"),
        }
    }
}

/// The commands the phone prints name its real number, in its family.
#[test]
fn try_it_commands_name_the_number() {
    let commands = scene::try_it(&six(Ipv6Addr::LOCALHOST), 4567);
    assert!(commands[0].starts_with("nc -6 -N ::1 4567"), "{commands:?}");
    assert!(commands[1].contains("TCP6:[::1]:4567"), "{commands:?}");
    assert!(commands[2].contains("('::1', 4567)"), "{commands:?}");
    let mapped = scene::try_it(&six("::ffff:127.0.0.1".parse().unwrap()), 4567);
    assert!(
        mapped[0].starts_with("nc -4 -N 127.0.0.1 4567"),
        "{mapped:?}"
    );
    let every = scene::try_it(&six(Ipv6Addr::UNSPECIFIED), 4567);
    assert!(
        every[0].contains("::1 4567"),
        ":: is called at ::1: {every:?}"
    );
}

// ------------------------------------------- callers nobody here wrote

/// Finds `name` on PATH. Missing: a failure under CI (which installs it), a
/// note otherwise (a fresh learner machine may lack it), as in chapter 8.
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let advice = format!("install the Debian package {package} (apt-get install {package})");
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed: CI must run this real-world test; {advice}"
        );
        eprintln!(
            "note: {name} is not installed, so this real-world test is skipped; {advice} to run it"
        );
    }
    found
}

const TOOL_LIMIT: Duration = Duration::from_secs(20);

/// Runs `command` (stdin empty); its stdout, or why not.
fn run(command: &mut Command) -> Result<String, String> {
    let ran = run_limited(command, b"", TOOL_LIMIT)?;
    if !ran.status.success() {
        return Err(format!(
            "{command:?} exited with {}: {}",
            ran.status,
            String::from_utf8_lossy(&ran.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&ran.stdout).into_owned())
}

/// The reference phone at `number` (v6-only as `--listen` would set it),
/// telling `calls` callers who they are, on a thread.
struct Telling {
    port: u16,
    at: String,
    done: std::sync::mpsc::Receiver<Result<Vec<String>, String>>,
}

fn telling(number: SockaddrIn6, calls: usize) -> Telling {
    let phone = solution::open_listener(number, scene::v6only_for(&number))
        .expect("a loopback number with port 0 is always free");
    let at = kernel::number_of(&phone).expect("a bound socket has a number");
    let port = at.as_sockaddr_in6().expect("an IPv6 phone").port();
    let (tx, done) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut callers = Vec::new();
        let told = scene::tell_callers(&phone, Some(calls), |from, _| {
            callers.push(from.to_string());
            Ok(())
        });
        let _ = tx.send(told.map(|()| callers).map_err(|e| e.to_string()));
    });
    Telling {
        port,
        at: dialtone_kit::names::number(&at),
        done,
    }
}

impl Telling {
    fn callers(self) -> Vec<String> {
        match self.done.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(callers)) => callers,
            other => panic!("the phone should have told its callers: {other:?}"),
        }
    }
}

/// `nc -6`, `socat TCP6` and Python dial [::1] and hear their own numbers;
/// `nc -4` dials a dual-stack phone and hears ::ffff:127.0.0.1.
#[test]
fn real_callers_hear_their_own_numbers() {
    let (Some(nc), Some(socat), Some(python)) = (
        tool("nc", "netcat-openbsd"),
        tool("socat", "socat"),
        tool("python3", "python3"),
    ) else {
        return;
    };
    let phone = telling(six(Ipv6Addr::LOCALHOST), 3);
    let port = phone.port.to_string();
    let mut heard = vec![
        run(Command::new(&nc).args(["-6", "-N", "::1", &port])),
        run(Command::new(&socat).args(["-", &format!("TCP6:[::1]:{port}")])),
    ];
    let one_liner = scene::try_it(&six(Ipv6Addr::LOCALHOST), phone.port)[2].clone();
    let script = one_liner
        .strip_prefix("python3 -c \"")
        .and_then(|s| s.strip_suffix('"'))
        .expect("the one-liner is python3 -c \"...\"")
        .to_string();
    heard.push(run(Command::new(&python).args(["-c", &script])));
    let at = phone.at.clone();
    let callers = phone.callers();
    assert_eq!(callers.len(), 3);
    for (said, from) in heard.into_iter().zip(&callers) {
        let said = said.unwrap_or_else(|e| panic!("{e}"));
        assert!(from.starts_with("[::1]:"), "{from}");
        assert_eq!(
            said,
            format!("hello {from}: you called {at} on an AF_INET6 phone\n")
        );
    }

    let mapped = "::ffff:127.0.0.1".parse().expect("an IPv6 number");
    let phone = telling(six(mapped), 1);
    let said = run(Command::new(&nc).args(["-4", "-N", "127.0.0.1", &phone.port.to_string()]))
        .unwrap_or_else(|e| panic!("{e}"));
    let callers = phone.callers();
    assert!(callers[0].starts_with("[::ffff:127.0.0.1]:"), "{callers:?}");
    assert!(said.starts_with(&format!("hello {}", callers[0])), "{said}");
}

/// `::` is every interface, so it is shown only in a network namespace of
/// this test's own (`unshare -n`: it has nothing but its own loopback, and
/// it goes away with the process, even if the test fails). There, a few
/// lines of Python: with IPV6_V6ONLY off an IPv4 caller reaches `::` as
/// ::ffff:127.0.0.1; with it on, the same caller is refused.
#[test]
fn every_interface_in_a_namespace_of_our_own() {
    let (Some(unshare), Some(_python)) =
        (tool("unshare", "util-linux"), tool("python3", "python3"))
    else {
        return;
    };
    const SCRIPT: &str = "import socket, subprocess\n\
        subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)\n\
        for v6only in (0, 1):\n\
        \x20   s = socket.socket(socket.AF_INET6)\n\
        \x20   s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)\n\
        \x20   s.bind(('::', 0)); s.listen(1)\n\
        \x20   try:\n\
        \x20       c = socket.create_connection(('127.0.0.1', s.getsockname()[1]), timeout=2)\n\
        \x20       print(v6only, s.accept()[1][0])\n\
        \x20   except ConnectionRefusedError:\n\
        \x20       print(v6only, 'refused')\n";
    let said = run(Command::new(&unshare).args(["-n", "python3", "-c", SCRIPT]));
    match said {
        Ok(out) => assert_eq!(out, "0 ::ffff:127.0.0.1\n1 refused\n"),
        Err(e) if e.contains("Operation not permitted") => {
            assert!(
                std::env::var_os("CI").is_none(),
                "unshare -n needs root (CI runs as root): {e}"
            );
            eprintln!(
                "note: unshare -n is not permitted here (not root), so the :: test is skipped"
            );
        }
        Err(e) => panic!("{e}"),
    }
}

/// Where a machine has no `::1`, the check says so in one line and fails:
/// shown in a network namespace of this test's own whose loopback has IPv6
/// turned off (`unshare -n`, then `net.ipv6.conf.lo.disable_ipv6=1`). This
/// test binary runs its one ignored test there, and that test asks for the
/// verdict.
#[test]
fn a_machine_without_ipv6_loopback_fails_in_one_line() {
    let Some(unshare) = tool("unshare", "util-linux") else {
        return;
    };
    let me = std::env::current_exe().expect("the test binary knows its path");
    let inner = "ch11::the_check_without_ipv6_loopback";
    let script = "ip link set lo up && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 && exec \"$0\" --exact \"$1\" --ignored";
    let ran = run(Command::new(&unshare)
        .args(["-n", "sh", "-c", script])
        .arg(&me)
        .arg(inner));
    match ran {
        Ok(out) => assert!(out.contains("1 passed"), "{out}"),
        Err(e) if e.contains("Operation not permitted") || e.contains("Permission denied") => {
            assert!(
                std::env::var_os("CI").is_none(),
                "unshare -n needs root (CI runs as root): {e}"
            );
            eprintln!(
                "note: unshare -n is not permitted here (not root), so the no-::1 test is skipped"
            );
        }
        Err(e) => panic!("{e}"),
    }
}

/// Run only by the test above, inside its namespace: no `::1` there.
#[test]
#[ignore = "run inside a network namespace without ::1 by a_machine_without_ipv6_loopback_fails_in_one_line"]
fn the_check_without_ipv6_loopback() {
    let f = expect_mistake(check::run(&SOLUTION), "ch11.no-ipv6");
    assert!(
        !f.headline.contains('\n') && f.headline.contains("no ::1"),
        "{f}"
    );
    assert!(f.got.contains("EADDRNOTAVAIL"), "{f}");
}

/// `--listen [::]:PORT` (every interface) on a port 127.0.0.1 already has:
/// the dual-stack bind is refused (EADDRINUSE) in one line, so nothing ever
/// listens beyond loopback here. (kit::args tests the warning's words.)
#[test]
fn a_taken_port_on_every_interface_is_one_line() {
    let (_held, number) =
        dialtone_kit::party::switched_on_phone().expect("a free loopback port is always available");
    let args = strings(&["--listen", &format!("[::]:{}", number.port())]);
    let (_, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
    let err = result.expect_err("the port is taken on 127.0.0.1");
    assert!(
        matches!(
            err,
            SceneError::Sys {
                errno: Errno::EADDRINUSE,
                ..
            }
        ),
        "{err:?}"
    );
    let line = err.to_string();
    assert!(
        !line.contains('\n') && line.contains("pick another port"),
        "{line}"
    );
}
