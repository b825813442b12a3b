//! The scene of chapter 7, narrated line by line.
//!
//! Six short calls on loopback, each ending differently: a friend who hangs
//! up (your `read` returns 0, and keeps returning 0); a question finished
//! with `shutdown(Write)` and answered (the half-close, with the learner's
//! `hear_out` and `ask_and_hear_back`); `shutdown(Read)`, which sends
//! nothing and still lets later words in; talking into a line the other side
//! has hung up (`EPIPE`, no `SIGPIPE`); a `close()` with words unread, which
//! is a reset; and a handset left off the hook (a duplicated descriptor keeps
//! the line busy). Every step waits for the kernel state it prints, so the
//! transcript is the same on every run.

use crate::check::Answer;
use dialtone_kit::patience::SCENE_SETTLES as PATIENCE;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, kernel, learner_call, names, wire};
use nix::errno::Errno;
use nix::sys::socket::{send, shutdown, MsgFlags, Shutdown};
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread;

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    args::none(s.chapter, args)?;
    s.title("Every call ends. How it ends tells the other side whether they heard everything.")?;
    dial_tone(s)?;
    half_close(s, answer)?;
    ask_with_the_learners_code(s, answer)?;
    ears_shut(s)?;
    dead_line(s)?;
    unread_words(s)?;
    off_the_hook(s)?;
    s.moral()?;
    Ok(())
}

fn call() -> Result<wire::Pair, SceneError> {
    wire::call_pair().map_err(sys(
        "a loopback call (socket, bind 127.0.0.1:0, listen, connect, accept)",
        "Check that loopback works on this machine.",
    ))
}

fn dropped() -> &'static str {
    "The call dropped unexpectedly; run the scene again."
}

/// Beat 1: the other side hangs up; read() returns 0, and keeps doing so.
fn dial_tone(s: &mut Scene) -> SceneResult {
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    let n = write(&friend, b"bye!\n").map_err(sys("write()", dropped()))?;
    s.step(
        Who::Callee,
        "says goodbye",
        &format!("write(fd {f}, \"bye!\\n\", 5) = {n}"),
    )?;
    // ANCHOR: hang_up
    drop(friend); // close(): the friend's only handset goes down
                  // ANCHOR_END: hang_up
    s.step(Who::Callee, "hangs up", &format!("close(fd {f})"))?;
    let mut buf = [0u8; 64];
    for _ in 0..3 {
        let n = read(&you, &mut buf).map_err(sys("read()", dropped()))?;
        let what = if n == 0 {
            "end of file".to_string()
        } else {
            names::show(&buf[..n])
        };
        s.step(
            Who::You,
            "listen",
            &format!("read(fd {y}, buf, 64) = {n}: {what}"),
        )?;
    }
    s.note("0 is the dial tone: the other side hung up. It is not an error, and it won't change")?;
    s.note("a loop that reads again after 0 spins forever: stop at the first 0")?;
    s.pause()?;
    Ok(())
}

/// Beat 2: "I'm done talking" (shutdown Write), and the answer still comes.
fn half_close(s: &mut Scene, answer: &Answer) -> SceneResult {
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    let friend = Arc::new(friend);
    let question = b"what time is it?";
    let n = write(&you, question).map_err(sys("write()", dropped()))?;
    s.step(
        Who::You,
        "ask a question",
        &format!("write(fd {y}, {}, 16) = {n}", names::show(question)),
    )?;
    // ANCHOR: half_close
    shutdown(you.as_raw_fd(), Shutdown::Write).map_err(sys("shutdown(SHUT_WR)", dropped()))?;
    // ANCHOR_END: half_close
    s.step(
        Who::You,
        "say \"over\": done talking, still listening",
        &format!("shutdown(fd {y}, SHUT_WR) = 0"),
    )?;
    s.hold("half-closed: ss -tn shows your end in FIN-WAIT-2, the other in CLOSE-WAIT")?;
    let line = Arc::clone(&friend);
    let heard = learner_call!(s.chapter, answer.hear_out(&line))?.map_err(sys(
        "hear_out()",
        "Your hear_out() returned the kernel's error.",
    ))?;
    // Inside hear_out() the scene can't see; what it returned is the
    // evidence. Only the whole question means it read on until read() = 0.
    if heard != question {
        s.step(
            Who::Callee,
            "hears something other than your question",
            &format!("hear_out(fd {f}) = Ok({})", names::show(&heard)),
        )?;
        return Err(SceneError::Unexpected(format!(
            "You said {} and then \"over\", but hear_out() returned {}: it should read until read() returns 0. `cargo run -- check 7` explains.",
            names::show(question),
            names::show(&heard)
        )));
    }
    s.step(
        Who::Callee,
        "hears you out, to the end of your question",
        &format!(
            "hear_out(fd {f}) = Ok({}): read() returned 0 after it",
            names::show(&heard)
        ),
    )?;
    let n = write(&*friend, b"ten past nine").map_err(sys("write()", dropped()))?;
    s.step(
        Who::Callee,
        "answers",
        &format!("write(fd {f}, \"ten past nine\", 13) = {n}"),
    )?;
    drop(friend);
    s.step(Who::Callee, "hangs up", &format!("close(fd {f})"))?;
    let mut buf = [0u8; 64];
    let n = read(&you, &mut buf).map_err(sys("read()", dropped()))?;
    s.step(
        Who::You,
        "hear the answer",
        &format!("read(fd {y}, buf, 64) = {n} {}", names::show(&buf[..n])),
    )?;
    s.note("a half-closed line still carries the other way: that is what shutdown() is for")?;
    drop(you);
    s.pause()?;
    Ok(())
}

/// Beat 2, again: the same conversation, with the learner's ask_and_hear_back().
fn ask_with_the_learners_code(s: &mut Scene, answer: &Answer) -> SceneResult {
    let question = b"what time is it?";
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    let clerk = thread::spawn(move || -> nix::Result<Vec<u8>> {
        let mut question = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match read(&friend, &mut buf)? {
                0 => break, // the caller said "over"
                n => question.extend_from_slice(&buf[..n]),
            }
        }
        write(&friend, b"ten past nine")?;
        Ok(question) // friend is dropped here: close()
    });
    // ANCHOR: ask
    let heard = learner_call!(s.chapter, answer.ask_and_hear_back(you, question))?.map_err(sys(
        "ask_and_hear_back()",
        "Your ask_and_hear_back() returned the kernel's error.",
    ))?;
    // ANCHOR_END: ask
    let asked = clerk
        .join()
        .map_err(|_| {
            SceneError::Unexpected("The scene's clerk thread panicked: run the scene again.".into())
        })?
        .map_err(sys("the clerk's read()/write()", dropped()))?;
    s.step(
        Who::You,
        "ask, say \"over\", hear the answer, hang up",
        &format!(
            "ask_and_hear_back(fd {y}, {}) = Ok({})",
            names::show(question),
            names::show(&heard)
        ),
    )?;
    s.step(
        Who::Callee,
        "heard the question to its end, answered, hung up",
        &format!(
            "read(fd {f}) until 0 = {}, write(\"ten past nine\"), close(fd {f})",
            names::show(&asked)
        ),
    )?;
    s.pause()?;
    Ok(())
}

/// Beat 3: `shutdown(Read)` sends nothing and ends nothing. Your own read()
/// says 0 while nothing is waiting; words that arrive later still come in
/// (Linux; POSIX leaves it open). The other side is never told.
fn ears_shut(s: &mut Scene) -> SceneResult {
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    shutdown(you.as_raw_fd(), Shutdown::Read).map_err(sys("shutdown(SHUT_RD)", dropped()))?;
    s.step(
        Who::You,
        "stop reading (SHUT_RD): nothing is sent, the other side isn't told",
        &format!("shutdown(fd {y}, SHUT_RD) = 0"),
    )?;
    let mut buf = [0u8; 64];
    let n = read(&you, &mut buf).map_err(sys("read()", dropped()))?;
    s.step(
        Who::You,
        "listen",
        &format!("read(fd {y}, buf, 64) = {n}: nothing is waiting, so 0 at once"),
    )?;
    let words = b"still there?";
    let n = write(&friend, words).map_err(sys("write()", dropped()))?;
    s.step(
        Who::Callee,
        "talks on, unaware",
        &format!("write(fd {f}, {}, 12) = {n}", names::show(words)),
    )?;
    wire::wait_until_queued(&you, words.len(), PATIENCE);
    let n = read(&you, &mut buf).map_err(sys("read()", dropped()))?;
    s.step(
        Who::You,
        "listen again",
        &format!("read(fd {y}, buf, 64) = {n} {}", names::show(&buf[..n])),
    )?;
    s.note("on Linux SHUT_RD is no reset and no \"cover your ears\": words that arrive later are still delivered. Only SHUT_WR tells the other side anything")?;
    s.pause()?;
    Ok(())
}

/// Beat 5: closing with words unread is a reset, even from a live program
/// (RFC 2525 section 2.17; Linux's tcp_close). The graceful close is
/// shutdown(Write), read to end of file, then close.
fn unread_words(s: &mut Scene) -> SceneResult {
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    let words = b"one more thing";
    let n = write(&friend, words).map_err(sys("write()", dropped()))?;
    s.step(
        Who::Callee,
        "says one more thing",
        &format!("write(fd {f}, {}, 14) = {n}", names::show(words)),
    )?;
    wire::wait_until_queued(&you, words.len(), PATIENCE);
    drop(you);
    s.step(
        Who::You,
        "hang up without listening",
        &format!("close(fd {y}) with 14 bytes unread: your kernel sends a reset (RST)"),
    )?;
    let mut buf = [0u8; 16];
    let first = read(&friend, &mut buf);
    s.step(
        Who::Callee,
        "listen",
        &format!("read(fd {f}, buf, 16) = {}", shown(&first)),
    )?;
    let second = send(friend.as_raw_fd(), b"hello?", MsgFlags::MSG_NOSIGNAL);
    s.step(
        Who::Callee,
        "talk into the reset line",
        &format!(
            "send(fd {f}, \"hello?\", 6, MSG_NOSIGNAL) = {}",
            shown(&second)
        ),
    )?;
    s.note("after a reset the first error is ECONNRESET, then EPIPE")?;
    // Caller ID outlives a graceful goodbye, not a reset: the kernel forgets
    // the other end's number once the call is reset (chapter 5's warning).
    let caller_id = match kernel::other_end(&friend) {
        Ok(number) => names::addr(&number),
        Err(e) => names::errno(e),
    };
    s.step(
        Who::Callee,
        "ask who was on the line",
        &format!("getpeername(fd {f}) = {caller_id}"),
    )?;
    s.note("a reset call has no other end any more: read caller ID when you pick up. A graceful close has no unread words: shutdown(Write), read to end of file, then close()")?;
    s.pause()?;
    Ok(())
}

/// Beat 4: talking into a line the other side has hung up.
fn dead_line(s: &mut Scene) -> SceneResult {
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    drop(friend);
    s.step(
        Who::Callee,
        "hangs up before you say a word",
        &format!("close(fd {f})"),
    )?;
    let mut buf = [0u8; 16];
    let n = read(&you, &mut buf).map_err(sys("read()", dropped()))?;
    s.step(
        Who::You,
        "(you could have noticed)",
        &format!("read(fd {y}, buf, 16) = {n}: end of file"),
    )?;
    // ANCHOR: epipe
    let first = send(you.as_raw_fd(), b"are you there?", MsgFlags::MSG_NOSIGNAL);
    // ANCHOR_END: epipe
    s.step(
        Who::You,
        "talk anyway",
        &format!(
            "send(fd {y}, \"are you there?\", 14, MSG_NOSIGNAL) = {}",
            shown(&first)
        ),
    )?;
    s.note("accepted: your kernel doesn't know yet that nobody is there; it finds out when the words arrive")?;
    // Wait for the other kernel's reset to arrive: poll() with no events
    // asked for still reports a hang-up or an error on the line.
    let dead = wire::wait_until_dead(&you, PATIENCE);
    s.step(
        Who::Exchange,
        "there's no one at that number any more: the other end resets the call",
        if dead {
            "RST arrives; poll() reports POLLHUP on your line"
        } else {
            "(no reset within 5 s)"
        },
    )?;
    let second = send(you.as_raw_fd(), b"hello?", MsgFlags::MSG_NOSIGNAL);
    s.step(
        Who::You,
        "talk into the dead line",
        &format!(
            "send(fd {y}, \"hello?\", 6, MSG_NOSIGNAL) = {}",
            shown(&second)
        ),
    )?;
    let third = write(&you, b"hello?");
    s.step(
        Who::You,
        "and again, with plain write()",
        &format!("write(fd {y}, \"hello?\", 6) = {}", shown(&third)),
    )?;
    s.note("in C, that write() would also raise SIGPIPE, and SIGPIPE's default action kills the program")?;
    s.note("Rust sets SIGPIPE to \"ignore\" before main(), so you get the EPIPE error; MSG_NOSIGNAL says so per call, in any program")?;
    s.pause()?;
    Ok(())
}

fn shown(r: &nix::Result<usize>) -> String {
    match r {
        Ok(0) => "0: end of file".to_string(),
        Ok(n) => n.to_string(),
        Err(e) => format!("-1 {} ({})", names::errno(*e), names::errno_phone(*e)),
    }
}

/// Beat 6: a handset left off the hook keeps the line busy.
fn off_the_hook(s: &mut Scene) -> SceneResult {
    let wire::Pair {
        caller: you,
        callee: friend,
    } = call()?;
    let (y, f) = (you.as_raw_fd(), friend.as_raw_fd());
    // ANCHOR: extension
    // try_clone() is dup() that also sets close-on-exec (F_DUPFD_CLOEXEC)
    let extension = you.try_clone()?; // a second handset on the same line
                                      // ANCHOR_END: extension
    let e = extension.as_raw_fd();
    s.step(
        Who::You,
        "pick up the extension in the other room",
        &format!(
            "fcntl(fd {y}, F_DUPFD_CLOEXEC, 3) = fd {e}; handsets on this line: {}",
            wire::handsets_on(&you)
        ),
    )?;
    s.hold("two descriptors, one socket inode: two handsets on one line")?;
    drop(you);
    s.step(
        Who::You,
        "hang up the phone in the hall",
        &format!(
            "close(fd {y}); handsets on this line: {}",
            wire::handsets_on(&extension)
        ),
    )?;
    let waiting = busy_or_eof(&friend)?;
    s.step(
        Who::Callee,
        "listen for the dial tone",
        &format!("recv(fd {f}, MSG_PEEK | MSG_DONTWAIT) = {waiting}"),
    )?;
    s.note("no end of file: one handset is still off the hook, so the call isn't over")?;
    s.note(
        "the kernel hangs up a call when its LAST descriptor closes; a leaked copy keeps it busy",
    )?;
    let target = nix_target(&extension);
    drop(extension);
    s.step(
        Who::You,
        "put the extension down too",
        &format!(
            "close(fd {e}); handsets on this line: {}",
            wire::handsets_for(&target)
        ),
    )?;
    let mut buf = [0u8; 16];
    let n = read(&friend, &mut buf).map_err(sys("read()", dropped()))?;
    s.step(
        Who::Callee,
        "listen again",
        &format!("read(fd {f}, buf, 16) = {n}: end of file, the dial tone"),
    )?;
    s.note("shutdown() would have ended the call at once, whatever copies exist: it acts on the call, close() on one handset")?;
    s.pause()?;
    Ok(())
}

/// What the other side sees right now without waiting: bytes, end of file,
/// or "nothing yet" (`EAGAIN`: the line is open and quiet).
fn busy_or_eof(fd: &OwnedFd) -> Result<String, SceneError> {
    let mut buf = [0u8; 16];
    Ok(
        match nix::sys::socket::recv(
            fd.as_raw_fd(),
            &mut buf,
            MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(0) => "0: end of file".into(),
            Ok(n) => format!("{n}: bytes waiting"),
            Err(Errno::EAGAIN) => "-1 EAGAIN: nothing to hear yet, the line is still open".into(),
            Err(e) => return Err(sys("recv(MSG_PEEK)", dropped())(e)),
        },
    )
}

fn nix_target(fd: &OwnedFd) -> String {
    dialtone_kit::kernel::fd_target(fd.as_raw_fd()).unwrap_or_default()
}
