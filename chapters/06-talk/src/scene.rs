//! The scene of chapter 6, narrated line by line.
//!
//! A call is already connected (chapters 3 to 5, done here in one go on
//! loopback). Your friend talks; you listen with plain `read`, and see that
//! the bytes ignore how they were written. Then `recv` with `MSG_PEEK` and
//! `MSG_WAITALL`, and finally a framed conversation with the learner's four
//! functions, ending with a line cut off by a hang-up (`EPROTO`). Every read happens only once the bytes it should see are
//! waiting (checked with `MSG_PEEK`), so the transcript is the same on every
//! run and machine.

use crate::check::Answer;
use dialtone_kit::names::show;
use dialtone_kit::patience::SCENE_SETTLES;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, learner_call, wire};
use nix::sys::socket::{recv, MsgFlags};
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::thread;

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    args::none(s.chapter, args)?;
    s.title(
        "You rang a friend and they picked up. Now you talk, and find out what a stream carries.",
    )?;
    let pair = wire::call_pair().map_err(sys(
        "a loopback call (socket, bind 127.0.0.1:0, listen, connect, accept)",
        "Check that loopback works on this machine.",
    ))?;
    // Shared handles, not dup()s: the speaker thread below writes on the very
    // descriptor the transcript names, as strace shows.
    let (you, friend) = (Arc::new(pair.caller), Arc::new(pair.callee));
    s.step(
        Who::You,
        "the call is connected: you on one end, your friend on the other",
        &format!(
            "connect() and accept() on 127.0.0.1: fd {} (you) <-> fd {} (friend)",
            you.as_raw_fd(),
            friend.as_raw_fd()
        ),
    )?;
    s.pause()?;

    two_writes_one_read(s, &you, &friend)?;
    one_write_many_reads(s, &you, &friend)?;
    wait_for_all(s, &you, &friend)?;
    framed(s, answer, &you, friend)?;
    s.moral()?;
    Ok(())
}

fn said(s: &mut Scene, fd: &OwnedFd, words: &[u8]) -> SceneResult {
    let n = write(fd, words).map_err(sys("write()", "The call dropped; run the scene again."))?;
    s.step(
        Who::Callee,
        &format!("says {}", show(words)),
        &format!(
            "write(fd {}, {}, {}) = {n}",
            fd.as_raw_fd(),
            show(words),
            words.len()
        ),
    )?;
    Ok(())
}

/// Waits until `n` bytes are waiting on `fd`; the transcript depends on it.
fn settle(fd: &OwnedFd, n: usize) -> SceneResult {
    if wire::wait_until_queued(fd, n, SCENE_SETTLES) {
        Ok(())
    } else {
        Err(SceneError::Sys {
            call: format!("waiting for {n} bytes on fd {}", fd.as_raw_fd()),
            errno: nix::errno::Errno::ETIMEDOUT,
            advice: "The machine is very busy or loopback is broken; run the scene again.".into(),
        })
    }
}

/// Waits for `n` bytes a learner's function said it sent; if they never
/// come, that function is the one to look at, not the machine.
fn learner_said(fd: &OwnedFd, n: usize, function: &str) -> SceneResult {
    if wire::wait_until_queued(fd, n, SCENE_SETTLES) {
        Ok(())
    } else {
        Err(SceneError::Unexpected(format!(
            "{function} returned Ok, but fewer than {n} bytes reached the other end within {} s: `cargo run -- check 6` explains.",
            SCENE_SETTLES.as_secs()
        )))
    }
}

fn two_writes_one_read(s: &mut Scene, you: &OwnedFd, friend: &OwnedFd) -> SceneResult {
    // ANCHOR: two_writes
    said(s, friend, b"hello\n")?;
    said(s, friend, b"how are you?\n")?;
    settle(you, 19)?;
    let mut buf = [0u8; 64];
    // MSG_PEEK: look at what is waiting without taking it off the line.
    let peeked = recv(you.as_raw_fd(), &mut buf, MsgFlags::MSG_PEEK).map_err(sys(
        "recv(MSG_PEEK)",
        "The call dropped; run the scene again.",
    ))?;
    // ANCHOR_END: two_writes
    s.step(
        Who::You,
        "listen before answering: what is waiting on the line?",
        &format!(
            "recv(fd {}, buf, 64, MSG_PEEK) = {peeked} {}",
            you.as_raw_fd(),
            show(&buf[..peeked])
        ),
    )?;
    s.note("MSG_PEEK shows the bytes but leaves them there: the next read gets them again")?;
    // ANCHOR: one_read
    let n = read(you, &mut buf).map_err(sys("read()", "The call dropped; run the scene again."))?;
    // ANCHOR_END: one_read
    s.step(
        Who::You,
        "hear what your friend said",
        &format!(
            "read(fd {}, buf, 64) = {n} {}",
            you.as_raw_fd(),
            show(&buf[..n])
        ),
    )?;
    s.note("two writes, ONE read: a stream keeps no boundary between what was written separately")?;
    s.pause()?;
    Ok(())
}

fn one_write_many_reads(s: &mut Scene, you: &OwnedFd, friend: &OwnedFd) -> SceneResult {
    let speech = b"I have so much to tell you\n";
    said(s, friend, speech)?;
    settle(you, speech.len())?;
    let mut reads = 0;
    let mut total = 0;
    // ANCHOR: small_reads
    let mut buf = [0u8; 8]; // a small cup: at most 8 bytes per read()
    while total < speech.len() {
        let n =
            read(you, &mut buf).map_err(sys("read()", "The call dropped; run the scene again."))?;
        // ANCHOR_END: small_reads
        total += n;
        reads += 1;
        s.step(
            Who::You,
            "hear some of it",
            &format!(
                "read(fd {}, buf, 8) = {n} {}",
                you.as_raw_fd(),
                show(&buf[..n])
            ),
        )?;
    }
    s.note(&format!(
        "one write, {reads} reads: read() returns what is there, up to the size you ask for"
    ))?;
    s.note(
        "so neither side can count on \"one write = one read\": the words need their own framing",
    )?;
    s.pause()?;
    Ok(())
}

fn wait_for_all(s: &mut Scene, you: &Arc<OwnedFd>, friend: &Arc<OwnedFd>) -> SceneResult {
    said(s, friend, b"ring ")?;
    settle(you, 5)?;
    // The rest comes from another thread, once the first part has been taken:
    // a plain read() would have returned the 5 bytes alone.
    let (listener, speaker) = (Arc::clone(you), Arc::clone(friend));
    let rest = thread::spawn(move || {
        wire::wait_until_drained(&*listener, SCENE_SETTLES);
        write(&*speaker, b"ring!")
    });
    // ANCHOR: waitall
    let mut buf = [0u8; 10];
    // MSG_WAITALL: don't come back until all 10 bytes are here (or the
    // call ends, or a signal interrupts: it can still return fewer).
    let n = recv(you.as_raw_fd(), &mut buf, MsgFlags::MSG_WAITALL).map_err(sys(
        "recv(MSG_WAITALL)",
        "The call dropped; run the scene again.",
    ))?;
    // ANCHOR_END: waitall
    let second = rest
        .join()
        .map_err(|_| {
            SceneError::Unexpected(
                "The scene's speaker thread panicked: run the scene again.".into(),
            )
        })?
        .map_err(sys("write()", "The call dropped; run the scene again."))?;
    s.step(
        Who::You,
        "wait until you have heard 10 bytes, however they come",
        &format!(
            "recv(fd {}, buf, 10, MSG_WAITALL) = {n} {}",
            you.as_raw_fd(),
            show(&buf[..n])
        ),
    )?;
    s.step(
        Who::Callee,
        "(meanwhile, after you had taken the first 5, said the rest)",
        &format!("write(fd {}, \"ring!\", 5) = {second}", friend.as_raw_fd()),
    )?;
    s.note(
        "send()/recv() are write()/read() with flags; MSG_WAITALL still needs a loop around it",
    )?;
    s.pause()?;
    Ok(())
}

/// The learner's four functions in one conversation: two lines, a frame,
/// and the hang-up that ends it.
fn framed(s: &mut Scene, answer: &Answer, you: &Arc<OwnedFd>, friend: Arc<OwnedFd>) -> SceneResult {
    framed_lines(s, answer, you, &friend)?;
    framed_frame(s, answer, you, &friend)?;
    hang_up_between_lines(s, answer, you, friend)?;
    cut_off_mid_line(s, answer)
}

/// send_all() says two lines in one go; read_line() hears them one by one.
fn framed_lines(
    s: &mut Scene,
    answer: &Answer,
    you: &Arc<OwnedFd>,
    friend: &Arc<OwnedFd>,
) -> SceneResult {
    // ANCHOR: framed_lines
    let two_lines = b"hello\nhow are you?\n";
    let line = Arc::clone(friend);
    learner_call!(s.chapter, answer.send_all(&line, two_lines))?.map_err(sys(
        "send_all()",
        "Your send_all() returned the kernel's error.",
    ))?;
    // ANCHOR_END: framed_lines
    // send_all() said Ok; the bytes on the line are the evidence.
    learner_said(you, two_lines.len(), "send_all()")?;
    s.step(
        Who::Callee,
        "says two lines, every byte of them",
        &format!(
            "send_all(fd {}, {}) = Ok(())",
            friend.as_raw_fd(),
            show(two_lines)
        ),
    )?;
    s.note("send_all() must loop: write() may take fewer bytes than offered (the self-check makes sure yours does)")?;
    let mut pending = Vec::new();
    for _ in 0..2 {
        let line = Arc::clone(you);
        let mut mine = std::mem::take(&mut pending);
        let (back, heard) = learner_call!(s.chapter, answer.read_line, move |read_line| {
            let r = read_line(&line, &mut mine);
            (mine, r)
        })?;
        pending = back;
        let heard = heard.map_err(sys(
            "read_line()",
            "Your read_line() returned the kernel's error.",
        ))?;
        s.step(
            Who::You,
            "hear one line",
            &format!(
                "read_line(fd {}) = {}; {} bytes left in pending",
                you.as_raw_fd(),
                heard
                    .as_deref()
                    .map_or("None".into(), |l| format!("Some({})", show(l))),
                pending.len()
            ),
        )?;
    }
    s.note("a newline ends each line; bytes read past it wait in `pending` for the next call")?;
    s.pause()?;
    Ok(())
}

/// write_frame() says a frame; the bytes are peeked at; read_frame() hears it.
fn framed_frame(
    s: &mut Scene,
    answer: &Answer,
    you: &Arc<OwnedFd>,
    friend: &Arc<OwnedFd>,
) -> SceneResult {
    let line = Arc::clone(friend);
    learner_call!(s.chapter, answer.write_frame(&line, b"ring ring"))?.map_err(sys(
        "write_frame()",
        "Your write_frame() returned the kernel's error.",
    ))?;
    s.step(
        Who::Callee,
        "says a frame: first how long it is, then the words",
        &format!(
            "write_frame(fd {}, \"ring ring\") = Ok(())",
            friend.as_raw_fd()
        ),
    )?;
    peek_at_the_frame(s, you)?;
    let line = Arc::clone(you);
    let heard = learner_call!(s.chapter, answer.read_frame(&line))?.map_err(sys(
        "read_frame()",
        "Your read_frame() returned the kernel's error.",
    ))?;
    s.step(
        Who::You,
        "hear one frame",
        &format!(
            "read_frame(fd {}) = {}",
            you.as_raw_fd(),
            heard
                .as_deref()
                .map_or("None".into(), |l| format!("Some({})", show(l)))
        ),
    )?;
    s.note("a length prefix tells the listener exactly how much to wait for; a newline can't be inside a line, any byte can be inside a frame")?;
    s.pause()?;
    Ok(())
}

/// Before read_frame() takes the frame, a look at its bytes on the line
/// (`MSG_PEEK` leaves them there): the scene explains them only if they
/// are the frame the page describes.
fn peek_at_the_frame(s: &mut Scene, you: &OwnedFd) -> SceneResult {
    learner_said(you, 13, "write_frame()")?;
    let mut buf = [0u8; 64];
    let peeked = recv(you.as_raw_fd(), &mut buf, MsgFlags::MSG_PEEK).map_err(sys(
        "recv(MSG_PEEK)",
        "The call dropped; run the scene again.",
    ))?;
    s.step(
        Who::You,
        "peek at the bytes on the line",
        &format!(
            "recv(fd {}, buf, 64, MSG_PEEK) = {peeked}: {:02x?} then {}",
            you.as_raw_fd(),
            &buf[..4.min(peeked)],
            show(&buf[4.min(peeked)..peeked])
        ),
    )?;
    // The note explains the frame only if the bytes on the line are one.
    if peeked != 13 || buf[..4] != 9u32.to_be_bytes() {
        return Err(SceneError::Unexpected(
            "Those bytes are not 4 bytes of length, big-endian, then \"ring ring\": `cargo run -- check 6` explains what write_frame() should say.".into(),
        ));
    }
    s.note("4 bytes of length, big-endian (network byte order): 9, then 9 bytes of payload")?;
    Ok(())
}

/// The friend hangs up; read_line() hears end-of-file: None.
fn hang_up_between_lines(
    s: &mut Scene,
    answer: &Answer,
    you: &Arc<OwnedFd>,
    friend: Arc<OwnedFd>,
) -> SceneResult {
    let friend_fd = friend.as_raw_fd();
    drop(friend); // the only handset on the friend's end: close() hangs up
    s.step(
        Who::Callee,
        "hangs up",
        &format!("close(fd {friend_fd}), when the OwnedFd is dropped"),
    )?;
    let line = Arc::clone(you);
    let heard =
        learner_call!(s.chapter, answer.read_line(&line, &mut Vec::new()))?.map_err(sys(
            "read_line()",
            "Your read_line() returned the kernel's error.",
        ))?;
    s.step(
        Who::You,
        "listen for another line",
        &format!(
            "read_line(fd {}) = {}",
            you.as_raw_fd(),
            heard
                .as_deref()
                .map_or("None".into(), |l| format!("Some({})", show(l)))
        ),
    )?;
    if heard.is_some() {
        return Err(SceneError::Unexpected(
            "The other side hung up, so read() returns 0 (end of file) and read_line() should return None: `cargo run -- check 6` explains.".into(),
        ));
    }
    s.note(
        "read() returned 0: end of file, the other side hung up. Chapter 7 is all about hanging up",
    )?;
    s.pause()?;
    Ok(())
}

/// A second call: the friend says half a line and hangs up, politely (a
/// FIN, no reset). read_line() names what that is: a truncated message.
fn cut_off_mid_line(s: &mut Scene, answer: &Answer) -> SceneResult {
    let pair = wire::call_pair().map_err(sys(
        "a second loopback call",
        "Check that loopback works on this machine.",
    ))?;
    let (you, friend) = (Arc::new(pair.caller), pair.callee);
    let words = b"half a li";
    let n =
        write(&friend, words).map_err(sys("write()", "The call dropped; run the scene again."))?;
    let (yfd, ffd) = (you.as_raw_fd(), friend.as_raw_fd());
    drop(friend);
    s.step(
        Who::Callee,
        "on a new call, says half a line and hangs up",
        &format!(
            "connect() and accept() again: fd {yfd} (you) <-> fd {ffd}; write(fd {ffd}, {}, 9) = {n}; close(fd {ffd})",
            show(words)
        ),
    )?;
    settle(&you, words.len())?;
    let line = Arc::clone(&you);
    let heard = learner_call!(s.chapter, answer.read_line(&line, &mut Vec::new()))?;
    let shown = match &heard {
        Ok(Some(l)) => format!("Some({})", show(l)),
        Ok(None) => "None".to_string(),
        Err(e) => format!("Err({e:?})"),
    };
    s.step(
        Who::You,
        "listen for a line",
        &format!("read_line(fd {yfd}) = {shown}"),
    )?;
    if heard != Err(nix::errno::Errno::EPROTO) {
        return Err(SceneError::Unexpected(
            "The line ended after 9 bytes with no newline: read_line() should say Err(EPROTO), a truncated message: `cargo run -- check 6` explains.".into(),
        ));
    }
    s.note("9 bytes, then read() = 0: a polite hang-up in the middle of a line. That is a truncated message, a protocol error (EPROTO); it is no reset (ECONNRESET), since nobody's kernel sent an RST")?;
    s.pause()?;
    Ok(())
}
