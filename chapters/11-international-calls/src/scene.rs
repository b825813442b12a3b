//! The scene of chapter 11, narrated line by line; or, with `--listen`, an
//! IPv6 phone that tells each real caller the number they called from.
//!
//! The scene: your phone goes on the IPv6 loopback line (`::1`) with the
//! learner's `open_listener()`. A name's two numbers are dialled, a dead
//! IPv4 one first: a caller who tries only the first is refused, the
//! learner's `dial_each()` tries both and gets through. Then an IPv6 phone
//! with v6-only off takes an IPv4 caller, who shows up as
//! `::ffff:127.0.0.1`, and the same number with v6-only on is refused.
//! Everything is on loopback; every wait has a deadline.

use crate::chapter;
use crate::check::{self, Answer};
use dialtone_kit::args::{self, Flag};
use dialtone_kit::learner_call;
use dialtone_kit::party::{self, Kind};
use dialtone_kit::patience::{ALREADY_IN_THE_KERNEL, RING_OUT};
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{kernel, names};
use nix::errno::Errno;
use nix::sys::socket::{
    accept, connect, getsockopt, setsockopt, sockopt, AddressFamily, SockType, SockaddrIn6,
    SockaddrStorage,
};
use nix::sys::time::{TimeVal, TimeValLike};
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};

/// What the binary was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    /// No flags: play the scene.
    Scene,
    /// `--listen [IPV6]:PORT`: answer real callers there.
    Listen(SockaddrIn6),
}

/// `--listen [IPV6]:PORT`: an IPv6 phone for real callers.
pub const LISTEN: Flag = Flag {
    name: "--listen",
    example: "[::1]:0",
    does: "put an IPv6 phone at [IPV6]:PORT that tells each caller the number they called from, until Ctrl-C",
    note: "--listen alone is [::1]:0 (a free port); --listen PORT is [::1]:PORT. [::ffff:127.0.0.1]:0 (IPV6_V6ONLY off) takes IPv4 callers on loopback; [::] is every interface.",
};

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    match parse(args)? {
        Mode::Scene => scene(s, answer),
        Mode::Listen(number) => listen_for_real(s, answer, number),
    }
}

/// The arguments: none, `--hold`, or `--listen` with an optional
/// `[IPV6]:PORT` (the kit's parser is IPv4-only: this one is for Part III's
/// numbers). Bare `--listen` is `[::1]:0`; a port alone is `[::1]:PORT`.
pub fn parse(args: &[String]) -> Result<Mode, SceneError> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Err(SceneError::Help(args::help(chapter(), Some(&LISTEN))));
    }
    let rest: Vec<&String> = args.iter().filter(|a| *a != args::HOLD).collect();
    let number = match rest.as_slice() {
        [] => return Ok(Mode::Scene),
        [f] if *f == LISTEN.name => SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0, 0, 0),
        [f, value] if *f == LISTEN.name => parse_number(value).map_err(|why| {
            usage(format!("{} {}: {why}", LISTEN.name, args::quoted(value)))
        })?,
        [f, _, extra, ..] if *f == LISTEN.name => {
            return Err(usage(format!(
                "unexpected argument {}: --listen takes one [IPV6]:PORT",
                args::quoted(extra)
            )))
        }
        [other, ..] => {
            return Err(usage(format!(
                "unexpected argument {}: the scene takes no arguments but {}, and --listen takes one [IPV6]:PORT",
                args::quoted(other),
                args::HOLD
            )))
        }
    };
    let number = SockaddrIn6::from(number);
    if let Some(warning) = args::beyond_loopback6(&number) {
        // One line, and never a panic if stderr is closed.
        let _ = writeln!(std::io::stderr(), "{warning}");
    }
    Ok(Mode::Listen(number))
}

fn usage(why: String) -> SceneError {
    SceneError::Usage(format!(
        "{why}. Usage: cargo run -p {} [-- --listen [::1]:0] (--help says more).",
        chapter().crate_name()
    ))
}

/// `[::1]:5000`, or `5000` (which means `[::1]:5000`).
fn parse_number(value: &str) -> Result<SocketAddrV6, String> {
    if !value.is_empty() && value.len() <= 5 && value.bytes().all(|b| b.is_ascii_digit()) {
        let port = value
            .parse()
            .map_err(|_| format!("{} is not a port number (0 to 65535)", args::quoted(value)))?;
        return Ok(SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0));
    }
    if let Ok(v4) = value.parse::<SocketAddrV4>() {
        return Err(format!(
            "that is an IPv4 number; this phone is IPv6: write [::ffff:{}]:{} to take IPv4 callers on it",
            v4.ip(),
            v4.port()
        ));
    }
    value.parse::<SocketAddrV6>().map_err(|_| {
        "expected [IPV6]:PORT, e.g. [::1]:0 (the brackets keep the port apart from the colons)"
            .into()
    })
}

/// Whether `--listen` makes the phone v6-only: off only where that is
/// what lets IPv4 callers in (`::`, an IPv4-mapped number), on elsewhere.
pub fn v6only_for(number: &SockaddrIn6) -> bool {
    let ip = number.ip();
    !(ip.is_unspecified() || ip.to_ipv4_mapped().is_some())
}

/// The learner's `open_listener(number, v6only)`, or a one-line refusal.
fn open(answer: &Answer, number: SockaddrIn6, v6only: bool) -> Result<OwnedFd, SceneError> {
    let at = SocketAddrV6::from(number);
    learner_call!(chapter(), answer.open_listener(number, v6only))?.map_err(|errno| {
        sys(
            format!("open_listener({at}, {v6only})"),
            bind_advice(errno, &at.to_string()),
        )(errno)
    })
}

/// What to do when the exchange refuses a `--listen` number.
fn bind_advice(errno: Errno, at: &str) -> String {
    match errno {
        Errno::EADDRNOTAVAIL => format!(
            "{at} isn't one of this machine's numbers (`ip -6 addr` lists them): use [::1]:0."
        ),
        _ => args::bind_advice(errno, at),
    }
}

fn scene(s: &mut Scene, answer: &Answer) -> SceneResult {
    s.title("Your friend's phone has an international number: IPv6. Same phone, a second family of numbers, and a directory that lists both.")?;
    let loopback = SockaddrIn6::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0, 0, 0));
    // ANCHOR: open
    let phone = open(answer, loopback, true)?;
    let number = kernel::number_of(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    let v6only = getsockopt(&phone, sockopt::Ipv6V6Only)
        .map_err(sys("getsockopt(IPV6_V6ONLY)", "Is it an IPv6 socket?"))?;
    // ANCHOR_END: open
    let fd = phone.as_raw_fd();
    s.step(
        Who::Callee,
        "put a phone on the IPv6 loopback line, v6-only",
        &format!("open_listener([::1]:0, true) = fd {fd}"),
    )?;
    s.step(
        Who::Callee,
        "read its number and its v6-only switch",
        &format!(
            "getsockname(fd {fd}) = {}; getsockopt(fd {fd}, IPV6_V6ONLY) = {}",
            names::number(&number),
            u8::from(v6only)
        ),
    )?;
    s.note("::1 is this machine, as 127.0.0.1 is: IPv6 is a second family of numbers (AF_INET6, with a 28-byte sockaddr_in6 where IPv4's sockaddr_in has 16), not a farther place")?;
    s.hold("the phone is on [::1]: `ss -6 -tln` lists it")?;
    s.pause()?;

    let to = check::std_number(&number).ok_or_else(|| {
        SceneError::Unexpected("getsockname gave no IP number for the IPv6 phone.".into())
    })?;
    let (_off, gone) = party::numbered(Kind::new(AddressFamily::Inet, SockType::Stream))
        .map_err(sys("bind(127.0.0.1:0)", "Check your system's limits."))?;
    let gone = check::std_number(&gone).ok_or_else(|| {
        SceneError::Unexpected("getsockname gave no IP number for the IPv4 phone.".into())
    })?;
    let numbers = vec![gone, to];
    s.step(
        Who::Exchange,
        "the directory lists two numbers for your friend, IPv4 first",
        &format!("[{gone}, {to}]: a name's numbers, as getaddrinfo() lists them"),
    )?;
    s.note("the IPv4 number belongs to a phone that has it (socket and bind) but was never switched on (no listen): your friend listens on IPv6 only")?;
    first_only(s, gone)?;
    each_in_turn(s, answer, &phone, numbers)?;
    s.pause()?;

    dual_stack(s, answer)?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// A caller who dials only the first number is refused.
fn first_only(s: &mut Scene, gone: SocketAddr) -> SceneResult {
    let caller =
        party::phone(Kind::IPV4_STREAM).map_err(sys("socket", "Check your system's limits."))?;
    let cfd = caller.as_raw_fd();
    // A refusal on loopback comes at once; the limit is for a machine where
    // something else has gone wrong.
    setsockopt(&caller, sockopt::SendTimeout, &TimeVal::seconds(2))
        .map_err(sys("setsockopt(SO_SNDTIMEO)", "Is it a socket?"))?;
    let refused = connect(cfd, &SockaddrStorage::from(gone));
    s.step(
        Who::Caller,
        "a caller who dials only the first number",
        &format!(
            "socket(AF_INET, SOCK_STREAM, 0) = fd {cfd}; setsockopt(fd {cfd}, SO_SNDTIMEO, 2 s); connect(fd {cfd}, {gone}) = {}",
            refused.map_or_else(|e| format!("{e:?}"), |()| "0".into())
        ),
    )?;
    if refused != Err(Errno::ECONNREFUSED) {
        return Err(SceneError::Unexpected(format!(
            "{gone} belongs to a phone that isn't switched on, and dialling it wasn't refused. Run the scene again."
        )));
    }
    s.note("refused, and a program that stops here fails although the friend is in: \"works with ::1, fails with localhost\" is this bug")?;
    Ok(())
}

/// The learner's `dial_each` tries both numbers and gets through.
fn each_in_turn(
    s: &mut Scene,
    answer: &Answer,
    phone: &OwnedFd,
    numbers: Vec<SocketAddr>,
) -> SceneResult {
    let shown = numbers.len();
    // ANCHOR: dial
    let (line, answered) = learner_call!(chapter(), answer.dial_each, move |dial_each| {
        dial_each(&numbers, check::RING)
    })?
    .map_err(sys(
        "dial_each()",
        "`cargo test -p ch11-international-calls` says why.",
    ))?;
    // ANCHOR_END: dial
    s.step(
        Who::Caller,
        "a caller who tries each number in turn, each ringing 300 ms at most",
        &format!(
            "dial_each({shown} numbers, 300 ms) = Ok(fd {}, {answered})",
            line.as_raw_fd()
        ),
    )?;
    if !party::ready(phone, ALREADY_IN_THE_KERNEL).unwrap_or(false) {
        return Err(SceneError::Unexpected(
            "dial_each() returned a line, but no call is waiting at your friend's phone. `cargo test -p ch11-international-calls` says why.".into(),
        ));
    }
    let picked = accept(phone).map_err(sys("accept", "Is the phone on?"))?;
    let from = kernel::other_end_of(&picked).map_err(sys("getpeername", "Is it on a call?"))?;
    s.step(
        Who::Callee,
        "pick up and read caller ID",
        &format!(
            "accept(fd {}) = fd {}; getpeername(fd {}) = {}",
            phone.as_raw_fd(),
            picked.as_raw_fd(),
            picked.as_raw_fd(),
            names::number(&from)
        ),
    )?;
    s.note("a new phone for each number, in that number's family: the refused one was closed, and the IPv6 number got an AF_INET6 phone of its own")?;
    Ok(())
}

/// An IPv6 phone with v6-only off takes an IPv4 caller; with it on, it
/// can't even have the IPv4 number.
fn dual_stack(s: &mut Scene, answer: &Answer) -> SceneResult {
    let mapped = Ipv4Addr::LOCALHOST.to_ipv6_mapped();
    let number = SockaddrIn6::from(SocketAddrV6::new(mapped, 0, 0, 0));
    let phone = open(answer, number, false)?;
    let fd = phone.as_raw_fd();
    let at = kernel::number_of(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    let v6only = getsockopt(&phone, sockopt::Ipv6V6Only)
        .map_err(sys("getsockopt(IPV6_V6ONLY)", "Is it an IPv6 socket?"))?;
    s.step(
        Who::You,
        "an IPv6 phone that takes IPv4 calls too: v6-only off, at 127.0.0.1 written the IPv6 way",
        &format!(
            "open_listener([{mapped}]:0, false) = fd {fd}; getsockname = {}; IPV6_V6ONLY = {}",
            names::number(&at),
            u8::from(v6only)
        ),
    )?;
    let port = at.as_sockaddr_in6().map_or(0, |n| n.port());
    let ipv4 = SockaddrStorage::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    let caller = party::dial_within(&ipv4, RING_OUT).map_err(sys(
        format!("connect(127.0.0.1:{port})"),
        "open_listener() must leave IPV6_V6ONLY off when asked: `cargo test -p ch11-international-calls` says more.",
    ))?;
    s.step(
        Who::Caller,
        "an IPv4 caller dials 127.0.0.1",
        &format!(
            "socket(AF_INET, SOCK_STREAM, 0) = fd {c}; setsockopt(fd {c}, SO_SNDTIMEO, 2 s); connect(fd {c}, 127.0.0.1:{port}) = 0",
            c = caller.as_raw_fd()
        ),
    )?;
    let line = accept(&phone).map_err(sys("accept", "Is the phone on?"))?;
    let from = kernel::other_end_of(&line).map_err(sys("getpeername", "Is it on a call?"))?;
    s.step(
        Who::You,
        "pick up: the IPv4 caller, written the IPv6 way",
        &format!(
            "accept(fd {fd}) = fd {}; getpeername(fd {}) = {}",
            line.as_raw_fd(),
            line.as_raw_fd(),
            names::number(&from)
        ),
    )?;
    s.note("::ffff:0:0/96 holds every IPv4 number (RFC 4291): with IPV6_V6ONLY off, one AF_INET6 phone answers both families")?;
    drop((line, caller, phone));

    let refused = learner_call!(chapter(), answer.open_listener(number, true))?;
    let said = match &refused {
        Ok(p) => format!("Ok(fd {})", p.as_raw_fd()),
        Err(e) => format!("Err({e:?})"),
    };
    s.step(
        Who::You,
        "the same number with v6-only on",
        &format!("open_listener([{mapped}]:0, true) = {said}"),
    )?;
    if refused.is_ok() {
        return Err(SceneError::Unexpected(
            "open_listener(.., true) took an IPv4 number, so IPV6_V6ONLY isn't on: set it as asked, before bind(). `cargo run -- check 11` explains.".into(),
        ));
    }
    s.note("with IPV6_V6ONLY on, an IPv6 phone takes no IPv4 calls: it can't have an IPv4 number, and on :: (every interface) IPv4 callers are refused. Its default is the sysctl net.ipv6.bindv6only (Linux; 0 unless changed): set it explicitly")?;
    Ok(())
}

/// `--listen`: an IPv6 phone at `number` telling each caller who they are,
/// until Ctrl-C.
fn listen_for_real(s: &mut Scene, answer: &Answer, number: SockaddrIn6) -> SceneResult {
    let v6only = v6only_for(&number);
    // ANCHOR: listen
    let phone = open(answer, number, v6only)?;
    // ANCHOR_END: listen
    let at = kernel::number_of(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    let port = at.as_sockaddr_in6().map_or(0, |n| n.port());
    s.title(&format!(
        "Your IPv6 phone is on {} (port {port}), IPV6_V6ONLY {}. Call it from another terminal:",
        names::number(&at),
        if v6only { "on" } else { "off" }
    ))?;
    for command in try_it(&number, port) {
        s.note(&command)?;
    }
    s.note("each caller hears the number they called from, then the phone hangs up; Ctrl-C switches it off")?;
    tell_callers(&phone, None, |from, fd| {
        s.step(
            Who::Caller,
            "a call",
            &format!("accept = fd {fd}; getpeername = {from}"),
        )
    })
}

/// Picks up each call on `phone`, says "hello NUMBER: you called ..." (the
/// caller's own number, as the kernel's caller ID gives it) and hangs up;
/// `report(caller, fd)` after each. `Some(n)`: `n` calls, each rung within
/// [`RING_OUT`] of the last (for tests); `None`: until Ctrl-C.
pub fn tell_callers(
    phone: &OwnedFd,
    calls: Option<usize>,
    mut report: impl FnMut(&str, i32) -> std::io::Result<()>,
) -> SceneResult {
    let at = kernel::number_of(phone).map_err(sys("getsockname", "Is it a socket?"))?;
    let mut left = calls;
    while left != Some(0) {
        if calls.is_some() {
            if !party::ready(phone, RING_OUT).map_err(sys("poll", "Is the phone on?"))? {
                return Err(SceneError::Unexpected(format!(
                    "nobody called within {} s.",
                    RING_OUT.as_secs()
                )));
            }
        } else {
            party::wait_for_ring(phone).map_err(sys("poll", "Is the phone on?"))?;
        }
        let line = match accept(phone) {
            Ok(line) => line,
            Err(Errno::EINTR | Errno::ECONNABORTED) => continue,
            Err(e) => return Err(sys("accept", "Is the phone on?")(e)),
        };
        let from = kernel::other_end_of(&line)
            .map(|n| names::number(&n))
            .unwrap_or_else(|_| "somewhere".into());
        let words = format!(
            "hello {from}: you called {} on an AF_INET6 phone\n",
            names::number(&at)
        );
        // A caller who already hung up gets nothing: EPIPE is their news.
        let _ = dialtone_kit::wire::say_all(&line, words.as_bytes());
        report(&from, line.as_raw_fd())?;
        left = left.map(|n| n - 1);
    }
    Ok(())
}

/// The commands that call an `--listen` phone at `number` (port `port`).
pub fn try_it(number: &SockaddrIn6, port: u16) -> Vec<String> {
    let ip = number.ip();
    match ip.to_ipv4_mapped() {
        Some(v4) => vec![
            format!("nc -4 -N {v4} {port} </dev/null"),
            format!("socat - TCP4:{v4}:{port} </dev/null"),
        ],
        None => {
            // `::` (every interface) is called at ::1, this machine's own.
            let ip = if ip.is_unspecified() {
                Ipv6Addr::LOCALHOST
            } else {
                ip
            };
            vec![
                format!("nc -6 -N {ip} {port} </dev/null"),
                format!("socat - TCP6:[{ip}]:{port} </dev/null"),
                format!(
                    "python3 -c \"import socket; s = socket.create_connection(('{ip}', {port})); print(s.recv(200).decode(), end='')\""
                ),
            ]
        }
    }
}
