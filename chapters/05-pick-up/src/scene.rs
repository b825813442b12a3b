//! The scene of chapter 5, narrated line by line.
//!
//! Your phone is on the wall and switched on (chapters 1-3, done here for
//! you). Nobody rings at first: poll() with a zero timeout says so without
//! waiting, where accept() would block. A caller dials (chapter 4); you pick
//! up with the learner's `pick_up()` and look at both descriptors: the phone
//! on the wall still listens, the new line is the conversation. Caller ID
//! matches the caller's own number, the first hello goes both ways, and when
//! the caller hangs up you read end-of-file. Last, an aside with the
//! exchange's own non-blocking phone: `EAGAIN` while nobody rings, and a line
//! that doesn't inherit `O_NONBLOCK`.
//!
//! With `--listen HOST:PORT` the scene waits for a real caller instead, for
//! example `nc 127.0.0.1 PORT` from another terminal.

use crate::check::{self, Answer};
use dialtone_kit::args::{self, Flag, Mode};
use dialtone_kit::patience::{ALREADY_IN_THE_KERNEL, PERSON_TYPES};
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{kernel, learner_call, names, party};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{
    accept, bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn,
};
use nix::unistd::{read, write};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

/// `--listen HOST:PORT`: wait for a real caller instead of the scene's.
pub const LISTEN: Flag = Flag {
    name: "--listen",
    example: "127.0.0.1:0",
    does: "switch on a phone at HOST:PORT (bind + listen) and pick up one real caller (accept)",
    note: "Port 0 lets the exchange pick a free number; the scene prints it. Then call it from another terminal: nc 127.0.0.1 PORT",
};

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    match args::parse(s.chapter, args, &LISTEN)? {
        Mode::Scene => scene(s, answer),
        Mode::Real(number) => real(s, answer, number),
    }
}

/// Both parties in this process: a caller rings your phone and you pick up.
fn scene(s: &mut Scene, answer: &Answer) -> SceneResult {
    s.title("Your phone is on the wall and switched on. Sooner or later, somebody rings.")?;
    let (phone, number) = on_the_wall(s)?;
    let (caller, caller_number) = ring(s, &phone, &number)?;
    let line = pick(s, answer, &phone, &caller_number)?;
    two_descriptors(s, &phone, &line)?;
    s.hold(&format!(
        "The phone on the wall (fd {}) and the new line (fd {}) are both open",
        phone.as_raw_fd(),
        line.as_raw_fd()
    ))?;
    hello(s, &line, &caller)?;
    hang_ups(s, phone, line, caller)?;
    never_waits(s)?;
    s.moral()?;
    Ok(())
}

/// The phone goes on the wall, and nobody is ringing yet.
fn on_the_wall(s: &mut Scene) -> Result<(Arc<OwnedFd>, SockaddrIn), SceneError> {
    let (phone, number) = party::switched_on_phone()
        .map_err(sys("socket/bind/listen", "Is the loopback interface up?"))?;
    let phone = Arc::new(phone);
    let pfd = phone.as_raw_fd();
    s.step(
        Who::You,
        "install a phone, get a number, switch it on (chapters 1-3)",
        &format!(
            "socket + bind(127.0.0.1:0) + listen = fd {pfd}, number {}",
            names::addr(&number)
        ),
    )?;
    // ANCHOR: nobody
    let ringing = party::ready(&*phone, Duration::ZERO).map_err(sys("poll", "Is it open?"))?;
    // ANCHOR_END: nobody
    s.step(
        Who::You,
        "is anybody ringing?",
        &format!(
            "poll(fd {pfd}, POLLIN, timeout 0) = {}",
            ringing_words(ringing)
        ),
    )?;
    s.note("accept() now would block: waiting by the telephone until somebody dials. poll() with timeout 0 asks without waiting")?;
    s.pause()?;

    Ok((phone, number))
}

/// A caller dials, and the phone rings.
fn ring(
    s: &mut Scene,
    phone: &Arc<OwnedFd>,
    number: &SockaddrIn,
) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    let pfd = phone.as_raw_fd();
    let caller =
        party::dial(number).map_err(sys("the caller's connect", "Is the phone switched on?"))?;
    let caller_number = kernel::own_number(&caller).map_err(sys("getsockname", "Is it IPv4?"))?;
    s.step(
        Who::Caller,
        &format!("dial {} (chapter 4)", names::addr(number)),
        &format!(
            "socket + connect = fd {}; its own number is {}",
            caller.as_raw_fd(),
            names::addr(&caller_number)
        ),
    )?;
    let ringing =
        party::ready(&**phone, ALREADY_IN_THE_KERNEL).map_err(sys("poll", "Is it open?"))?;
    s.step(
        Who::You,
        "the phone rings",
        &format!("poll(fd {pfd}, POLLIN) = {}", ringing_words(ringing)),
    )?;
    Ok((caller, caller_number))
}

/// You pick up with the learner's pick_up(), and read caller ID.
fn pick(
    s: &mut Scene,
    answer: &Answer,
    phone: &Arc<OwnedFd>,
    caller_number: &SockaddrIn,
) -> Result<OwnedFd, SceneError> {
    let pfd = phone.as_raw_fd();
    // ANCHOR: pick_up
    // learner_call! runs pick_up() on a thread of its own (so a pick_up()
    // that never returns can't hang the scene); the thread gets a shared
    // handle to the phone on the wall, not a borrow.
    let wall = Arc::clone(phone);
    let (line, caller_id) = learner_call!(s.chapter, answer.pick_up(&wall))?.map_err(sys(
        "accept",
        "A call is ringing: check what pick_up() does.",
    ))?;
    // ANCHOR_END: pick_up
    let lfd = line.as_raw_fd();
    // What pick_up() did inside, the scene can't see: it shows what pick_up()
    // returned, then asks the kernel who is on the line it handed back.
    s.step(
        Who::You,
        "pick up",
        &format!(
            "pick_up(fd {pfd}) = Ok((fd {lfd}, {})), {}",
            names::addr(&caller_id),
            if lfd == pfd {
                "the SAME descriptor as the phone on the wall"
            } else {
                "a new descriptor"
            }
        ),
    )?;
    let peer = caller_id_of(&line)?;
    s.step(
        Who::You,
        "read the caller ID",
        &format!("getpeername(fd {lfd}) = {}", names::addr(&peer)),
    )?;
    s.note(&format!(
        "the caller's own number (its getsockname) is {}: {}",
        names::addr(caller_number),
        if peer == *caller_number && caller_id == peer {
            "they match"
        } else {
            "they DON'T match: run `cargo test -p ch05-pick-up`"
        }
    ))?;
    s.pause()?;

    Ok(line)
}

fn ringing_words(ringing: bool) -> &'static str {
    if ringing {
        "1: a call is waiting in the queue"
    } else {
        "0: nobody is ringing"
    }
}

/// The phone on the wall and the new line: two descriptors, one number.
fn two_descriptors(s: &mut Scene, phone: &OwnedFd, line: &OwnedFd) -> SceneResult {
    // ANCHOR: two
    let wall_on =
        kernel::switched_on(phone).map_err(sys("getsockopt(SO_ACCEPTCONN)", "Is it a socket?"))?;
    let line_on =
        kernel::switched_on(line).map_err(sys("getsockopt(SO_ACCEPTCONN)", "Is it a socket?"))?;
    let line_number = kernel::own_number(line).map_err(sys("getsockname", "Is it IPv4?"))?;
    // ANCHOR_END: two
    let (pfd, lfd) = (phone.as_raw_fd(), line.as_raw_fd());
    s.step(
        Who::You,
        "the phone on the wall: still switched on",
        &format!(
            "getsockopt(fd {pfd}, SO_ACCEPTCONN) = {}",
            u8::from(wall_on)
        ),
    )?;
    s.note("it keeps ringing for the next caller; it never carries a conversation itself")?;
    s.step(
        Who::You,
        "the new line: this one conversation",
        &format!(
            "getsockopt(fd {lfd}, SO_ACCEPTCONN) = {}",
            u8::from(line_on)
        ),
    )?;
    s.step(
        Who::You,
        "the new line's own number",
        &format!("getsockname(fd {lfd}) = {}", names::addr(&line_number)),
    )?;
    s.note("the same number as the phone on the wall: many lines can share one number, told apart by who is on the other end")?;
    line_flags(s, line)?;
    s.pause().map_err(Into::into)
}

/// The line's flags, as fcntl(2) reports them: whether it waits, and whether
/// a program this one starts would inherit it.
fn line_flags(s: &mut Scene, line: &OwnedFd) -> SceneResult {
    let lfd = line.as_raw_fd();
    let status = check::fl_flags(line).map_err(sys("fcntl(F_GETFL)", "Is it open?"))?;
    let cloexec = fcntl(line, FcntlArg::F_GETFD)
        .map(|bits| FdFlag::from_bits_truncate(bits).contains(FdFlag::FD_CLOEXEC))
        .map_err(sys("fcntl(F_GETFD)", "Is it open?"))?;
    s.step(
        Who::You,
        "the new line's flags",
        &format!(
            "fcntl(fd {lfd}, F_GETFL) = {}; fcntl(fd {lfd}, F_GETFD) = {}",
            check::show_flags(status),
            if cloexec {
                "FD_CLOEXEC"
            } else {
                "0 (no FD_CLOEXEC)"
            }
        ),
    )?;
    s.note(match (status.contains(OFlag::O_NONBLOCK), cloexec) {
        (false, false) => "it blocks (accept() never passes O_NONBLOCK on, on Linux), and without close-on-exec a program you start would inherit this call: accept4(.., SOCK_CLOEXEC) prevents that",
        (false, true) => "it blocks (accept() never passes O_NONBLOCK on, on Linux), and close-on-exec keeps it out of any program you start",
        (true, _) => "O_NONBLOCK is set: a read() with nothing waiting says EAGAIN instead of waiting (`cargo test -p ch05-pick-up` explains)",
    })
    .map_err(Into::into)
}

/// The first hello, both ways: you speak first, as people picking up do.
fn hello(s: &mut Scene, line: &OwnedFd, caller: &OwnedFd) -> SceneResult {
    const PICKED_UP: &[u8] = b"hello?\n";
    const CALLER: &[u8] = b"hi, it's your caller\n";
    say(s, Who::You, line, PICKED_UP)?;
    hear(s, Who::Caller, caller, PICKED_UP.len())?;
    say(s, Who::Caller, caller, CALLER)?;
    hear(s, Who::You, line, CALLER.len())?;
    s.note("read() and write() work on a socket as on a file; chapter 6 shows why one write isn't always one read")?;
    s.pause().map_err(Into::into)
}

fn say(s: &mut Scene, who: Who, fd: &OwnedFd, words: &[u8]) -> SceneResult {
    // ANCHOR: say
    let n = write(fd, words).map_err(sys("write", "Is the other side still there?"))?;
    // ANCHOR_END: say
    s.step(
        who,
        &format!("say {:?}", String::from_utf8_lossy(words).trim_end()),
        &format!(
            "write(fd {}, {:?}) = {n}",
            fd.as_raw_fd(),
            String::from_utf8_lossy(words)
        ),
    )
    .map_err(Into::into)
}

fn hear(s: &mut Scene, who: Who, fd: &OwnedFd, want: usize) -> SceneResult {
    let heard = party::hear(fd, want, ALREADY_IN_THE_KERNEL)
        .map_err(sys("read", "Is the line still open?"))?;
    let text = String::from_utf8_lossy(&heard);
    s.step(
        who,
        &format!("hear {:?}", text.trim_end()),
        &format!(
            "read(fd {}) = {} bytes: {text:?}",
            fd.as_raw_fd(),
            heard.len()
        ),
    )
    .map_err(Into::into)
}

/// The caller hangs up; you read end-of-file, hang up the line, and the
/// phone on the wall is still switched on, with nobody ringing.
fn hang_ups(s: &mut Scene, phone: Arc<OwnedFd>, line: OwnedFd, caller: OwnedFd) -> SceneResult {
    let (pfd, lfd, cfd) = (phone.as_raw_fd(), line.as_raw_fd(), caller.as_raw_fd());
    drop(caller);
    s.step(Who::Caller, "hang up", &format!("close(fd {cfd})"))?;
    // ANCHOR: eof
    let quiet =
        !party::ready(&line, ALREADY_IN_THE_KERNEL).map_err(sys("poll", "Is the line open?"))?;
    let mut buf = [0u8; 64];
    let n = if quiet {
        None
    } else {
        Some(read(line.as_fd(), &mut buf).map_err(sys("read", "Is the line open?"))?)
    };
    // ANCHOR_END: eof
    s.step(
        Who::You,
        "hear the click",
        &match n {
            Some(0) => format!("read(fd {lfd}) = 0: end-of-file, the caller hung up"),
            Some(n) => format!("read(fd {lfd}) = {n}: more words, not the hang-up"),
            None => format!("poll(fd {lfd}) = 0: the line is still quiet"),
        },
    )?;
    drop(line);
    s.step(Who::You, "hang up too", &format!("close(fd {lfd})"))?;
    let still_on =
        kernel::switched_on(&*phone).map_err(sys("getsockopt(SO_ACCEPTCONN)", "Is it open?"))?;
    let ringing = party::ready(&*phone, Duration::ZERO).map_err(sys("poll", "Is it open?"))?;
    s.step(
        Who::You,
        "the phone on the wall waits for the next caller",
        &format!(
            "getsockopt(fd {pfd}, SO_ACCEPTCONN) = {}; poll(fd {pfd}, POLLIN, timeout 0) = {}",
            u8::from(still_on),
            ringing_words(ringing)
        ),
    )?;
    drop(phone);
    s.step(
        Who::You,
        "take the phone off the wall",
        &format!("close(fd {pfd})"),
    )?;
    s.pause().map_err(Into::into)
}

/// Aside, with the exchange's own phone: a non-blocking listener. Its
/// accept() says `EAGAIN` at once when nobody rings; the line it hands over
/// once somebody does blocks all the same, because on Linux accept() does
/// not pass `O_NONBLOCK` on.
fn never_waits(s: &mut Scene) -> SceneResult {
    let advice = "Is the loopback interface up?";
    let phone = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(sys("socket(SOCK_NONBLOCK)", advice))?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).map_err(sys("bind", advice))?;
    listen(
        &phone,
        Backlog::new(8).map_err(sys("Backlog::new(8)", advice))?,
    )
    .map_err(sys("listen", advice))?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", advice))?;
    let pfd = phone.as_raw_fd();
    // strace says EAGAIN "Resource temporarily unavailable"; nix's text for
    // it is "Try again", so the errno is named here as strace shows it.
    let nobody = match accept(&phone) {
        Ok(_) => "a line: somebody was ringing after all".to_string(),
        Err(Errno::EAGAIN) => "-1 EAGAIN (Resource temporarily unavailable)".to_string(),
        Err(e) => names::errno(e),
    };
    s.step(
        Who::Exchange,
        "a phone that never waits: nobody rings, and it says so at once",
        &format!("socket(.., SOCK_NONBLOCK) + bind + listen = fd {pfd}; accept() on it = {nobody}"),
    )?;
    let caller = party::dial(&number).map_err(sys("connect", advice))?;
    party::ready(&phone, ALREADY_IN_THE_KERNEL).map_err(sys("poll", "Is it open?"))?;
    let line = accept(&phone).map_err(sys("accept", "Is it open?"))?;
    let status = check::fl_flags(&line).map_err(sys("fcntl(F_GETFL)", "Is it open?"))?;
    let lfd = line.as_raw_fd();
    s.step(
        Who::Exchange,
        "a caller rings; it picks up and asks the line's flags",
        &format!(
            "accept() on fd {pfd} = fd {lfd}; fcntl(fd {lfd}, F_GETFL) = {}",
            check::show_flags(status)
        ),
    )?;
    s.note(if status.contains(OFlag::O_NONBLOCK) {
        "the line is non-blocking too: not what Linux does (man 2 accept)"
    } else {
        "on Linux the line does not inherit O_NONBLOCK from the phone on the wall (man 2 accept): a server that wants it asks accept4(.., SOCK_NONBLOCK)"
    })?;
    drop((line, caller, phone));
    s.pause().map_err(Into::into)
}

/// `--listen HOST:PORT`: switch on a phone there, wait for a real caller,
/// show caller ID, say hello, hear one line, say goodbye and hang up.
fn real(s: &mut Scene, answer: &Answer, wanted: SockaddrIn) -> SceneResult {
    // Switch on before printing anything, so a taken number is one line.
    let phone = switch_on(&wanted)?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it IPv4?"))?;
    let pfd = phone.as_raw_fd();
    let dial_ip = if number.ip().is_unspecified() {
        Ipv4Addr::LOCALHOST
    } else {
        number.ip()
    };
    s.title(&format!(
        "Your phone is switched on at {}. Waiting for a real caller.",
        names::addr(&number)
    ))?;
    s.step(
        Who::You,
        "install a phone, get a number, switch it on",
        &format!(
            "socket + bind({}) + listen = fd {pfd}, number {}",
            names::addr(&wanted),
            names::addr(&number)
        ),
    )?;
    if wanted.port() == 0 {
        s.note(&format!(
            "you asked for port 0, so the exchange picked port {}",
            number.port()
        ))?;
    }
    s.note(&format!(
        "call it from another terminal: nc {dial_ip} {}",
        number.port()
    ))?;
    s.step(
        Who::You,
        "wait by the telephone (Ctrl-C to give up)",
        &format!("poll(fd {pfd}, POLLIN, no timeout), then accept()"),
    )?;
    party::wait_for_ring(&phone).map_err(sys("poll", "Is the phone still open?"))?;
    let phone = Arc::new(phone);
    let wall = Arc::clone(&phone);
    let (line, caller_id) = learner_call!(s.chapter, answer.pick_up(&wall))?.map_err(sys(
        "accept",
        "A call was ringing: check what pick_up() does.",
    ))?;
    let lfd = line.as_raw_fd();
    s.step(
        Who::You,
        "pick up",
        &format!(
            "pick_up(fd {pfd}) = Ok((fd {lfd}, {}))",
            names::addr(&caller_id)
        ),
    )?;
    let peer = caller_id_of(&line)?;
    s.step(
        Who::You,
        "read the caller ID",
        &format!("getpeername(fd {lfd}) = {}", names::addr(&peer)),
    )?;
    say(
        s,
        Who::You,
        &line,
        b"hello? This is Dial Tone, chapter 5. Say something and press Enter.\n",
    )?;
    converse(s, &line)?;
    drop(line);
    s.step(
        Who::You,
        "hang up",
        &format!("close(fd {lfd}); the caller reads end-of-file"),
    )?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// Hear one line from a person (any bytes: shown escaped), then say goodbye.
fn converse(s: &mut Scene, line: &OwnedFd) -> SceneResult {
    let lfd = line.as_raw_fd();
    let heard = party::hear_line(line, 200, PERSON_TYPES)
        .map_err(sys("read", "Is the line still open?"))?;
    if heard.is_empty() {
        let hung_up = party::ready(line, Duration::ZERO).unwrap_or(false);
        s.step(
            Who::Caller,
            if hung_up {
                "hangs up without a word"
            } else {
                "says nothing"
            },
            &if hung_up {
                format!("read(fd {lfd}) = 0: end-of-file")
            } else {
                format!("no bytes within {} s", PERSON_TYPES.as_secs())
            },
        )?;
        return Ok(());
    }
    let text = String::from_utf8_lossy(&heard);
    s.step(
        Who::Caller,
        &format!("says {:?}", text.trim_end()),
        &format!("read(fd {lfd}) = {} bytes", heard.len()),
    )?;
    // The caller may already be gone; a goodbye into a dead line is no error.
    match write(line, b"goodbye!\n") {
        Ok(n) => s.step(
            Who::You,
            "say goodbye",
            &format!("write(fd {lfd}, \"goodbye!\\n\") = {n}"),
        )?,
        Err(e) => s.step(
            Who::You,
            "say goodbye to nobody",
            &format!("write(fd {lfd}) = {}", names::errno(e)),
        )?,
    }
    Ok(())
}

/// socket + bind + listen at the address the user asked for, with advice
/// for the usual ways that goes wrong.
fn switch_on(wanted: &SockaddrIn) -> Result<OwnedFd, SceneError> {
    let at = names::addr(wanted);
    let phone = dialtone_kit::party::new_phone()
        .map_err(sys("socket", "Are descriptors exhausted (ulimit -n)?"))?;
    bind(phone.as_raw_fd(), wanted)
        .map_err(|errno| sys(format!("bind({at})"), args::bind_advice(errno, &at))(errno))?;
    listen(
        &phone,
        Backlog::new(8).map_err(sys("listen", "A backlog of 8 is valid."))?,
    )
    .map_err(sys(format!("listen on {at}"), "Check the address."))?;
    Ok(phone)
}

/// The kernel's caller ID for the line pick_up() returned: `getpeername`.
fn caller_id_of(line: &OwnedFd) -> Result<SockaddrIn, SceneError> {
    kernel::other_end(line).map_err(sys(
        "getpeername",
        "pick_up() should return the line accept() gave, and the caller ID with it.",
    ))
}
