//! The scene of chapter 2, narrated line by line.
//!
//! You install a phone (chapter 1's step, done here for you), get it a number
//! with the learner's `get_a_number()`, and ask the kernel which number that
//! is. Then a neighbour tries to take the very same number and is refused
//! with `EADDRINUSE`, and takes a free one instead. Nobody can ring either
//! phone yet: they are numbered but switched off (chapter 3).

use crate::check::Answer;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, kernel, learner, names, party};
use nix::sys::socket::{bind, getsockopt, sockopt, SockaddrIn};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    args::none(s.chapter, args)?;
    s.title(
        "Your phone is on the wall, but nobody can ring a phone without a number. Time to ask the exchange for one.",
    )?;
    let (phone, number) = your_number(s, answer)?;
    s.pause()?;
    shared_number(s, &phone)?;
    s.pause()?;
    let theirs = neighbour(s, answer, &number)?;
    s.pause()?;
    let fds = (phone.as_raw_fd(), theirs.as_raw_fd());
    drop((phone, theirs)); // OwnedFd's Drop calls close(): the numbers are free again.
    s.step(
        Who::You,
        "both phones come off the wall; their numbers go back to the exchange",
        &format!(
            "close(fd {}) and close(fd {}), when the OwnedFds are dropped",
            fds.0, fds.1
        ),
    )?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// Installs a phone; chapter 1 showed how, so it isn't the learner's job here.
fn install(s: &mut Scene, who: Who, words: &str) -> Result<OwnedFd, SceneError> {
    let phone = dialtone_kit::party::new_phone().map_err(sys(
        "socket(AF_INET, SOCK_STREAM, 0)",
        "Close some programs and try again.",
    ))?;
    s.step(
        who,
        words,
        &format!("socket(AF_INET, SOCK_STREAM, 0) = fd {}", phone.as_raw_fd()),
    )?;
    Ok(phone)
}

/// Calls the learner's `get_a_number()` on `phone`, under the chapter's
/// timeout (the closure must own the phone, so it goes in and comes back).
fn get_a_number(
    s: &Scene,
    answer: &Answer,
    phone: OwnedFd,
) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let get_a_number = answer.get_a_number;
    let (phone, result) = learner::call(s.chapter, "get_a_number", move || {
        let result = get_a_number(&phone);
        (phone, result)
    })?;
    let number = result.map_err(sys(
        "get_a_number()",
        "Bind to 127.0.0.1 with port 0; `cargo test -p ch02-get-number` says more.",
    ))?;
    Ok((phone, number))
}

/// Your phone, before and after `get_a_number()`.
fn your_number(s: &mut Scene, answer: &Answer) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let phone = install(s, Who::You, "install a phone (chapter 1's step)")?;
    let fd = phone.as_raw_fd();
    let before = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    s.step(
        Who::You,
        "ask what your number is",
        &format!("getsockname(fd {fd}) = {}", names::addr(&before)),
    )?;
    s.note("0.0.0.0 port 0: no number yet")?;

    // ANCHOR: number
    let (phone, returned) = get_a_number(s, answer, phone)?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    // ANCHOR_END: number
    s.step(
        Who::You,
        "ask the exchange for any free number on the loopback line",
        &format!("get_a_number(fd {fd}) = Ok({})", names::addr(&returned)),
    )?;
    // What get_a_number() did inside, the scene can't see (strace can); only
    // the kernel's answer (getsockname, next) is evidence, so the notes say
    // what that answer shows, never what some answer's code might have done.
    let loopback = number.ip() == Ipv4Addr::LOCALHOST;
    s.step(
        Who::Exchange,
        &format!("your number is {}", names::addr(&number)),
        &format!("getsockname(fd {fd}) = {}", names::addr(&number)),
    )?;
    if !loopback {
        let line = if number.ip().is_unspecified() {
            "0.0.0.0: every line into this machine".to_string()
        } else {
            number.ip().to_string()
        };
        return Err(SceneError::Unexpected(format!(
            "getsockname says {line}, not the loopback line 127.0.0.1 this chapter asks for. `cargo run -- check 2` explains what to change."
        )));
    }
    if party::ephemeral_range().is_some_and(|(low, high)| (low..=high).contains(&number.port())) {
        s.note("a port from the kernel's ephemeral range (ip_local_port_range): what bind() to port 0, \"any free number, please\", is given")?;
    }
    if returned == number {
        s.note("bind() only says yes or no; getsockname() is how you learn which number you got")?;
    } else {
        s.note("get_a_number() returned a different number: return what getsockname() says")?;
    }
    s.note(
        "a well-known number (80 for the web, 7 for echo) is fixed so that callers can find it",
    )?;
    s.note("a kernel-chosen number never clashes, but nobody knows it until you pass it on")?;
    Ok((phone, number))
}

/// SO_REUSEADDR: may another phone share this number? Not on a raw socket.
fn shared_number(s: &mut Scene, phone: &OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    let reuse = getsockopt(phone, sockopt::ReuseAddr)
        .map_err(sys("getsockopt(SO_REUSEADDR)", "Is it a socket?"))?;
    s.step(
        Who::You,
        "ask whether your number may be shared",
        &format!(
            "getsockopt(fd {fd}, SOL_SOCKET, SO_REUSEADDR) = {}",
            u8::from(reuse)
        ),
    )?;
    s.note(
        "a socket from socket() starts with it off. Rust's std::net::TcpListener::bind turns it on",
    )?;
    s.note("(on Unix) so a restarted server can take its number back while old calls wind down")?;
    Ok(())
}

/// A second phone asks for your number, is refused, and takes a free one.
fn neighbour(s: &mut Scene, answer: &Answer, yours: &SockaddrIn) -> Result<OwnedFd, SceneError> {
    let theirs = install(s, Who::Caller, "a neighbour installs a phone")?;
    let fd = theirs.as_raw_fd();
    // ANCHOR: taken
    let taken = bind(fd, yours);
    // ANCHOR_END: taken
    s.step(
        Who::Caller,
        &format!("asks for your number, {}", names::addr(yours)),
        &format!("bind(fd {fd}, {}) = {}", names::addr(yours), outcome(taken)),
    )?;
    if let Err(errno) = taken {
        s.step(
            Who::Exchange,
            &format!("{}: one number, one phone", names::errno_phone(errno)),
            &format!("{errno:?}: a socket is already bound to that address and port"),
        )?;
        s.note("the same error greets a server restarted while its old copy still runs")?;
    }
    let (theirs, number) = get_a_number(s, answer, theirs)?;
    s.step(
        Who::Caller,
        "asks for any free number instead",
        &format!("get_a_number(fd {fd}) = Ok({})", names::addr(&number)),
    )?;
    s.note(if number == *yours {
        "the SAME number as yours: something is hard-wired"
    } else {
        "a different number from yours: with port 0, numbers never clash"
    })?;
    Ok(theirs)
}

/// A syscall's result as strace would show it: `0`, or the errno's name.
fn outcome(result: nix::Result<()>) -> String {
    match result {
        Ok(()) => "0".to_string(),
        Err(errno) => names::errno(errno),
    }
}
