//! The scene of chapter 8, narrated line by line; or, with `--listen`, the
//! answering service for real callers.
//!
//! In the scene both parties live in this process. The first call is answered
//! "by hand" with the learner's `answer_one_call()`; then the learner's
//! `serve()` takes three more callers on its own: one who slams the phone
//! down mid-line, one who says a megabyte without a newline, and one who
//! slams it down while still waiting in the queue. Every caller step has
//! a deadline, and every caller waits for what it is owed before its next
//! move, so the transcript is the same on every run.

use crate::caller::{self, Heard};
use crate::check::Answer;
use crate::service::{self, BACKLOG, LIMITS};
use crate::{chapter, GREETING};
use dialtone_kit::args::{self, Flag, Mode};
use dialtone_kit::learner::LearnerError;
use dialtone_kit::learner_call;
// How long a caller in the scene waits for any one thing.
use dialtone_kit::patience::PEER_REPLY as PATIENCE;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{kernel, names};
use nix::sys::socket::{accept, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

/// A megabyte: more than anyone should have to hold while waiting for a newline.
const MEGABYTE: usize = 1024 * 1024;

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    match parse(args)? {
        Mode::Scene => scene(s, answer),
        Mode::Real(number) => listen_for_real(s, answer, &number),
    }
}

/// `--listen HOST:PORT`, with the kit's one rule for every binary:
/// `--listen PORT` means 127.0.0.1:PORT. Only an address the user typed puts
/// the service beyond this machine, and the kit warns when it does. Here, and
/// only here, a bare `--listen` means 127.0.0.1 on a free port: a service
/// waits for callers anyway (chapter 5's scene would wait for one it never
/// announced, so the kit refuses it there).
pub fn parse(args: &[String]) -> Result<Mode, SceneError> {
    let bare = args.iter().filter(|a| a.as_str() != "--hold").count() == 1
        && args.iter().any(|a| a == LISTEN.name);
    if bare {
        return Ok(Mode::Real(SockaddrIn::new(127, 0, 0, 1, 0)));
    }
    args::parse(chapter(), args, &LISTEN)
}

/// `--listen [HOST:]PORT`: answer real callers instead of the scene's.
pub const LISTEN: Flag = Flag {
    name: "--listen",
    example: "127.0.0.1:0",
    does: "run the answering service at HOST:PORT for real callers, until Ctrl-C",
    note: "--listen alone picks a free port and prints it; --listen PORT is 127.0.0.1:PORT",
};

/// The answering service for real callers, until Ctrl-C.
fn listen_for_real(s: &mut Scene, answer: &Answer, number: &SockaddrIn) -> SceneResult {
    // ANCHOR: listen
    let phone = service::open(number, LIMITS)?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    // ANCHOR_END: listen
    s.title(&format!(
        "Your answering service is on {}. Call it from another terminal:",
        names::addr(&number)
    ))?;
    for command in service::try_it(&number) {
        s.note(&command)?;
    }
    s.note(&format!(
        "each call gets one line in the log (on stderr); a caller silent for {} s is hung up on; Ctrl-C switches the service off",
        LIMITS.idle.as_secs()
    ))?;
    // A century: "until Ctrl-C", but through the same guarded call as the
    // scene, so an unfinished serve() still gets a friendly paragraph.
    let forever = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    service::run(answer, phone, (usize::MAX, 1), LIMITS, forever, |line| {
        service::log_to(&mut std::io::stderr(), &line)
    })
}

fn scene(s: &mut Scene, answer: &Answer) -> SceneResult {
    s.title(
        "You are going out, but your phone will keep answering: it greets each caller and says back whatever they say.",
    )?;
    let phone = service::open(&SockaddrIn::new(127, 0, 0, 1, 0), LIMITS)?;
    let number = kernel::own_number(&phone).map_err(sys("getsockname", "Is it a socket?"))?;
    let (fd, at) = (phone.as_raw_fd(), names::addr(&number));
    s.step(
        Who::You,
        "put the service's phone on the wall: a number on the loopback line, switched on",
        &format!(
            "socket(AF_INET, SOCK_STREAM, 0) = fd {fd}; setsockopt(fd {fd}, SO_REUSEADDR, 1); bind(fd {fd}, 127.0.0.1:0); listen(fd {fd}, {})",
            i32::from(BACKLOG)
        ),
    )?;
    s.note("4096 is SOMAXCONN: callers who ring together all wait their turn instead of being turned away")?;
    s.step(
        Who::You,
        &format!(
            "give up on any caller who stops listening for {} s",
            LIMITS.send.as_secs()
        ),
        &format!(
            "setsockopt(fd {fd}, SOL_SOCKET, SO_SNDTIMEO, {} s)",
            LIMITS.send.as_secs()
        ),
    )?;
    s.step(
        Who::You,
        &format!(
            "and on any caller who says nothing for {} s",
            LIMITS.idle.as_secs()
        ),
        &format!(
            "setsockopt(fd {fd}, SOL_SOCKET, SO_RCVTIMEO, {} s)",
            LIMITS.idle.as_secs()
        ),
    )?;
    s.note("each line accept() returns inherits both: a caller who never listens, or never speaks, can't jam a service that answers one caller at a time")?;
    s.step(
        Who::You,
        "read the number off the phone",
        &format!("getsockname(fd {fd}) = {at}"),
    )?;
    s.pause()?;

    first_call(s, answer, &phone, &number)?;
    s.pause()?;
    next_callers(s, answer, phone, &number)?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// Call 1, answered with `answer_one_call()` on a line the scene picked up.
fn first_call(s: &mut Scene, answer: &Answer, phone: &OwnedFd, number: &SockaddrIn) -> SceneResult {
    let at = names::addr(number);
    let caller = caller::dial(number, PATIENCE)
        .map_err(sys(format!("connect({at})"), "Is the phone on?"))?;
    let cfd = caller.as_raw_fd();
    s.step(
        Who::Caller,
        "dial the service",
        &format!("connect(fd {cfd}, {at}) = 0"),
    )?;
    let line = accept(phone).map_err(sys("accept", "Is the phone on?"))?;
    let lfd = line.as_raw_fd();
    let target = kernel::fd_target(lfd);
    s.step(
        Who::You,
        "pick up",
        &format!("accept(fd {}) = fd {lfd}", phone.as_raw_fd()),
    )?;
    // ANCHOR: answer
    let answer = *answer;
    let call = start(move || learner_call!(chapter(), answer.answer_one_call(line, GREETING)));
    // ANCHOR_END: answer
    s.step(
        Who::You,
        "answer it: greet, then say back everything",
        &format!("answer_one_call(fd {lfd}, greeting): your code, on its own thread"),
    )?;

    let greeting = hear_greeting(&caller, &call)?;
    s.step(
        Who::Caller,
        "hear the greeting",
        &format!(
            "read(fd {cfd}) until \"\\n\" = {} bytes: {:?}",
            greeting, GREETING
        ),
    )?;
    s.note("the service speaks first, like a daytime server (RFC 867); that one would say the time and hang up")?;
    echo(s, &caller, &call, b"hello, ", "say half a sentence")?;
    s.note("no newline yet, and it came straight back: echo works byte by byte, so the service never waits for a line")?;
    echo(s, &caller, &call, b"world\n", "finish the sentence")?;
    s.note("the service called read() again: one read is not one message")?;
    let all: Vec<u8> = (0..=255u8).collect();
    echo(s, &caller, &call, &all, "say every byte value, 0 to 255")?;
    s.note("bytes, not text: zero bytes and invalid UTF-8 come back unchanged")?;
    hang_up_and_hear_the_end(s, &caller, &call)?;

    let echoed = finished(call, "answer_one_call")?;
    s.step(
        Who::You,
        "the call is over",
        &format!(
            "answer_one_call(..) = Ok({echoed}): {echoed} bytes said back, greeting not counted"
        ),
    )?;
    let gone = kernel::fd_target(lfd) != target;
    s.step(
        Who::Exchange,
        "the service's end of the line is gone",
        &format!(
            "/proc/self/fd/{lfd}: {}",
            if gone {
                "no longer our socket (dropped, so closed)"
            } else {
                "STILL OPEN (a leak!)"
            }
        ),
    )?;
    Ok(())
}

/// Calls 2, 3 and 4, answered by the learner's `serve()` on its own.
fn next_callers(
    s: &mut Scene,
    answer: &Answer,
    phone: OwnedFd,
    number: &SockaddrIn,
) -> SceneResult {
    let fd = phone.as_raw_fd();
    let phone_target = kernel::fd_target(fd);
    let (log_tx, log) = mpsc::channel();
    let answer = *answer;
    // ANCHOR: serve
    let service = spawn_result(move || {
        service::run(
            &answer,
            phone,
            (3, 2),
            LIMITS,
            chapter().timeout(),
            move |line| {
                let _ = log_tx.send(line);
            },
        )
    });
    // ANCHOR_END: serve
    s.step(
        Who::You,
        "let the service take the next three callers by itself",
        &format!("serve(fd {fd}, 3, greeting, log): your code, on its own thread"),
    )?;

    rude_caller(s, number, &service, &log)?;
    long_caller(s, number, &service, &log)?;
    served(s, &service, fd, phone_target)
}

type Running = Receiver<Result<(), SceneError>>;

/// Caller 2 says half a line, hears it back, then slams the phone down.
fn rude_caller(
    s: &mut Scene,
    number: &SockaddrIn,
    service: &Running,
    log: &Receiver<String>,
) -> SceneResult {
    let at = names::addr(number);
    let rude = caller::dial(number, PATIENCE)
        .map_err(sys(format!("connect({at})"), "Is the phone on?"))?;
    let rfd = rude.as_raw_fd();
    hear_greeting(&rude, service)?;
    s.step(
        Who::Caller,
        "a second caller dials and hears the greeting",
        &format!("connect(fd {rfd}, {at}) = 0; read(fd {rfd}) = the greeting"),
    )?;
    echo(s, &rude, service, b"half a li", "say half a line")?;
    caller::slam_down(rude).map_err(sys("setsockopt(SO_LINGER)", "Is it a socket?"))?;
    s.step(
        Who::Caller,
        "slam the phone down mid-line",
        &format!("setsockopt(fd {rfd}, SO_LINGER, on, 0 s); close(fd {rfd}): a reset (RST), not a goodbye"),
    )?;
    log_entry(s, log, service)?;
    s.note("read() failed with ECONNRESET; serve() logged it and went back to accept(): one rude caller doesn't end the service")?;
    Ok(())
}

/// Caller 3 says a megabyte without a newline, listening all the while.
fn long_caller(
    s: &mut Scene,
    number: &SockaddrIn,
    service: &Running,
    log: &Receiver<String>,
) -> SceneResult {
    let at = names::addr(number);
    let long = caller::dial(number, PATIENCE)
        .map_err(sys(format!("connect({at})"), "Is the phone on?"))?;
    let lfd = long.as_raw_fd();
    hear_greeting(&long, service)?;
    s.step(
        Who::Caller,
        "a third caller dials and hears the greeting",
        &format!("connect(fd {lfd}, {at}) = 0; read(fd {lfd}) = the greeting"),
    )?;
    let heard = megabyte(&long);
    if heard.len() != MEGABYTE || heard.iter().any(|&b| b != b'z') {
        return Err(went_wrong(
            service,
            format!(
                "The third caller said 1048576 bytes of 'z' and heard {} bytes back.",
                heard.len()
            ),
        ));
    }
    s.step(
        Who::Caller,
        "say a megabyte without a newline, listening all the while",
        &format!("write(fd {lfd}, {MEGABYTE} bytes) on one thread, read() on another: {MEGABYTE} bytes back, all 'z'"),
    )?;
    s.note("it came back while it was still being said: a service that waited for the newline would be holding all of it")?;
    // While the service is still on this call, a fourth caller rings and
    // gives up: its call waits in the queue, reset, until serve() is free.
    gives_up_in_the_queue(s, number)?;
    hang_up_and_hear_the_end(s, &long, service)?;
    log_entry(s, log, service)?;
    drop(long);
    log_entry(s, log, service)?;
    s.note("on Linux accept() hands over a call that was reset in the queue like any other, and the reset comes with its first read or write: it counts as a caller. accept() itself fails only with errors of the call that was ringing (man 2 accept), which serve() retries without counting")?;
    Ok(())
}

/// Caller 4 dials while the service is busy and slams the phone down before
/// anyone picks up: the kernel completed the call, so it waits in the queue.
fn gives_up_in_the_queue(s: &mut Scene, number: &SockaddrIn) -> SceneResult {
    let at = names::addr(number);
    let late = caller::dial(number, PATIENCE)
        .map_err(sys(format!("connect({at})"), "Is the phone on?"))?;
    let fd = late.as_raw_fd();
    caller::slam_down(late).map_err(sys("setsockopt(SO_LINGER)", "Is it a socket?"))?;
    s.step(
        Who::Caller,
        "a fourth caller rings meanwhile, then slams the phone down",
        &format!("connect(fd {fd}, {at}) = 0; SO_LINGER 0 s; close(fd {fd}): a reset, before anyone picked up"),
    )?;
    Ok(())
}

/// serve() returns after its callers, and its phone is off the wall.
fn served(
    s: &mut Scene,
    service: &Running,
    fd: std::os::fd::RawFd,
    phone_target: Option<String>,
) -> SceneResult {
    match service.recv_timeout(chapter().timeout() + Duration::from_secs(1)) {
        Ok(result) => result?,
        Err(_) => return Err(SceneError::Unexpected(
            "serve() didn't return after its three callers: loop `callers` times, not for ever."
                .into(),
        )),
    }
    s.step(
        Who::You,
        "serve() returns after its callers; the phone comes off the wall",
        &format!("serve(..) = Ok(()); close(fd {fd})"),
    )?;
    // Asked of this process's own descriptor table, not by dialling the
    // number again: once the phone is off the wall, any program on the machine
    // may be handed that number by the exchange (tests running beside this
    // scene do exactly that), so a late call could reach someone else.
    let gone = kernel::fd_target(fd) != phone_target;
    s.step(
        Who::Exchange,
        "the service's phone is off the wall",
        &format!(
            "/proc/self/fd/{fd}: {}",
            if gone {
                "no longer our socket (closed)"
            } else {
                "STILL OPEN (a leak!)"
            }
        ),
    )?;
    s.note("a late caller would now be refused (ECONNREFUSED): nobody's phone is on at that number, as in chapter 3")?;
    Ok(())
}

// ---------------------------------------------------------------- the steps

/// The caller listens for the greeting line; returns its length in bytes.
fn hear_greeting<T, E: Into<SceneError>>(
    phone: &OwnedFd,
    running: &Receiver<Result<T, E>>,
) -> Result<usize, SceneError> {
    match caller::hear_line(phone) {
        Heard::All(line) if line.strip_suffix(b"\n") == Some(GREETING.as_bytes()) => Ok(line.len()),
        heard => Err(went_wrong(
            running,
            format!(
                "The caller expected the greeting line and heard {:?}{}.",
                String::from_utf8_lossy(heard.bytes()),
                ending(&heard)
            ),
        )),
    }
}

/// The caller says `words` and must hear exactly them back.
fn echo<T, E: Into<SceneError>>(
    s: &mut Scene,
    phone: &OwnedFd,
    running: &Receiver<Result<T, E>>,
    words: &[u8],
    what: &str,
) -> SceneResult {
    let pfd = phone.as_raw_fd();
    caller::say(phone, words).map_err(sys("the caller's write()", "The service hung up early."))?;
    let quoted = if words.len() > 16 {
        format!("{} bytes", words.len())
    } else {
        format!("\"{}\"", words.escape_ascii())
    };
    s.step(
        Who::Caller,
        &format!("{what}: {quoted}"),
        &format!("write(fd {pfd}, {quoted}) = {}", words.len()),
    )?;
    match caller::hear_exactly(phone, words.len()) {
        Heard::All(back) if back == words => s.step(
            Who::Caller,
            "hear it straight back",
            &format!("read(fd {pfd}) = {} bytes, the same ones", back.len()),
        )?,
        heard => {
            return Err(went_wrong(
                running,
                format!(
                    "The caller said {quoted} and heard {:?}{} back.",
                    String::from_utf8_lossy(heard.bytes()),
                    ending(&heard)
                ),
            ))
        }
    }
    Ok(())
}

/// "That's all from me", then the caller must hear the service hang up.
fn hang_up_and_hear_the_end<T, E: Into<SceneError>>(
    s: &mut Scene,
    phone: &OwnedFd,
    running: &Receiver<Result<T, E>>,
) -> SceneResult {
    let pfd = phone.as_raw_fd();
    caller::done_talking(phone).map_err(sys("shutdown(SHUT_WR)", "Is the line still up?"))?;
    s.step(
        Who::Caller,
        "\"that's all from me\" (still listening)",
        &format!("shutdown(fd {pfd}, SHUT_WR) = 0"),
    )?;
    match caller::hear_the_end(phone, 64 * 1024) {
        Heard::All(rest) if rest.is_empty() => s.step(
            Who::Caller,
            "hear the service hang up",
            &format!("read(fd {pfd}) = 0: end of file"),
        )?,
        heard => {
            return Err(went_wrong(running, format!(
                "After \"that's all\", the caller waited {} s for the service to hang up and heard {:?}{}.",
                PATIENCE.as_secs(),
                String::from_utf8_lossy(heard.bytes()),
                ending(&heard)
            )))
        }
    }
    Ok(())
}

/// Says a megabyte of 'z' from one thread while hearing it on this one.
fn megabyte(phone: &OwnedFd) -> Vec<u8> {
    let Ok(talker) = phone.try_clone() else {
        return Vec::new();
    };
    let talking = thread::spawn(move || caller::say(&talker, &vec![b'z'; MEGABYTE]));
    let heard = caller::hear_exactly(phone, MEGABYTE);
    // Bounded: the talker's writes give up after the phone's SO_SNDTIMEO.
    let _ = talking.join();
    heard.bytes().to_vec()
}

/// The service's next log line, as a step.
fn log_entry(
    s: &mut Scene,
    log: &Receiver<String>,
    running: &Receiver<Result<(), SceneError>>,
) -> SceneResult {
    match log.recv_timeout(PATIENCE) {
        Ok(line) => Ok(s.step(Who::You, "the service writes in its log", &line)?),
        Err(_) => match running.recv_timeout(Duration::from_millis(500)) {
            Ok(Err(e)) => Err(e),
            _ => Err(SceneError::Unexpected(format!(
                "serve() didn't log the call within {} s. Hand each call's result to log(). `cargo test -p {}` says more.",
                PATIENCE.as_secs(),
                chapter().crate_name()
            ))),
        },
    }
}

// ----------------------------------------------------------------- plumbing

/// Starts a call of the learner's (`learner_call!`) on a thread of its own.
fn start<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, LearnerError> + Send + 'static,
) -> Receiver<Result<T, LearnerError>> {
    spawn_result(call)
}

/// Runs `f` on a thread of its own; its result arrives on the receiver.
fn spawn_result<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Waits for the learner's function to return; its `Ok` value.
fn finished<T, E: Into<SceneError>>(
    running: Receiver<Result<nix::Result<T>, E>>,
    function: &str,
) -> Result<T, SceneError> {
    match running.recv_timeout(chapter().timeout() + Duration::from_secs(1)) {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(errno))) => Err(sys(
            format!("{function}()"),
            "`cargo test -p ch08-answering-service` says why.",
        )(errno)),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(SceneError::Unexpected(format!(
            "{function}() never returned."
        ))),
    }
}

/// A caller heard the wrong thing: if the learner's function has already
/// stopped (a `todo!()`, a panic), that is the news; otherwise say what the
/// caller heard.
fn went_wrong<T, E: Into<SceneError>>(
    running: &Receiver<Result<T, E>>,
    heard: String,
) -> SceneError {
    match running.recv_timeout(Duration::from_millis(500)) {
        Ok(Err(e)) => e.into(),
        _ => SceneError::Unexpected(format!(
            "{heard} `cargo test -p {}` says which mistake that is.",
            chapter().crate_name()
        )),
    }
}

fn ending(heard: &Heard) -> &'static str {
    match heard {
        Heard::All(_) => "",
        Heard::Quiet(_) => ", then silence",
        Heard::HungUp(_) => ", then the line went dead",
    }
}
