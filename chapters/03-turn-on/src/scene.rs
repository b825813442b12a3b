//! The scene of chapter 3, narrated line by line.
//!
//! First a phone that has a number but is switched off: `SO_ACCEPTCONN` is 0
//! and a caller gets `ECONNREFUSED`. Then the learner's `open_for_calls()`
//! phone: `SO_ACCEPTCONN` is 1, and two callers' `connect()` calls complete
//! while nobody picks up, because the kernel queues them (the backlog).
//! Picking up is chapter 5; the callers here dial as chapter 4 will teach.

use crate::check::{dial, Answer, RING_OUT};
use dialtone_kit::patience::ALREADY_IN_THE_KERNEL;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, kernel, learner_call, names, party};
use nix::errno::Errno;
use nix::sys::socket::{bind, SockaddrIn};
use nix::unistd::read;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    args::none(s.chapter, args)?;
    s.title("Your phone has a number, so callers can dial it. But will it ring?")?;
    switched_off(s)?;
    s.pause()?;
    let (phone, number) = switched_on(s, answer)?;
    s.pause()?;
    let callers = on_hold(s, &number)?;
    s.pause()?;
    let fd = phone.as_raw_fd();
    drop(phone); // close(): the phone comes off the wall, queue and all.
    s.step(
        Who::You,
        "walk away without picking up",
        &format!("close(fd {fd}), when the OwnedFd is dropped"),
    )?;
    cut_off(s, &callers)?;
    drop(callers);
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// A numbered phone nobody switched on: the exchange refuses its callers.
fn switched_off(s: &mut Scene) -> SceneResult {
    let (phone, number) = numbered_phone()?;
    let fd = phone.as_raw_fd();
    s.step(
        Who::You,
        "install a phone and give it a number (chapters 1 and 2)",
        &format!(
            "socket(..) = fd {fd}; bind(fd {fd}, {}) = 0",
            names::addr(&number)
        ),
    )?;
    // ANCHOR: off
    let on =
        kernel::switched_on(&phone).map_err(sys("getsockopt(SO_ACCEPTCONN)", "Is it a socket?"))?;
    let refused = dial(&number, RING_OUT);
    // ANCHOR_END: off
    s.step(
        Who::You,
        "ask the exchange whether the phone is switched on",
        &format!(
            "getsockopt(fd {fd}, SOL_SOCKET, SO_ACCEPTCONN) = {}",
            u8::from(on)
        ),
    )?;
    s.step(
        Who::Caller,
        &format!("dial {}", names::addr(&number)),
        &format!(
            "connect(.., {}) = {}",
            names::addr(&number),
            outcome(&refused)
        ),
    )?;
    if let Err(errno) = refused {
        s.step(
            Who::Exchange,
            names::errno_phone(errno),
            "nothing listens there: the kernel answers the SYN with a RST",
        )?;
    }
    s.note("a number alone doesn't make a phone ring")?;
    s.note("the kernel doesn't close a refused caller's socket, but after a failed connect() its state is unspecified (connect(2)), so a caller closes it and installs a new one to try again")?;
    drop(phone);
    s.step(
        Who::You,
        "take the switched-off phone off the wall",
        &format!("close(fd {fd}), when the OwnedFd is dropped"),
    )?;
    Ok(())
}

/// Chapters 1 and 2 in one go, for the switched-off phone.
fn numbered_phone() -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let phone = dialtone_kit::party::new_phone().map_err(sys(
        "socket(AF_INET, SOCK_STREAM, 0)",
        "Close some programs and try again.",
    ))?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).map_err(sys(
        "bind(127.0.0.1 port 0)",
        "Is the loopback line up (ip addr show lo)?",
    ))?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    Ok((phone, number))
}

/// The learner's `open_for_calls()`, and the same question as before.
fn switched_on(s: &mut Scene, answer: &Answer) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    // ANCHOR: open
    let (phone, number) = learner_call!(s.chapter, answer.open_for_calls())?.map_err(sys(
        "open_for_calls()",
        "`cargo test -p ch03-turn-on` says which step went wrong.",
    ))?;
    let on =
        kernel::switched_on(&phone).map_err(sys("getsockopt(SO_ACCEPTCONN)", "Is it a socket?"))?;
    // ANCHOR_END: open
    let fd = phone.as_raw_fd();
    s.step(
        Who::You,
        "open a phone for calls: install it, number it, switch it on",
        &format!("open_for_calls() = Ok((fd {fd}, {}))", names::addr(&number)),
    )?;
    // What open_for_calls() did inside, the scene can't see: it asks the
    // kernel which number the phone really has, and only says what the
    // reference answer does when the kernel agrees with it.
    let filed = kernel::own_number(&phone).map_err(sys("getsockname", "Is it an IPv4 socket?"))?;
    if filed.ip() != Ipv4Addr::LOCALHOST {
        s.step(
            Who::Exchange,
            &format!("this phone's number is {}", names::addr(&filed)),
            &format!("getsockname(fd {fd}) = {}", names::addr(&filed)),
        )?;
        let line = if filed.ip().is_unspecified() {
            "0.0.0.0: every line into this machine".to_string()
        } else {
            filed.ip().to_string()
        };
        return Err(SceneError::Unexpected(format!(
            "getsockname says {line}, not the loopback line 127.0.0.1 this chapter asks for. `cargo run -- check 3` explains what to change."
        )));
    }
    s.step(
        Who::You,
        "ask the exchange whether this phone is switched on",
        &format!(
            "getsockopt(fd {fd}, SOL_SOCKET, SO_ACCEPTCONN) = {}",
            u8::from(on)
        ),
    )?;
    s.note(if on {
        "0 for the switched-off phone, 1 for this one: listen() is the whole difference"
    } else {
        "still 0: this phone is not listening, so it won't ring either"
    })?;
    Ok((phone, number))
}

/// Two callers dial the switched-on phone; nobody picks up, yet both get through.
fn on_hold(s: &mut Scene, number: &SockaddrIn) -> Result<Vec<OwnedFd>, SceneError> {
    let mut callers = Vec::new();
    let at = names::addr(number);
    for (i, words) in [
        format!("a caller dials {at}"),
        format!("a second caller dials {at} too"),
    ]
    .into_iter()
    .enumerate()
    {
        // ANCHOR: dial
        let caller = dial(number, RING_OUT).map_err(|errno| rang_out(number, errno))?;
        let reached = kernel::other_end(&caller).map_err(sys("getpeername", "Is it connected?"))?;
        // ANCHOR_END: dial
        let fd = caller.as_raw_fd();
        s.step(
            Who::Caller,
            &words,
            &format!("connect(fd {fd}, {}) = 0", names::addr(number)),
        )?;
        s.step(
            Who::Exchange,
            "the call is through, and on hold until you pick up",
            &format!("getpeername(fd {fd}) = {}", names::addr(&reached)),
        )?;
        if i == 0 {
            s.note("nobody has called accept(), yet connect() returned 0: the kernel answered the handshake itself and put the call in the phone's queue, where accept() finds it")?;
        }
        callers.push(caller);
    }
    s.note("the backlog you pass to listen() sizes that queue of finished calls, the accept queue; handshakes still under way wait in a second one, the SYN queue, which Linux caps at the backlog too (then come SYN cookies)")?;
    s.note("when the accept queue is full, Linux drops new callers' SYNs and they keep ringing; nstat's TcpExtListenOverflows counts each one turned away")?;
    s.note("a few calls is plenty here; a busy server asks for more: SOMAXCONN (nix: Backlog::MAXCONN) is a constant, 4096 with glibc, and Linux caps any backlog at the sysctl net.core.somaxconn, which Backlog::MAXALLOWABLE asks for")?;
    s.hold("Two calls wait in the phone's queue (ss -ltn: Recv-Q 2)")?;
    Ok(callers)
}

/// The first caller on hold listens, and hears what closing the phone did
/// to the queued calls: the kernel reset them.
fn cut_off(s: &mut Scene, callers: &[OwnedFd]) -> SceneResult {
    let Some(caller) = callers.first() else {
        return Ok(());
    };
    let fd = caller.as_raw_fd();
    // poll() first, so a caller that hears nothing can't hang the scene.
    // Nothing heard in time is said as such, not dressed up as an errno the
    // kernel never returned.
    let heard = match party::ready(caller, ALREADY_IN_THE_KERNEL) {
        Ok(true) => match read(caller, &mut [0u8; 16]) {
            Ok(n) => format!("read(fd {fd}, ..) = {n}"),
            Err(errno) => format!("read(fd {fd}, ..) = {}", names::errno(errno)),
        },
        Ok(false) => format!("poll(fd {fd}, POLLIN) = 0: nothing to hear"),
        Err(errno) => format!("poll(fd {fd}) = {}", names::errno(errno)),
    };
    s.step(Who::Caller, "the first caller on hold listens", &heard)?;
    s.note(if heard.contains("= ECONNRESET") {
        "the calls on hold were cut off with the phone: the kernel reset each one (chapter 5 picks them up instead)"
    } else {
        "the call on hold did not end with a reset: the kernel should reset calls queued on a closed phone"
    })?;
    Ok(())
}

/// A caller who couldn't get through, in one line: what connect() said.
fn rang_out(number: &SockaddrIn, errno: Errno) -> SceneError {
    let said = format!(
        "connect(.., {}) = {}",
        names::addr(number),
        names::errno(errno)
    );
    SceneError::Unexpected(match errno {
        Errno::EINPROGRESS => format!(
            "The caller gave up after {} s: {said}, Linux's answer when SO_SNDTIMEO runs out mid-handshake. The phone's queue is full: is the listen() backlog at least 1? (Linux holds backlog + 1 waiting calls.)",
            RING_OUT.as_secs()
        ),
        _ => format!("The caller couldn't get through: {said}. `cargo run -- check 3` explains what to change."),
    })
}

/// A connect's result as strace would show it: `0`, or the errno's name.
fn outcome(result: &nix::Result<OwnedFd>) -> String {
    match result {
        Ok(_) => "0".to_string(),
        Err(errno) => names::errno(*errno),
    }
}
