//! The self-check for chapter 1: is what `install_phone()` returns really a
//! fresh, plain IPv4 stream socket? Everything is asked of the kernel, not
//! read from the learner's source, so any correct answer passes and any phone
//! of the wrong kind fails with the message meant for that mistake.
//!
//! The scenarios, in order (each one a claim of the page, listed with its
//! verdict ids in `course.toml`):
//! 1. the call returns `Ok(fd)`, the kernel's answer as it is;
//! 2. `SO_TYPE` is `SOCK_STREAM` and the family is `AF_INET`;
//! 3. no flags: `fcntl(F_GETFL)` shows no `O_NONBLOCK` (close-on-exec,
//!    `F_GETFD`, is the learner's choice and is only reported);
//! 4. nothing of a later chapter: not switched on (`SO_ACCEPTCONN` = 0), not
//!    on a call (`getpeername` = `ENOTCONN`), no number (`getsockname` =
//!    `0.0.0.0:0`);
//! 5. a second call installs a second phone: another kernel object (the
//!    socket inode `/proc/self/fd/N` names), not a copy (`dup`) of the first,
//!    and it passes 2-4 too, while the first is still there.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::{kernel, learner_call, names, task};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{AddressFamily, SockType};
use std::os::fd::{AsRawFd, OwnedFd};

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub install_phone: fn() -> nix::Result<OwnedFd>,
}

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    let phone = install(answer)?;
    passed.saw(format!(
        "install_phone() returned a descriptor (fd {})",
        phone.as_raw_fd()
    ));
    check_kind(&phone)?;
    passed.saw("SO_TYPE says SOCK_STREAM: a telephone, not a postcard box");
    check_network(&phone)?;
    passed.saw("its family is AF_INET: an IPv4 phone");
    let cloexec = check_flags(&phone)?;
    passed.saw(format!(
        "no O_NONBLOCK (fcntl F_GETFL): calls on it wait; close-on-exec is {}",
        if cloexec { "on" } else { "off" }
    ));
    check_not_ahead(&phone)?;
    passed.saw("not on, on no call, no number yet (getsockname = 0.0.0.0:0)");
    let second = install(answer)?;
    check_new_phone(&phone, &second)?;
    passed.saw("a second call installs a second phone: another socket inode, not a copy");
    check_kind(&second)?;
    check_network(&second)?;
    check_flags(&second)?;
    check_not_ahead(&second)?;
    check_still_there(&phone)?;
    passed.saw("the second phone is the same kind; the first is still on the wall");
    Ok(passed)
}

/// Scenario 1: the learner's call, and the kernel's "no" if it said one.
fn install(answer: &Answer) -> Result<OwnedFd, Failure> {
    learner_call!(chapter(), answer.install_phone())?.map_err(refused)
}

/// socket() said no: name the argument that errno points at.
fn refused(errno: Errno) -> Failure {
    let why = match errno {
        Errno::EPROTONOSUPPORT | Errno::EPROTOTYPE => {
            "the protocol doesn't fit the type: pass None (C's 0), and the kernel picks TCP for an IPv4 stream"
        }
        Errno::EAFNOSUPPORT => "the kernel has no such family: AddressFamily::Inet is IPv4",
        Errno::EINVAL => "a type or flag the kernel doesn't know: SockType::Stream and SockFlag::empty()",
        Errno::EMFILE | Errno::ENFILE => {
            "this process is out of descriptors: are phones installed and never dropped?"
        }
        _ => "check the family, the type, the flags and the protocol you pass",
    };
    Failure::new("ch01.socket-error", "install_phone() returned an error")
        .expected("Ok(fd): a new socket")
        .got(format!("Err({})", names::errno(errno)))
        .phone(format!(
            "the exchange refused to install the phone: {}.",
            names::errno_phone(errno)
        ))
        .syscall(format!(
            "socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None) can't fail for a normal program; {why}."
        ))
}

/// Scenario 2, the type: a stream, not datagrams.
fn check_kind(phone: &OwnedFd) -> Result<(), Failure> {
    let kind = kernel::line_kind(phone).map_err(|e| unreadable("SO_TYPE", e))?;
    match kind {
        SockType::Stream => Ok(()),
        SockType::Datagram => Err(Failure::new("ch01.datagram", "install_phone() installed a postcard box, not a phone")
            .expected("SO_TYPE = SOCK_STREAM")
            .got("SO_TYPE = SOCK_DGRAM")
            .phone("postcards (datagrams) have no call to pick up; this course's phone is a two-way conversation.")
            .syscall("pass SockType::Stream, not SockType::Datagram, to socket().")),
        other => Err(Failure::new("ch01.wrong-type", "install_phone() installed the wrong kind of line")
            .expected("SO_TYPE = SOCK_STREAM")
            .got(format!("SO_TYPE = {}", names::sock_type(other)))
            .phone("you need a line for conversations: a stream.")
            .syscall(format!("pass SockType::Stream to socket(), not the type that gave {}.", names::sock_type(other)))),
    }
}

/// Scenario 2, the family: IPv4.
fn check_network(phone: &OwnedFd) -> Result<(), Failure> {
    let family = kernel::network(phone).map_err(|e| unreadable("the family", e))?;
    match family {
        Some(AddressFamily::Inet) => Ok(()),
        other => {
            let got = other.map(names::family).unwrap_or("no family");
            Err(Failure::new("ch01.not-ipv4", "install_phone() installed a phone on another network")
                .expected("family AF_INET (IPv4)")
                .got(format!("family {got}"))
                .phone("this phone must be on the IPv4 network; IPv6 numbers and the in-building intercom (Unix) come in Part III.")
                .syscall(format!("pass AddressFamily::Inet to socket(), not the one that gave {got}.")))
        }
    }
}

/// Scenario 3: no `O_NONBLOCK`. Returns whether close-on-exec is on, which
/// is allowed either way: `SOCK_CLOEXEC` is what a real program would add.
fn check_flags(phone: &OwnedFd) -> Result<bool, Failure> {
    let status = fcntl(phone, FcntlArg::F_GETFL).map_err(|e| unreadable("F_GETFL", e))?;
    if OFlag::from_bits_truncate(status).contains(OFlag::O_NONBLOCK) {
        return Err(Failure::new(
            "ch01.non-blocking",
            "install_phone() installed a phone that never waits",
        )
        .expected("fcntl(F_GETFL) without O_NONBLOCK (no flags)")
        .got("fcntl(F_GETFL) has O_NONBLOCK: the socket was made with SOCK_NONBLOCK")
        .phone("this phone hangs up on you whenever nobody answers at once; the course's calls wait for an answer.")
        .syscall("pass SockFlag::empty() (or SOCK_CLOEXEC), not SOCK_NONBLOCK: a non-blocking accept() or read() says EAGAIN, connect() EINPROGRESS."));
    }
    let fd_flags = fcntl(phone, FcntlArg::F_GETFD).map_err(|e| unreadable("F_GETFD", e))?;
    Ok(FdFlag::from_bits_truncate(fd_flags).contains(FdFlag::FD_CLOEXEC))
}

/// Scenario 4: nothing of chapters 2-4 happened inside `install_phone()`.
fn check_not_ahead(phone: &OwnedFd) -> Result<(), Failure> {
    let on = kernel::switched_on(phone).map_err(|e| unreadable("SO_ACCEPTCONN", e))?;
    if on {
        return Err(ahead(
            "ch01.switched-on",
            "install_phone() also switched the phone on",
            "SO_ACCEPTCONN = 1: listen() was called",
            "remove the listen() (and any bind()) from install_phone(); chapter 3 switches the phone on.",
        ));
    }
    if let Ok(other) = kernel::other_end(phone) {
        return Err(ahead(
            "ch01.on-a-call",
            "install_phone() also dialled a number",
            &format!(
                "getpeername = {}: connect() was called",
                names::addr(&other)
            ),
            "remove the connect() from install_phone(); chapter 4 dials.",
        ));
    }
    let number = kernel::own_number(phone).map_err(|e| unreadable("getsockname", e))?;
    if number.port() == 0 && number.ip().is_unspecified() {
        return Ok(());
    }
    Err(ahead(
        "ch01.already-bound",
        "install_phone() also gave the phone a number",
        &format!("getsockname = {}: bind() was called", names::addr(&number)),
        "remove the bind() from install_phone(); chapter 2 gives the phone its number.",
    ))
}

/// A later chapter's call, made too early.
fn ahead(id: &str, headline: &str, got: &str, syscall: &str) -> Failure {
    Failure::new(id, headline)
        .expected("a new phone: no number (getsockname = 0.0.0.0:0), not on, on no call")
        .got(got)
        .phone("installing a phone is one step; numbering, switching on and dialling are the next chapters' steps.")
        .syscall(syscall)
}

/// Scenario 5: a new phone, not the first one under a second number.
fn check_new_phone(first: &OwnedFd, second: &OwnedFd) -> Result<(), Failure> {
    let (a, b) = (first.as_raw_fd(), second.as_raw_fd());
    let (phone_a, phone_b) = (kernel::fd_target(a), kernel::fd_target(b));
    if phone_a.is_none() || phone_a != phone_b {
        return Ok(());
    }
    Err(Failure::new(
        "ch01.same-phone",
        "install_phone() handed out the same phone twice",
    )
    .expected("a new socket for each call: another socket:[inode] in /proc/self/fd")
    .got(format!(
        "fd {a} and fd {b} both name {}: one socket, two descriptors (a dup or try_clone)",
        phone_a.unwrap_or_default()
    ))
    .phone("two numbers on the handset list, one phone on the wall: a call on one is a call on the other.")
    .syscall("call socket() inside install_phone() every time; don't keep one socket (a static) and hand out copies of it."))
}

/// After the second call, the first phone is still the socket it was.
fn check_still_there(first: &OwnedFd) -> Result<(), Failure> {
    kernel::line_kind(first)
        .map(drop)
        .map_err(|e| unreadable("SO_TYPE of the first phone", e))
}

/// The kernel couldn't read `what` of the returned descriptor: no socket.
fn unreadable(what: &str, errno: Errno) -> Failure {
    task::unreadable(chapter(), what, "your phone", errno)
        .syscall("return the OwnedFd that socket() gave you, not another kind of file.")
}
