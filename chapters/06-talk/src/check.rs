//! The self-check for chapter 6: do your four functions hold a framed
//! conversation however the bytes arrive?
//!
//! Every scenario is a real loopback call. The check's end of it is a
//! scripted, awkward caller: it says a line one byte at a time (waiting until
//! each byte has been read before sending the next, so each really is its own
//! `read`), says two lines in a single `write`, reads so slowly that your
//! `write` comes back short, hangs up politely at every byte of a line or a
//! frame, and slams the phone down in the middle of a sentence. Each classic
//! mistake fails with its own id. Nothing reads your source: the kernel and
//! the bytes on the wire decide.

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{LearnerError, Trouble};
use dialtone_kit::patience::{PEER_REPLY, SHOULD_RETURN_AT_ONCE};
use dialtone_kit::task::{hung_means, Named};
use dialtone_kit::wire::{self, Options};
use dialtone_kit::{learner_call, names, task};
use nix::errno::Errno;
use nix::sys::socket::{send, setsockopt, shutdown, sockopt, MsgFlags, Shutdown};
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

/// How long the check's listener waits for everything a writer said, once
/// the writer has returned and the check has shut the line's sending side:
/// it ends at that end-of-file, so this only bounds a broken machine.
const HEAR_ALL_WITHIN: Duration = Duration::from_secs(10);

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

/// A line on which the check has already said `bytes` and hung up: the
/// learner's reads find those bytes, then end-of-file. Nothing to script.
fn line_cut_after(bytes: &[u8]) -> Result<Arc<OwnedFd>, Failure> {
    let (learner, mine) = line(Options::default())?;
    wire::say_all(&mine, bytes).map_err(|e| broken_line("the first words", e))?;
    drop(mine);
    Ok(learner)
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
/// `read`. The thread ends by itself (at worst after `PEER_REPLY` per act).
fn script(learner: &Arc<OwnedFd>, mine: OwnedFd, acts: Vec<Act>) {
    let learner = Arc::clone(learner);
    thread::spawn(move || {
        for act in acts {
            wire::wait_until_drained(&*learner, PEER_REPLY);
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

/// Bytes as a learner reads them, `"hello\n"`; a long run only counted.
fn show(bytes: &[u8]) -> String {
    names::show_or_count(bytes, 48)
}

fn show_heard(r: &Heard) -> String {
    match r {
        Ok(Some(b)) => format!("Ok(Some({}))", show(b)),
        Ok(None) => "Ok(None)".into(),
        Err(e) => format!("Err({})", names::errno(*e)),
    }
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

/// After a writer returns, its line must still be open for more words: a
/// `send()` of nothing fails with `EPIPE` only once the sending side is shut
/// down (tcp_sendmsg checks that before it looks at the length).
fn check_still_talking(function: &str, line: &OwnedFd) -> Result<(), Failure> {
    match send(line.as_raw_fd(), b"", MsgFlags::MSG_NOSIGNAL) {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::new("ch06.shut-down-line", format!("{function}() hung up after talking"))
            .expected("the line still open for more words once it returns")
            .got(format!("a send() on the line afterwards fails with {}: its sending side is shut down", names::errno(e)))
            .phone("you said your piece and put the phone down; the caller had more to say to you, and you to them.")
            .syscall(format!("{function}() only writes: shutdown() and close() are chapter 7, and belong to whoever owns the line."))),
    }
}

// ---------------------------------------------------------------- send_all

/// How much the check asks `send_all` to say: far more than the line holds.
const LONG_SPEECH: usize = 256 * 1024;

/// A line that holds a few KiB, whose first `write()` gives up after 150 ms
/// with the line full and returns how much it did say: a short write, every
/// time. The check's end listens (slowly) in a thread.
fn slow_line() -> Result<(Arc<OwnedFd>, mpsc::Receiver<Vec<u8>>), Failure> {
    let (learner, mine) = line(Options {
        caller_sndbuf: Some(4096),
        callee_rcvbuf: Some(4096),
    })?;
    setsockopt(&*learner, sockopt::SendTimeout, &TimeVal::milliseconds(150))
        .map_err(|e| broken_line("SO_SNDTIMEO", e))?;
    let heard = slow_listener(Arc::clone(&learner), mine);
    Ok((learner, heard))
}

/// Runs one of the learner's writers on a line and hears all it said. The
/// writer's result comes back with the bytes that reached the other end.
fn said_by<F, W>(
    writer: Named<F>,
    learner: Arc<OwnedFd>,
    heard: mpsc::Receiver<Vec<u8>>,
    with: W,
) -> Result<(nix::Result<()>, Vec<u8>), Failure>
where
    F: Send + 'static,
    W: FnOnce(F, &OwnedFd) -> nix::Result<()> + Send + 'static,
{
    let (name, line) = (writer.name, Arc::clone(&learner));
    let result = writer.call(chapter(), move |f| with(f, &line))?;
    if result.is_ok() {
        check_still_talking(name, &learner)?;
    }
    // The learner is done talking: let the listener hear end-of-file.
    let _ = shutdown(learner.as_raw_fd(), Shutdown::Write);
    Ok((
        result,
        heard.recv_timeout(HEAR_ALL_WITHIN).unwrap_or_default(),
    ))
}

fn check_send_all(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    let (learner, heard) = slow_line()?;
    let speech: Vec<u8> = (0..LONG_SPEECH).map(|i| (i % 251) as u8).collect();
    let words = speech.clone();
    let send_all = task!(answer.send_all);
    let (result, heard) = said_by(send_all, learner, heard, move |f, l| f(l, &words))?;
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
        "send_all() said all {LONG_SPEECH} bytes although write() came back short (a slow listener, SO_SNDTIMEO 150 ms), and left the line open"
    ));
    Ok(())
}

/// The check's end for the short-write scenarios: it says nothing until the
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

// ---------------------------------------------------------------- read_line

/// Calls the learner's `read_line` once, keeping `pending` between calls.
fn hear_line(
    answer: &Answer,
    line: &Arc<OwnedFd>,
    pending: &mut Vec<u8>,
    within: Duration,
) -> Result<Heard, LearnerError> {
    let line = Arc::clone(line);
    let mut mine = std::mem::take(pending);
    let with = move |read_line: fn(&OwnedFd, &mut Vec<u8>) -> Heard| {
        let r = read_line(&line, &mut mine);
        (mine, r)
    };
    let (back, result) = learner_call!(chapter(), answer.read_line, with, within = within)?;
    *pending = back;
    Ok(result)
}

fn check_read_line(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    line_byte_by_byte(answer)?;
    passed.saw("read_line() put \"hello\\n\" together from six one-byte reads");
    two_lines_at_once(answer)?;
    passed.saw("two lines in one write() came back as two lines (the second waited in pending), then Ok(None) at the hang-up");
    line_cut_everywhere(answer)?;
    passed.saw("a hang-up at every byte of \"hello\" (before the newline) is Err(EPROTO), a truncated line; before the first byte, Ok(None)");
    line_cut_after_pending(answer)?;
    passed.saw("a hang-up with half a line left over in pending is Err(EPROTO) too");
    line_reset(answer)?;
    passed.saw("a caller who slammed the phone down (SO_LINGER 0) gave Err(ECONNRESET), passed on");
    Ok(())
}

/// 1. One line, one byte per write (each byte read before the next is sent).
fn line_byte_by_byte(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let acts = b"hello\n".iter().map(|&b| Act::Say(vec![b])).collect();
    script(&learner, mine, acts);
    let got = hear_line(answer, &learner, &mut Vec::new(), chapter().timeout())?;
    if got == Ok(Some(b"hello".to_vec())) {
        return Ok(());
    }
    if got == Ok(Some(b"hello\n".to_vec())) {
        return Err(newline_kept(&got, "Ok(Some(\"hello\"))"));
    }
    Err(Failure::new("ch06.one-read-one-message", "read_line() returned before the line was complete")
        .expected("Ok(Some(\"hello\")): the caller said \"hello\\n\", one byte per write()")
        .got(show_heard(&got))
        .phone("you hung on the caller's first syllable and took it for the whole sentence.")
        .syscall("one read() is not one message: keep reading (appending to pending) until a '\\n' is in it."))
}

/// 2. Two lines in one write, then a polite hang-up.
fn two_lines_at_once(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let both = b"first\nsecond\n".to_vec();
    script(&learner, mine, vec![Act::Say(both), Act::HangUp]);
    wire::wait_until_queued(&*learner, 13, PEER_REPLY);
    let timeout = chapter().timeout();
    let mut pending = Vec::new();
    let got = hear_line(answer, &learner, &mut pending, timeout)?;
    if got == Ok(Some(b"first\n".to_vec())) {
        return Err(newline_kept(&got, "Ok(Some(\"first\"))"));
    }
    if got != Ok(Some(b"first".to_vec())) {
        return Err(Failure::new("ch06.two-messages-in-one-read", "read_line() returned more (or less) than the first line")
            .expected("Ok(Some(\"first\")): the caller said \"first\\nsecond\\n\" in one write()")
            .got(show_heard(&got))
            .phone("two sentences came down the line in one breath; a line ends at the first newline.")
            .syscall("find the first '\\n' in what you read; return what comes before it and keep the rest in pending."));
    }
    let got = hear_line(answer, &learner, &mut pending, timeout)?;
    if got == Ok(Some(Vec::new())) {
        return Err(newline_left_behind(&got));
    }
    if got != Ok(Some(b"second".to_vec())) {
        return Err(Failure::new("ch06.lost-pending", "read_line() lost the second line")
            .expected("Ok(Some(\"second\")) from the bytes left over in pending")
            .got(show_heard(&got))
            .phone("you heard two sentences at once, answered the first and forgot the second.")
            .syscall("bytes after the newline belong to the next line: leave them in `pending` and look there first next time."));
    }
    hang_up_between("read_line", "after \"second\\n\"", || {
        hear_line(answer, &learner, &mut pending, SHOULD_RETURN_AT_ONCE)
    })
}

/// After a polite hang-up between messages, the reader says `Ok(None)`.
fn hang_up_between(
    function: &str,
    when: &str,
    call: impl FnOnce() -> Result<Heard, LearnerError>,
) -> Result<(), Failure> {
    let expected = format!("Ok(None): the caller hung up {when}");
    let got = call().map_err(|e| hung_means(e, || eof_loop(function, &expected)))?;
    match got {
        Ok(None) => Ok(()),
        Err(e) => Err(eof_is_error(function, e)),
        other => Err(Failure::new("ch06.eof-is-a-line", format!("{function}() made up a message after the caller hung up"))
            .expected(expected)
            .got(show_heard(&other))
            .phone("the caller hung up, and you reported words nobody said.")
            .syscall("read() returning 0 before a new message has begun means the conversation is over: return Ok(None).")),
    }
}

/// 3. The caller hangs up after 0, 1, ... 5 bytes of "hello\n": at 0 that
///    is a goodbye, at every other point a truncated line.
fn line_cut_everywhere(answer: &Answer) -> Result<(), Failure> {
    let words = b"hello";
    for cut in 0..=words.len() {
        let learner = line_cut_after(&words[..cut])?;
        let mut pending = Vec::new();
        if cut == 0 {
            hang_up_between("read_line", "before saying anything", || {
                hear_line(answer, &learner, &mut pending, SHOULD_RETURN_AT_ONCE)
            })?;
            continue;
        }
        let what = format!("{} of \"hello\\n\", then hung up", show(&words[..cut]));
        let got = hear_line(answer, &learner, &mut pending, SHOULD_RETURN_AT_ONCE)
            .map_err(|e| hung_means(e, || eof_loop("read_line", &truncated_words(&what))))?;
        truncated("read_line", &what, &got)?;
    }
    Ok(())
}

/// 4. "one\ntw", then a hang-up: the first call returns "one" and leaves
///    "tw" in pending; the second finds end-of-file with half a line pending.
fn line_cut_after_pending(answer: &Answer) -> Result<(), Failure> {
    let learner = line_cut_after(b"one\ntw")?;
    let mut pending = Vec::new();
    let got = hear_line(answer, &learner, &mut pending, chapter().timeout())?;
    if got != Ok(Some(b"one".to_vec())) {
        return Err(Failure::new("ch06.two-messages-in-one-read", "read_line() returned more (or less) than the first line")
            .expected("Ok(Some(\"one\")): the caller said \"one\\ntw\" in one write(), then hung up")
            .got(show_heard(&got))
            .phone("a line ends at the first newline, even when the caller hangs up right after.")
            .syscall("find the first '\\n' in what you read; return what comes before it and keep the rest in pending."));
    }
    let what = "\"one\\ntw\", then hung up: \"tw\" is half a line";
    let got = hear_line(answer, &learner, &mut pending, SHOULD_RETURN_AT_ONCE)
        .map_err(|e| hung_means(e, || eof_loop("read_line", &truncated_words(what))))?;
    truncated("read_line", what, &got)
}

/// 5. Half a line, then the phone slammed down (a reset).
fn line_reset(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    script(
        &learner,
        mine,
        vec![Act::Say(b"hal".to_vec()), Act::SlamDown],
    );
    let got = hear_line(answer, &learner, &mut Vec::new(), SHOULD_RETURN_AT_ONCE)
        .map_err(|e| hung_means(e, || reset_ignored("read_line", &"still running")))?;
    if got != Err(Errno::ECONNRESET) {
        return Err(reset_ignored("read_line", &show_heard(&got)));
    }
    Ok(())
}

fn truncated_words(what: &str) -> String {
    format!("Err(EPROTO): the caller said {what}")
}

/// A message cut off by a polite hang-up must be `Err(EPROTO)`: neither a
/// message, nor a goodbye, nor a reset (there was none).
fn truncated(function: &str, what: &str, got: &Heard) -> Result<(), Failure> {
    let cause = match got {
        Err(Errno::EPROTO) => return Ok(()),
        Ok(None) => "you took it for a goodbye: the bytes already heard were dropped without a word",
        Ok(Some(_)) => "you passed half a message on as if it were whole",
        Err(Errno::ECONNRESET) => "a reset is a phone slammed down; this caller hung up politely (read() returned 0) in the middle of a message",
        Err(_) => "that errno names another trouble; this one is a message cut short",
    };
    let id = match got {
        Ok(_) if function == "read_line" => "ch06.eof-mid-line",
        Ok(_) => "ch06.eof-mid-frame",
        Err(_) => "ch06.truncated-wrong-error",
    };
    Err(Failure::new(id, format!("{function}() misreported a message cut off by a hang-up"))
        .expected(truncated_words(what))
        .got(format!("{}: {cause}", show_heard(got)))
        .phone("the caller hung up mid-sentence; that isn't a sentence, and it isn't a goodbye between sentences either.")
        .syscall("read() returned 0 after the message had begun: return Err(Errno::EPROTO), a protocol error. Keep ECONNRESET for a reset, and Ok(None) for a hang-up between messages."))
}

fn newline_kept(got: &Heard, expected: &str) -> Failure {
    Failure::new("ch06.newline-kept", "read_line() kept the newline in the line")
        .expected(format!("{expected}: the '\\n' ends the line, it isn't part of it"))
        .got(show_heard(got))
        .phone("you wrote down the full stop as if it were a word.")
        .syscall("take the bytes up to and including the '\\n' out of pending, then drop the '\\n' (pop() it) before returning.")
}

fn newline_left_behind(got: &Heard) -> Failure {
    Failure::new("ch06.newline-left-in-pending", "read_line() left the first line's newline in pending")
        .expected("Ok(Some(\"second\")): pending held \"\\nsecond\\n\" only if the '\\n' after \"first\" was left there")
        .got(format!("{}: an empty line, right after \"first\": the next call found the old '\\n' first", show_heard(got)))
        .phone("you stopped listening just before the full stop, so the next sentence seemed to begin with it.")
        .syscall("take the line out of pending up to and including the '\\n' (pending.drain(..=at)), then drop the '\\n'.")
}

fn eof_loop(function: &str, expected: &str) -> Failure {
    Failure::new("ch06.eof-loop", format!("{function}() kept waiting after the caller hung up"))
        .expected(expected.to_string())
        .got(format!("no answer within {} s: read() returning 0 was treated as \"try again\"", SHOULD_RETURN_AT_ONCE.as_secs()))
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

fn reset_ignored(function: &str, got: &dyn std::fmt::Display) -> Failure {
    Failure::new("ch06.reset-ignored", format!("{function}() didn't pass on a reset"))
        .expected("Err(ECONNRESET): the caller slammed the phone down (SO_LINGER 0) mid-message")
        .got(got.to_string())
        .phone("the line went dead with a crash; that's news for whoever is listening to you.")
        .syscall("return read()'s Err as it is (use `?`); don't turn it into Ok(None), another errno, or a retry.")
}

// ---------------------------------------------------------------- write_frame

/// Runs the learner's `write_frame(payload)` on `learner` and hears it all.
fn frame_said(
    answer: &Answer,
    learner: Arc<OwnedFd>,
    heard: mpsc::Receiver<Vec<u8>>,
    payload: Vec<u8>,
) -> Result<(nix::Result<()>, Vec<u8>), Failure> {
    said_by(task!(answer.write_frame), learner, heard, move |f, l| {
        f(l, &payload)
    })
}

/// A plain line, heard in full by the check's end.
fn listened_line() -> Result<(Arc<OwnedFd>, mpsc::Receiver<Vec<u8>>), Failure> {
    let (learner, mine) = line(Options::default())?;
    Ok((learner, hear_everything(mine)))
}

fn check_write_frame(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    frame_on_the_wire(answer)?;
    passed.saw("write_frame(\"ring ring\") put 00 00 00 09 then the 9 bytes on the line");
    frame_limits(answer)?;
    passed.saw(format!(
        "write_frame() sent an empty frame and a {MAX_FRAME}-byte one, and refused a {}-byte one (EMSGSIZE, nothing sent)",
        MAX_FRAME + 1
    ));
    frame_short_write(answer)?;
    passed.saw(format!(
        "write_frame() said a whole {MAX_FRAME}-byte frame although write() came back short"
    ));
    Ok(())
}

/// 1. A small frame: the bytes on the wire must be 00 00 00 09 "ring ring".
fn frame_on_the_wire(answer: &Answer) -> Result<(), Failure> {
    let (learner, heard) = listened_line()?;
    let (result, heard) = frame_said(answer, learner, heard, b"ring ring".to_vec())?;
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
    if heard == want {
        return Ok(());
    }
    let mut little = 9u32.to_le_bytes().to_vec();
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
    Err(Failure::new(id, headline)
        .expected(format!("{want:02x?}"))
        .got(format!("{heard:02x?}"))
        .phone(phone)
        .syscall(syscall))
}

/// 2. The limit: 0 and MAX_FRAME bytes go through, one more is refused.
fn frame_limits(answer: &Answer) -> Result<(), Failure> {
    for (size, must_pass) in [(0, true), (MAX_FRAME, true), (MAX_FRAME + 1, false)] {
        let (learner, heard) = listened_line()?;
        let (result, heard) = frame_said(answer, learner, heard, vec![b'x'; size])?;
        let fits = match (must_pass, &result) {
            (true, Ok(())) => heard.len() == size + 4 && heard[..4] == (size as u32).to_be_bytes(),
            (false, Err(Errno::EMSGSIZE)) => heard.is_empty(),
            _ => false,
        };
        if !fits {
            let expected = if must_pass {
                "Ok(()) and the whole frame sent"
            } else {
                "Err(EMSGSIZE) and nothing sent"
            };
            return Err(frame_limit(size, expected, &result, heard.len()));
        }
    }
    Ok(())
}

/// 3. A frame of MAX_FRAME bytes on a slow line: write() comes back short,
///    and the whole frame must still arrive.
fn frame_short_write(answer: &Answer) -> Result<(), Failure> {
    let (learner, heard) = slow_line()?;
    let payload: Vec<u8> = (0..MAX_FRAME).map(|i| (i % 253) as u8).collect();
    let (result, heard) = frame_said(answer, learner, heard, payload.clone())?;
    let want = frame(&payload);
    if result.is_ok() && heard == want {
        return Ok(());
    }
    Err(Failure::new("ch06.frame-short-write", "write_frame() lost part of a frame when write() came back short")
        .expected(format!("Ok(()) and all {} bytes of the frame on the line", want.len()))
        .got(match result {
            Ok(()) => format!("Ok(()), and {} of {} bytes arrived{}", heard.len(), want.len(), if heard.len() == want.len() { ", not the same ones" } else { "" }),
            Err(e) => format!("Err({}) after {} bytes arrived", names::errno(e), heard.len()),
        })
        .phone("the listener was slow; you said the length, then only part of the message.")
        .syscall("say the frame with your send_all() (one buffer: length then payload), never with a single write()."))
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

// ---------------------------------------------------------------- read_frame

/// Calls the learner's `read_frame` once.
fn hear_frame(
    answer: &Answer,
    line: &Arc<OwnedFd>,
    within: Duration,
) -> Result<Heard, LearnerError> {
    let line = Arc::clone(line);
    learner_call!(chapter(), answer.read_frame(&line), within = within)
}

fn check_read_frame(answer: &Answer, passed: &mut Passed) -> Result<(), Failure> {
    frame_in_pieces(answer)?;
    passed.saw("read_frame() put a frame together from six separate reads");
    frames_at_once(answer)?;
    passed.saw("three frames in one write() came back as three, then Ok(None) at the hang-up");
    frame_at_the_limit(answer)?;
    passed.saw(format!(
        "read_frame() took a frame of exactly MAX_FRAME ({MAX_FRAME}) bytes"
    ));
    frame_over_the_limit(answer)?;
    passed.saw(format!(
        "read_frame() refused a length of {} at once",
        MAX_FRAME + 1
    ));
    frame_hostile_length(answer)?;
    passed.saw(format!(
        "read_frame() refused a header claiming {HOSTILE} bytes at once, without asking for that memory"
    ));
    frame_cut_everywhere(answer)?;
    passed.saw("a hang-up at every byte of a frame's header and payload is Err(EPROTO); before the first, Ok(None)");
    frame_reset(answer)?;
    passed.saw("a reset in the middle of a frame gave Err(ECONNRESET), passed on");
    Ok(())
}

/// 1. One frame in dribs and drabs: the header a byte at a time, the payload
///    in two pieces.
fn frame_in_pieces(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let whole = frame(b"ring ring");
    let mut acts: Vec<Act> = whole[..4].iter().map(|&b| Act::Say(vec![b])).collect();
    acts.push(Act::Say(whole[4..8].to_vec()));
    acts.push(Act::Say(whole[8..].to_vec()));
    script(&learner, mine, acts);
    let got = hear_frame(answer, &learner, chapter().timeout())?;
    if got == Ok(Some(b"ring ring".to_vec())) {
        return Ok(());
    }
    if got == Err(Errno::EMSGSIZE) {
        return Err(read_byte_order(&got));
    }
    Err(Failure::new("ch06.frame-one-read", "read_frame() returned before the frame was complete")
        .expected("Ok(Some(\"ring ring\")): the 4 length bytes came one per write(), the payload in two")
        .got(show_heard(&got))
        .phone("you took the first scraps you heard for the whole message.")
        .syscall("read exactly 4 bytes (loop until you have them), then exactly `length` bytes (loop again)."))
}

/// A 9-byte frame refused as too long: 00 00 00 09 read little-endian is
/// 150994944, far past MAX_FRAME. That is byte order, not a missing loop.
fn read_byte_order(got: &Heard) -> Failure {
    let backwards = u32::from_le_bytes(9u32.to_be_bytes());
    Failure::new("ch06.frame-read-byte-order", "read_frame() decoded the length backwards (little-endian)")
        .expected("Ok(Some(\"ring ring\")): the header 00 00 00 09 says 9 bytes")
        .got(format!("{}: 00 00 00 09 read little-endian is {backwards}, over MAX_FRAME", show_heard(got)))
        .phone("you read the number of words with its digits in reverse order, and a short message looked enormous.")
        .syscall("decode the header with u32::from_be_bytes (network byte order), not from_le_bytes or from_ne_bytes.")
}

/// 2. Three frames (one of them empty) in a single write, then goodbye.
fn frames_at_once(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let mut three = frame(b"first");
    three.extend(frame(b""));
    three.extend(frame(b"second"));
    let total = three.len();
    script(&learner, mine, vec![Act::Say(three), Act::HangUp]);
    wire::wait_until_queued(&*learner, total, PEER_REPLY);
    for want in [&b"first"[..], b"", b"second"] {
        let got = hear_frame(answer, &learner, chapter().timeout())?;
        if got != Ok(Some(want.to_vec())) {
            return Err(Failure::new("ch06.frame-over-read", "read_frame() lost or mixed up frames that arrived together")
                .expected(format!("Ok(Some({})): three frames came in one write(), this is the next", show(want)))
                .got(show_heard(&got))
                .phone("three messages came in one breath; you swallowed the next one while listening to this one.")
                .syscall("read no more than this frame needs: exactly 4 bytes, then exactly `length` (which may be 0)."));
        }
    }
    hang_up_between("read_frame", "between frames", || {
        hear_frame(answer, &learner, SHOULD_RETURN_AT_ONCE)
    })
}

/// 3. A frame of exactly MAX_FRAME bytes is allowed.
fn frame_at_the_limit(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let payload = vec![b'x'; MAX_FRAME];
    script(&learner, mine, vec![Act::Say(frame(&payload))]);
    let got = hear_frame(answer, &learner, chapter().timeout())?;
    if got
        .as_ref()
        .is_ok_and(|f| f.as_deref() == Some(&payload[..]))
    {
        return Ok(());
    }
    Err(Failure::new(
        "ch06.frame-limit-read",
        "read_frame() refused (or garbled) a frame of exactly MAX_FRAME bytes",
    )
    .expected(format!(
        "Ok(Some({MAX_FRAME} bytes)): the length is MAX_FRAME, the largest frame allowed"
    ))
    .got(show_heard(&got))
    .phone("the agreed longest message is allowed; you turned it away at the very limit.")
    .syscall("refuse only length > MAX_FRAME, not >=; then read exactly `length` bytes."))
}

/// 4. A length one past the limit, and the line kept open.
fn frame_over_the_limit(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
    wire::say_all(&mine, &huge).map_err(|e| broken_line("a frame header", e))?;
    let got = hear_frame(answer, &learner, SHOULD_RETURN_AT_ONCE);
    drop(mine);
    let no_limit = |got: String| {
        Failure::new("ch06.frame-no-limit", "read_frame() believed a length over MAX_FRAME")
            .expected(format!("Err(EMSGSIZE) at once: the length says {} bytes, MAX_FRAME is {MAX_FRAME}", MAX_FRAME + 1))
            .got(got)
            .phone("a stranger says \"I'm about to read you four billion words\"; you cleared your diary and waited.")
            .syscall("after decoding the length, refuse anything over MAX_FRAME with Err(Errno::EMSGSIZE), before allocating or reading.")
    };
    match got {
        Ok(Err(Errno::EMSGSIZE)) => Ok(()),
        Ok(other) => Err(no_limit(show_heard(&other))),
        Err(e) => Err(hung_means(e, || {
            no_limit(format!(
                "still waiting for {} bytes after {} s",
                MAX_FRAME + 1,
                SHOULD_RETURN_AT_ONCE.as_secs()
            ))
        })),
    }
}

/// The length in the hostile header: almost 4 GiB, far past what the
/// learner's process may have (a check's memory limit is 256 MiB).
const HOSTILE: u32 = 0xFFFF_FFF0;

/// 4b. A header claiming almost 4 GiB, and the line kept open. A reader that
///     checks first refuses at once; one that allocates the buffer from the
///     header first (`vec![0; len]`, `Vec::with_capacity(len)`) asks for
///     4 GiB and, under the check's memory limit, dies of it (or gets
///     ENOMEM from a `try_reserve`); one that reads first waits.
fn frame_hostile_length(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    wire::say_all(&mine, &HOSTILE.to_be_bytes()).map_err(|e| broken_line("a frame header", e))?;
    let got = hear_frame(answer, &learner, SHOULD_RETURN_AT_ONCE);
    drop(mine);
    let trusted = |got: String| {
        Failure::new("ch06.frame-alloc-first", "read_frame() allocated (trusted) the length before checking it against MAX_FRAME")
            .expected(format!("Err(EMSGSIZE) at once: the header says {HOSTILE} bytes, MAX_FRAME is {MAX_FRAME}"))
            .got(got)
            .phone("a stranger says \"I'm about to read you four billion words\"; you bought four billion pages of notepaper before asking why.")
            .syscall("compare the length with MAX_FRAME right after u32::from_be_bytes, and return Err(Errno::EMSGSIZE) before any vec![0; len], Vec::with_capacity(len) or read.")
    };
    match got {
        Ok(Err(Errno::EMSGSIZE)) => Ok(()),
        Ok(Err(Errno::ENOMEM)) => Err(trusted(format!(
            "Err(ENOMEM): the memory for {HOSTILE} bytes was asked for, and refused, before the length was checked"
        ))),
        Ok(other) => Err(trusted(show_heard(&other))),
        Err(e) if matches!(e.trouble, Trouble::Hung(_)) => Err(trusted(format!(
            "still waiting for {HOSTILE} bytes after {} s",
            SHOULD_RETURN_AT_ONCE.as_secs()
        ))),
        Err(e) => match dialtone_kit::judge::death_in("read_frame") {
            // Only a failed allocation is this mistake's evidence; any other
            // death keeps the judge's own verdict.
            Some(death) if death.memory.is_some() => {
                death.claim();
                let asked = death
                    .asked_for()
                    .map_or_else(|| "that much".to_string(), |n| format!("{n} bytes"));
                Err(trusted(format!(
                    "your program asked for {asked} of memory and died of it (\"{}\", RLIMIT_AS)",
                    death.memory.as_deref().unwrap_or_default()
                )))
            }
            _ => Err(e.into()),
        },
    }
}

/// 5. The caller hangs up after 0, 1, ... 12 bytes of a 13-byte frame: at 0
///    a goodbye, inside the header or the payload a truncated frame.
fn frame_cut_everywhere(answer: &Answer) -> Result<(), Failure> {
    let whole = frame(b"ring ring");
    for cut in 0..whole.len() {
        let learner = line_cut_after(&whole[..cut])?;
        if cut == 0 {
            hang_up_between("read_frame", "before a frame began", || {
                hear_frame(answer, &learner, SHOULD_RETURN_AT_ONCE)
            })?;
            continue;
        }
        let what = format!(
            "{cut} of the 13 bytes of a 9-byte frame ({}), then hung up",
            if cut < 4 {
                "inside the 4-byte length"
            } else {
                "inside the payload"
            }
        );
        let got = hear_frame(answer, &learner, SHOULD_RETURN_AT_ONCE)
            .map_err(|e| hung_means(e, || eof_loop("read_frame", &truncated_words(&what))))?;
        truncated("read_frame", &what, &got)?;
    }
    Ok(())
}

/// 6. Half a frame, then the phone slammed down (a reset).
fn frame_reset(answer: &Answer) -> Result<(), Failure> {
    let (learner, mine) = line(Options::default())?;
    let mut half = frame(b"ring ring");
    half.truncate(6);
    script(&learner, mine, vec![Act::Say(half), Act::SlamDown]);
    let got = hear_frame(answer, &learner, SHOULD_RETURN_AT_ONCE)
        .map_err(|e| hung_means(e, || reset_ignored("read_frame", &"still running")))?;
    if got != Err(Errno::ECONNRESET) {
        return Err(reset_ignored("read_frame", &show_heard(&got)));
    }
    Ok(())
}
