//! The scene of chapter 4, narrated line by line.
//!
//! The callee switches on a phone (chapters 1-3, done here for you); you dial
//! it with the learner's `dial()` and ask the kernel what your phone's own
//! number is (you never bound one) and whom it is connected to. Then you dial
//! a number whose phone is switched off, and the exchange refuses. Nobody
//! picks up yet: the call waits in the callee's queue until chapter 5.
//! Two asides with the exchange's own phones follow: a full queue dropping a
//! non-blocking caller's SYN until there is room, and two calls sharing one
//! caller number (only the pair must be unique).
//!
//! With `--to HOST:PORT` the scene dials a real phone instead, for example
//! one started in another terminal with `nc -l 127.0.0.1 5000`.

use crate::check::Answer;
use dialtone_kit::args::{self, Flag, Mode};
use dialtone_kit::learner::{LearnerError, Trouble};
use dialtone_kit::patience::ALREADY_IN_THE_KERNEL;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{kernel, learner_call, names, party};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    accept, bind, connect, getsockopt, listen, setsockopt, socket, sockopt, AddressFamily, Backlog,
    SockFlag, SockType, SockaddrIn,
};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// `--to HOST:PORT`: dial a real phone instead of the scene's.
pub const TO: Flag = Flag {
    name: "--to",
    example: "127.0.0.1:5000",
    does: "dial a real phone at HOST:PORT (socket + connect), then hang up",
    note: "Give it a phone to ring first: `nc -l 127.0.0.1 5000` in another terminal (5000 taken? any free port above 1024 will do, the same on both sides).",
};

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    match args::parse(s.chapter, args, &TO)? {
        Mode::Scene => scene(s, answer),
        Mode::Real(number) => real(s, answer, number),
    }
}

/// Both parties in this process: the callee's phone is switched on, you dial it.
fn scene(s: &mut Scene, answer: &Answer) -> SceneResult {
    s.title("A friend's phone is switched on and you have their number. You pick up your handset and dial.")?;
    let (callee, number) = friend_switches_on(s)?;
    let phone = dial(s, answer, number)?;
    ring(s, &callee)?;
    refused(s, answer)?;
    full_queue(s)?;
    shared_number(s)?;
    hang_ups(s, phone, callee)?;
    s.moral()?;
    Ok(())
}

/// The callee's phone is switched on (chapters 1-3, done for you).
fn friend_switches_on(s: &mut Scene) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let (callee, number) = party::switched_on_phone().map_err(sys(
        "the callee's socket/bind/listen",
        "Is the loopback interface up?",
    ))?;
    s.step(
        Who::Callee,
        "install a phone, get a number, switch it on (chapters 1-3)",
        &format!(
            "socket + bind(127.0.0.1:0) + listen = fd {}, number {}",
            callee.as_raw_fd(),
            names::addr(&number)
        ),
    )?;
    s.pause()?;

    Ok((callee, number))
}

/// You dial with the learner's dial(), and ask the kernel about the call.
fn dial(s: &mut Scene, answer: &Answer, number: SockaddrIn) -> Result<OwnedFd, SceneError> {
    // ANCHOR: dial
    let phone = learner_call!(s.chapter, answer.dial(number))?.map_err(sys(
        format!("connect({})", names::addr(&number)),
        "The callee's phone is switched on, so check that dial() connects to the number it is given.",
    ))?;
    let fd = phone.as_raw_fd();
    // ANCHOR_END: dial
    s.step(
        Who::You,
        &format!("dial {}", names::addr(&number)),
        &format!("dial({}) = Ok(fd {fd})", names::addr(&number)),
    )?;
    // What dial() did inside, the scene can't see; the kernel's answers below
    // (getsockname, getpeername) are the evidence.
    s.note("what dial() did inside, the scene can't see; the kernel's answers are the evidence:")?;
    describe_call(s, &phone)?;
    s.hold(&format!(
        "Your phone (fd {fd}) is on a call to {}",
        names::addr(&number)
    ))?;

    Ok(phone)
}

/// The callee's phone rings: the call is queued before anyone picks up.
fn ring(s: &mut Scene, callee: &OwnedFd) -> SceneResult {
    // ANCHOR: ring
    let ringing = party::ready(callee, ALREADY_IN_THE_KERNEL).map_err(sys(
        "poll(POLLIN) on the callee's phone",
        "Is it still open?",
    ))?;
    // ANCHOR_END: ring
    s.step(
        Who::Callee,
        if ringing {
            "the phone rings"
        } else {
            "the phone stays silent"
        },
        &format!(
            "poll(fd {}, POLLIN) = {}",
            callee.as_raw_fd(),
            if ringing {
                "1: a call is queued, waiting for accept()"
            } else {
                "0: no call queued"
            }
        ),
    )?;
    s.note("connect() returned before anyone picked up: the kernel completed the call and queued it (the backlog, chapter 3); picking up is chapter 5")?;
    s.pause()?;
    Ok(())
}

/// Both phones are put down.
fn hang_ups(s: &mut Scene, phone: OwnedFd, callee: OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    drop(phone); // close(): the call ends; the callee would read end-of-file.
    s.step(
        Who::You,
        "hang up",
        &format!("close(fd {fd}), when the OwnedFd is dropped"),
    )?;
    let callee_fd = callee.as_raw_fd();
    drop(callee);
    s.step(
        Who::Callee,
        "take the phone off the wall",
        &format!("close(fd {callee_fd})"),
    )?;
    s.pause()?;
    Ok(())
}

/// Your own number (the exchange picked it) and the other end of the call.
fn describe_call(s: &mut Scene, phone: &OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    // ANCHOR: ask
    let own = kernel::own_number(phone).map_err(sys("getsockname", "Is it an IPv4 socket?"))?;
    let peer = kernel::other_end(phone).map_err(sys(
        "getpeername",
        "dial() must connect() the phone before returning it.",
    ))?;
    // ANCHOR_END: ask
    s.step(
        Who::You,
        "ask what your own number is",
        &format!("getsockname(fd {fd}) = {}", names::addr(&own)),
    )?;
    let pooled = party::ephemeral_range().map(|(low, high)| (low..=high).contains(&own.port()));
    s.note(match pooled {
        Some(true) => "the exchange handed you a number while dialling: an ephemeral port, from the pool in /proc/sys/net/ipv4/ip_local_port_range",
        Some(false) => "that port is OUTSIDE the ephemeral pool in /proc/sys/net/ipv4/ip_local_port_range: did dial() bind()?",
        None => "the exchange handed you a number while dialling: an ephemeral port",
    })?;
    s.step(
        Who::You,
        "ask who is on the other end",
        &format!("getpeername(fd {fd}) = {}", names::addr(&peer)),
    )?;
    s.note("the number you dialled: the call went through")
        .map_err(Into::into)
}

/// Dial a number whose phone is bound but switched off (never listen()ed).
fn refused(s: &mut Scene, answer: &Answer) -> SceneResult {
    // The switched-off phone holds its number until the end of this beat, so
    // nothing else can start listening there while we dial it.
    let (off, off_number) = party::numbered_phone().map_err(sys(
        "the callee's socket/bind",
        "Is the loopback interface up?",
    ))?;
    s.step(
        Who::Callee,
        "install a second phone and give it a number, but leave it switched off",
        &format!(
            "socket + bind(127.0.0.1:0) = fd {}, number {}; no listen()",
            off.as_raw_fd(),
            names::addr(&off_number)
        ),
    )?;
    // ANCHOR: refused
    let outcome = learner_call!(s.chapter, answer.dial(off_number))?;
    // ANCHOR_END: refused
    let syscall = format!("connect(.., {})", names::addr(&off_number));
    match outcome {
        Err(errno) => {
            s.step(
                Who::You,
                &format!("dial {}", names::addr(&off_number)),
                &format!("{syscall} = {}", names::errno(errno)),
            )?;
            if errno == Errno::ECONNREFUSED {
                s.step(
                    Who::Exchange,
                    names::errno_phone(errno),
                    "the kernel answered the attempt with a reset (RST); dial() returned the Err",
                )?;
                s.note("refused at once, not after a wait: on this machine the kernel knows nobody listens there")?;
                s.note("a dial() that returns with `?` drops its phone on the way out: a failed call leaves no handset behind")?;
            } else {
                s.note("nobody listens there, so the kernel says ECONNREFUSED: dial() should return that Err (run `cargo test -p ch04-dial`)")?;
            }
        }
        Ok(phone) => {
            s.step(
                Who::You,
                &format!("dial {}", names::addr(&off_number)),
                &format!("{syscall}: dial() returned Ok(fd {})", phone.as_raw_fd()),
            )?;
            s.note("nobody listens there, so the kernel said ECONNREFUSED: dial() should return that Err (run `cargo test -p ch04-dial`)")?;
        }
    }
    drop(off);
    s.pause().map_err(Into::into)
}

/// An aside, with the exchange's own phones rather than dial(): a
/// non-blocking dial, first to a phone with room in its queue, then to one
/// whose queue is full. The kernel's words: EINPROGRESS, poll(POLLOUT),
/// SO_ERROR; and the ListenOverflows counter that `nstat` reads.
fn full_queue(s: &mut Scene) -> SceneResult {
    let setup = sys("a listener with backlog 0", "Is the loopback interface up?");
    let (tiny, number) = party::numbered_phone().map_err(setup)?;
    listen(
        &tiny,
        Backlog::new(0).map_err(sys("Backlog::new(0)", "nix refused a backlog of 0"))?,
    )
    .map_err(sys("listen(backlog 0)", "Is the loopback interface up?"))?;
    s.step(
        Who::Callee,
        "a third phone, whose queue holds just one waiting call",
        &format!(
            "socket + bind + listen(fd {}, 0) = number {}; Linux holds backlog + 1 calls",
            tiny.as_raw_fd(),
            names::addr(&number)
        ),
    )?;
    let first = dial_without_waiting(s, &number, "a first caller")?;
    // The first call must be in the accept queue (the listener readable)
    // before the second SYN comes: then the queue is full for certain.
    party::ready(&tiny, ALREADY_IN_THE_KERNEL).map_err(sys("poll(POLLIN)", "Is it open?"))?;
    let before = listen_overflows();
    let second = dial_without_waiting(s, &number, "a second caller")?;
    s.note("the queue was full, so the callee's kernel dropped the second caller's SYN without a word: no refusal, no reset; the caller's kernel will send it again in 1 s, then 3 s, ... (tcp_syn_retries)")?;
    // The counter is system-wide: other programs may move it too, so the
    // scene says only that it went up while the second caller rang, which
    // this drop alone makes certain.
    let after = listen_overflows();
    s.step(
        Who::Exchange,
        "counts the calls it dropped at full queues",
        &format!(
            "TcpExtListenOverflows {} (/proc/net/netstat; `nstat -az TcpExtListenOverflows`)",
            match (before, after) {
                (Some(b), Some(a)) if a > b => "went up while the second caller rang",
                (Some(_), Some(_)) => "did not move",
                _ => "could not be read",
            }
        ),
    )?;
    // Room at last: the second caller's kernel never stopped trying, and
    // its next SYN (about a second after the first) finds a place.
    let line = accept(&tiny).map_err(sys("accept", "Is it open?"))?;
    s.step(
        Who::Callee,
        "picks up the first call, which leaves room in the queue",
        &format!("accept(fd {}) = fd {}", tiny.as_raw_fd(), line.as_raw_fd()),
    )?;
    let fd = second.as_raw_fd();
    let mut fds = [PollFd::new(second.as_fd(), PollFlags::POLLOUT)];
    let millis = u16::try_from(RETRY_WITHIN.as_millis()).unwrap_or(u16::MAX);
    let through =
        poll(&mut fds, PollTimeout::from(millis)).map_err(sys("poll(POLLOUT)", "Is it open?"))? > 0;
    let how = if through {
        let error = getsockopt(&second, sockopt::SocketError)
            .map_err(sys("getsockopt(SO_ERROR)", "Is it open?"))?;
        format!("= 1; getsockopt(fd {fd}, SO_ERROR) = {error}: connected")
    } else {
        "= 0: still ringing".to_string()
    };
    s.step(
        Who::Caller,
        "the second caller's kernel tries again, and gets through",
        &format!("poll(fd {fd}, POLLOUT, {millis} ms) {how}"),
    )?;
    s.note("the handshake went on in the kernel all along: the SYN was sent again and found room. A blocking connect() cut short by SO_SNDTIMEO (EINPROGRESS, chapter 3) goes on the same way")?;
    drop((first, second, line, tiny));
    s.pause().map_err(Into::into)
}

/// What must be unique is the pair of numbers, not the caller's port: two
/// calls to different phones share one caller number, and a second call
/// between the same two numbers is refused with `EADDRNOTAVAIL`. The callers
/// bind that number themselves (with `SO_REUSEADDR`, so it may be shared)
/// because the kernel's pool shares a port only when it runs short, which a
/// scene can't arrange; the rule the kernel checks is the same.
fn shared_number(s: &mut Scene) -> SceneResult {
    let advice = "Is the loopback interface up?";
    let (one, one_number) = party::switched_on_phone().map_err(sys("a listener", advice))?;
    let (two, two_number) = party::switched_on_phone().map_err(sys("a listener", advice))?;
    s.step(
        Who::Callee,
        "two more phones, switched on at two numbers",
        &format!(
            "listen(fd {}) at {}; listen(fd {}) at {}",
            one.as_raw_fd(),
            names::addr(&one_number),
            two.as_raw_fd(),
            names::addr(&two_number)
        ),
    )?;
    let first = sharing_caller(0)?;
    let fd = first.as_raw_fd();
    connect(fd, &one_number).map_err(sys("connect", advice))?;
    let mine = kernel::own_number(&first).map_err(sys("getsockname", advice))?;
    s.step(
        Who::Caller,
        "a caller binds a number it may share, and dials the first",
        &format!(
            "SO_REUSEADDR; bind(fd {fd}, 127.0.0.1:0); connect(fd {fd}, {}) = 0; getsockname = {}",
            names::addr(&one_number),
            names::addr(&mine)
        ),
    )?;
    let second = sharing_caller(mine.port())?;
    let fd = second.as_raw_fd();
    let said = outcome(connect(fd, &two_number));
    s.step(
        Who::Caller,
        "another caller takes that same number and dials the second",
        &format!(
            "SO_REUSEADDR; bind(fd {fd}, {}); connect(fd {fd}, {}) = {said}",
            names::addr(&mine),
            names::addr(&two_number)
        ),
    )?;
    s.note("two calls, one caller number: only the pair (yours, theirs) must be unique. On Linux the pool shares a port this way too, between calls to different numbers")?;
    let third = sharing_caller(mine.port())?;
    let fd = third.as_raw_fd();
    let said = outcome(connect(fd, &one_number));
    s.step(
        Who::Caller,
        "a third caller with that number dials the first again",
        &format!(
            "SO_REUSEADDR; bind(fd {fd}, {}); connect(fd {fd}, {}) = {said}",
            names::addr(&mine),
            names::addr(&one_number)
        ),
    )?;
    s.note("that pair is already a call: EADDRNOTAVAIL, the error connect() also gives when the pool has no port left for the number you dial")?;
    drop((first, second, third, one, two));
    s.pause().map_err(Into::into)
}

/// A caller's phone with `SO_REUSEADDR`, bound to 127.0.0.1:`port` (0: any).
fn sharing_caller(port: u16) -> Result<OwnedFd, SceneError> {
    let advice = "Is the loopback interface up?";
    let phone = party::new_phone().map_err(sys("socket", advice))?;
    setsockopt(&phone, sockopt::ReuseAddr, &true)
        .map_err(sys("setsockopt(SO_REUSEADDR)", advice))?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))
        .map_err(sys(format!("bind(127.0.0.1:{port})"), advice))?;
    Ok(phone)
}

/// A connect's result as strace would show it: `0`, or the errno's name.
fn outcome(result: nix::Result<()>) -> String {
    match result {
        Ok(()) => "0".to_string(),
        Err(e) => names::errno(e),
    }
}

/// How long the second caller may take to get through once there is room:
/// its SYN is re-sent about 1 s after the first, so 5 s is ample even on a
/// busy machine.
const RETRY_WITHIN: Duration = Duration::from_secs(5);

/// How long a non-blocking dial is given to get through on loopback.
const THROUGH_WITHIN: Duration = Duration::from_millis(300);

/// A caller's non-blocking dial: connect() returns at once (EINPROGRESS);
/// poll(POLLOUT) says when the call is through, and SO_ERROR how it went.
fn dial_without_waiting(
    s: &mut Scene,
    number: &SockaddrIn,
    who: &str,
) -> Result<OwnedFd, SceneError> {
    let advice = "Is the loopback interface up?";
    let phone = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(sys("socket(SOCK_NONBLOCK)", advice))?;
    let fd = phone.as_raw_fd();
    let said = match connect(fd, number) {
        Ok(()) => "0".to_string(),
        Err(e) => names::errno(e),
    };
    s.step(
        Who::Caller,
        &format!("{who} dials, and doesn't wait for the answer"),
        &format!(
            "socket(.., SOCK_NONBLOCK) = fd {fd}; connect(fd {fd}, {}) = {said}",
            names::addr(number)
        ),
    )?;
    let mut fds = [PollFd::new(phone.as_fd(), PollFlags::POLLOUT)];
    let millis = u16::try_from(THROUGH_WITHIN.as_millis()).unwrap_or(u16::MAX);
    let through =
        poll(&mut fds, PollTimeout::from(millis)).map_err(sys("poll(POLLOUT)", advice))? > 0;
    let waited = format!("poll(fd {fd}, POLLOUT, {millis} ms)");
    if through {
        let error = getsockopt(&phone, sockopt::SocketError)
            .map_err(sys("getsockopt(SO_ERROR)", advice))?;
        s.step(
            Who::Caller,
            "waits until the call is through, then asks how it went",
            &format!("{waited} = 1; getsockopt(fd {fd}, SO_ERROR) = {error}: connected"),
        )?;
    } else {
        s.step(
            Who::Caller,
            "waits for the call to go through",
            &format!("{waited} = 0: still ringing"),
        )?;
    }
    Ok(phone)
}

/// `TcpExt: ListenOverflows` from `/proc/net/netstat` (Linux): the SYNs a
/// listener dropped because its queue of finished calls was full.
fn listen_overflows() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// `--to HOST:PORT`: dial a real phone, say who we are and who answered, hang up.
fn real(s: &mut Scene, answer: &Answer, number: SockaddrIn) -> SceneResult {
    let there = names::addr(&number);
    // Dial before printing anything, so a refused call is one line on stderr.
    let phone = match learner_call!(s.chapter, answer.dial(number)) {
        Ok(Ok(phone)) => phone,
        Ok(Err(Errno::ECONNREFUSED)) => {
            return Err(sys(
                format!("connect({there})"),
                format!(
                    "Nobody is listening at {there}: start the listener first (e.g. `nc -l {} {}` in another terminal), or check the port.",
                    number.ip(),
                    number.port()
                ),
            )(Errno::ECONNREFUSED))
        }
        Ok(Err(errno)) => {
            return Err(sys(
                format!("connect({there})"),
                "Check the address: is it this machine (127.0.0.1) or one you can reach?",
            )(errno))
        }
        Err(LearnerError {
            trouble: Trouble::Hung(t),
            ..
        }) => {
            return Err(sys(
                format!("dial({there})"),
                format!("No answer within {} s: check the address, and that nothing (a firewall) drops calls to it. Without --to, the scene tests your dial() on this machine.", t.as_secs()),
            )(Errno::ETIMEDOUT))
        }
        Err(other) => return Err(other.into()),
    };
    s.title(&format!("You dial a real phone at {there}."))?;
    let fd = phone.as_raw_fd();
    s.step(
        Who::You,
        &format!("dial {there}"),
        &format!("dial({there}) = Ok(fd {fd})"),
    )?;
    describe_call(s, &phone)?;
    let own = kernel::own_number(&phone).map_err(sys("getsockname", "Is it an IPv4 socket?"))?;
    s.note(&format!(
        "their caller ID shows {}: `nc -v -l` prints it as \"Connection received on ...\"",
        names::addr(&own)
    ))?;
    drop(phone);
    s.step(
        Who::You,
        "hang up without a word (talking is chapter 6)",
        &format!("close(fd {fd}); the other side reads end-of-file"),
    )?;
    s.pause()?;
    s.moral()?;
    Ok(())
}
