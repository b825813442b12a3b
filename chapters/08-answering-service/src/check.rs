//! The self-check for chapter 8: real callers ring the learner's service and
//! report what they heard.
//!
//! Nothing reads the learner's source. Each check sets up a phone on
//! 127.0.0.1 port 0, runs the learner's function on a learner thread (under a
//! timeout) and, at the same time, a caller on a thread of its own whose every
//! step has a deadline. What the caller heard, together with how the learner's
//! function ended, names the mistake: one read taken for one message, a short
//! write ignored, end of file taken for an error or looped on, a reset that
//! crashes the service, a line never closed.

use crate::caller::{self, Heard};
use crate::{chapter, GREETING};
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{LearnerError, Trouble};
use dialtone_kit::patience::SERVICE_REPLY as PATIENCE;
use dialtone_kit::{learner_call, names, task};
use nix::errno::Errno;
use nix::sys::socket::{accept, bind, listen, setsockopt, sockopt, Backlog, SockaddrIn};
use nix::sys::time::TimeVal;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// What `serve` hands each call's result to.
pub type Log<'a> = &'a mut dyn FnMut(nix::Result<u64>);
/// The shape of `serve`.
pub type Serve = fn(&OwnedFd, usize, &str, Log) -> nix::Result<()>;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub send_all: fn(&OwnedFd, &[u8]) -> nix::Result<()>,
    pub answer_one_call: fn(OwnedFd, &str) -> nix::Result<u64>,
    pub serve: Serve,
}

// PATIENCE: how long a caller waits for any one thing (a greeting, an echo,
// the end).

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    passed.saw(check_short_write(answer)?);
    passed.saw(check_conversation(answer)?);
    if let Some(saw) = check_echo_short_write(answer)? {
        passed.saw(saw);
    }
    passed.saw(check_reset(answer)?);
    passed.saw(check_service(answer)?);
    Ok(passed)
}

// ---------------------------------------------------------------- send_all

/// Bytes the short-write check sends: far more than two socket buffers hold.
const BIG: usize = 2 * 1024 * 1024;
/// The line's send timeout in the short-write check: `write` gives back a
/// partial count when it runs out after some bytes were taken.
const SEND_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long the slow listener sits on its hands after the first byte arrives:
/// longer than one send timeout (so the first write comes back short), and
/// shorter than two by far (so a correct loop's next write, which waits for
/// the listener with a fresh timeout, goes through even on a busy machine).
const SLOW_LISTENER: Duration = Duration::from_millis(1200);

/// A short write happens for real: the line has a send timeout and the caller
/// doesn't listen at first. `send_all` must say everything, in order.
fn check_short_write(answer: &Answer) -> Result<String, Failure> {
    let (phone, number) = open_phone()?;
    // A small receive buffer, set before dialling (the window is agreed at
    // connect time), so the line fills up quickly.
    let listener = dialtone_kit::party::new_phone().map_err(setup("socket"))?;
    setsockopt(&listener, sockopt::RcvBuf, &(64 * 1024)).map_err(setup("SO_RCVBUF"))?;
    caller::be_patient(&listener, Duration::from_secs(3)).map_err(setup("SO_RCVTIMEO"))?;
    nix::sys::socket::connect(listener.as_raw_fd(), &number).map_err(setup("connect"))?;
    let line = accept(&phone).map_err(setup("accept"))?;
    setsockopt(&line, sockopt::SndBuf, &(64 * 1024)).map_err(setup("SO_SNDBUF"))?;
    let t = TimeVal::new(
        SEND_TIMEOUT.as_secs() as nix::libc::time_t,
        SEND_TIMEOUT.subsec_micros() as nix::libc::suseconds_t,
    );
    setsockopt(&line, sockopt::SendTimeout, &t).map_err(setup("SO_SNDTIMEO"))?;

    let payload: Arc<Vec<u8>> = Arc::new((0..BIG).map(|i| (i % 251) as u8).collect());
    let slow = thread::spawn(move || {
        // Wait for the first byte, then deliberately don't listen for a while:
        // this sleep *is* the slow caller, not a wait for a peer.
        // (No bytes at all: send_all() stopped before saying anything, and
        // there is nothing to be slow about.)
        if let Ok(1..) = caller::wait_for_first_byte(&listener) {
            thread::sleep(SLOW_LISTENER);
        }
        caller::hear_the_end(&listener, 2 * BIG)
    });
    let said = Arc::clone(&payload);
    let outcome = learner_call!(chapter(), answer.send_all, move |send_all| {
        let result = send_all(&line, &said);
        drop(line); // hang up, so the listener hears the end
        result
    });
    let heard = slow
        .join()
        .expect("the listener thread only reads; it can't panic");
    match outcome? {
        Err(e) => Err(Failure::new("ch08.send-error", "send_all() gave up with an error")
            .expected(format!("Ok(()) after all {BIG} bytes were said"))
            .got(format!("Err({})", names::errno(e)))
            .phone("the caller was slow to listen, not gone: keep talking as they make room.")
            .syscall("a short write is not an error: loop on what write() took. Return Err only for a real error (EPIPE, ECONNRESET) or EAGAIN with nothing taken.")),
        Ok(()) => {
            let got = heard.bytes();
            if got == payload.as_slice() {
                return Ok(format!("send_all() said all {BIG} bytes though write() took only part at first"));
            }
            if got.len() < BIG && payload.starts_with(got) {
                return Err(Failure::new("ch08.short-write", "send_all() returned before everything was said")
                    .expected(format!("all {BIG} bytes to arrive"))
                    .got(format!("only the first {} bytes arrived, then the line closed", got.len()))
                    .phone("the exchange took part of your sentence; the rest was never said.")
                    .syscall("write() returns how many bytes it took, maybe fewer than you gave: loop, writing what is left (&bytes[n..]) until nothing is."));
            }
            let at = first_difference(got, &payload);
            Err(Failure::new("ch08.send-garbled", "send_all() said the bytes out of order or twice")
                .expected(format!("the {BIG} bytes, each once, in order"))
                .got(format!("{} bytes, differing from byte {at} on", got.len()))
                .phone("after a pause you started your sentence again from the top, or skipped ahead.")
                .syscall("after a short write, continue from where write() stopped: the slice &left[n..], not the whole buffer again."))
        }
    }
}

// ---------------------------------------------------------- answer_one_call

/// What went wrong on the caller's side of a call.
#[derive(Debug)]
enum Symptom {
    /// No greeting line (or the wrong one).
    NoGreeting(Heard),
    /// The service hung up right after the greeting.
    HungUpEarly,
    /// "hello, " (no newline yet) was not said back.
    HeldTheLine(Heard),
    /// After the first piece, the service stopped answering.
    OneRead(Heard),
    /// Something came back, but not what was said.
    Garbled { said: Vec<u8>, heard: Heard },
    /// The caller said "that's all" and never heard the service hang up.
    NoEnd(Heard),
    /// The caller couldn't get through at all.
    NoAnswer(Errno),
}

/// The conversation the check's caller has: greeting, a half line, the rest of
/// it, every byte value, then "that's all", and waiting to hear the end.
fn conversation(phone: &OwnedFd) -> Result<u64, Symptom> {
    greeted(phone)?;
    let mut echoed = 0;
    for (i, piece) in [&b"hello, "[..], b"world\n", &all_byte_values()]
        .into_iter()
        .enumerate()
    {
        caller::say(phone, piece).map_err(|_| Symptom::OneRead(Heard::HungUp(vec![])))?;
        match caller::hear_exactly(phone, piece.len()) {
            Heard::All(b) if b == piece => echoed += b.len() as u64,
            Heard::All(b) => {
                return Err(Symptom::Garbled {
                    said: piece.to_vec(),
                    heard: Heard::All(b),
                })
            }
            Heard::HungUp(b) if i == 0 && b.is_empty() => return Err(Symptom::HungUpEarly),
            heard if i == 0 && heard.bytes().is_empty() => return Err(Symptom::HeldTheLine(heard)),
            heard if i > 0 && heard.bytes().is_empty() => return Err(Symptom::OneRead(heard)),
            heard => {
                return Err(Symptom::Garbled {
                    said: piece.to_vec(),
                    heard,
                })
            }
        }
    }
    hear_the_end(phone)?;
    Ok(echoed)
}

/// The greeting line must come first.
fn greeted(phone: &OwnedFd) -> Result<(), Symptom> {
    match caller::hear_line(phone) {
        Heard::All(b) if trim_eol(&b) == GREETING.as_bytes() => Ok(()),
        other => Err(Symptom::NoGreeting(other)),
    }
}

/// "That's all from me", then the service must hang up (end of file).
fn hear_the_end(phone: &OwnedFd) -> Result<(), Symptom> {
    caller::done_talking(phone).map_err(|_| Symptom::NoEnd(Heard::HungUp(vec![])))?;
    match caller::hear_the_end(phone, 64 * 1024) {
        Heard::All(b) if b.is_empty() => Ok(()),
        Heard::All(b) => Err(Symptom::Garbled {
            said: vec![],
            heard: Heard::All(b),
        }),
        other => Err(Symptom::NoEnd(other)),
    }
}

/// One whole call with `answer_one_call`: every classic mistake in a
/// conversation shows up here, each with its own message.
fn check_conversation(answer: &Answer) -> Result<String, Failure> {
    let (phone, number) = open_phone()?;
    let caller_phone = caller::dial(&number, PATIENCE).map_err(setup("connect"))?;
    let line = accept(&phone).map_err(setup("accept"))?;
    let returned = Arc::new(AtomicBool::new(false));
    let still_running = Arc::clone(&returned);
    let started = Instant::now();
    let talk = thread::spawn(move || {
        let result = conversation(&caller_phone);
        // Was the learner's function still running when the caller gave up?
        let running = !still_running.load(Ordering::SeqCst);
        if result.is_err() {
            // Slam the phone down: a learner stuck in read() gets ECONNRESET
            // and can return, instead of blocking for ever.
            let _ = caller::slam_down(caller_phone);
        }
        (result, running)
    });
    let answer = *answer;
    let call = in_background(move || {
        learner_call!(chapter(), answer.answer_one_call, move |answer_one_call| {
            let _done = SetOnDrop(returned); // on a return or a panic
            answer_one_call(line, GREETING)
        })
    });
    let (heard, running) = talk
        .join()
        .expect("the caller thread only talks; it can't panic");
    if let (Err(Symptom::NoEnd(heard)), true) = (&heard, running) {
        return Err(loops_on_eof(heard.clone()));
    }
    let outcome = outcome_of(&call, task!(answer.answer_one_call).name, started);
    let result = match (outcome, heard) {
        (Err(e), _) if !matches!(e.trouble, Trouble::Hung(_)) => return Err(e.into()),
        (_, Err(Symptom::NoEnd(heard))) if running => return Err(loops_on_eof(heard)),
        // EAGAIN on a line with no timeouts: only O_NONBLOCK says that,
        // whichever piece the caller had got to.
        (Ok(Err(Errno::EAGAIN)), Err(_)) => {
            return Err(gave_up_early(Errno::EAGAIN, false).expect("EAGAIN has a verdict"))
        }
        (Ok(Err(e)), Err(Symptom::HungUpEarly)) if gave_up_early(e, running).is_some() => {
            return Err(gave_up_early(e, running).expect("just matched"))
        }
        (_, Err(symptom)) => return Err(diagnose(symptom, "answer_one_call()")),
        (Err(e), Ok(_)) => return Err(e.into()),
        (Ok(result), Ok(echoed)) => (result, echoed),
    };
    match result {
        (Ok(n), echoed) if n == echoed => Ok(format!(
            "answer_one_call() greeted, echoed a half line, the rest of it and all 256 byte values ({echoed} bytes), and hung up after the caller did"
        )),
        (Ok(n), echoed) => Err(Failure::new("ch08.wrong-count", "answer_one_call() miscounted the bytes it echoed")
            .expected(format!("Ok({echoed}): the bytes said back, not counting the greeting"))
            .got(format!("Ok({n})"))
            .phone("the call went fine, but the log will say the wrong amount.")
            .syscall("add what each read() returned (the bytes you echoed), nothing else.")),
        (Err(e), _) => Err(Failure::new("ch08.eof-is-an-error", "answer_one_call() called an ordinary hang-up an error")
            .expected("Ok(count) once read() returns 0")
            .got(format!("Err({})", names::errno(e)))
            .phone("the caller said goodbye and hung up politely; that's how every call ends, not a fault.")
            .syscall("read() returning 0 is end of file: the caller hung up. Return Ok(count) there, not an Err.")),
    }
}

/// What the caller says in the echo short-write check: many times what the
/// line holds, in a pattern that shows where bytes went missing.
const LONG_ECHO: usize = 256 * 1024;
/// How many times the check stops and continues the service while it echoes.
const PAUSES: usize = 48;

/// Short writes on the echo path. The caller listens through a small window
/// and says far more than the line holds, so the service's echo write()
/// waits for room part-way; then the check stops the service's process
/// and lets it go on (as Ctrl-Z and `fg` would), again and again. A write
/// interrupted part-way returns short: the rest must still be said. Needs
/// the learner's code in a process of its own (the judge's), so `None`
/// when it runs in the check's own.
fn check_echo_short_write(answer: &Answer) -> Result<Option<String>, Failure> {
    if !dialtone_kit::judge::judging() {
        return Ok(None);
    }
    let (phone, number) = open_phone()?;
    let caller_phone = dialtone_kit::party::new_phone().map_err(setup("socket"))?;
    // Set before dialling: the window is agreed at connect time.
    setsockopt(&caller_phone, sockopt::RcvBuf, &4096).map_err(setup("SO_RCVBUF"))?;
    caller::be_patient(&caller_phone, PATIENCE).map_err(setup("SO_RCVTIMEO"))?;
    nix::sys::socket::connect(caller_phone.as_raw_fd(), &number).map_err(setup("connect"))?;
    // No timeout on the service's line: a stop must not turn into EINTR.
    let line = accept(&phone).map_err(setup("accept"))?;
    setsockopt(&line, sockopt::SndBuf, &4096).map_err(setup("SO_SNDBUF"))?;
    let (started, answer) = (Instant::now(), *answer);
    let call =
        in_background(move || learner_call!(chapter(), answer.answer_one_call(line, GREETING)));
    let said: Vec<u8> = (0..LONG_ECHO).map(|i| (i % 251) as u8).collect();
    let heard = (|| {
        greeted(&caller_phone)?;
        let talker = caller_phone
            .try_clone()
            .map_err(|_| Symptom::NoAnswer(Errno::EMFILE))?;
        let speech = said.clone();
        let talking = thread::spawn(move || {
            let _ = caller::say(&talker, &speech);
            let _ = caller::done_talking(&talker);
        });
        let mut heard = Vec::new();
        let mut chunk = [0u8; 1500];
        for pause in 0.. {
            match nix::unistd::read(&caller_phone, &mut chunk) {
                Ok(0) => break,
                Ok(n) => heard.extend_from_slice(&chunk[..n]),
                Err(Errno::EINTR) => continue,
                Err(_) => break,
            }
            if pause < PAUSES {
                dialtone_kit::judge::pause_learner();
            }
        }
        // The talker's writes are bounded by the caller's SO_SNDTIMEO.
        let _ = talking.join();
        Ok(heard)
    })();
    let _ = caller::slam_down(caller_phone);
    let outcome = outcome_of(&call, task!(answer.answer_one_call).name, started);
    let heard = match heard {
        Ok(heard) => heard,
        Err(symptom) => return Err(diagnose(symptom, "answer_one_call()")),
    };
    if heard == said {
        return match outcome {
            Ok(_) => Ok(Some(format!(
                "answer_one_call() echoed all {LONG_ECHO} bytes to a slow listener although its write() was interrupted part-way {PAUSES} times"
            ))),
            Err(e) => Err(e.into()),
        };
    }
    let at = first_difference(&heard, &said);
    Err(Failure::new("ch08.echo-short-write", "answer_one_call() lost the rest of an echo when write() came back short")
        .expected(format!("all {LONG_ECHO} bytes said back, in order"))
        .got(format!(
            "{} bytes came back, the first missing or wrong at byte {at}; {}",
            heard.len(),
            show_at(&heard, at)
        ))
        .phone("the listener was slow, and each time the exchange took only part of your repeat, you went on to the next thing they said.")
        .syscall("write() may take fewer bytes than offered (here a write waiting for room was interrupted). Echo with your send_all(&chunk[..n]), never a single write() or send()."))
}

/// The caller heard end of file right after the greeting and
/// `answer_one_call` returned `e`: the evidence that names a cause. `EAGAIN`
/// on a line with no timeouts is `O_NONBLOCK`. End of file while the function
/// was still `running` (it still held the line), or `EPIPE` before the caller
/// hung up, is the service's own shutdown(Write).
fn gave_up_early(e: Errno, running: bool) -> Option<Failure> {
    let e = if e != Errno::EAGAIN && running {
        Errno::EPIPE
    } else {
        e
    };
    match e {
        Errno::EAGAIN => Some(Failure::new("ch08.nonblocking", "answer_one_call() made the line non-blocking and hung up at \"nothing yet\"")
            .expected("\"hello, \" said back: read() waits for the caller's words")
            .got("the greeting, then end of file: answer_one_call() returned Err(EAGAIN)")
            .phone("the caller drew breath after the greeting and you put the phone down.")
            .syscall("with O_NONBLOCK (fcntl F_SETFL, SOCK_NONBLOCK, accept4) read() fails with EAGAIN whenever nothing has arrived yet; waiting on many callers that way is Part IV (poll). Here leave the line blocking.")),
        Errno::EPIPE => Some(Failure::new("ch08.said-over-too-soon", "answer_one_call() shut its talking half after the greeting")
            .expected("\"hello, \" said back")
            .got("the greeting, then end of file: the echo failed with Err(EPIPE)")
            .phone("you said \"over\" after your greeting, so you could not repeat anything the caller said.")
            .syscall("no shutdown(Write) in an echo service: the caller says \"that's all\" (read() returns 0), then you simply return, and dropping the line closes it.")),
        _ => None,
    }
}

/// A caller who slams the phone down mid-line must not crash or freeze the service.
fn check_reset(answer: &Answer) -> Result<String, Failure> {
    let (phone, number) = open_phone()?;
    let caller_phone = caller::dial(&number, PATIENCE).map_err(setup("connect"))?;
    let line = accept(&phone).map_err(setup("accept"))?;
    let rude = thread::spawn(move || -> Result<(), Symptom> {
        let result = rude_caller(&caller_phone);
        let _ = caller::slam_down(caller_phone);
        result
    });
    let (started, answer) = (Instant::now(), *answer);
    let call =
        in_background(move || learner_call!(chapter(), answer.answer_one_call(line, GREETING)));
    let heard = rude
        .join()
        .expect("the caller thread only talks; it can't panic");
    let outcome = outcome_of(&call, task!(answer.answer_one_call).name, started);
    match outcome {
        Ok(Ok(_)) | Ok(Err(_)) => heard
            .map(|()| "a caller who slammed the phone down mid-line got an Err back, not a crash or a hang".to_string())
            .map_err(|s| diagnose(s, "answer_one_call()")),
        Err(e) => Err(match &e.trouble {
            Trouble::Panicked(msg) => Failure::new("ch08.reset-panicked", "answer_one_call() fell over when the caller slammed the phone down")
                .expected("Err(ECONNRESET) returned, so the service can log it and go on")
                .got(format!("a panic: {msg}"))
                .phone("one rude caller must not take the whole answering service off the wall.")
                .syscall("a reset is an ordinary Err from read() or write(): return it with `?`, never unwrap() it."),
            Trouble::Hung(t) => Failure::new("ch08.reset-hung", "answer_one_call() kept going after the caller slammed the phone down")
                .expected("a prompt return (Err(ECONNRESET) or Ok)")
                .got(format!("still running after {} s", t.as_secs()))
                .phone("the line is dead, but you are still talking into it, waiting for an answer.")
                .syscall("when read() or write() returns an Err, stop: return it. Retrying a dead line loops for ever."),
            Trouble::Unfinished => Failure::from(e.clone()),
        }),
    }
}

/// Greets, says half a line, hears it back, then slams the phone down.
fn rude_caller(phone: &OwnedFd) -> Result<(), Symptom> {
    greeted(phone)?;
    let half = b"half a li";
    caller::say(phone, half).map_err(|_| Symptom::OneRead(Heard::HungUp(vec![])))?;
    match caller::hear_exactly(phone, half.len()) {
        Heard::All(b) if b == half => Ok(()),
        heard if heard.bytes().is_empty() => Err(Symptom::HeldTheLine(heard)),
        heard => Err(Symptom::Garbled {
            said: half.to_vec(),
            heard,
        }),
    }
}

// -------------------------------------------------------------------- serve

/// One MiB without a newline: the service must echo it as it comes.
const MEGABYTE: usize = 1024 * 1024;

/// Three callers in a row: polite, rude (a reset mid-line), and one who says a
/// megabyte without a newline. `serve` must answer all three, log each, and
/// return.
fn check_service(answer: &Answer) -> Result<String, Failure> {
    let (phone, number) = open_phone()?;
    // The check keeps the phone too, to ask the kernel about it afterwards.
    let phone = Arc::new(phone);
    let callers = thread::spawn(move || three_callers(&number));
    let lent = Arc::clone(&phone);
    let (started, answer) = (Instant::now(), *answer);
    let call = in_background(move || {
        learner_call!(chapter(), answer.serve, move |serve| {
            let mut log = Vec::new();
            let result = serve(&lent, 3, GREETING, &mut |r| log.push(r));
            (result, log)
        })
    });
    let heard = callers
        .join()
        .expect("the caller thread only talks; it can't panic");
    let outcome = outcome_of(&call, task!(answer.serve).name, started);
    let (result, log) = finished_serving(outcome, heard.is_ok())?;
    judge_service(&phone, &number, result, &log, heard)?;
    Ok(
        "serve() answered 3 callers in a row (polite, slammed down mid-line, a megabyte without a newline), logged each and returned"
            .to_string(),
    )
}

/// What serve() handed to log(), call by call.
type Logged = Vec<nix::Result<u64>>;

/// serve() returned (or hung: after its callers, that is never stopping).
fn finished_serving(
    outcome: Result<(nix::Result<()>, Logged), LearnerError>,
    callers_happy: bool,
) -> Result<(nix::Result<()>, Logged), Failure> {
    match outcome {
        Err(e) if matches!(e.trouble, Trouble::Hung(_)) && callers_happy => Err(Failure::new(
            "ch08.never-stops",
            "serve() kept waiting after its last caller",
        )
        .expected("serve(phone, 3, ..) to return Ok(()) after answering 3 callers")
        .got("still running (blocked in accept, waiting for a 4th caller)")
        .phone("you were asked to take three calls, then go home.")
        .syscall("loop `callers` times (for _ in 0..callers), not for ever.")),
        Err(e) => Err(e.into()),
        Ok(done) => Ok(done),
    }
}

/// What the callers heard, what serve() returned and logged, and the phone
/// afterwards: each mistake's evidence, most telling first.
fn judge_service(
    phone: &OwnedFd,
    number: &SockaddrIn,
    result: nix::Result<()>,
    log: &Logged,
    heard: Result<(), (usize, Symptom)>,
) -> Result<(), Failure> {
    if !still_on(phone) {
        let what = match (&result, &heard) {
            (Err(e), _) => format!(
                "serve() returned Err({}) after {} call(s)",
                names::errno(*e),
                log.len()
            ),
            (_, Err((n, symptom))) => format!("caller {n}: {}", describe(symptom)),
            _ => format!("{} call(s) answered", log.len()),
        };
        return Err(switched_off(&format!(
            "{what}; afterwards SO_ACCEPTCONN = 0"
        )));
    }
    if let Err(e) = result {
        return Err(Failure::new("ch08.caller-error-ends-service", "serve() stopped when one caller went wrong")
            .expected("all 3 callers answered; caller 2's reset logged and forgotten")
            .got(format!("serve() returned Err({}) after {} call(s)", names::errno(e), log.len()))
            .phone("one caller slammed the phone down, and you closed the whole answering service.")
            .syscall("don't use `?` on answer_one_call()'s result in serve(): hand it to log() and accept the next caller. Only accept()'s own errors end the service."));
    }
    if let Err((n, symptom)) = heard {
        return Err(caller_trouble(phone, log, n, symptom));
    }
    let expected = [Some(10u64), None, Some(MEGABYTE as u64)];
    let fits = log.len() == 3
        && log
            .iter()
            .zip(expected)
            .all(|(got, want)| want.is_none() || got.as_ref().ok() == want.as_ref());
    if !fits {
        return Err(Failure::new("ch08.log-wrong", "serve() didn't log each call as it ended")
            .expected("log() called 3 times: Ok(10), then caller 2's reset (an Err), then Ok(1048576)")
            .got(format!("{} call(s) to log(): {log:?}", log.len()))
            .phone("every call belongs in the log, the good ones and the bad ones, once each.")
            .syscall("call log(answer_one_call(line, greeting)) once per caller, with whatever it returned."));
    }
    if !still_on(phone) || caller::dial(number, PATIENCE).is_err() {
        return Err(switched_off(
            "after serve() returned, SO_ACCEPTCONN = 0: a fourth caller is refused",
        ));
    }
    Ok(())
}

/// Caller `n` noticed `symptom`, with the phone still on.
fn caller_trouble(phone: &OwnedFd, log: &Logged, n: usize, symptom: Symptom) -> Failure {
    if ringing_unanswered(phone) && log.iter().all(|r| r.is_err()) {
        return talks_on_phone(n, &symptom, log);
    }
    if log.len() < 3 {
        return Failure::new("ch08.one-caller-only", format!("serve() stopped answering before caller {n}"))
            .expected("3 callers answered, one after another")
            .got(format!("serve() returned Ok(()) after {} call(s); caller {n}: {}", log.len(), describe(&symptom)))
            .phone("the answering service took a call and then switched itself off.")
            .syscall("put accept() and answer_one_call() in a loop that runs `callers` times; accept a new line each time round.");
    }
    diagnose(symptom, &format!("serve() (caller {n})"))
}

/// `getsockopt(SO_ACCEPTCONN)`: is the service's phone still switched on?
fn still_on(phone: &OwnedFd) -> bool {
    dialtone_kit::kernel::switched_on(phone).unwrap_or(false)
}

/// Is a caller still ringing, never picked up (waiting in the backlog)?
fn ringing_unanswered(phone: &OwnedFd) -> bool {
    dialtone_kit::party::ready(phone, Duration::ZERO).unwrap_or(false)
}

fn switched_off(got: &str) -> Failure {
    Failure::new("ch08.phone-switched-off", "serve() switched the service's phone off")
        .expected("the listening phone still on (SO_ACCEPTCONN = 1) for the next caller, during serve() and after it")
        .got(got.to_string())
        .phone("you hung up the phone on the wall instead of the caller's line: nobody else can ring.")
        .syscall("shutdown() and close() belong to the line accept() returned (answer_one_call drops it). serve() only borrows the phone: never shut it down.")
}

fn talks_on_phone(n: usize, symptom: &Symptom, log: &[nix::Result<u64>]) -> Failure {
    Failure::new("ch08.talks-on-phone", "serve() answered on the wall phone, not on the caller's line")
        .expected("each caller accept()ed, and their own line handed to answer_one_call()")
        .got(format!("caller {n}: {}; still ringing, never picked up; log: {log:?}", describe(symptom)))
        .phone("you picked up the phone's cord, not the call: the caller is still ringing.")
        .syscall("the listening socket only hands out calls. line = accept(phone)?, then answer_one_call(line, ..); a copy of the phone (try_clone, dup) is still the phone, and write() on it fails (EPIPE).")
}

/// The three callers of the service check, one after another. On trouble:
/// which caller (1-based) and what they noticed.
fn three_callers(number: &SockaddrIn) -> Result<(), (usize, Symptom)> {
    let call = |n: usize| caller::dial(number, PATIENCE).map_err(|e| (n, Symptom::NoAnswer(e)));
    // 1: polite. A line, then "that's all".
    let one = call(1)?;
    let polite = (|| {
        greeted(&one)?;
        echo(&one, b"ring ring\n")?;
        hear_the_end(&one)
    })();
    finish(one, polite).map_err(|s| (1, s))?;
    // 2: rude. Half a line, then the phone slammed down.
    let two = call(2)?;
    let rude = rude_caller(&two);
    let _ = caller::slam_down(two);
    rude.map_err(|s| (2, s))?;
    // 3: a megabyte without a newline, heard back while still talking.
    let three = call(3)?;
    let long = megabyte_caller(&three);
    finish(three, long).map_err(|s| (3, s))
}

/// Hangs up politely after a good call, or slams the phone down after a bad
/// one (so a stuck service is freed).
fn finish(phone: OwnedFd, result: Result<(), Symptom>) -> Result<(), Symptom> {
    if result.is_err() {
        let _ = caller::slam_down(phone);
    }
    result
}

/// Says `piece` and expects it straight back.
fn echo(phone: &OwnedFd, piece: &[u8]) -> Result<(), Symptom> {
    caller::say(phone, piece).map_err(|_| Symptom::OneRead(Heard::HungUp(vec![])))?;
    match caller::hear_exactly(phone, piece.len()) {
        Heard::All(b) if b == piece => Ok(()),
        heard => Err(Symptom::Garbled {
            said: piece.to_vec(),
            heard,
        }),
    }
}

/// Says a megabyte of 'z' (no newline) from one thread while hearing it back
/// on this one: an echo caller who only listens after talking would deadlock
/// against a full line.
fn megabyte_caller(phone: &OwnedFd) -> Result<(), Symptom> {
    greeted(phone)?;
    let talker = phone
        .try_clone()
        .map_err(|_| Symptom::NoAnswer(Errno::EMFILE))?;
    let talking = thread::spawn(move || caller::say(&talker, &vec![b'z'; MEGABYTE]));
    let heard = caller::hear_exactly(phone, MEGABYTE);
    // The talker's writes are bounded by the phone's SO_SNDTIMEO.
    let _ = talking.join();
    match heard {
        Heard::All(b) if b.iter().all(|&c| c == b'z') => hear_the_end(phone),
        heard if heard.bytes().is_empty() => Err(Symptom::HeldTheLine(heard)),
        heard => Err(Symptom::Garbled {
            said: b"1 MiB of 'z'".to_vec(),
            heard,
        }),
    }
}

// ----------------------------------------------------------------- verdicts

/// The caller said "that's all", the service read 0 and went on reading.
fn loops_on_eof(heard: Heard) -> Failure {
    Failure::new("ch08.loops-on-eof", "answer_one_call() kept going after the caller hung up")
        .expected("read() returns 0, answer_one_call() returns Ok(count) and the line closes")
        .got(format!("{}; your function was still running", describe(&Symptom::NoEnd(heard))))
        .phone("the caller said goodbye and hung up, and you are still holding the receiver, saying \"hello?\" for ever.")
        .syscall("read() returning 0 means end of file: the caller hung up. It will return 0 every time from now on: stop the loop there.")
}

/// What the caller's symptom means, as a verdict. `who` names the function.
fn diagnose(symptom: Symptom, who: &str) -> Failure {
    let got = describe(&symptom);
    match symptom {
        Symptom::NoGreeting(_) => Failure::new("ch08.no-greeting", format!("{who} didn't greet the caller"))
            .expected(format!("the first line the caller hears: {GREETING:?} and \"\\n\""))
            .got(got)
            .phone("the caller rang and heard silence (or mumbling): say who you are first.")
            .syscall("send_all() the greeting followed by b\"\\n\" before you read anything."),
        Symptom::HungUpEarly => Failure::new("ch08.hung-up-early", format!("{who} hung up right after the greeting"))
            .expected("\"hello, \" said back to the caller")
            .got(got)
            .phone("that's a daytime service: it speaks and hangs up. This one also listens and says everything back.")
            .syscall("after the greeting, loop: read() what the caller says and send_all() it back, until read() returns 0."),
        Symptom::HeldTheLine(_) => Failure::new("ch08.holds-the-line", format!("{who} didn't say back a half line"))
            .expected("\"hello, \" said back as soon as it arrived, with no newline yet")
            .got(got)
            .phone("you are waiting for the caller to finish the sentence before repeating it; a caller who never says \"\\n\" (or says a gigabyte first) gets nothing, and you hold it all.")
            .syscall("echo is byte by byte: send_all() exactly the bytes each read() returned, right away. Don't wait for b'\\n' or collect lines."),
        Symptom::OneRead(_) => Failure::new("ch08.one-read", format!("{who} stopped after the first thing the caller said"))
            .expected("every piece said back: \"hello, \", then \"world\\n\", then 256 more bytes")
            .got(got)
            .phone("you took one message and put the phone down, but the caller was still talking.")
            .syscall("one read() is not one message: a stream has no message boundaries. Loop on read() until it returns 0."),
        Symptom::Garbled { said, heard } => {
            let binary = said.len() == 256;
            // Name the first byte that differs and show a few bytes there on
            // both lines: a quote of the first 40 bytes may look the same on
            // both while the trouble starts further on.
            let at = first_difference(&said, heard.bytes());
            Failure::new(
                if binary { "ch08.binary-garbled" } else { "ch08.echo-garbled" },
                format!("{who} said back something other than what it heard"),
            )
            .expected(format!(
                "{} said back unchanged; {}",
                show(&said),
                show_at(&said, at)
            ))
            .got(format!(
                "{} came back{}; {}",
                show(heard.bytes()),
                ending(&heard),
                show_at(heard.bytes(), at)
            ))
            .phone(if binary {
                "the caller spoke a language you don't know, so you repeated it wrong. Repeat the sounds, not the words."
            } else {
                "you repeated the caller's words, but not exactly: too much, too little, or changed."
            })
            .syscall(if binary {
                "a socket carries bytes, not text: no String, no from_utf8, no trimming. send_all(&chunk[..n]) exactly."
            } else {
                "send_all(&chunk[..n]) with n from this read(): not the whole buffer, not a line you built, nothing added."
            })
        }
        Symptom::NoEnd(_) => Failure::new("ch08.never-closed", format!("{who} returned but never hung up"))
            .expected("end of file at the caller (read() returns 0) once your function returns")
            .got(got)
            .phone("you walked away from the phone with the receiver still off the hook: the caller waits for ever.")
            .syscall("let the line (the OwnedFd) drop when the call ends: that is close(). Don't into_raw_fd(), mem::forget() or keep it; use as_raw_fd() to borrow the number."),
        Symptom::NoAnswer(e) => Failure::new("ch08.no-answer", format!("{who}: the caller couldn't get through"))
            .expected("connect() to succeed: the service's phone is on")
            .got(format!("connect() failed: {}", names::errno(e)))
            .phone("the caller rang and the number was dead: the service had already switched its phone off.")
            .syscall("keep the phone (the listening socket) open until the last caller has been answered."),
    }
}

/// What a caller noticed, in a few words.
fn describe(symptom: &Symptom) -> String {
    match symptom {
        Symptom::NoGreeting(h) => {
            format!("the first thing heard: {}{}", show(h.bytes()), ending(h))
        }
        Symptom::HungUpEarly => "end of file right after the greeting".into(),
        Symptom::HeldTheLine(h) => format!(
            "nothing came back within {} s{}",
            PATIENCE.as_secs(),
            ending(h)
        ),
        Symptom::OneRead(h) => format!("after the first piece: {}{}", show(h.bytes()), ending(h)),
        Symptom::Garbled { said, heard } => format!(
            "{}{}; {}",
            show(heard.bytes()),
            ending(heard),
            show_at(heard.bytes(), first_difference(said, heard.bytes()))
        ),
        Symptom::NoEnd(h) => format!(
            "no end of file within {} s of the caller's shutdown(SHUT_WR){}",
            PATIENCE.as_secs(),
            if h.bytes().is_empty() {
                String::new()
            } else {
                format!(" ({} more bytes came)", h.bytes().len())
            }
        ),
        Symptom::NoAnswer(e) => format!("connect() failed: {}", names::errno(*e)),
    }
}

fn ending(heard: &Heard) -> &'static str {
    match heard {
        Heard::All(_) => "",
        Heard::Quiet(_) => " (then silence)",
        Heard::HungUp(_) => " (then the line went dead)",
    }
}

/// A few bytes from offset `at`, in hex: `byte 128: 0x80 0x81 0x82 ...`.
fn show_at(bytes: &[u8], at: usize) -> String {
    const FEW: usize = 6;
    let Some(from) = bytes.get(at..) else {
        return format!("byte {at}: nothing (only {} bytes)", bytes.len());
    };
    if from.is_empty() {
        return format!("byte {at}: nothing (it ends there)");
    }
    let hex: Vec<String> = from
        .iter()
        .take(FEW)
        .map(|b| format!("0x{b:02x}"))
        .collect();
    let more = if from.len() > FEW { " ..." } else { "" };
    format!("byte {at}: {}{more}", hex.join(" "))
}

/// Bytes as a short, readable quote.
fn show(bytes: &[u8]) -> String {
    names::quote(bytes, 40)
}

// ---------------------------------------------------------------- plumbing

/// Once its callers are done, a right answer returns at once (it hung up,
/// or took its last call): the check waits this long, not a whole timeout,
/// so a verdict about a function that never returns lands in seconds.
const GRACE: Duration = Duration::from_secs(1);

type Running<T> = mpsc::Receiver<Result<T, LearnerError>>;

/// Starts a learner call (`learner_call!`, under the chapter's timeout) on
/// a thread of its own, so the check's callers can give their evidence
/// first.
fn in_background<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, LearnerError> + Send + 'static,
) -> Running<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(call());
    });
    rx
}

/// The learner call's result, waiting at most [`GRACE`] now that the
/// callers are done; still running then, it is reported as hung.
fn outcome_of<T>(call: &Running<T>, function: &str, started: Instant) -> Result<T, LearnerError> {
    call.recv_timeout(GRACE).unwrap_or_else(|_| {
        Err(LearnerError {
            chapter: chapter(),
            function: function.to_string(),
            trouble: Trouble::Hung(started.elapsed()),
        })
    })
}

/// Sets the flag when dropped: the learner's function has returned (or
/// panicked), so it no longer holds the line.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn all_byte_values() -> Vec<u8> {
    (0..=255u8).collect()
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A phone on 127.0.0.1, kernel-chosen port, switched on.
fn open_phone() -> Result<(OwnedFd, SockaddrIn), Failure> {
    let phone = dialtone_kit::party::new_phone().map_err(setup("socket"))?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).map_err(setup("bind"))?;
    let backlog = Backlog::new(8).map_err(setup("listen"))?;
    listen(&phone, backlog).map_err(setup("listen"))?;
    let number = dialtone_kit::kernel::own_number(&phone).map_err(setup("getsockname"))?;
    Ok((phone, number))
}

/// The check's own setup failed: not the learner's fault, but say so plainly.
fn setup(call: &'static str) -> impl Fn(Errno) -> Failure {
    move |e| {
        Failure::new(
            "ch08.setup",
            format!("the self-check couldn't set up its own phones ({call})"),
        )
        .expected(format!("{call} to succeed"))
        .got(names::errno(e))
        .phone("the exchange is out of order on this machine, not in your code.")
        .syscall("check ulimit -n and that loopback (127.0.0.1) works, then run the check again.")
    }
}
