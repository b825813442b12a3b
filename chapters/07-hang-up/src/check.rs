//! The self-check for chapter 7: do your functions end a call so that both
//! sides know it is over?
//!
//! Every scenario is a real loopback call whose other end (the check) hangs
//! up politely, waits for your half-close before answering, slams the phone
//! down mid-sentence, or is gone before you speak. It watches the wire and
//! `/proc/self/fd`, never your source. Each classic mistake fails with its
//! own id, and every call runs under a timeout, so a loop that never ends
//! fails in seconds.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{self, LearnerError, Trouble};
use dialtone_kit::names;
use dialtone_kit::{kernel, wire};
use nix::errno::Errno;
use nix::sys::socket::{setsockopt, sockopt, MsgFlags};
use nix::sys::time::{TimeVal, TimeValLike};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub hear_out: fn(&OwnedFd) -> nix::Result<Vec<u8>>,
    pub ask_and_hear_back: fn(OwnedFd, &[u8]) -> nix::Result<Vec<u8>>,
}

/// How long a call may take where the classic mistake is to wait forever.
const QUIET: Duration = Duration::from_secs(2);
/// How long the check's end waits for its words to be read.
const PATIENCE: Duration = Duration::from_secs(3);

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    check_hear_out(answer, &mut passed)?;
    check_ask(answer, &mut passed)?;
    Ok(passed)
}

fn pair() -> Result<wire::Pair, Failure> {
    wire::call_pair().map_err(|e| {
        Failure::new(
            "ch07.no-line",
            "the self-check couldn't set up a loopback call",
        )
        .expected("a connected pair on 127.0.0.1")
        .got(names::errno(e))
        .phone("the exchange itself is out of order: this is not your code.")
        .syscall("check that loopback (127.0.0.1) works on this machine, then run the check again.")
    })
}

/// Says `pieces` one at a time on `mine` (each read before the next is
/// said, so each is its own `read`), then hangs up (`slam`: with a reset).
fn speak_then_hang_up(
    learner: &Arc<OwnedFd>,
    mine: OwnedFd,
    pieces: Vec<&'static [u8]>,
    slam: bool,
) {
    let learner = Arc::clone(learner);
    thread::spawn(move || {
        for piece in pieces {
            wire::wait_until_drained(&*learner, PATIENCE);
            if wire::say_all(&mine, piece).is_err() {
                return;
            }
        }
        wire::wait_until_drained(&*learner, PATIENCE);
        if slam {
            let _ = wire::slam_down(mine);
        }
    });
}

fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn show_result(r: &nix::Result<Vec<u8>>) -> String {
    match r {
        Ok(b) => format!("Ok({})", show(b)),
        Err(e) => format!("Err({})", names::errno(*e)),
    }
}

fn hung_means(e: LearnerError, mistake: impl FnOnce() -> Failure) -> Failure {
    match e.trouble {
        Trouble::Hung(_) => mistake(),
        _ => e.into(),
    }
}

fn hear_out(answer: &Answer, line: &Arc<OwnedFd>) -> Result<nix::Result<Vec<u8>>, LearnerError> {
    let (f, line) = (answer.hear_out, Arc::clone(line));
    learner::call_within(chapter(), "hear_out", QUIET, move || f(&line))
}

fn eof_loop(function: &str) -> Failure {
    Failure::new("ch07.eof-loop", format!("{function}() kept listening after the other side hung up"))
        .expected("to return once read() returned 0")
        .got(format!("still running after {} s", QUIET.as_secs()))
        .phone("you're holding the receiver to the dial tone, waiting for more words.")
        .syscall("read() returning 0 is end-of-file; it returns 0 forever after. Leave the loop and return what you heard.")
}

fn check_hear_out(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    // 1. The other side hangs up without a word.
    let p = pair()?;
    let learner = Arc::new(p.caller);
    drop(p.callee);
    let got = hear_out(answer, &learner).map_err(|e| hung_means(e, || eof_loop("hear_out")))?;
    match got {
        Ok(heard) if heard.is_empty() => {}
        Err(e) => {
            return Err(Failure::new("ch07.eof-is-error", "hear_out() called a polite hang-up an error")
                .expected("Ok(\"\"): the other side hung up without a word, which is how calls end")
                .got(format!("Err({})", names::errno(e)))
                .phone("hearing the dial tone isn't a fault on the line; the call is simply over.")
                .syscall("read() returning 0 is end-of-file: return Ok(what you heard); keep Err for real errors."))
        }
        Ok(heard) => {
            return Err(Failure::new("ch07.eof-is-error", "hear_out() made up words after a silent hang-up")
                .expected("Ok(\"\")")
                .got(format!("Ok({})", show(&heard)))
                .phone("nobody said anything.")
                .syscall("return only the bytes read() gave you."))
        }
    }
    passed.saw("a silent hang-up: read() returned 0 and hear_out() said Ok(\"\")");

    // 2. Three pieces, then a polite hang-up.
    let p = pair()?;
    let learner = Arc::new(p.caller);
    speak_then_hang_up(&learner, p.callee, vec![b"I'll ", b"be ", b"brief."], false);
    let got = hear_out(answer, &learner).map_err(|e| hung_means(e, || eof_loop("hear_out")))?;
    if got != Ok(b"I'll be brief.".to_vec()) {
        return Err(Failure::new(
            "ch07.one-read",
            "hear_out() stopped before the other side hung up",
        )
        .expected("Ok(\"I'll be brief.\"): said in three pieces, then a hang-up")
        .got(show_result(&got))
        .phone("you put the phone down after the first words; they were still talking.")
        .syscall("one read() is not the whole speech: keep reading until read() returns 0."));
    }
    passed.saw("three pieces and a hang-up: hear_out() kept reading until read() returned 0");

    // 3. Half a sentence, then the phone slammed down.
    let p = pair()?;
    let learner = Arc::new(p.caller);
    speak_then_hang_up(&learner, p.callee, vec![b"half a sent"], true);
    let got = hear_out(answer, &learner)
        .map_err(|e| hung_means(e, || reset_ignored("still running: the error was retried")))?;
    if got != Err(Errno::ECONNRESET) {
        return Err(reset_ignored(&show_result(&got)));
    }
    passed.saw("a reset (SO_LINGER 0) mid-sentence came back as Err(ECONNRESET), not as a goodbye");
    Ok(())
}

fn reset_ignored(got: &str) -> Failure {
    Failure::new("ch07.reset-ignored", "hear_out() treated a slammed-down phone as a goodbye")
        .expected("Err(ECONNRESET): the other side reset the call after \"half a sent\"")
        .got(got.to_string())
        .phone("a crash on the line is not \"goodbye\": whoever relies on you should know the message may be cut off.")
        .syscall("return read()'s Err as it is (use `?`): only a 0-byte read means a clean end.")
}

/// The check's end for `ask_and_hear_back`: hears the question to
/// end-of-file (as a real server would), then answers in two pieces and
/// hangs up. Sends back what it heard (or `None` if it never heard the end).
fn answering_machine(learner_fd: Arc<OwnedFd>, mine: OwnedFd) -> mpsc::Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        // Give up after a while if the question never ends (no half-close).
        let _ = setsockopt(&mine, sockopt::ReceiveTimeout, &TimeVal::seconds(5));
        let mut question = Vec::new();
        let mut buf = [0u8; 4096];
        let heard_the_end = loop {
            match read(&mine, &mut buf) {
                Ok(0) => break true,
                Ok(n) => question.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) => {}
                Err(_) => break false,
            }
        };
        if heard_the_end {
            let _ = wire::say_all(&mine, b"fine, ");
            wire::wait_until_drained(&*learner_fd, PATIENCE);
            let _ = wire::say_all(&mine, b"thanks");
            wire::wait_until_drained(&*learner_fd, PATIENCE);
        }
        drop(learner_fd);
        drop(mine);
        let _ = tx.send(heard_the_end.then_some(question));
    });
    rx
}

fn check_ask(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    let f = answer.ask_and_hear_back;

    // 1. A question, a half-close, an answer in two pieces, a hang-up.
    let p = pair()?;
    let raw = p.caller.as_raw_fd();
    let target = kernel::fd_target(raw).unwrap_or_default();
    // The check keeps a peek-only view of the learner's line (a second
    // handset it puts down before counting), to pace the answer.
    let view = Arc::new(p.caller.try_clone().map_err(|e| {
        Failure::new(
            "ch07.no-line",
            "the self-check couldn't duplicate its test line",
        )
        .expected("dup() to work")
        .got(e.to_string())
        .phone("the exchange itself is out of order: this is not your code.")
        .syscall("run the check again; if it persists, report it with this message.")
    })?);
    let heard = answering_machine(Arc::clone(&view), p.callee);
    drop(view);
    let question = b"how are you?";
    let line = p.caller;
    let got = learner::call_within(chapter(), "ask_and_hear_back", QUIET + QUIET, move || {
        f(line, question)
    })
    .map_err(|e| hung_means(e, no_shutdown))?;
    let heard = heard.recv_timeout(Duration::from_secs(10)).ok().flatten();
    match (&heard, &got) {
        (Some(q), _) if q != question => {
            return Err(Failure::new(
                "ch07.question-garbled",
                "ask_and_hear_back() didn't say the question exactly",
            )
            .expected(format!("the other side to hear {}", show(question)))
            .got(format!("it heard {}", show(q)))
            .phone("the other side heard something other than your question.")
            .syscall("say_all(&line, question) says every byte; then shutdown(Write)."))
        }
        (_, Ok(a)) if a == b"fine, thanks" => {}
        // Shut for reading, a line reads 0 at once; and if the answer
        // arrives first, Linux resets the call (data for a half nobody
        // listens on). The check's end never resets, so either outcome
        // means the learner stopped listening.
        (_, Ok(a)) if a.is_empty() => return Err(too_early("Ok(\"\"): end-of-file at once")),
        (Some(_), Err(Errno::ECONNRESET)) => return Err(too_early(
            "Err(ECONNRESET): your own kernel reset the call when the answer reached the half you had shut",
        )),
        (_, other) => {
            return Err(Failure::new(
                "ch07.partial-answer",
                "ask_and_hear_back() didn't hear the whole answer",
            )
            .expected("Ok(\"fine, thanks\"): sent in two pieces, then a hang-up")
            .got(show_result(other))
            .phone("you put the phone down before the other side had finished.")
            .syscall("after the half-close, hear_out() the answer: read until read() returns 0."))
        }
    }
    passed.saw("the other side heard the whole question, then end-of-file: your half-close (shutdown Write)");
    passed.saw("ask_and_hear_back() heard the answer, said in two pieces, to the end");
    let left = wire::handsets_for(&target);
    if left > 0 {
        return Err(Failure::new("ch07.leaked-handset", "ask_and_hear_back() left the line open")
            .expected(format!("no descriptor left pointing at {target} once the call is over"))
            .got(format!("{left} still open (fd {raw} or a copy of it)"))
            .phone("you left the handset off the hook: the line stays busy and no one else can use it.")
            .syscall("let the OwnedFd drop (no mem::forget, into_raw_fd or kept clones): dropping it calls close()."));
    }
    passed.saw("afterwards no descriptor points at the call: the handset is back on the hook");

    // 2. The other side has already hung up, and the line is dead: its
    //    kernel answered the check's first word with a reset. Now any
    //    send() fails with EPIPE (and, without MSG_NOSIGNAL or Rust's
    //    ignored SIGPIPE, would kill the process).
    let p = pair()?;
    drop(p.callee);
    let _ = nix::sys::socket::send(p.caller.as_raw_fd(), b"?", MsgFlags::MSG_NOSIGNAL);
    if !wire::wait_until_dead(&p.caller, PATIENCE) {
        return Err(
            Failure::new("ch07.no-line", "the self-check's test line didn't go dead")
                .expected("a reset within 3 s of talking to a closed phone")
                .got("no reset")
                .phone("the exchange itself is out of order: this is not your code.")
                .syscall("run the check again; if it persists, report it with this message."),
        );
    }
    let speech: &'static [u8] = b"hello? are you there?";
    let line = p.caller;
    let got = learner::call_within(chapter(), "ask_and_hear_back", QUIET, move || {
        f(line, speech)
    })
    .map_err(|e| hung_means(e, || eof_loop("ask_and_hear_back")))?;
    if let Ok(a) = &got {
        return Err(Failure::new("ch07.vanished-ignored", "ask_and_hear_back() said all was well on a dead line")
            .expected("Err(EPIPE): the other side hung up before you spoke")
            .got(format!("Ok({})", show(a)))
            .phone("you talked into a dead phone and reported a pleasant chat.")
            .syscall("pass every Err on with `?` (say_all's EPIPE, shutdown's, hear_out's): don't ignore them."));
    }
    passed.saw(format!(
        "talking into a line the other side had hung up: {}, passed on (no SIGPIPE)",
        show_result(&got)
    ));
    Ok(())
}

fn too_early(got: &str) -> Failure {
    Failure::new(
        "ch07.hung-up-too-early",
        "ask_and_hear_back() stopped listening before the answer",
    )
    .expected("Ok(\"fine, thanks\")")
    .got(format!("{got}: you had shut your listening half too"))
    .phone("you said \"I'm done talking\" and covered your ears: the answer came to nobody.")
    .syscall("shutdown(fd, Shutdown::Write), not Both or Read: you still need to read the answer.")
}

fn no_shutdown() -> Failure {
    Failure::new("ch07.no-shutdown", "ask_and_hear_back() and the other side waited for each other")
        .expected("the question, then end-of-file, then the answer")
        .got(format!("nothing within {} s: the other side never heard that your question was finished", (QUIET + QUIET).as_secs()))
        .phone("you asked and waited; they waited for you to finish. Say \"over\".")
        .syscall("after say_all(), call shutdown(line.as_raw_fd(), Shutdown::Write): their read() returns 0 and they can answer.")
}
