//! The self-check for chapter 1: is what `install_phone()` returns really a
//! fresh IPv4 stream socket? Everything is asked of the kernel, not read from
//! the learner's source, so any correct answer passes and any phone of the
//! wrong kind fails with the message meant for that mistake.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::kernel;
use dialtone_kit::learner;
use dialtone_kit::names;
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
    check_unnumbered(&phone)?;
    passed.saw("getsockname says 0.0.0.0:0: no number yet, as a new phone should be");
    let second = install(answer)?;
    if second.as_raw_fd() == phone.as_raw_fd() {
        return Err(Failure::new(
            "ch01.same-fd",
            "install_phone() gave the same descriptor twice",
        )
        .expected("a new descriptor for each phone")
        .got(format!("fd {} both times", phone.as_raw_fd()))
        .phone("every call to install_phone() should put a new phone on the wall.")
        .syscall("call socket() inside install_phone(); don't hand out one shared socket."));
    }
    passed.saw("a second call installs a second phone (a new descriptor)");
    Ok(passed)
}

fn install(answer: &Answer) -> Result<OwnedFd, Failure> {
    let result = learner::call(chapter(), "install_phone", answer.install_phone)?;
    result.map_err(|errno| {
        Failure::new("ch01.socket-error", "install_phone() returned an error")
            .expected("Ok(fd): a new socket")
            .got(format!("Err({})", names::errno(errno)))
            .phone(format!(
                "the exchange refused to install the phone: {}.",
                names::errno_phone(errno)
            ))
            .syscall("dialtone_kit::party::new_phone() can't fail for a normal user; check the arguments.")
    })
}

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
            .syscall("pass SockType::Stream to socket().")),
    }
}

fn check_network(phone: &OwnedFd) -> Result<(), Failure> {
    let family = kernel::network(phone).map_err(|e| unreadable("the family", e))?;
    match family {
        Some(AddressFamily::Inet) => Ok(()),
        other => {
            let got = other.map(names::family).unwrap_or("no family");
            Err(Failure::new("ch01.not-ipv4", "install_phone() installed a phone on another network")
                .expected("family AF_INET (IPv4)")
                .got(format!("family {got}"))
                .phone("this phone must be on the IPv4 network; IPv6 and the in-building intercom (Unix) come in Part III.")
                .syscall(format!("pass AddressFamily::Inet to socket(), not the one that gave {got}.")))
        }
    }
}

fn check_unnumbered(phone: &OwnedFd) -> Result<(), Failure> {
    let number = kernel::own_number(phone).map_err(|e| unreadable("getsockname", e))?;
    if number.port() == 0 && number.ip().is_unspecified() {
        return Ok(());
    }
    Err(Failure::new(
        "ch01.already-bound",
        "install_phone() also gave the phone a number",
    )
    .expected("getsockname = 0.0.0.0:0 (no number yet)")
    .got(format!("getsockname = {}", names::addr(&number)))
    .phone("installing a phone and getting a number are two steps; this chapter only installs.")
    .syscall("remove the bind() (or connect()) from install_phone(); chapter 2 binds."))
}

fn unreadable(what: &str, errno: nix::errno::Errno) -> Failure {
    Failure::new(
        "ch01.not-a-socket",
        format!("the kernel couldn't read {what} of your phone"),
    )
    .expected("a socket descriptor")
    .got(format!("{} while reading {what}", names::errno(errno)))
    .phone("what you returned isn't a phone at all.")
    .syscall("return the OwnedFd that socket() gave you.")
}
