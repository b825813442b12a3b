//! The self-check for chapter 2: does `get_a_number()` really give the phone
//! a kernel-chosen number on the loopback line, and report that number?
//!
//! The check installs the phones itself (chapter 1's job) and asks the kernel
//! with `getsockname()` what each one ended up with, so it never trusts what
//! the learner's function says about itself. Two phones in a row must get two
//! different numbers: that is what catches a hard-wired port.
//!
//! The scenarios, in order (the page's claims, listed with their verdict ids
//! in `course.toml`):
//! 1. the call returns `Ok(number)`; a refusal is named by its errno
//!    (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, `EINVAL`, and the `connect()`
//!    or `getpeername()` a confused answer called instead);
//! 2. the phone it was handed is numbered on 127.0.0.1, a non-zero port;
//! 3. nothing of a later chapter: not switched on, on no call;
//! 4. the port is one the kernel picks for port 0: in `ip_local_port_range`,
//!    not a well-known one (which root may be granted, see `EACCES`);
//! 5. the number returned is what `getsockname` says;
//! 6. a second phone, while the first keeps its number, gets another one.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::{kernel, learner_call, names, party, task};
use nix::errno::Errno;
use nix::sys::socket::SockaddrIn;
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub get_a_number: fn(&OwnedFd) -> nix::Result<SockaddrIn>,
}

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    let (phone, returned) = number(answer, Which::First)?;
    passed.saw(format!(
        "get_a_number() returned Ok({})",
        names::addr(&returned)
    ));
    let actual = check_numbered(&phone)?;
    check_not_ahead(&phone)?;
    passed.saw(format!(
        "getsockname says {}: on loopback, numbered, not on, on no call",
        names::addr(&actual)
    ));
    check_kernel_chosen(&actual)?;
    passed.saw("the port is in the kernel's ephemeral range: the exchange picked it");
    check_reported(returned, actual)?;
    passed.saw("the number you returned is the one the kernel reports");
    // Keep the first phone on the wall: the second must not get its number.
    let (second, _) = number(answer, Which::Second)?;
    let other = check_numbered(&second)?;
    check_not_ahead(&second)?;
    if other == actual {
        return Err(fixed_number(
            "get_a_number() gives every phone the same number",
            format!("both phones got {}", names::addr(&actual)),
        ));
    }
    passed.saw(format!(
        "a second phone got a different number ({}): nothing is hard-wired",
        names::addr(&other)
    ));
    drop((phone, second));
    Ok(passed)
}

/// The first phone of the check, or the second one that must get another number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    First,
    Second,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::First => "the first phone",
            Which::Second => "a second phone",
        }
    }
}

/// Installs a fresh phone and hands it to the learner's `get_a_number()`.
fn number(answer: &Answer, which: Which) -> Result<(OwnedFd, SockaddrIn), Failure> {
    let phone = dialtone_kit::party::new_phone().map_err(|e| {
        Failure::new(
            "ch02.no-phone",
            "the self-check couldn't install a phone to test with",
        )
        .expected("socket(AF_INET, SOCK_STREAM, 0) to succeed")
        .got(names::errno(e))
        .phone("the exchange has no handsets left; nothing in your answer caused this.")
        .syscall("close other programs holding many sockets, then run the check again.")
    })?;
    // The learner's call runs on a thread of its own, under a timeout, so
    // its closure must own what it uses: the phone goes in and comes back out.
    let (phone, result) = learner_call!(chapter(), answer.get_a_number, move |get_a_number| {
        let result = get_a_number(&phone);
        (phone, result)
    })?;
    let number = result.map_err(|e| refused(e, which))?;
    Ok((phone, number))
}

/// The kernel said no to something inside `get_a_number()`.
fn refused(errno: Errno, which: Which) -> Failure {
    let got = format!("Err({}) for {}", names::errno(errno), which.name());
    match errno {
        Errno::EADDRINUSE if which == Which::First => fixed_number(
            "get_a_number() asked for a fixed number that another phone already has",
            got,
        ),
        Errno::EADDRINUSE => fixed_number(
            "get_a_number() asks for the same number every time",
            got,
        ),
        Errno::EACCES => reserved(
            "get_a_number() asked for a number reserved for the exchange's staff",
            format!(
                "{got}: ports below {} need root or CAP_NET_BIND_SERVICE",
                unprivileged_start()
            ),
        ),
        Errno::ECONNREFUSED => Failure::new(
            "ch02.dialled",
            "get_a_number() dialled a number instead of taking one",
        )
        .expected("Ok(127.0.0.1:N) from bind() and getsockname()")
        .got(format!("{got}: only connect() is refused like that"))
        .phone("you rang a number nobody answers; taking a number for your own phone is asking the exchange, not dialling.")
        .syscall("call bind(), not connect(): bind() gives your socket its own address, connect() (chapter 4) dials someone else's."),
        Errno::ENOTCONN => Failure::new(
            "ch02.caller-id",
            "get_a_number() asked for the other end's number, and there is no call",
        )
        .expected("Ok(127.0.0.1:N) from getsockname()")
        .got(format!("{got}: getpeername() on a socket with no call says that"))
        .phone("caller ID names the other end of a call; to learn your own number, ask the exchange about your phone.")
        .syscall("return getsockname(phone.as_raw_fd()) (your own address), not getpeername() (the peer's, chapter 5)."),
        Errno::EADDRNOTAVAIL => Failure::new(
            "ch02.wrong-line",
            "get_a_number() asked for a number on a line this machine doesn't have",
        )
        .expected("Ok(127.0.0.1:N)")
        .got(got)
        .phone("you can only take a number on a line that comes into this building.")
        .syscall("bind() to 127.0.0.1 (SockaddrIn::new(127, 0, 0, 1, 0)), the loopback address."),
        Errno::EINVAL => Failure::new(
            "ch02.numbered-twice",
            "get_a_number() tried to give the phone a second number",
        )
        .expected("one bind() per phone")
        .got(got)
        .phone("a phone gets one number; asking again is refused.")
        .syscall("call bind() once; EINVAL means the socket was already bound."),
        _ => Failure::new("ch02.bind-error", "get_a_number() returned an error")
            .expected("Ok(127.0.0.1:N)")
            .got(got)
            .phone(format!(
                "the exchange refused: {}.",
                names::errno_phone(errno)
            ))
            .syscall("bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)), then getsockname(phone.as_raw_fd())."),
    }
}

/// The same number twice, or a number somebody already has: a hard-wired port.
fn fixed_number(headline: &str, got: String) -> Failure {
    Failure::new("ch02.fixed-number", headline)
    .expected("each phone gets its own free number")
    .got(got)
    .phone("that number is taken: one number, one phone. Ask the exchange for any free number instead of a fixed one.")
    .syscall("bind() with port 0, not a fixed port: EADDRINUSE is what a fixed port gets once another socket holds it.")
}

/// A well-known number: refused (EACCES), or granted because this process
/// may take one (root, CAP_NET_BIND_SERVICE, or a lowered sysctl).
fn reserved(headline: &str, got: String) -> Failure {
    Failure::new("ch02.reserved-number", headline)
        .expected("Ok(127.0.0.1:N), with N chosen by the kernel")
        .got(got)
        .phone("numbers below the exchange's line (1024 by default) are well-known numbers, kept for the staff's own services.")
        .syscall("bind() to port 0 and let the kernel pick a free port from its ephemeral range.")
}

/// `net.ipv4.ip_unprivileged_port_start`: the lowest port anyone may bind
/// (Linux 4.11+; 1024 unless a container or an admin lowered it).
fn unprivileged_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1024)
}

/// Port 0 makes the kernel pick from `ip_local_port_range`; a number outside
/// it was asked for. (Inside it, only the second phone can tell.)
fn check_kernel_chosen(actual: &SockaddrIn) -> Result<(), Failure> {
    let port = actual.port();
    if port < 1024 {
        return Err(reserved(
            "get_a_number() took a well-known number",
            format!(
                "getsockname = {}: bind() granted port {port}, because this process may take it (it runs as root or with CAP_NET_BIND_SERVICE, or net.ipv4.ip_unprivileged_port_start, {} here, is at or below {port})",
                names::addr(actual),
                unprivileged_start(),
            ),
        ));
    }
    match party::ephemeral_range() {
        Some((low, high)) if !(low..=high).contains(&port) => Err(fixed_number(
            "get_a_number() asked for a fixed number",
            format!(
                "getsockname = {}: port {port} is outside the kernel's range {low}-{high} (ip_local_port_range), so it was asked for",
                names::addr(actual)
            ),
        )),
        _ => Ok(()),
    }
}

/// Nothing of chapters 3 and 4: the phone is numbered, not switched on or dialled.
fn check_not_ahead(phone: &OwnedFd) -> Result<(), Failure> {
    if kernel::switched_on(phone).map_err(|e| unreadable("SO_ACCEPTCONN", e))? {
        return Err(Failure::new(
            "ch02.switched-on",
            "get_a_number() also switched the phone on",
        )
        .expected("a numbered phone, still switched off (SO_ACCEPTCONN = 0)")
        .got("SO_ACCEPTCONN = 1: listen() was called")
        .phone("numbering a phone and switching it on are two steps; this chapter only numbers it.")
        .syscall("remove the listen() from get_a_number(); chapter 3 switches the phone on."));
    }
    if let Ok(peer) = kernel::other_end(phone) {
        return Err(Failure::new(
            "ch02.dialled",
            "get_a_number() dialled a number instead of taking one",
        )
        .expected("a numbered phone on no call (getpeername = ENOTCONN)")
        .got(format!("getpeername = {}: connect() was called, and the kernel numbered the phone for the call", names::addr(&peer)))
        .phone("you rang someone; taking a number for your own phone is asking the exchange, not dialling.")
        .syscall("call bind(), not connect(): connect() (chapter 4) dials someone else's number."));
    }
    Ok(())
}

/// What the kernel says the phone's number is, if it is a loopback number.
fn check_numbered(phone: &OwnedFd) -> Result<SockaddrIn, Failure> {
    let actual = kernel::own_number(phone).map_err(|e| unreadable("getsockname", e))?;
    let got = format!("getsockname = {}", names::addr(&actual));
    if actual.port() == 0 {
        return Err(Failure::new(
            "ch02.unnumbered",
            "after get_a_number() the phone still has no number",
        )
        .expected("getsockname = 127.0.0.1:N, N not 0")
        .got(got)
        .phone("nobody can ring a phone without a number.")
        .syscall(
            "call bind() on the phone you are handed (phone.as_raw_fd()), not on a new socket.",
        ));
    }
    if actual.ip().is_unspecified() {
        return Err(Failure::new(
            "ch02.all-lines",
            "get_a_number() put the phone on every line into the building",
        )
        .expected("getsockname = 127.0.0.1:N (loopback only)")
        .got(got)
        .phone("0.0.0.0 answers calls from anywhere, other machines included; this course's phones stay on the loopback line.")
        .syscall("bind() to 127.0.0.1, not 0.0.0.0 (INADDR_ANY)."));
    }
    if actual.ip() != Ipv4Addr::LOCALHOST {
        return Err(Failure::new(
            "ch02.wrong-line",
            "get_a_number() put the phone on another line",
        )
        .expected("getsockname = 127.0.0.1:N")
        .got(got)
        .phone("the course's phones use this machine's own loopback line, 127.0.0.1.")
        .syscall("bind() to SockaddrIn::new(127, 0, 0, 1, 0)."));
    }
    Ok(actual)
}

/// The learner must report the kernel's number, not the one they asked for.
fn check_reported(returned: SockaddrIn, actual: SockaddrIn) -> Result<(), Failure> {
    if returned == actual {
        return Ok(());
    }
    Err(Failure::new(
        "ch02.made-up-number",
        "get_a_number() returned a number the phone doesn't have",
    )
    .expected(format!("Ok({}), what getsockname says", names::addr(&actual)))
    .got(format!("Ok({}){}", names::addr(&returned), why_different(&returned, &actual)))
    .phone("you told your friends a number you never checked; ask the exchange which one you got.")
    .syscall("after bind(), return getsockname(phone.as_raw_fd()) as it is: port 0 was a request, not the answer, and nix's ports are already in host byte order."))
}

/// What the returned number's difference from the real one points at.
fn why_different(returned: &SockaddrIn, actual: &SockaddrIn) -> &'static str {
    if returned.port() == 0 {
        ": port 0 is what you asked bind() for, not what you got"
    } else if returned.port() == actual.port().swap_bytes() && returned.ip() == actual.ip() {
        ": the real port with its two bytes swapped, a byte order conversion (to_be, htons) too many"
    } else {
        ""
    }
}

/// The kernel couldn't read `what` of the phone the learner was only lent.
fn unreadable(what: &str, errno: Errno) -> Failure {
    task::unreadable(chapter(), what, "the phone", errno)
        .expected("the phone to still be an open IPv4 socket")
        .phone("the phone you were handed is gone from the wall.")
        .syscall("only borrow the phone (&OwnedFd): don't close it or replace it.")
}
