//! The self-check for chapter 4: does `dial()` really call the number it is
//! given? The check switches on a phone of its own (127.0.0.1, a port the
//! kernel picks), hands its number to `dial()`, and asks the kernel about the
//! phone that comes back: its type, who it is connected to, its own number,
//! and whether the check's phone really rang. Then it dials a number where
//! nobody listens, which must be refused. Nothing reads the learner's source,
//! so any correct answer passes and each wrong one gets its own message.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::patience::ALREADY_IN_THE_KERNEL;
use dialtone_kit::task::unreadable;
use dialtone_kit::{kernel, learner_call, names, party, wire};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{accept, recv, AddressFamily, MsgFlags, SockType, SockaddrIn};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub dial: fn(SockaddrIn) -> nix::Result<OwnedFd>,
}

/// How long the check's end waits for words or a hang-up that dial() should
/// never have sent. The wait runs out on every right answer, so it is short:
/// on loopback whatever dial() wrote or shut down arrived before it returned.
const NOTHING_WITHIN: Duration = Duration::from_millis(50);

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
    passed.saw("SO_TYPE says SOCK_STREAM, and its number is AF_INET: a call, not a postcard");
    check_blocking(&phone)?;
    passed
        .saw("F_GETFL has no O_NONBLOCK: an ordinary phone, whose connect() waits for the answer");
    check_one_handset(&phone)?;
    passed.saw("/proc/self/fd holds that socket once: no second handset kept back");
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
    passed.saw("the check's phone rang; picked up, its caller ID is your phone's own number, and the line is quiet (dial() neither talked nor hung up)");
    check_second_dial(answer, number, &own)?;
    passed.saw("a second dial while the first call is still on gets a number of its own");
    check_refused(answer)?;
    passed.saw("dialling a number where nobody listens returns Err(ECONNREFUSED)");
    Ok(passed)
}

fn call_dial(answer: &Answer, number: SockaddrIn) -> Result<nix::Result<OwnedFd>, Failure> {
    Ok(learner_call!(chapter(), answer.dial(number))?)
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
        Errno::EINPROGRESS | Errno::EAGAIN | Errno::EALREADY => nonblocking(got),
        Errno::EINVAL | Errno::EAFNOSUPPORT => wrong_family(got),
        Errno::EISCONN => switched_on(got),
        _ => Failure::new(
            "ch04.dial-error",
            "dial() returned an error for a phone that is switched on",
        )
        .expected(format!(
            "Ok(phone): the check's phone at {} is listening",
            names::addr(&number)
        ))
        .got(got)
        .phone(format!(
            "the exchange wouldn't put the call through: {}.",
            names::errno_phone(errno)
        ))
        .syscall(RECIPE),
    })
}

/// The two calls dial() needs, spelled out as the learner writes them.
const RECIPE: &str = "socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)?, then connect(phone.as_raw_fd(), &number)?; nothing else.";

fn check_stream(phone: &OwnedFd) -> Result<(), Failure> {
    // The family first: an IPv6 phone can also be connected to 127.0.0.1
    // (as ::ffff:127.0.0.1), but the task is an IPv4 phone.
    match kernel::network(phone) {
        Ok(Some(AddressFamily::Inet)) => {}
        Ok(other) => {
            return Err(wrong_family(format!(
                "getsockname says the phone is {}",
                other.map_or("of no family", names::family)
            )))
        }
        Err(e) => return Err(not_a_phone("getsockname", e)),
    }
    match kernel::line_kind(phone).map_err(|e| not_a_phone("SO_TYPE", e))? {
        SockType::Stream => Ok(()),
        other => Err(Failure::new("ch04.datagram", "dial() returned a postcard box, not a phone on a call")
            .expected("SO_TYPE = SOCK_STREAM")
            .got(format!("SO_TYPE = {}", names::sock_type(other)))
            .phone("a datagram socket's connect() only writes the address on the envelope: nothing rings at the other end, so nobody was called.")
            .syscall("pass SockType::Stream, not SockType::Datagram, to socket().")),
    }
}

/// dial() returns an ordinary, blocking phone. With `SOCK_NONBLOCK`,
/// connect() returns EINPROGRESS before the call is through (that is
/// non-blocking connect, Part IV); set afterwards, every later read says
/// EAGAIN instead of waiting.
fn check_blocking(phone: &OwnedFd) -> Result<(), Failure> {
    let flags = fcntl(phone, FcntlArg::F_GETFL)
        .map(OFlag::from_bits_truncate)
        .map_err(|e| not_a_phone("F_GETFL", e))?;
    if flags.contains(OFlag::O_NONBLOCK) {
        return Err(nonblocking("F_GETFL has O_NONBLOCK".into()));
    }
    Ok(())
}

/// Exactly one descriptor in this process holds the phone dial() returned:
/// a dup kept back (in a static, a thread) would keep the call on after the
/// caller hangs up its own handset.
fn check_one_handset(phone: &OwnedFd) -> Result<(), Failure> {
    let handsets = wire::handsets_on(phone);
    if handsets <= 1 {
        return Ok(());
    }
    Err(Failure::new("ch04.extra-handset", "dial() kept a second handset on the call")
        .expected("one descriptor for the call: the one dial() returned")
        .got(format!("{handsets} descriptors in /proc/self/fd name {}", kernel::fd_target(phone.as_raw_fd()).unwrap_or_default()))
        .phone("you kept an extension on the call: when your caller hangs up, the line stays open and the other side never hears the click.")
        .syscall("return the OwnedFd from socket() itself; don't keep a try_clone() (a dup) of it anywhere."))
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
    let rang =
        party::ready(callee, ALREADY_IN_THE_KERNEL).map_err(|e| setup("wait for the ring", e))?;
    let mut line = None;
    let caller_id = if rang {
        // poll() said a call is queued, so accept() returns at once.
        let picked = accept(callee).map_err(|e| setup("accept", e))?;
        let id = kernel::other_end(&picked).ok();
        line = Some(picked);
        id
    } else {
        None
    };
    if let (Some(line), true) = (line, caller_id == Some(*own)) {
        return check_quiet(&line);
    }
    Err(Failure::new("ch04.no-ring", "the check's phone didn't ring with your call")
        .expected(format!("a call on the check's phone from {}", names::addr(own)))
        .got(match caller_id {
            Some(other) => format!("a call from {}", names::addr(&other)),
            None => format!("no call within {} s", ALREADY_IN_THE_KERNEL.as_secs()),
        })
        .phone("your phone says it is on a call, but the number you were given never rang.")
        .syscall("connect() the socket you return, to the SockaddrIn you are given, and return that same socket."))
}

/// Dialling is all dial() does: the check's end of the call has nothing to
/// read, neither words (chapter 6) nor a hang-up (chapter 7).
fn check_quiet(line: &OwnedFd) -> Result<(), Failure> {
    if !party::ready(line, NOTHING_WITHIN).map_err(|e| setup("poll", e))? {
        return Ok(());
    }
    let mut buf = [0u8; 64];
    let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT;
    let n = recv(line.as_raw_fd(), &mut buf, flags).unwrap_or(0);
    let heard = &buf[..n];
    let (id, headline, got) = if heard.is_empty() {
        (
            "ch04.hung-up",
            "dial() hung up the call it made",
            "read() on the check's end returns 0 (end-of-file) before your caller did anything"
                .to_string(),
        )
    } else {
        (
            "ch04.spoke-first",
            "dial() talked before handing the phone over",
            format!(
                "the check's end heard {} byte(s): {:?}",
                heard.len(),
                String::from_utf8_lossy(heard)
            ),
        )
    };
    Err(Failure::new(id, headline)
        .expected("a quiet line: dial() only dials")
        .got(got)
        .phone("your caller gets a phone on which something was already said or the call already ended.")
        .syscall("dial() is socket() and connect(); write() and shutdown() belong to whoever holds the phone next (chapters 6 and 7)."))
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
        .syscall(format!("each dial() installs a new phone: {RECIPE}"))),
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

fn nonblocking(got: String) -> Failure {
    Failure::new("ch04.nonblocking", "dial() made a non-blocking phone")
        .expected("Ok(phone), an ordinary (blocking) socket: connect() returns once the call is through")
        .got(got)
        .phone("you dialled and walked away before anyone answered: the call may or may not be through when you hand the phone over.")
        .syscall("pass SockFlag::empty(), not SOCK_NONBLOCK, and don't set O_NONBLOCK: a non-blocking connect() says EINPROGRESS, and finishing it needs poll() and SO_ERROR (Part IV).")
}

fn wrong_family(got: String) -> Failure {
    Failure::new("ch04.wrong-family", "dial()'s phone is not an IPv4 phone")
        .expected("a socket of AddressFamily::Inet, connected to the IPv4 number given")
        .got(got)
        .phone("you installed a phone for a different family of numbers, so it can't take this number (or takes it translated).")
        .syscall("socket(AddressFamily::Inet, ..): connect() on an AF_INET6 or AF_UNIX socket with a SockaddrIn fails with EINVAL.")
}

fn switched_on(got: String) -> Failure {
    Failure::new(
        "ch04.switched-on",
        "dial() switched its phone on (listen) before dialling",
    )
    .expected(format!(
        "Ok(phone): the check's phone is listening; {RECIPE}"
    ))
    .got(format!(
        "{got}: the kernel says a listening socket is not free to dial"
    ))
    .phone("a phone waiting for calls can't make one: listen() is the callee's side (chapter 3).")
    .syscall("remove bind() and listen() from dial(); a caller only needs socket() and connect().")
}

fn pool_words() -> String {
    party::ephemeral_range()
        .map(|(low, high)| format!(" in {low}-{high} (/proc/sys/net/ipv4/ip_local_port_range)"))
        .unwrap_or_default()
}

fn not_a_phone(what: &str, errno: Errno) -> Failure {
    unreadable(chapter(), what, "your phone", errno)
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
