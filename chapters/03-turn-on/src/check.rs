//! The self-check for chapter 3: is the phone `open_for_calls()` returns
//! really switched on, on the loopback line, at the number it reports, and
//! does it ring when the check dials that number?
//!
//! Everything is asked of the kernel: `SO_TYPE`, `SO_ACCEPTCONN` and
//! `getsockname` on the phone, then a real `connect()` to the returned number.
//! Nobody calls `accept()`: a switched-on phone lets the call through anyway,
//! because the kernel queues it. That is the lesson, and the proof.
//!
//! The scenarios, in order (the page's claims, listed with their verdict ids
//! in `course.toml`):
//! 1. the call returns, without waiting for a caller, `Ok((phone, number))`;
//! 2. the phone is a stream, switched on (`SO_ACCEPTCONN` = 1), blocking
//!    (no `O_NONBLOCK`), on 127.0.0.1 at the number returned;
//! 3. a real `connect()` gets through with nobody calling `accept()`, and the
//!    call waits in that phone's own queue (it polls readable);
//! 4. a second caller gets through too (the backlog holds more than one);
//! 5. after both calls the phone is still on;
//! 6. a second `open_for_calls()` gives another phone (another socket inode)
//!    at another number.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::patience::ALREADY_IN_THE_KERNEL;
use dialtone_kit::{kernel, learner_call, names, party, task};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{SockType, SockaddrIn};
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
    check_blocking(&phone)?;
    passed.saw("SO_ACCEPTCONN is 1, no O_NONBLOCK: switched on, and accept() will wait");
    let actual = check_number(&phone)?;
    passed.saw(format!(
        "getsockname says {}: the loopback line, a real (non-zero) port",
        names::addr(&actual)
    ));
    check_reported(returned, actual)?;
    passed.saw("the number you returned is the phone's real number");
    let caller = ring(&phone, &returned)?;
    passed.saw(format!(
        "{} answered before anyone called accept(): the call is queued",
        names::addr(&returned)
    ));
    let second = ring_again(&returned)?;
    passed.saw("a second caller got through too: the queue holds more than one call");
    check_switched_on(&phone)?;
    passed.saw("after both calls the phone is still switched on");
    // A second phone while the first is still on: a hard-wired port can't
    // give it a number of its own (chapter 2's lesson, kept).
    let (other_phone, other) = open(answer)?;
    check_new_phone(&phone, &other_phone)?;
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

/// How long a test caller lets the phone ring before giving up (the kit's
/// one patience for it): a switched-on loopback phone answers in
/// microseconds, a full queue never.
pub use dialtone_kit::patience::RING_OUT;

/// Dials `number` from a new phone, giving up after `timeout` (kit's
/// bounded dial).
///
/// A blocking `connect()` to a phone whose queue is full would wait for
/// minutes (the caller keeps re-sending its SYN); `SO_SNDTIMEO` bounds it.
/// On Linux a `connect()` that runs out of that time fails with
/// `EINPROGRESS` (socket(7)), and that is what this returns, as the kernel
/// said it: the handshake is still going on when the caller gives up.
pub fn dial(number: &SockaddrIn, timeout: Duration) -> nix::Result<OwnedFd> {
    dialtone_kit::party::dial_within(number, timeout)
}

/// A dial's failure as the verdict shows it: the errno, and for a caller
/// that gave up, what `EINPROGRESS` means here.
fn dial_failed(errno: Errno) -> String {
    match errno {
        Errno::EINPROGRESS => format!(
            "connect() = {} after {} s: the caller's SO_SNDTIMEO ran out while it was still ringing (Linux), and the kernel kept trying",
            names::errno(errno),
            RING_OUT.as_secs()
        ),
        _ => format!("connect() = {}", names::errno(errno)),
    }
}

fn open(answer: &Answer) -> Result<(OwnedFd, SockaddrIn), Failure> {
    let result = learner_call!(chapter(), answer.open_for_calls())
        .map_err(|e| task::hung_means(e, never_returned))?;
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

/// A call that never came back: in this chapter, most likely an accept()
/// waiting for a caller who will never come (nobody dials before it returns).
fn never_returned() -> Failure {
    Failure::new(
        "ch03.never-returned",
        "open_for_calls() never returned",
    )
    .expected(format!("open_for_calls() to return within {} s", chapter().timeout().as_secs()))
    .got("it was still running when the check gave up; nobody had dialled yet")
    .phone("you are waiting by the phone for a caller, but nobody can ring until you hand out the number.")
    .syscall("likely an accept() (picking up is chapter 5: here the kernel queues calls without you), or a loop; return right after listen() and getsockname().")
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

/// No `O_NONBLOCK`: with it, the accept() of chapter 5 says EAGAIN at once.
fn check_blocking(phone: &OwnedFd) -> Result<(), Failure> {
    let status = fcntl(phone, FcntlArg::F_GETFL).map_err(|e| unreadable("F_GETFL", e))?;
    if !OFlag::from_bits_truncate(status).contains(OFlag::O_NONBLOCK) {
        return Ok(());
    }
    Err(Failure::new(
        "ch03.non-blocking",
        "open_for_calls() switched on a phone that never waits",
    )
    .expected("fcntl(F_GETFL) without O_NONBLOCK (no flags)")
    .got("fcntl(F_GETFL) has O_NONBLOCK: the socket was made with SOCK_NONBLOCK")
    .phone("whoever picks up this phone is told \"nobody's there\" unless a call is already ringing.")
    .syscall("pass SockFlag::empty() (or SOCK_CLOEXEC) to socket(), not SOCK_NONBLOCK: accept() on it says EAGAIN instead of waiting."))
}

/// The second phone is a phone of its own, not a copy of the first.
fn check_new_phone(first: &OwnedFd, second: &OwnedFd) -> Result<(), Failure> {
    let target = kernel::fd_target(first.as_raw_fd());
    if target.is_none() || target != kernel::fd_target(second.as_raw_fd()) {
        return Ok(());
    }
    Err(Failure::new(
        "ch03.same-phone",
        "open_for_calls() handed out the same phone twice",
    )
    .expected("a new socket for each call: another socket:[inode] in /proc/self/fd")
    .got(format!(
        "fd {} and fd {} both name {}: one listening socket, two descriptors (a dup or try_clone)",
        first.as_raw_fd(),
        second.as_raw_fd(),
        target.unwrap_or_default()
    ))
    .phone("two handsets on one line: every caller of the \"second\" phone rings the first.")
    .syscall("call socket(), bind() and listen() inside open_for_calls() every time; keep no socket in a static."))
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

/// Dials the returned number and checks the call got through to that phone:
/// the caller's getpeername is the number, and the call rings in `phone`'s
/// own queue (poll says it is readable: accept() would find it at once).
fn ring(phone: &OwnedFd, number: &SockaddrIn) -> Result<OwnedFd, Failure> {
    let no_ring = |got: String| {
        Failure::new("ch03.no-ring", "dialling the number you returned didn't get through")
            .expected(format!("connect() to {} returns 0, and the call waits in your phone's queue", names::addr(number)))
            .got(got)
            .phone("the phone is on and numbered, but a real call still didn't reach it.")
            .syscall("return the listening socket itself and its own getsockname(); keep the backlog at 1 or more.")
    };
    let caller = dial(number, RING_OUT).map_err(|e| no_ring(dial_failed(e)))?;
    let reached = kernel::other_end(&caller)
        .map_err(|e| no_ring(format!("getpeername() = {}", names::errno(e))))?;
    if reached != *number {
        return Err(no_ring(format!(
            "the call reached {}",
            names::addr(&reached)
        )));
    }
    if !party::ready(phone, ALREADY_IN_THE_KERNEL).map_err(|e| unreadable("poll", e))? {
        return Err(no_ring(format!(
            "connect() = 0, but after {} s nothing rings in the phone you returned: the call waits in another phone's queue",
            ALREADY_IN_THE_KERNEL.as_secs()
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
        .got(dial_failed(e))
        .phone("your phone can hold only one waiting call; the next caller just hears it ring.")
        .syscall("give listen() a backlog of a few calls, e.g. Backlog::new(4): Linux holds backlog + 1 finished calls, so a backlog of 0 holds one.")
    })
}

/// The kernel couldn't read `what` of the returned descriptor: no socket.
fn unreadable(what: &str, errno: Errno) -> Failure {
    task::unreadable(chapter(), what, "your phone", errno)
        .syscall("return the OwnedFd that socket() gave you, after bind() and listen().")
}
