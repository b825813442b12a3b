//! The self-check for chapter 5: does `pick_up()` really pick up the call?
//!
//! The check switches on a phone (127.0.0.1, a port the kernel picks), rings
//! it from a caller of its own, and lets the caller speak first: the words
//! wait in the kernel until somebody picks up and reads. Then it hands the
//! phone to `pick_up()` and asks the kernel about what came back: is it a new
//! line rather than the phone on the wall, is the caller on the other end, is
//! the caller ID right, and do the caller's words arrive on it? Every wait has
//! a deadline, so a `pick_up()` that blocks gets a verdict, not a hang.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{LearnerError, Trouble};
use dialtone_kit::patience::ALREADY_IN_THE_KERNEL;
use dialtone_kit::task::unreadable;
use dialtone_kit::{kernel, learner_call, names, party};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{accept, recv, MsgFlags, SockaddrIn};
use nix::unistd::write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub pick_up: fn(&OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)>,
}

/// What the check's caller says as soon as the call goes through.
const HELLO: &[u8] = b"hello, is this chapter 5?\n";

/// How long the caller's end waits for words or a hang-up that pick_up()
/// should never have sent. The wait runs out on every right answer, so it
/// is short: on loopback they arrived before pick_up() returned.
const NOTHING_WITHIN: Duration = Duration::from_millis(50);

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    let (phone, number) = party::switched_on_phone().map_err(|e| setup("switch on a phone", e))?;
    let phone = Arc::new(phone);
    // connect() to a listening loopback phone with room in its queue returns
    // at once, before anyone picks up; so does a short first write.
    let caller = party::dial(&number).map_err(|e| setup("dial its own phone", e))?;
    let caller_number = kernel::own_number(&caller).map_err(|e| setup("read its number", e))?;
    write(&caller, HELLO).map_err(|e| setup("speak", e))?;
    // What the wall phone is before pick_up(): after it, it must be the same.
    let wall_before = Wall::read(&phone).map_err(|e| setup("ask about its own phone", e))?;

    let (line, caller_id) = pick(answer, &phone, &number)?;
    passed.saw(format!(
        "pick_up() returned fd {} while the phone on the wall is fd {}",
        line.as_raw_fd(),
        phone.as_raw_fd()
    ));
    check_new_line(&line, &phone)?;
    passed.saw(
        "SO_ACCEPTCONN is 0 on it, and /proc/self/fd names another socket: a new conversation",
    );
    let cloexec = check_line_blocking(&line)?;
    passed.saw(format!(
        "F_GETFL: the line blocks (O_NONBLOCK off), as accept() makes it; close-on-exec is {}",
        if cloexec {
            "on (accept4 with SOCK_CLOEXEC)"
        } else {
            "off (plain accept)"
        }
    ));
    check_other_end(&line, &caller_number)?;
    passed.saw(format!(
        "getpeername on it says {}: the check's caller is on the other end",
        names::addr(&caller_number)
    ));
    check_caller_id(&caller_id, &caller_number, &number)?;
    passed.saw("the caller ID you returned is the caller's own number (its getsockname)");
    check_caller_hears_nothing(&caller)?;
    passed.saw("the caller heard nothing from pick_up(): no words, no hang-up");
    check_words(&line)?;
    passed.saw("the caller's first words arrive on the line you returned");
    check_wall_phone(&phone, &wall_before, &number)?;
    passed.saw("after pick_up(), the phone on the wall is still on (SO_ACCEPTCONN 1, same F_GETFL) and a second caller rings it");
    Ok(passed)
}

/// Calls the learner's `pick_up()` under the chapter's timeout, and turns a
/// hang into the message for the mistake that causes it.
fn pick(
    answer: &Answer,
    phone: &Arc<OwnedFd>,
    number: &SockaddrIn,
) -> Result<(OwnedFd, SockaddrIn), Failure> {
    let shared = Arc::clone(phone);
    let (returned_tx, returned_rx) = mpsc::channel();
    let outcome = learner_call!(chapter(), answer.pick_up, move |pick_up| {
        let result = pick_up(&shared);
        // Tells diagnose_hang() that pick_up() came back (after a timeout).
        let _ = returned_tx.send(());
        result
    });
    match outcome {
        Ok(Ok(picked)) => Ok(picked),
        Ok(Err(Errno::ENOTCONN)) => Err(Failure::new("ch05.caller-id-of-wall", "pick_up() asked the phone on the wall for caller ID")
            .expected("Ok((line, caller)): caller ID read from the new line")
            .got(format!("Err({})", names::errno(Errno::ENOTCONN)))
            .phone("the phone on the wall is never on a call itself, so it has no caller to show; the new line has.")
            .syscall("call getpeername() on the descriptor accept() returned, not on `phone`.")),
        Ok(Err(errno)) => Err(Failure::new("ch05.accept-error", "pick_up() returned an error while a call was ringing")
            .expected("Ok((line, caller)): a call is waiting in the queue")
            .got(format!("Err({})", names::errno(errno)))
            .phone(format!("the exchange wouldn't let you pick up: {}.", names::errno_phone(errno)))
            .syscall("call accept(phone) on the phone you are given, then getpeername() on the new descriptor; nothing else.")),
        Err(e @ LearnerError { trouble: Trouble::Hung(_), .. }) => {
            Err(diagnose_hang(e, phone, number, &returned_rx))
        }
        Err(e) => Err(e.into()),
    }
}

/// `pick_up()` didn't return. If the check's call has left the queue,
/// `pick_up()` did answer it, and then waited for something else. Ring once
/// more: a `pick_up()` stuck in a second accept() takes that call and
/// returns, which names the mistake (and frees its thread).
fn diagnose_hang(
    e: LearnerError,
    phone: &OwnedFd,
    number: &SockaddrIn,
    returned: &mpsc::Receiver<()>,
) -> Failure {
    if party::ready(phone, Duration::ZERO).unwrap_or(true) {
        return e.into(); // the call is still ringing: pick_up() never answered it
    }
    let second_caller = party::dial(number);
    let came_back = returned.recv_timeout(Duration::from_secs(1)).is_ok();
    drop(second_caller);
    if !came_back {
        return e.into();
    }
    Failure::new("ch05.accepted-twice", "pick_up waited for a second call that never came")
        .expected(format!("one accept(): pick_up() returns within {} s with the line for the call that was ringing", e.chapter.timeout_secs))
        .got("the check's call was taken off the queue, yet pick_up() kept waiting; it returned only when the check rang a second time")
        .phone("you picked up, then kept waiting by the telephone for another call instead of talking to the one you had.")
        .syscall("call accept() once per pick_up(): with nobody else dialling, a second accept() blocks.")
}

/// The returned line must be a conversation, not the listening phone or a
/// duplicate of it (`try_clone()` is `dup()`: the same socket, a new number).
fn check_new_line(line: &OwnedFd, phone: &OwnedFd) -> Result<(), Failure> {
    let listening = kernel::switched_on(line).map_err(|e| not_a_line("SO_ACCEPTCONN", e))?;
    let target = kernel::fd_target(line.as_raw_fd());
    let same_socket = target.is_some() && target == kernel::fd_target(phone.as_raw_fd());
    if !listening && !same_socket {
        return Ok(());
    }
    let socket = target.unwrap_or_else(|| "a socket".into());
    Err(Failure::new("ch05.listening-socket", "pick_up() returned the phone on the wall, not the line for this call")
        .expected("a new descriptor from accept(), with SO_ACCEPTCONN = 0")
        .got(format!(
            "fd {} is {socket}, with SO_ACCEPTCONN = {}: the listening socket (fd {} is the same {socket})",
            line.as_raw_fd(),
            u8::from(listening),
            phone.as_raw_fd()
        ))
        .phone("you handed over the phone on the wall instead of the conversation: the caller isn't on that one.")
        .syscall("return the OwnedFd that accept() gives you, not a try_clone() of the phone you were given."))
}

/// The line must block like any accepted socket. `accept()` never copies
/// `O_NONBLOCK` from the listener (Linux; accept(2)), so a non-blocking line
/// means pick_up() asked for it. Close-on-exec is the answer's own choice
/// (`accept4(.., SOCK_CLOEXEC)` or plain `accept()`): returned, not judged.
fn check_line_blocking(line: &OwnedFd) -> Result<bool, Failure> {
    let flags = fl_flags(line).map_err(|e| not_a_line("F_GETFL", e))?;
    let cloexec = fcntl(line, FcntlArg::F_GETFD)
        .map(|bits| FdFlag::from_bits_truncate(bits).contains(FdFlag::FD_CLOEXEC))
        .map_err(|e| not_a_line("F_GETFD", e))?;
    if !flags.contains(OFlag::O_NONBLOCK) {
        return Ok(cloexec);
    }
    Err(Failure::new("ch05.line-nonblocking", "pick_up() returned a line that doesn't wait")
        .expected("F_GETFL without O_NONBLOCK: a blocking line, as accept() returns it")
        .got("F_GETFL has O_NONBLOCK: the line's read() says EAGAIN instead of waiting for words")
        .phone("you handed over a handset that hangs up on silence: whoever holds it next gets \"nobody's there\" instead of waiting for the caller to speak.")
        .syscall("use plain accept(phone); don't pass SockFlag::SOCK_NONBLOCK to accept4() or set O_NONBLOCK with fcntl() on the new line."))
}

/// `fcntl(F_GETFL)`: the open socket's status flags (`O_NONBLOCK`, `O_RDWR`).
pub(crate) fn fl_flags(fd: &OwnedFd) -> nix::Result<OFlag> {
    fcntl(fd, FcntlArg::F_GETFL).map(OFlag::from_bits_truncate)
}

/// `O_RDWR | O_NONBLOCK`, as fcntl(2) spells the flags a socket can have.
pub(crate) fn show_flags(flags: OFlag) -> String {
    let mut names = vec![match flags & OFlag::O_ACCMODE {
        OFlag::O_WRONLY => "O_WRONLY",
        OFlag::O_RDONLY => "O_RDONLY",
        _ => "O_RDWR",
    }];
    for (flag, name) in [
        (OFlag::O_NONBLOCK, "O_NONBLOCK"),
        (OFlag::O_APPEND, "O_APPEND"),
        (OFlag::O_ASYNC, "O_ASYNC"),
    ] {
        if flags.contains(flag) {
            names.push(name);
        }
    }
    names.join(" | ")
}

/// The wall phone's state, as the kernel reports it.
#[derive(PartialEq, Eq)]
struct Wall {
    listening: bool,
    flags: OFlag,
}

impl Wall {
    fn read(phone: &OwnedFd) -> nix::Result<Wall> {
        Ok(Wall {
            listening: kernel::switched_on(phone)?,
            flags: fl_flags(phone)?,
        })
    }
}

/// After pick_up() the phone on the wall must be as it was, and still take
/// calls: the check rings it once more and picks that call up itself.
fn check_wall_phone(phone: &OwnedFd, before: &Wall, number: &SockaddrIn) -> Result<(), Failure> {
    let after = Wall::read(phone).map_err(|e| setup("ask about its own phone", e))?;
    if after.listening && after.flags != before.flags {
        return Err(Failure::new("ch05.wall-phone-changed", "pick_up() changed the phone on the wall")
            .expected(format!("F_GETFL on the listening socket as before: {}", show_flags(before.flags)))
            .got(format!("F_GETFL = {}", show_flags(after.flags)))
            .phone("you fiddled with the phone on the wall while picking up; everyone who answers it later finds it behaving differently.")
            .syscall("leave `phone` as it is: O_NONBLOCK belongs to the open socket, so fcntl(F_SETFL) on it changes it for every holder. accept() is all it needs."));
    }
    let second = if after.listening {
        party::dial(number).ok()
    } else {
        None
    };
    let rang = second.is_some() && party::ready(phone, ALREADY_IN_THE_KERNEL).unwrap_or(false);
    if rang {
        // poll() said a call is queued, so accept() returns at once.
        return accept(phone).map(drop).map_err(|e| setup("pick up", e));
    }
    Err(Failure::new("ch05.wall-phone-off", "pick_up() switched the phone on the wall off")
        .expected("SO_ACCEPTCONN = 1 after pick_up(), and a second caller rings")
        .got(format!(
            "SO_ACCEPTCONN = {}; a second caller {}",
            u8::from(after.listening),
            if second.is_none() { "was refused (ECONNREFUSED)" } else { "never rang" }
        ))
        .phone("you picked up one call and unplugged the phone on the wall: the next caller hears \"nobody's phone is switched on\".")
        .syscall("don't shutdown() or close `phone` in pick_up(): accept() leaves the listening socket on; the line it returns is the one you may hang up later."))
}

/// pick_up() only picks up: the caller must not have heard a word or a
/// hang-up yet (`recv(MSG_PEEK | MSG_DONTWAIT)` on the caller's end).
fn check_caller_hears_nothing(caller: &OwnedFd) -> Result<(), Failure> {
    let _ = party::ready(caller, NOTHING_WITHIN);
    let mut buf = [0u8; 64];
    let (id, headline, got, phone) = match recv(
        caller.as_raw_fd(),
        &mut buf,
        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
    ) {
        Err(Errno::EAGAIN) => return Ok(()),
        Ok(0) => ("ch05.line-hung-up", "pick_up() hung up the line it picked up",
            "the caller's read() returns 0 (end-of-file): your side shut down or closed the line".to_string(),
            "you picked up and put the phone straight down again; the caller hears the click before anyone spoke."),
        Ok(n) => ("ch05.spoke-first", "pick_up() talked on the line before handing it over",
            format!("the caller already has {n} byte(s) to read: {:?}", String::from_utf8_lossy(&buf[..n])),
            "you said something before handing the phone over; the person you hand it to doesn't know what the caller has heard."),
        Err(e) => ("ch05.line-hung-up", "pick_up() broke the line it picked up",
            format!("the caller's recv() failed with {}", names::errno(e)),
            "the caller's line went dead as soon as you picked up."),
    };
    Err(Failure::new(id, headline)
        .expected("nothing for the caller to read yet: pick_up() only answers")
        .got(got)
        .phone(phone)
        .syscall("pick_up() should only accept() and getpeername(); write(), shutdown() and close() belong to whoever holds the line (chapters 6 and 7)."))
}

fn check_other_end(line: &OwnedFd, caller: &SockaddrIn) -> Result<(), Failure> {
    let peer = kernel::other_end(line);
    if peer == Ok(*caller) {
        return Ok(());
    }
    Err(Failure::new(
        "ch05.wrong-line",
        "the line pick_up() returned isn't the check's call",
    )
    .expected(format!(
        "getpeername = {}, the check's caller",
        names::addr(caller)
    ))
    .got(match peer {
        Ok(other) => format!("getpeername = {}", names::addr(&other)),
        Err(errno) => format!("getpeername failed with {}", names::errno(errno)),
    })
    .phone("the handset you gave back isn't connected to the person who rang.")
    .syscall("return the descriptor accept() returned, unchanged."))
}

fn check_caller_id(id: &SockaddrIn, caller: &SockaddrIn, own: &SockaddrIn) -> Result<(), Failure> {
    if id == caller {
        return Ok(());
    }
    let expected = format!("{}, the caller's own number", names::addr(caller));
    if id == own {
        return Err(Failure::new("ch05.own-number", "pick_up() returned your own number as caller ID")
            .expected(expected)
            .got(format!("{}, the number of the phone on the wall", names::addr(id)))
            .phone("caller ID shows who is calling, not the number printed on your own phone.")
            .syscall("getsockname() is your own number; call getpeername() on the new line for the caller's."));
    }
    Err(Failure::new(
        "ch05.wrong-caller-id",
        "pick_up() returned a caller ID that isn't the caller's",
    )
    .expected(expected)
    .got(names::addr(id))
    .phone("the number on your caller ID display doesn't match who is on the line.")
    .syscall("return what getpeername() says about the new line, as it is."))
}

fn check_words(line: &OwnedFd) -> Result<(), Failure> {
    let heard =
        party::hear(line, HELLO.len(), ALREADY_IN_THE_KERNEL).map_err(|e| not_a_line("read", e))?;
    if heard == HELLO {
        return Ok(());
    }
    Err(Failure::new("ch05.words-lost", "the caller's first words didn't arrive on the line pick_up() returned")
        .expected(format!("read gives {:?}", String::from_utf8_lossy(HELLO)))
        .got(if heard.is_empty() {
            format!("nothing within {} s", ALREADY_IN_THE_KERNEL.as_secs())
        } else {
            format!("only {:?}", String::from_utf8_lossy(&heard))
        })
        .phone("the caller spoke right after dialling; somebody took the words off the line before you handed it over.")
        .syscall("pick_up() should only accept() and getpeername(); leave read() to whoever holds the line."))
}

fn not_a_line(what: &str, errno: Errno) -> Failure {
    unreadable(chapter(), what, "the line you returned", errno)
        .expected("a socket descriptor for the call")
        .phone("what you returned isn't a telephone line at all.")
        .syscall("return the OwnedFd that accept() gives you.")
}

/// The check's own phone failed: not the learner's fault, so say so.
fn setup(what: &str, errno: Errno) -> Failure {
    Failure::new("ch05.setup", format!("the self-check could not {what}"))
        .expected("a loopback phone and a caller for the check")
        .got(names::errno(errno))
        .phone("the check's own phone is out of order; this is not your answer's fault.")
        .syscall("is the loopback interface up (`ip addr show lo`)? Are descriptors exhausted (`ulimit -n`)?")
}
