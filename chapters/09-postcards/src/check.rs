//! The self-check for chapter 9: is what `get_a_phone()` returns really
//! an IPv4 stream socket? Everything is asked of the kernel, not read from
//! the learner's source, so any correct answer passes and a socket of the
//! wrong kind fails with the message meant for that mistake.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::{kernel, learner_call, names};
use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, SockType};
use std::os::fd::{AsRawFd, OwnedFd};

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub get_a_phone: fn() -> nix::Result<OwnedFd>,
}

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    let phone = get(answer)?;
    passed.saw(format!(
        "get_a_phone() returned a descriptor (fd {})",
        phone.as_raw_fd()
    ));
    check_kind(&phone)?;
    passed.saw("SO_TYPE says SOCK_STREAM: a line for a conversation");
    check_network(&phone)?;
    passed.saw("its family is AF_INET: an IPv4 phone");
    Ok(passed)
}

/// Calls the learner's function under the chapter's timeout (a `todo!()`,
/// a panic or a hang becomes its own verdict); the kernel's refusal becomes
/// this chapter's. Nothing here waits on a peer, so no `patience` limit is
/// needed; a task that does passes `within = patience::...`.
fn get(answer: &Answer) -> Result<OwnedFd, Failure> {
    let result = learner_call!(chapter(), answer.get_a_phone())?;
    result.map_err(|errno| {
        Failure::new("ch09.socket-error", "get_a_phone() returned an error")
            .expected("Ok(fd): a new socket")
            .got(format!("Err({})", names::errno(errno)))
            .phone(format!(
                "the exchange refused to install the phone: {}.",
                names::errno_phone(errno)
            ))
            .syscall("call socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None) and return what it gives.")
    })
}

fn check_kind(phone: &OwnedFd) -> Result<(), Failure> {
    let kind = kernel::line_kind(phone).map_err(|e| unreadable("SO_TYPE", e))?;
    if kind == SockType::Stream {
        return Ok(());
    }
    Err(Failure::new(
        "ch09.wrong-type",
        "get_a_phone() installed the wrong kind of line",
    )
    .expected("SO_TYPE = SOCK_STREAM")
    .got(format!("SO_TYPE = {}", names::sock_type(kind)))
    .phone("this chapter's phone is a two-way conversation (a stream), not postcards.")
    .syscall("pass SockType::Stream to socket()."))
}

fn check_network(phone: &OwnedFd) -> Result<(), Failure> {
    let family = kernel::network(phone).map_err(|e| unreadable("the family", e))?;
    if family == Some(AddressFamily::Inet) {
        return Ok(());
    }
    let got = family.map(names::family).unwrap_or("no family");
    Err(Failure::new(
        "ch09.not-ipv4",
        "get_a_phone() installed a phone on another network",
    )
    .expected("family AF_INET (IPv4)")
    .got(format!("family {got}"))
    .phone("this phone must be on the IPv4 network.")
    .syscall(format!(
        "pass AddressFamily::Inet to socket(), not the one that gave {got}."
    )))
}

fn unreadable(what: &str, errno: Errno) -> Failure {
    Failure::new(
        "ch09.not-a-socket",
        format!("the kernel couldn't read {what} of your phone"),
    )
    .expected("a socket descriptor")
    .got(format!("{} while reading {what}", names::errno(errno)))
    .phone("what you returned isn't a phone at all.")
    .syscall("return the OwnedFd that socket() gave you.")
}
