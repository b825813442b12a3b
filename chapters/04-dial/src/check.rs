//! The self-check for chapter 4: does `dial()` really call the number it is
//! given? The check switches on a phone of its own (127.0.0.1, a port the
//! kernel picks), hands its number to `dial()`, and asks the kernel about the
//! phone that comes back: its type, who it is connected to, its own number,
//! and whether the check's phone really rang. Then it dials a number where
//! nobody listens, which must be refused. Nothing reads the learner's source,
//! so any correct answer passes and each wrong one gets its own message.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::{kernel, learner, names, party};
use nix::errno::Errno;
use nix::sys::socket::{accept, SockType, SockaddrIn};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub dial: fn(SockaddrIn) -> nix::Result<OwnedFd>,
}

/// How long the check's phone waits to ring after `dial()` returns. On
/// loopback the call is queued before connect() returns, so this only
/// matters when something is wrong.
const RING_WITHIN: Duration = Duration::from_secs(2);

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    let (callee, number) = party::switched_on_phone().map_err(|e| setup("switch on", e))?;
    let phone = first_dial(answer, number)?;
    passed.saw(format!(
        "dial({}) returned a phone (fd {})",
        names::addr(&number),
        phone.as_raw_fd()
    ));
    check_stream(&phone)?;
    passed.saw("SO_TYPE says SOCK_STREAM: a call, not a postcard");
    check_connected(&phone, &number)?;
    passed.saw(format!(
        "getpeername says {}: connected to the number it was given",
        names::addr(&number)
    ));
    let own = check_own_number(&phone)?;
    passed.saw(format!(
        "getsockname says {}: a number from the exchange's ephemeral pool, and no bind()",
        names::addr(&own)
    ));
    check_it_rang(&callee, &own)?;
    passed.saw("the check's phone rang; picked up, its caller ID is your phone's own number");
    check_second_dial(answer, number, &own)?;
    passed.saw("a second dial while the first call is still on gets a number of its own");
    check_refused(answer)?;
    passed.saw("dialling a number where nobody listens returns Err(ECONNREFUSED)");
    Ok(passed)
}

fn call_dial(answer: &Answer, number: SockaddrIn) -> Result<nix::Result<OwnedFd>, Failure> {
    let dial = answer.dial;
    Ok(learner::call(chapter(), "dial", move || dial(number))?)
}

/// The first dial, to a phone that is switched on: it must go through.
fn first_dial(answer: &Answer, number: SockaddrIn) -> Result<OwnedFd, Failure> {
    let errno = match call_dial(answer, number)? {
        Ok(phone) => return Ok(phone),
        Err(errno) => errno,
    };
    let got = format!("Err({})", names::errno(errno));
    Err(match errno {
        Errno::ECONNREFUSED => wrong_number(&number, got),
        Errno::EADDRINUSE | Errno::EADDRNOTAVAIL => bound_fixed(got),
        _ => Failure::new("ch04.dial-error", "dial() returned an error for a phone that is switched on")
            .expected(format!("Ok(phone): the check's phone at {} is listening", names::addr(&number)))
            .got(got)
            .phone(format!("the exchange wouldn't put the call through: {}.", names::errno_phone(errno)))
            .syscall("dialtone_kit::party::new_phone(), then connect(phone.as_raw_fd(), &number); nothing else."),
    })
}

fn check_stream(phone: &OwnedFd) -> Result<(), Failure> {
    match kernel::line_kind(phone).map_err(|e| not_a_phone("SO_TYPE", e))? {
        SockType::Stream => Ok(()),
        other => Err(Failure::new("ch04.datagram", "dial() returned a postcard box, not a phone on a call")
            .expected("SO_TYPE = SOCK_STREAM")
            .got(format!("SO_TYPE = {}", names::sock_type(other)))
            .phone("a datagram socket's connect() only writes the address on the envelope: nothing rings at the other end, so nobody was called.")
            .syscall("pass SockType::Stream, not SockType::Datagram, to socket().")),
    }
}

fn check_connected(phone: &OwnedFd, number: &SockaddrIn) -> Result<(), Failure> {
    match kernel::other_end(phone) {
        Ok(peer) if peer == *number => Ok(()),
        Ok(peer) => Err(wrong_number(
            number,
            format!("getpeername = {}", names::addr(&peer)),
        )),
        Err(Errno::ENOTCONN) => Err(Failure::new(
            "ch04.not-connected",
            "dial() returned a phone that isn't on a call",
        )
        .expected(format!("getpeername = {}", names::addr(number)))
        .got(format!(
            "getpeername failed with {}",
            names::errno(Errno::ENOTCONN)
        ))
        .phone("you installed a phone but never dialled: nobody is on the other end.")
        .syscall("call connect(phone.as_raw_fd(), &number)? before returning the phone.")),
        Err(e) => Err(not_a_phone("getpeername", e)),
    }
}

/// The caller's own number must be the exchange's choice: loopback (the way
/// to 127.0.0.1) and a port from the ephemeral pool.
fn check_own_number(phone: &OwnedFd) -> Result<SockaddrIn, Failure> {
    let own = kernel::own_number(phone).map_err(|e| not_a_phone("getsockname", e))?;
    let pooled =
        party::ephemeral_range().is_none_or(|(low, high)| (low..=high).contains(&own.port()));
    if own.ip() == Ipv4Addr::LOCALHOST && pooled {
        return Ok(own);
    }
    // Say what is wrong with the number, in the kernel's own terms: a port
    // outside the pool is "not in" it, never "in" it.
    let mut got = format!("getsockname = {}", names::addr(&own));
    if own.ip() != Ipv4Addr::LOCALHOST {
        got.push_str(", not the loopback address 127.0.0.1");
    }
    if !pooled {
        if let Some((low, high)) = party::ephemeral_range() {
            got.push_str(&format!(
                ", port {} not in {low}-{high} (/proc/sys/net/ipv4/ip_local_port_range)",
                own.port()
            ));
        }
    }
    Err(bound_fixed(got))
}

/// The check's phone rang, and the call on it comes from the learner's phone.
fn check_it_rang(callee: &OwnedFd, own: &SockaddrIn) -> Result<(), Failure> {
    let rang = party::ready(callee, RING_WITHIN).map_err(|e| setup("wait for the ring", e))?;
    let caller_id = if rang {
        // poll() said a call is queued, so accept() returns at once.
        let line = accept(callee).map_err(|e| setup("accept", e))?;
        kernel::other_end(&line).ok()
    } else {
        None
    };
    if caller_id == Some(*own) {
        return Ok(());
    }
    Err(Failure::new("ch04.no-ring", "the check's phone didn't ring with your call")
        .expected(format!("a call on the check's phone from {}", names::addr(own)))
        .got(match caller_id {
            Some(other) => format!("a call from {}", names::addr(&other)),
            None => format!("no call within {} s", RING_WITHIN.as_secs()),
        })
        .phone("your phone says it is on a call, but the number you were given never rang.")
        .syscall("connect() the socket you return, to the SockaddrIn you are given, and return that same socket."))
}

/// Two calls at once must each get their own number: a phone bound to a
/// fixed number can only be on one call to a given place at a time.
fn check_second_dial(answer: &Answer, number: SockaddrIn, own: &SockaddrIn) -> Result<(), Failure> {
    match call_dial(answer, number)? {
        Ok(second) => match kernel::own_number(&second) {
            Ok(n) if n.port() != own.port() => Ok(()),
            Ok(n) => Err(bound_fixed(format!(
                "both calls on number {}",
                names::addr(&n)
            ))),
            Err(e) => Err(not_a_phone("getsockname", e)),
        },
        Err(errno @ (Errno::EADDRINUSE | Errno::EADDRNOTAVAIL)) => Err(bound_fixed(format!(
            "the second dial, while the first call was still on: Err({})",
            names::errno(errno)
        ))),
        Err(errno) => Err(Failure::new(
            "ch04.dial-error",
            "a second dial() failed while the first call was still on",
        )
        .expected("Ok(phone): a second call to the same switched-on phone")
        .got(format!("Err({})", names::errno(errno)))
        .phone(format!(
            "the exchange refused the second call: {}.",
            names::errno_phone(errno)
        ))
        .syscall(
            "each dial() should install a new phone with socket() and connect() it; nothing else.",
        )),
    }
}

/// A number with a phone that is bound but switched off must be refused.
fn check_refused(answer: &Answer) -> Result<(), Failure> {
    // The bound phone stays alive until the end: it holds the number, so no
    // other program can start listening there while the check dials it.
    let (_switched_off, number) = party::numbered_phone().map_err(|e| setup("bind", e))?;
    let expected = format!("Err({})", names::errno(Errno::ECONNREFUSED));
    match call_dial(answer, number)? {
        Err(Errno::ECONNREFUSED) => Ok(()),
        Err(errno) => Err(Failure::new("ch04.refused-wrong-error", "dial() reported the wrong trouble for a number nobody answers")
            .expected(expected)
            .got(format!("Err({})", names::errno(errno)))
            .phone("the exchange said \"nobody's phone is switched on at that number\"; pass that on as it is.")
            .syscall("return connect()'s Err unchanged, with `?`; don't replace it with another errno.")),
        Ok(phone) => Err(Failure::new("ch04.refused-ignored", "dial() said a call went through to a number nobody answers")
            .expected(expected)
            .got(match kernel::other_end(&phone) {
                Ok(peer) => format!("Ok(phone), connected to {}", names::addr(&peer)),
                Err(e) => format!("Ok(phone), and getpeername says {}", names::errno(e)),
            })
            .phone("the exchange said nobody's there, and you told your caller the line is open.")
            .syscall("don't discard connect()'s result (`let _ = connect(..)` or `.ok()`); use `connect(..)?` so the Err comes back.")),
    }
}

fn wrong_number(number: &SockaddrIn, got: String) -> Failure {
    Failure::new(
        "ch04.wrong-number",
        "dial() called a different number than the one it was given",
    )
    .expected(format!(
        "a call to {}, the number passed in",
        names::addr(number)
    ))
    .got(got)
    .phone(
        "you dialled a number of your own choosing instead of the one on the note you were handed.",
    )
    .syscall("pass the `number` argument to connect(); don't build a SockaddrIn of your own.")
}

fn bound_fixed(got: String) -> Failure {
    Failure::new("ch04.bound-fixed", "dial() gave its phone a fixed number before dialling")
        .expected(format!("a number the exchange picks: 127.0.0.1 and a port{}", pool_words()))
        .got(got)
        .phone("a caller doesn't need a number of its own before dialling; the exchange hands one out, a new one for every call.")
        .syscall("remove the bind() from dial(): connect() on an unbound socket picks an ephemeral port for you.")
}

fn pool_words() -> String {
    party::ephemeral_range()
        .map(|(low, high)| format!(" in {low}-{high} (/proc/sys/net/ipv4/ip_local_port_range)"))
        .unwrap_or_default()
}

fn not_a_phone(what: &str, errno: Errno) -> Failure {
    Failure::new(
        "ch04.not-a-socket",
        format!("the kernel couldn't read {what} of your phone"),
    )
    .expected("a socket descriptor")
    .got(format!("{} while reading {what}", names::errno(errno)))
    .phone("what you returned isn't a phone at all.")
    .syscall("return the OwnedFd that socket() gave you, after connect()ing it.")
}

/// The check's own phone failed: not the learner's fault, so say so.
fn setup(what: &str, errno: Errno) -> Failure {
    Failure::new("ch04.setup", format!("the self-check could not {what} its own phone"))
        .expected("a loopback phone for the check")
        .got(names::errno(errno))
        .phone("the check's own phone is out of order; this is not your answer's fault.")
        .syscall("is the loopback interface up (`ip addr show lo`)? Are descriptors exhausted (`ulimit -n`)?")
}
