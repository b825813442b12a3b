//! The self-check for chapter 3: is the phone `open_for_calls()` returns
//! really switched on, on the loopback line, at the number it reports, and
//! does it ring when the check dials that number?
//!
//! Everything is asked of the kernel: `SO_TYPE`, `SO_ACCEPTCONN` and
//! `getsockname` on the phone, then a real `connect()` to the returned number.
//! Nobody calls `accept()`: a switched-on phone lets the call through anyway,
//! because the kernel queues it. That is the lesson, and the proof.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::{kernel, learner, names};
use nix::errno::Errno;
use nix::sys::socket::{connect, setsockopt, sockopt, SockType, SockaddrIn};
use nix::sys::time::{TimeVal, TimeValLike};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub open_for_calls: fn() -> nix::Result<(OwnedFd, SockaddrIn)>,
}

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    let (phone, returned) = open(answer)?;
    passed.saw(format!(
        "open_for_calls() returned Ok((fd {}, {}))",
        phone.as_raw_fd(),
        names::addr(&returned)
    ));
    check_kind(&phone)?;
    passed.saw("SO_TYPE says SOCK_STREAM: a telephone, not a postcard box");
    check_switched_on(&phone)?;
    passed.saw("SO_ACCEPTCONN is 1: the phone is switched on (listening)");
    let actual = check_number(&phone)?;
    passed.saw(format!(
        "getsockname says {}: the loopback line, a real (non-zero) port",
        names::addr(&actual)
    ));
    check_reported(returned, actual)?;
    passed.saw("the number you returned is the phone's real number");
    let caller = ring(&returned)?;
    passed.saw(format!(
        "dialling {} connected before anyone called accept(): the exchange queued the call",
        names::addr(&returned)
    ));
    let second = ring_again(&returned)?;
    passed.saw("a second caller got through too: the queue holds more than one call");
    // A second phone while the first is still on: a hard-wired port can't
    // give it a number of its own (chapter 2's lesson, kept).
    let (other_phone, other) = open(answer)?;
    if other == actual {
        return Err(fixed_number(format!(
            "both phones got {}",
            names::addr(&actual)
        )));
    }
    passed.saw(format!(
        "a second phone opened at another number ({}): nothing is hard-wired",
        names::addr(&other)
    ));
    drop((other_phone, second, caller, phone));
    Ok(passed)
}

/// A fixed port: the second phone can't have the first one's number.
fn fixed_number(got: String) -> Failure {
    Failure::new(
        "ch03.fixed-number",
        "open_for_calls() asks for the same number every time",
    )
    .expected("each phone gets its own free number")
    .got(got)
    .phone("that number is taken: one number, one phone. Ask the exchange for any free number.")
    .syscall("bind() to 127.0.0.1 with port 0, then read the number back with getsockname().")
}

/// How long a test caller lets the phone ring before giving up. A loopback
/// call to a switched-on phone connects in microseconds; one whose queue is
/// full never connects (the kernel drops the caller's SYN and the caller's
/// first retry comes a second later), so a couple of seconds is plenty.
pub const RING_OUT: Duration = Duration::from_secs(2);

/// Dials `number` from a new phone, giving up after `timeout`.
///
/// A blocking `connect()` to a phone whose queue is full would wait for
/// minutes (the caller keeps re-sending its SYN); `SO_SNDTIMEO` bounds it.
/// On Linux a `connect()` that runs out of that time fails with
/// `EINPROGRESS`, reported here as `ETIMEDOUT`: the call rang out.
pub fn dial(number: &SockaddrIn, timeout: Duration) -> nix::Result<OwnedFd> {
    let caller = dialtone_kit::party::new_phone()?;
    let limit = TimeVal::milliseconds(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX));
    setsockopt(&caller, sockopt::SendTimeout, &limit)?;
    match connect(caller.as_raw_fd(), number) {
        Ok(()) => Ok(caller),
        Err(Errno::EINPROGRESS) => Err(Errno::ETIMEDOUT),
        Err(e) => Err(e),
    }
}

fn open(answer: &Answer) -> Result<(OwnedFd, SockaddrIn), Failure> {
    let result = learner::call(chapter(), "open_for_calls", answer.open_for_calls)?;
    result.map_err(|errno| {
        let got = format!("Err({})", names::errno(errno));
        match errno {
            Errno::EOPNOTSUPP => postcards(got),
            Errno::EADDRINUSE => fixed_number(got),
            _ => Failure::new("ch03.open-error", "open_for_calls() returned an error")
                .expected("Ok((phone, 127.0.0.1:N))")
                .got(got)
                .phone(format!("the exchange refused: {}.", names::errno_phone(errno)))
                .syscall("socket(Inet, Stream), bind(127.0.0.1 port 0), listen(&phone, Backlog::new(4)?), getsockname(): which one failed? Chapter 2's self-check explains bind errors."),
        }
    })
}

/// A datagram socket: `listen()` says `EOPNOTSUPP`, or `SO_TYPE` gives it away.
fn postcards(got: String) -> Failure {
    Failure::new(
        "ch03.postcards",
        "open_for_calls() switched on a postcard box, not a phone",
    )
    .expected("a SOCK_STREAM socket that listen() accepts")
    .got(got)
    .phone("postcards (datagrams) have no calls to queue: only a telephone can be switched on.")
    .syscall(
        "socket() must ask for SockType::Stream; listen() on SOCK_DGRAM fails with EOPNOTSUPP.",
    )
}

fn check_kind(phone: &OwnedFd) -> Result<(), Failure> {
    match kernel::line_kind(phone).map_err(|e| unreadable("SO_TYPE", e))? {
        SockType::Stream => Ok(()),
        other => Err(postcards(format!("SO_TYPE = {}", names::sock_type(other)))),
    }
}

fn check_switched_on(phone: &OwnedFd) -> Result<(), Failure> {
    if kernel::switched_on(phone).map_err(|e| unreadable("SO_ACCEPTCONN", e))? {
        return Ok(());
    }
    // Show the learner what a caller hears, if the phone has a number to dial.
    let heard = match kernel::own_number(phone) {
        Ok(n) if n.port() != 0 => match dial(&n, RING_OUT) {
            Err(e) => format!(", and dialling {} got {}", names::addr(&n), names::errno(e)),
            Ok(_) => String::new(),
        },
        _ => String::new(),
    };
    Err(Failure::new(
        "ch03.switched-off",
        "the phone open_for_calls() returned is not switched on",
    )
    .expected("getsockopt(SO_ACCEPTCONN) = 1 (listening)")
    .got(format!("SO_ACCEPTCONN = 0{heard}"))
    .phone("a phone with a number still refuses every call until it is switched on.")
    .syscall(
        "call listen(&phone, Backlog::new(4)?) after bind(); without it, callers get ECONNREFUSED.",
    ))
}

fn check_number(phone: &OwnedFd) -> Result<SockaddrIn, Failure> {
    let actual = kernel::own_number(phone).map_err(|e| unreadable("getsockname", e))?;
    let got = format!("getsockname = {}", names::addr(&actual));
    if actual.ip().is_unspecified() {
        return Err(Failure::new(
            "ch03.all-lines",
            "open_for_calls() switched the phone on for every line into the building",
        )
        .expected("getsockname = 127.0.0.1:N (loopback only)")
        .got(got)
        .phone("0.0.0.0 rings for callers from other machines too; this course's phones stay on the loopback line.")
        .syscall("bind() to 127.0.0.1 before listen(); a listen() without bind() numbers the phone 0.0.0.0 with a random port."));
    }
    if actual.ip() != Ipv4Addr::LOCALHOST {
        return Err(Failure::new(
            "ch03.wrong-line",
            "open_for_calls() switched the phone on at another address",
        )
        .expected("getsockname = 127.0.0.1:N")
        .got(got)
        .phone("the course's phones use this machine's own loopback line, 127.0.0.1.")
        .syscall("bind() to SockaddrIn::new(127, 0, 0, 1, 0)."));
    }
    Ok(actual)
}

fn check_reported(returned: SockaddrIn, actual: SockaddrIn) -> Result<(), Failure> {
    if returned == actual {
        return Ok(());
    }
    Err(Failure::new(
        "ch03.wrong-number",
        "open_for_calls() returned a number the phone doesn't have",
    )
    .expected(format!("{}, what getsockname says", names::addr(&actual)))
    .got(names::addr(&returned))
    .phone("callers will dial the number you hand out; hand out the one the exchange gave you.")
    .syscall("return getsockname(phone.as_raw_fd())? after bind(): port 0 was a request, not the answer."))
}

/// Dials the returned number and checks the call got through to that phone.
fn ring(number: &SockaddrIn) -> Result<OwnedFd, Failure> {
    let no_ring = |got: String| {
        Failure::new("ch03.no-ring", "dialling the number you returned didn't get through")
            .expected(format!("connect() to {} returns 0", names::addr(number)))
            .got(got)
            .phone("the phone is on and numbered, but a real call still didn't reach it.")
            .syscall("return the listening socket itself and its own getsockname(); keep the backlog at 1 or more.")
    };
    let caller =
        dial(number, RING_OUT).map_err(|e| no_ring(format!("connect() = {}", names::errno(e))))?;
    let reached = kernel::other_end(&caller)
        .map_err(|e| no_ring(format!("getpeername() = {}", names::errno(e))))?;
    if reached != *number {
        return Err(no_ring(format!(
            "the call reached {}",
            names::addr(&reached)
        )));
    }
    Ok(caller)
}

/// A second caller while the first still waits: a backlog of 0 has no room.
fn ring_again(number: &SockaddrIn) -> Result<OwnedFd, Failure> {
    dial(number, RING_OUT).map_err(|e| {
        Failure::new(
            "ch03.queue-too-small",
            "a second caller couldn't get through while the first was on hold",
        )
        .expected(format!("a second connect() to {} returns 0", names::addr(number)))
        .got(format!("connect() = {} after {} s", names::errno(e), RING_OUT.as_secs()))
        .phone("your phone can hold only one waiting call; the next caller just hears it ring.")
        .syscall("give listen() a backlog of a few calls, e.g. Backlog::new(4): Linux holds backlog + 1 finished calls, so a backlog of 0 holds one.")
    })
}

fn unreadable(what: &str, errno: Errno) -> Failure {
    Failure::new(
        "ch03.not-a-socket",
        format!("the kernel couldn't read {what} of your phone"),
    )
    .expected("a socket descriptor")
    .got(format!("{} while reading {what}", names::errno(errno)))
    .phone("what you returned isn't a phone at all.")
    .syscall("return the OwnedFd that socket() gave you, after bind() and listen().")
}
