//! The scene of chapter 2, narrated line by line.
//!
//! You install a phone (chapter 1's step, done here for you), get it a number
//! with the learner's `get_a_number()`, and ask the kernel which number that
//! is. Then a neighbour tries to take the very same number and is refused
//! with `EADDRINUSE`, and takes a free one instead. Nobody can ring either
//! phone yet: they are numbered but switched off (chapter 3).
//!
//! Last, the trap after a server stops: a shop (its phone switched on and
//! picked up with the calls of chapters 3-5, done here for you) hangs up on
//! a caller first, and its side of the call waits in `TIME_WAIT`; its number
//! can be taken again at once only if the old phone and the new one both set
//! `SO_REUSEADDR`. Then its neighbour option: two phones with `SO_REUSEPORT`
//! switched on at one number, and a phone without it refused.

use crate::check::Answer;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, kernel, learner_call, names, party};
use nix::sys::socket::{
    accept, bind, getsockopt, listen, setsockopt, sockopt, Backlog, SockaddrIn,
};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long the scene waits for the kernel to finish a loopback hang-up (it
/// takes microseconds; the bound only keeps a broken kernel from hanging us).
const HANG_UP: Duration = Duration::from_secs(2);

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
        "both phones come off the wall; their numbers are free again",
        &format!(
            "close(fd {}) and close(fd {}), when the OwnedFds are dropped",
            fds.0, fds.1
        ),
    )?;
    s.pause()?;
    time_wait(s, false)?;
    s.pause()?;
    time_wait(s, true)?;
    s.pause()?;
    reuse_port(s)?;
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
    let (phone, result) = learner_call!(s.chapter, answer.get_a_number, move |get_a_number| {
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
    s.note("a socket from socket() starts with it off. Rust's std::net::TcpListener::bind turns it on (on Unix), so a restarted server can take its number back while old calls wind down (TIME_WAIT, at the end)")?;
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
            names::errno_phone(errno),
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
        Err(errno) => format!("{errno:?}"),
    }
}

/// A shop takes one call and hangs up first; then, closed, it asks for its
/// number back. `reuse`: the shop set `SO_REUSEADDR` from the start.
fn time_wait(s: &mut Scene, reuse: bool) -> SceneResult {
    let (shop, number) = shop(reuse)?;
    let at = names::addr(&number);
    let caller = party::dial(&number).map_err(sys("connect", "Is the loopback line up?"))?;
    let line = accept(&shop).map_err(sys("accept", "Is the shop switched on?"))?;
    let (a, c, l) = (shop.as_raw_fd(), caller.as_raw_fd(), line.as_raw_fd());
    let opens = if reuse {
        format!("another shop sets SO_REUSEADDR and opens at {at}")
    } else {
        format!("a shop opens at {at} (chapters 3-5)")
    };
    s.step(Who::Callee, &opens, &format!("listen(fd {a}, 4) = 0"))?;
    s.step(
        Who::Caller,
        "a caller rings, and the shop picks up",
        &format!("connect(fd {c}, {at}) = 0; accept(fd {a}) = fd {l}"),
    )?;
    let caller_number =
        kernel::own_number(&caller).map_err(sys("getsockname", "Is it a socket?"))?;
    drop(line); // the shop hangs up first: its kernel sends FIN
    s.step(
        Who::Callee,
        "the shop hangs up first",
        &format!("close(fd {l})"),
    )?;
    let heard = party::hear(&caller, 1, HANG_UP).map_err(sys("read", "Is it a socket?"))?;
    drop(caller); // the caller hears the end of file and hangs up too
    let read = if heard.is_empty() {
        "0 (end of file)"
    } else {
        "data"
    };
    s.step(
        Who::Caller,
        "the caller hears it and hangs up too",
        &format!("read(fd {c}) = {read}; close(fd {c})"),
    )?;
    drop(shop);
    s.step(Who::Callee, "the shop closes", &format!("close(fd {a})"))?;
    calls_left(s, &number, &caller_number)?;
    if !reuse {
        s.hold("The shop's side of its last call waits in TIME_WAIT (ss -tan state time-wait)")?;
    }
    ask_back(s, reuse, &number)
}

/// What the kernel's table of calls says is left of the call, on each side.
fn calls_left(s: &mut Scene, shop: &SockaddrIn, caller: &SockaddrIn) -> SceneResult {
    let (shop_side, caller_side) = wait_for_time_wait(shop, caller);
    let (at, from) = (names::addr(shop), names::addr(caller));
    s.step(
        Who::Exchange,
        "the shop's side, which hung up first, waits",
        &format!("/proc/net/tcp: {at} -> {from} {shop_side}"),
    )?;
    s.step(
        Who::Exchange,
        "the caller's side is over",
        &format!("/proc/net/tcp: {from} -> {at} {caller_side}"),
    )?;
    Ok(())
}

/// The shop's phone: switched on at a free loopback number.
fn shop(reuse: bool) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let phone = dialtone_kit::party::new_phone().map_err(sys("socket", "Close some programs."))?;
    if reuse {
        setsockopt(&phone, sockopt::ReuseAddr, &true)
            .map_err(sys("setsockopt", "Is it a socket?"))?;
    }
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).map_err(sys("bind", "Is lo up?"))?;
    let backlog = Backlog::new(4).map_err(sys("Backlog::new(4)", "4 is a valid backlog."))?;
    listen(&phone, backlog).map_err(sys("listen", "Is it a stream socket?"))?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    Ok((phone, number))
}

/// `SO_REUSEADDR`'s neighbour, `SO_REUSEPORT` (Linux 3.9+): two phones
/// that both set it are switched on at one number at the same time; a phone
/// without it is refused that number. Which of the two a caller reaches
/// depends on a hash of the caller's numbers, so the scene dials neither.
fn reuse_port(s: &mut Scene) -> SceneResult {
    let (first, number) = port_sharer(0)?;
    let f = first.as_raw_fd();
    s.step(
        Who::Callee,
        "a third shop sets SO_REUSEPORT and opens",
        &format!(
            "setsockopt(fd {f}, SOL_SOCKET, SO_REUSEPORT, 1); bind(fd {f}, 127.0.0.1:0); listen(fd {f}, 4) = 0; getsockname = {}",
            names::addr(&number)
        ),
    )?;
    let (second, again) = port_sharer(number.port())?;
    let g = second.as_raw_fd();
    s.step(
        Who::Callee,
        "a fourth does the same, at that same number",
        &format!(
            "setsockopt(fd {g}, SOL_SOCKET, SO_REUSEPORT, 1); bind(fd {g}, {}); listen(fd {g}, 4) = 0",
            names::addr(&again)
        ),
    )?;
    s.note("two phones switched on at one number: each sets SO_REUSEPORT (and belongs to the same user), and the kernel spreads new callers between them")?;
    let plain = party::new_phone().map_err(sys("socket", "Close some programs."))?;
    let p = plain.as_raw_fd();
    let taken = bind(p, &number);
    s.step(
        Who::Callee,
        "a fifth shop, without the option, asks for that number",
        &format!(
            "socket(..) = fd {p}; bind(fd {p}, {}) = {}",
            names::addr(&number),
            outcome(taken)
        ),
    )?;
    s.note("SO_REUSEPORT shares a number among live phones that all ask for it; SO_REUSEADDR is about old calls in TIME_WAIT (socket(7))")?;
    drop((first, second, plain));
    Ok(())
}

/// A shop with `SO_REUSEPORT`, switched on at 127.0.0.1:`port` (0: any).
fn port_sharer(port: u16) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let phone = party::new_phone().map_err(sys("socket", "Close some programs."))?;
    setsockopt(&phone, sockopt::ReusePort, &true)
        .map_err(sys("setsockopt(SO_REUSEPORT)", "Is it a socket?"))?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))
        .map_err(sys(format!("bind(127.0.0.1:{port})"), "Is lo up?"))?;
    let backlog = Backlog::new(4).map_err(sys("Backlog::new(4)", "4 is a valid backlog."))?;
    listen(&phone, backlog).map_err(sys("listen", "Is it a stream socket?"))?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    Ok((phone, number))
}

/// The reopened shop, with `SO_REUSEADDR` on its new phone, asks for its number.
fn ask_back(s: &mut Scene, old_had_it: bool, number: &SockaddrIn) -> SceneResult {
    let again = dialtone_kit::party::new_phone().map_err(sys("socket", "Close some programs."))?;
    setsockopt(&again, sockopt::ReuseAddr, &true).map_err(sys("setsockopt", "Is it a socket?"))?;
    let fd = again.as_raw_fd();
    let taken = bind(fd, number);
    s.step(
        Who::Callee,
        "the shop reopens: a new phone, with SO_REUSEADDR",
        &format!("setsockopt(fd {fd}, SOL_SOCKET, SO_REUSEADDR, 1) = 0"),
    )?;
    s.step(
        Who::Callee,
        "it asks for its old number back",
        &format!(
            "bind(fd {fd}, {}) = {}",
            names::addr(number),
            outcome(taken)
        ),
    )?;
    s.note(match (old_had_it, taken.is_ok()) {
        (false, false) => "on Linux a number is shared with a TIME_WAIT call only if the old phone had SO_REUSEADDR too; this one didn't, so the number stays taken for 60 s (ss -tan state time-wait lists such calls)",
        (true, true) => "both the old phone and the new one set SO_REUSEADDR, so the number is free again at once: what a server does every time it starts",
        (false, true) => "the number was free at once, though the old phone had no SO_REUSEADDR: this kernel does not keep the hung-up side in TIME_WAIT",
        (true, false) => "refused, though both phones set SO_REUSEADDR: another phone holds this number",
    })?;
    Ok(())
}

/// The states `/proc/net/tcp` shows for the shop's side and the caller's side
/// of the call, once the shop's is `TIME_WAIT` or `HANG_UP` has passed.
fn wait_for_time_wait(shop: &SockaddrIn, caller: &SockaddrIn) -> (String, String) {
    let deadline = Instant::now() + HANG_UP;
    loop {
        let sides = (tcp_state(shop, caller), tcp_state(caller, shop));
        let settled = sides.0 == "TIME_WAIT" && sides.1 == "gone";
        if settled || Instant::now() >= deadline {
            return sides;
        }
        // The kernel finishes a loopback hang-up in microseconds; let it run.
        std::thread::yield_now();
    }
}

/// The state of the call from `local` to `remote` in `/proc/self/net/tcp`
/// (Linux), by name, or "gone" when the kernel has forgotten it.
fn tcp_state(local: &SockaddrIn, remote: &SockaddrIn) -> String {
    let hex = |a: &SockaddrIn| format!("{:08X}:{:04X}", u32::from(a.ip()).swap_bytes(), a.port());
    let (want_local, want_remote) = (hex(local), hex(remote));
    let table = std::fs::read_to_string("/proc/self/net/tcp").unwrap_or_default();
    let state = table.lines().skip(1).find_map(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        (fields.get(1) == Some(&want_local.as_str())
            && fields.get(2) == Some(&want_remote.as_str()))
        .then(|| fields.get(3).copied().unwrap_or(""))
    });
    match state {
        None => "gone".to_string(),
        Some("01") => "ESTABLISHED".to_string(),
        Some("04") => "FIN_WAIT1".to_string(),
        Some("05") => "FIN_WAIT2".to_string(),
        Some("06") => "TIME_WAIT".to_string(),
        Some("08") => "CLOSE_WAIT".to_string(),
        Some("09") => "LAST_ACK".to_string(),
        Some(other) => format!("state {other}"),
    }
}
