//! The self-check for chapter 6: do your four functions hold a framed
//! conversation however the bytes arrive?
//!
//! Every scenario is a real loopback call. The check's end of it is a
//! scripted, awkward caller: it says a line one byte at a time (waiting until
//! each byte has been read before sending the next, so each really is its own
//! `read`), says two lines in a single `write`, reads so slowly that your
//! `write` comes back short, and hangs up politely or slams the phone down in
//! the middle of a sentence. Each classic mistake fails with its own id.
//! Nothing reads your source: the kernel and the bytes on the wire decide.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{self, LearnerError, Trouble};
use dialtone_kit::names;
use dialtone_kit::wire::{self, Options};
use nix::errno::Errno;
use nix::sys::socket::{setsockopt, shutdown, sockopt, Shutdown};
use nix::sys::time::{TimeVal, TimeValLike};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

/// The course's frame limit (the learner file's `MAX_FRAME`).
pub const MAX_FRAME: usize = 64 * 1024;

/// What `read_line` and `read_frame` return: a message, `None` at a clean
/// hang-up, or the kernel's error.
pub type Heard = nix::Result<Option<Vec<u8>>>;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub send_all: fn(&OwnedFd, &[u8]) -> nix::Result<()>,
    pub read_line: fn(&OwnedFd, &mut Vec<u8>) -> Heard,
    pub write_frame: fn(&OwnedFd, &[u8]) -> nix::Result<()>,
    pub read_frame: fn(&OwnedFd) -> Heard,
}

/// How long a call that should return at once may take when the classic
/// mistake is to wait forever (looping on end-of-file, no frame limit).
const QUIET: Duration = Duration::from_secs(2);
/// How long the scripted caller waits for its last words to be read.
const PATIENCE: Duration = Duration::from_secs(3);

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    check_send_all(answer, &mut passed)?;
    check_read_line(answer, &mut passed)?;
    check_write_frame(answer, &mut passed)?;
    check_read_frame(answer, &mut passed)?;
    Ok(passed)
}

// ---------------------------------------------------------------- the line

/// A fresh loopback call: the learner's end (shared with the scripted
/// caller, which peeks at it to know when its words have been read) and the
/// check's end.
fn line(options: Options) -> Result<(Arc<OwnedFd>, OwnedFd), Failure> {
    let pair = wire::call_pair_with(options).map_err(|e| {
        Failure::new(
            "ch06.no-line",
            "the self-check couldn't set up a loopback call",
        )
        .expected("a connected pair on 127.0.0.1")
        .got(names::errno(e))
        .phone("the exchange itself is out of order: this is not your code.")
        .syscall("check that loopback (127.0.0.1) works on this machine, then run the check again.")
    })?;
    Ok((Arc::new(pair.caller), pair.callee))
}

/// One thing the scripted caller does.
enum Act {
    /// Write these bytes (in one `write` call, looping only if it comes back short).
    Say(Vec<u8>),
    /// Close the line: the learner's next `read` returns 0.
    HangUp,
    /// Close with `SO_LINGER` 0: the learner's next `read` fails with `ECONNRESET`.
    SlamDown,
}

/// Plays `acts` on `mine` in a thread. Before each act it waits until the
/// learner has read everything said so far, so no two acts reach the same
/// `read`. The thread ends by itself (at worst after `PATIENCE` per act).
fn script(learner: &Arc<OwnedFd>, mine: OwnedFd, acts: Vec<Act>) {
    let learner = Arc::clone(learner);
    thread::spawn(move || {
        for act in acts {
            wire::wait_until_drained(&*learner, PATIENCE);
            match act {
                Act::Say(bytes) => {
                    if wire::say_all(&mine, &bytes).is_err() {
                        return;
                    }
                }
                Act::HangUp => {
                    drop(mine);
                    return;
                }
                Act::SlamDown => {
                    let _ = wire::slam_down(mine);
                    return;
                }
            }
        }
    });
}

/// Reads `fd` to end-of-file in a thread; the bytes come back on the channel.
fn hear_everything(fd: OwnedFd) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        // Never wait forever, even if the learner's side never hangs up.
        let _ = setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::seconds(5));
        let mut heard = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match read(&fd, &mut buf) {
                Ok(0) => break,
                Ok(n) => heard.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(heard);
    });
    rx
}

/// A frame as the course defines it: 4-byte big-endian length, then payload.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// Bytes as a learner reads them: `"hello\n"`.
fn show(bytes: &[u8]) -> String {
    if bytes.len() > 48 {
        return format!("{} bytes", bytes.len());
    }
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn show_heard(r: &nix::Result<Option<Vec<u8>>>) -> String {
    match r {
        Ok(Some(b)) => format!("Ok(Some({}))", show(b)),
        Ok(None) => "Ok(None)".into(),
        Err(e) => format!("Err({})", names::errno(*e)),
    }
}

/// A learner call that hung where the classic mistake is waiting forever
/// gets that mistake's message; anything else keeps the generic one.
fn hung_means(e: LearnerError, mistake: impl FnOnce() -> Failure) -> Failure {
    match e.trouble {
        Trouble::Hung(_) => mistake(),
        _ => e.into(),
    }
}

// ---------------------------------------------------------------- send_all

/// How much the check asks `send_all` to say: far more than the line holds.
const LONG_SPEECH: usize = 256 * 1024;

fn check_send_all(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    // Small buffers on both sides: the line holds a few KiB, not 256.
    let (learner, mine) = line(Options {
        caller_sndbuf: Some(4096),
        callee_rcvbuf: Some(4096),
    })?;
    // The first write() gives up after 150 ms with the line full, and
    // returns how much it did say: a short write, every time.
    setsockopt(&*learner, sockopt::SendTimeout, &TimeVal::milliseconds(150))
        .map_err(|e| broken_line("SO_SNDTIMEO", e))?;
    let speech: Vec<u8> = (0..LONG_SPEECH).map(|i| (i % 251) as u8).collect();
    let heard = slow_listener(Arc::clone(&learner), mine);

    let f = answer.send_all;
    let (line, words) = (Arc::clone(&learner), speech.clone());
    let result = learner::call(chapter(), "send_all", move || f(&line, &words))?;
    // The learner is done talking: let the listener hear end-of-file.
    let _ = shutdown(learner.as_raw_fd(), Shutdown::Write);
    let heard = heard
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_default();

    if let Err(e) = result {
        return Err(Failure::new("ch06.send-error", "send_all() returned an error on a healthy line")
            .expected(format!("Ok(()) after saying all {LONG_SPEECH} bytes"))
            .got(format!("Err({}) after the listener heard {} bytes", names::errno(e), heard.len()))
            .phone("the line was fine, just slow: the listener was still taking notes.")
            .syscall("keep calling write() with the rest; only EINTR means \"try the same again\", and a blocking line never needs you to give up."));
    }
    if heard.len() < speech.len() {
        return Err(Failure::new("ch06.short-write", "send_all() stopped after a short write")
            .expected(format!("all {LONG_SPEECH} bytes to reach the listener"))
            .got(format!("only {} bytes arrived: write() said fewer than you offered and you didn't say the rest", heard.len()))
            .phone("the listener asked you to slow down; you stopped mid-speech and walked off.")
            .syscall("write() returns how many bytes it took. Loop: rest = &rest[n..] until rest is empty."));
    }
    if heard != speech {
        return Err(Failure::new(
            "ch06.send-garbled",
            "send_all() said the right amount in the wrong order, or too much",
        )
        .expected(format!("the {LONG_SPEECH} bytes exactly once, in order"))
        .got(format!("{} bytes, not the same ones", heard.len()))
        .phone("after an interruption you started your speech again from the top.")
        .syscall("after write() returns n, continue from &bytes[n..], not from the start."));
    }
    passed.saw(format!(
        "send_all() said all {LONG_SPEECH} bytes although write() came back short (a slow listener, SO_SNDTIMEO 150 ms)"
    ));
    Ok(())
}

/// The check's end for the short-write scenario: it says nothing until the
/// learner's first `write` is under way, then stops the line's timeout for
/// later writes, lets the first one time out (short), and only then listens.
fn slow_listener(learner: Arc<OwnedFd>, mine: OwnedFd) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        // The first bytes arriving means the first write() has started; the
        // kernel fixed its 150 ms timeout when it did. From now on writes
        // may wait as long as they need (SO_SNDTIMEO 0 = no timeout).
        wire::wait_until_queued(&mine, 1, Duration::from_secs(5));
        let _ = setsockopt(&*learner, sockopt::SendTimeout, &TimeVal::zero());
        drop(learner);
        // Not a wait for a peer: a wait for that first write's 150 ms timer
        // to run out, which makes it return short. Any time longer than the
        // timer would do; 400 ms leaves room on a busy machine.
        thread::sleep(Duration::from_millis(400));
        let heard = hear_everything(mine);
        let _ = tx.send(heard.recv().unwrap_or_default());
    });
    rx
}

fn broken_line(what: &str, e: Errno) -> Failure {
    Failure::new(
        "ch06.no-line",
        format!("the self-check couldn't set {what} on its test line"),
    )
    .expected("a loopback call the check can tune")
    .got(names::errno(e))
    .phone("the exchange itself is out of order: this is not your code.")
    .syscall("run the check again; if it persists, report it with this message.")
}

// ---------------------------------------------------------------- read_line

/// Calls the learner's `read_line` once, keeping `pending` between calls.
fn hear_line(
    answer: &Answer,
    line: &Arc<OwnedFd>,
    pending: &mut Vec<u8>,
    within: Duration,
) -> Result<nix::Result<Option<Vec<u8>>>, LearnerError> {
    let f = answer.read_line;
    let line = Arc::clone(line);
    let mut mine = std::mem::take(pending);
    let (back, result) = learner::call_within(chapter(), "read_line", within, move || {
        let r = f(&line, &mut mine);
        (mine, r)
    })?;
    *pending = back;
    Ok(result)
}

fn check_read_line(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    let timeout = chapter().timeout();

    // 1. One line, one byte per write (each byte read before the next is sent).
    let (learner, mine) = line(Options::default())?;
    let acts = b"hello\n".iter().map(|&b| Act::Say(vec![b])).collect();
    script(&learner, mine, acts);
    let mut pending = Vec::new();
    let got = hear_line(answer, &learner, &mut pending, timeout)?;
    if got != Ok(Some(b"hello".to_vec())) {
        return Err(Failure::new("ch06.one-read-one-message", "read_line() returned before the line was complete")
            .expected("Ok(Some(\"hello\")): the caller said \"hello\\n\", one byte per write()")
            .got(show_heard(&got))
            .phone("you hung on the caller's first syllable and took it for the whole sentence.")
            .syscall("one read() is not one message: keep reading (appending to pending) until a '\\n' is in it."));
    }
    passed.saw("read_line() put \"hello\\n\" together from six one-byte reads");

    // 2. Two lines in one write, then a polite hang-up.
    let (learner, mine) = line(Options::default())?;
    let both = b"first\nsecond\n".to_vec();
    script(&learner, mine, vec![Act::Say(both), Act::HangUp]);
    wire::wait_until_queued(&*learner, 13, PATIENCE);
    let mut pending = Vec::new();
    let got = hear_line(answer, &learner, &mut pending, timeout)?;
    if got != Ok(Some(b"first".to_vec())) {
        return Err(Failure::new("ch06.two-messages-in-one-read", "read_line() returned more (or less) than the first line")
            .expected("Ok(Some(\"first\")): the caller said \"first\\nsecond\\n\" in one write()")
            .got(show_heard(&got))
            .phone("two sentences came down the line in one breath; a line ends at the first newline.")
            .syscall("find the first '\\n' in what you read; return what comes before it and keep the rest in pending."));
    }
    let got = hear_line(answer, &learner, &mut pending, timeout)?;
    if got != Ok(Some(b"second".to_vec())) {
        return Err(Failure::new("ch06.lost-pending", "read_line() lost the second line")
            .expected("Ok(Some(\"second\")) from the bytes left over in pending")
            .got(show_heard(&got))
            .phone("you heard two sentences at once, answered the first and forgot the second.")
            .syscall("bytes after the newline belong to the next line: leave them in `pending` and look there first next time."));
    }
    passed.saw("two lines in one write() came back as two lines; the second waited in pending");
    let got = hear_line(answer, &learner, &mut pending, QUIET).map_err(|e| {
        hung_means(e, || {
            eof_loop(
                "read_line",
                "Ok(None): the caller hung up after \"second\\n\"",
            )
        })
    })?;
    match got {
        Ok(None) => {}
        Err(e) => return Err(eof_is_error("read_line", e)),
        other => {
            return Err(Failure::new("ch06.eof-is-a-line", "read_line() made up a line after the caller hung up")
                .expected("Ok(None): the caller hung up after \"second\\n\"")
                .got(show_heard(&other))
                .phone("the line went quiet and you reported a sentence nobody said.")
                .syscall("read() returning 0 with nothing pending means the conversation is over: return Ok(None)."))
        }
    }
    passed.saw("after a polite hang-up (read() returned 0), read_line() said Ok(None)");

    // 3. Half a line, then a polite hang-up.
    let (learner, mine) = line(Options::default())?;
    script(
        &learner,
        mine,
        vec![Act::Say(b"no newl".to_vec()), Act::HangUp],
    );
    let mut pending = Vec::new();
    let got = hear_line(answer, &learner, &mut pending, QUIET).map_err(|e| {
        hung_means(e, || {
            eof_loop(
                "read_line",
                "an Err: the caller hung up in the middle of a line",
            )
        })
    })?;
    if got.is_ok() {
        return Err(Failure::new("ch06.eof-mid-line", "read_line() accepted a line cut off by a hang-up")
            .expected("Err(ECONNRESET): \"no newl\" never got its '\\n'")
            .got(show_heard(&got))
            .phone("the caller hung up mid-sentence; passing on half a sentence (or nothing) as if all was well misleads whoever listens to you.")
            .syscall("read() returned 0 while pending still held bytes: return Err(Errno::ECONNRESET)."));
    }
    passed.saw("a hang-up in the middle of a line is an error, not a line");

    // 4. Half a line, then the phone slammed down (a reset).
    let (learner, mine) = line(Options::default())?;
    script(
        &learner,
        mine,
        vec![Act::Say(b"hal".to_vec()), Act::SlamDown],
    );
    let mut pending = Vec::new();
    let got = hear_line(answer, &learner, &mut pending, QUIET)
        .map_err(|e| hung_means(e, || reset_ignored(&"still running")))?;
    if got != Err(Errno::ECONNRESET) {
        return Err(reset_ignored(&show_heard(&got)));
    }
    passed.saw("a caller who slammed the phone down (SO_LINGER 0) gave Err(ECONNRESET), passed on");
    Ok(())
}

fn eof_loop(function: &str, expected: &str) -> Failure {
    Failure::new("ch06.eof-loop", format!("{function}() kept waiting after the caller hung up"))
        .expected(expected.to_string())
        .got(format!("no answer within {} s: read() returning 0 was treated as \"try again\"", QUIET.as_secs()))
        .phone("the other side put the phone down, and you're still holding yours saying \"hello? hello?\".")
        .syscall("read() returning 0 is end-of-file: it will return 0 forever. Stop reading and return.")
}

fn eof_is_error(function: &str, e: Errno) -> Failure {
    Failure::new("ch06.eof-is-error", format!("{function}() called a polite hang-up an error"))
        .expected("Ok(None): the caller said goodbye cleanly, between messages")
        .got(format!("Err({})", names::errno(e)))
        .phone("hanging up after a finished sentence is how every call ends; nothing went wrong.")
        .syscall("read() returning 0 with nothing half-heard is the normal end: return Ok(None), keep errors for cut-off messages.")
}

fn reset_ignored(got: &dyn std::fmt::Display) -> Failure {
    Failure::new("ch06.reset-ignored", "read_line() didn't pass on a reset")
        .expected("Err(ECONNRESET): the caller slammed the phone down after \"hal\"")
        .got(got.to_string())
        .phone("the line went dead with a crash; that's news for whoever is listening to you.")
        .syscall("return read()'s Err as it is (use `?`); don't turn it into Ok(None) or retry it.")
}

// ---------------------------------------------------------------- frames

fn check_write_frame(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    let f = answer.write_frame;
    // A small frame: the bytes on the wire must be 00 00 00 09 "ring ring".
    let (learner, mine) = line(Options::default())?;
    let heard = hear_everything(mine);
    let line2 = Arc::clone(&learner);
    let result = learner::call(chapter(), "write_frame", move || f(&line2, b"ring ring"))?;
    let _ = shutdown(learner.as_raw_fd(), Shutdown::Write);
    let heard = heard
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_default();
    let want = frame(b"ring ring");
    if let Err(e) = result {
        return Err(Failure::new(
            "ch06.frame-send-error",
            "write_frame() returned an error for a 9-byte frame",
        )
        .expected("Ok(()) and 13 bytes on the line")
        .got(format!("Err({})", names::errno(e)))
        .phone("a short, ordinary message should go through.")
        .syscall("only refuse payloads longer than MAX_FRAME; send the rest with send_all()."));
    }
    if heard != want {
        let mut little = (9u32).to_le_bytes().to_vec();
        little.extend_from_slice(b"ring ring");
        let (id, headline, phone, syscall) = if heard == little {
            (
                "ch06.frame-byte-order",
                "write_frame() wrote the length backwards (little-endian)",
                "you said the number of words with the digits in reverse order.",
                "use length.to_be_bytes() (network byte order): 9 is 00 00 00 09 on the wire.",
            )
        } else if heard == b"ring ring" {
            ("ch06.frame-no-length", "write_frame() sent the payload without its length",
             "you started talking without saying how long you'd talk; the listener can't tell where you stop.",
             "send the 4-byte big-endian length first, then the payload.")
        } else {
            ("ch06.frame-garbled", "write_frame() put the wrong bytes on the line",
             "what arrived isn't a length followed by the message.",
             "a frame is (payload.len() as u32).to_be_bytes() followed by the payload, said with send_all().")
        };
        return Err(Failure::new(id, headline)
            .expected(format!("{want:02x?}"))
            .got(format!("{heard:02x?}"))
            .phone(phone)
            .syscall(syscall));
    }
    passed.saw("write_frame(\"ring ring\") put 00 00 00 09 then the 9 bytes on the line");

    // The limit: MAX_FRAME bytes go through, one more byte is refused.
    for (size, must_pass) in [(MAX_FRAME, true), (MAX_FRAME + 1, false)] {
        let (learner, mine) = line(Options::default())?;
        let heard = hear_everything(mine);
        let line2 = Arc::clone(&learner);
        let result = learner::call(chapter(), "write_frame", move || {
            f(&line2, &vec![b'x'; size])
        })?;
        let _ = shutdown(learner.as_raw_fd(), Shutdown::Write);
        let heard = heard
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        match (must_pass, result) {
            (true, Ok(())) if heard.len() == size + 4 => {}
            (false, Err(_)) if heard.is_empty() => {}
            (true, result) => {
                return Err(frame_limit(
                    size,
                    "Ok(()) and the whole frame sent",
                    &result,
                    heard.len(),
                ))
            }
            (false, result) => {
                return Err(frame_limit(
                    size,
                    "Err(EMSGSIZE) and nothing sent",
                    &result,
                    heard.len(),
                ))
            }
        }
    }
    passed.saw(format!(
        "write_frame() sent a {MAX_FRAME}-byte frame and refused a {}-byte one (EMSGSIZE)",
        MAX_FRAME + 1
    ));
    Ok(())
}

fn frame_limit(size: usize, expected: &str, result: &nix::Result<()>, heard: usize) -> Failure {
    let got = match result {
        Ok(()) => format!("Ok(()), {heard} bytes on the line"),
        Err(e) => format!("Err({}), {heard} bytes on the line", names::errno(*e)),
    };
    Failure::new("ch06.frame-limit", format!("write_frame() got the {MAX_FRAME}-byte limit wrong for a {size}-byte payload"))
        .expected(format!("{expected} (payload of {size} bytes, MAX_FRAME = {MAX_FRAME})"))
        .got(got)
        .phone("everyone on the line agreed on the longest message; stick to it exactly, no more and no less.")
        .syscall("refuse with Err(Errno::EMSGSIZE) only when payload.len() > MAX_FRAME, before sending anything.")
}

/// Calls the learner's `read_frame` once.
fn hear_frame(
    answer: &Answer,
    line: &Arc<OwnedFd>,
    within: Duration,
) -> Result<nix::Result<Option<Vec<u8>>>, LearnerError> {
    let f = answer.read_frame;
    let line = Arc::clone(line);
    learner::call_within(chapter(), "read_frame", within, move || f(&line))
}

fn check_read_frame(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    let timeout = chapter().timeout();

    // 1. One frame in dribs and drabs: the header a byte at a time, the
    //    payload in two pieces.
    let (learner, mine) = line(Options::default())?;
    let whole = frame(b"ring ring");
    let mut acts: Vec<Act> = whole[..4].iter().map(|&b| Act::Say(vec![b])).collect();
    acts.push(Act::Say(whole[4..8].to_vec()));
    acts.push(Act::Say(whole[8..].to_vec()));
    script(&learner, mine, acts);
    let got = hear_frame(answer, &learner, timeout)?;
    if got != Ok(Some(b"ring ring".to_vec())) {
        return Err(Failure::new("ch06.frame-one-read", "read_frame() returned before the frame was complete")
            .expected("Ok(Some(\"ring ring\")): the 4 length bytes came one per write(), the payload in two")
            .got(show_heard(&got))
            .phone("you took the first scraps you heard for the whole message.")
            .syscall("read exactly 4 bytes (loop until you have them), then exactly `length` bytes (loop again)."));
    }
    passed.saw("read_frame() put a frame together from six separate reads");

    // 2. Three frames (one of them empty) in a single write, then goodbye.
    let (learner, mine) = line(Options::default())?;
    let mut three = frame(b"first");
    three.extend(frame(b""));
    three.extend(frame(b"second"));
    let total = three.len();
    script(&learner, mine, vec![Act::Say(three), Act::HangUp]);
    wire::wait_until_queued(&*learner, total, PATIENCE);
    for want in [&b"first"[..], b"", b"second"] {
        let got = hear_frame(answer, &learner, timeout)?;
        if got != Ok(Some(want.to_vec())) {
            return Err(Failure::new("ch06.frame-over-read", "read_frame() lost or mixed up frames that arrived together")
                .expected(format!("Ok(Some({})): three frames came in one write(), this is the next", show(want)))
                .got(show_heard(&got))
                .phone("three messages came in one breath; you swallowed the next one while listening to this one.")
                .syscall("read no more than this frame needs: exactly 4 bytes, then exactly `length` (which may be 0)."));
        }
    }
    let got = hear_frame(answer, &learner, QUIET).map_err(|e| {
        hung_means(e, || {
            eof_loop("read_frame", "Ok(None): the caller hung up between frames")
        })
    })?;
    match got {
        Ok(None) => {}
        Err(e) => return Err(eof_is_error("read_frame", e)),
        other => {
            return Err(Failure::new("ch06.eof-is-a-line", "read_frame() made up a frame after the caller hung up")
                .expected("Ok(None): the caller hung up between frames")
                .got(show_heard(&other))
                .phone("the line went quiet and you reported a message nobody sent.")
                .syscall("read() returning 0 before the first length byte is the end of the call: return Ok(None)."))
        }
    }
    passed.saw("three frames in one write() came back as three, then Ok(None) at the hang-up");

    // 3. A length far past the limit, and the line kept open.
    let (learner, mine) = line(Options::default())?;
    let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
    wire::say_all(&mine, &huge).map_err(|e| broken_line("a frame header", e))?;
    let got = hear_frame(answer, &learner, QUIET);
    drop(mine);
    let no_limit = |got: String| {
        Failure::new("ch06.frame-no-limit", "read_frame() believed a length over MAX_FRAME")
            .expected(format!("Err(EMSGSIZE) at once: the length says {} bytes, MAX_FRAME is {MAX_FRAME}", MAX_FRAME + 1))
            .got(got)
            .phone("a stranger says \"I'm about to read you four billion words\"; you cleared your diary and waited.")
            .syscall("after decoding the length, refuse anything over MAX_FRAME with Err(Errno::EMSGSIZE), before allocating or reading.")
    };
    match got {
        Ok(Err(_)) => {}
        Ok(other) => return Err(no_limit(show_heard(&other))),
        Err(e) => {
            return Err(hung_means(e, || {
                no_limit(format!(
                    "still waiting for {} bytes after {} s",
                    MAX_FRAME + 1,
                    QUIET.as_secs()
                ))
            }))
        }
    }
    passed.saw(format!(
        "read_frame() refused a length of {} at once",
        MAX_FRAME + 1
    ));

    // 4. A frame cut off by a hang-up.
    let (learner, mine) = line(Options::default())?;
    let mut cut = (10u32).to_be_bytes().to_vec();
    cut.extend_from_slice(b"abc");
    script(&learner, mine, vec![Act::Say(cut), Act::HangUp]);
    let got = hear_frame(answer, &learner, QUIET).map_err(|e| {
        hung_means(e, || {
            eof_loop(
                "read_frame",
                "an Err: the caller hung up 3 bytes into a 10-byte frame",
            )
        })
    })?;
    if got.is_ok() {
        return Err(Failure::new("ch06.eof-mid-frame", "read_frame() accepted a frame cut off by a hang-up")
            .expected("Err(ECONNRESET): the length promised 10 bytes, 3 came, then end-of-file")
            .got(show_heard(&got))
            .phone("the caller hung up mid-message; that isn't a message, and it isn't a polite goodbye either.")
            .syscall("read() returning 0 after the frame has begun: return Err(Errno::ECONNRESET)."));
    }
    passed.saw("a frame cut off by a hang-up is an error");
    Ok(())
}
