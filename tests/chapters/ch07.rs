//! Chapter 7 (hang up): solution, starter, wrong answers, transcript.
//!
//! Each wrong answer below is a real way of getting the end of a call wrong;
//! each must fail the self-check with the message meant for it.

use ch07_hang_up::{chapter, check, scene};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{shutdown, Shutdown};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/07-hang-up/answer.rs"]
mod solution;
#[path = "../../chapters/07-hang-up/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    hear_out: solution::hear_out,
    ask_and_hear_back: solution::ask_and_hear_back,
};

const STARTER: check::Answer = check::Answer {
    hear_out: starter::hear_out,
    ask_and_hear_back: starter::ask_and_hear_back,
};

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 7, "{:?}", passed.0);
    assert!(
        passed.0.iter().any(|p| p.contains("Err(EPIPE")),
        "a dead line should give EPIPE: {:?}",
        passed.0
    );
}

/// The starter, untouched, fails by pointing at its first todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    expect_unfinished(check::run(&STARTER), chapter());
}

/// With hear_out() done, the check stops at ask_and_hear_back()'s todo!().
#[test]
fn a_half_done_starter_names_the_next_task() {
    let half = check::Answer {
        ask_and_hear_back: starter::ask_and_hear_back,
        ..SOLUTION
    };
    let f = expect_mistake(check::run(&half), "unfinished");
    assert!(f.headline.contains("ask_and_hear_back()"), "{f}");
}

/// The starter's ready-made say_all() works: the learner builds on it.
#[test]
fn the_starter_helper_says_everything() {
    let pair = dialtone_kit::wire::call_pair().expect("loopback pair");
    starter::say_all(&pair.caller, b"over and out").expect("a healthy line");
    drop(pair.caller);
    assert_eq!(
        solution::hear_out(&pair.callee),
        Ok(b"over and out".to_vec())
    );
}

// ------------------------------------------------------------- hear_out

/// Mistake: read() returning 0 is an error.
#[test]
fn end_of_file_as_an_error_is_caught() {
    fn eof_error(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match read(line, &mut buf)? {
                0 => return Err(Errno::ECONNRESET), // "the line died"
                n => heard.extend_from_slice(&buf[..n]),
            }
        }
    }
    expect_mistake(
        check::run(&check::Answer {
            hear_out: eof_error,
            ..SOLUTION
        }),
        "ch07.eof-is-error",
    );
}

/// Mistake: read() returning 0 means "nothing yet": keeps reading forever.
#[test]
fn looping_on_end_of_file_is_caught_in_seconds() {
    fn eof_again(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        // Bounded (and napping) only so the abandoned thread stops burning
        // CPU for the rest of the suite; the check gives up long before.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            match read(line, &mut buf)? {
                0 => std::thread::sleep(Duration::from_millis(1)),
                n => heard.extend_from_slice(&buf[..n]),
            }
        }
        Ok(heard)
    }
    let start = Instant::now();
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: eof_again,
            ..SOLUTION
        }),
        "ch07.eof-loop",
    );
    assert!(start.elapsed() < Duration::from_secs(8), "{f}");
}

/// Mistake: one read() is the whole speech.
#[test]
fn one_read_is_caught() {
    fn once(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut buf = [0u8; 512];
        let n = read(line, &mut buf)?;
        Ok(buf[..n].to_vec())
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: once,
            ..SOLUTION
        }),
        "ch07.one-read",
    );
    assert!(f.got.contains("I'll "), "{f}");
}

/// The scene with a hear_out() that takes only a few bytes shows what it
/// returned, claims no read() = 0 and stops with one line.
#[test]
fn a_short_hear_out_scene_claims_no_end_of_file() {
    fn a_few(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut buf = [0u8; 4];
        let n = read(line, &mut buf)?;
        Ok(buf[..n].to_vec())
    }
    let wrong = check::Answer {
        hear_out: a_few,
        ..SOLUTION
    };
    let (text, result) = play(chapter(), |s| scene::play(s, &wrong, &[]));
    let err = result.expect_err("a question heard in part is not what this scene narrates");
    assert!(text.contains("hear_out(fd"), "{text}");
    assert!(
        !text.contains("read() returned 0 after it")
            && !text.contains("to the end of your question"),
        "the transcript must not claim hear_out() heard the question out:\n{text}"
    );
    let line = err.to_string();
    assert!(
        line.contains("cargo run -- check 7") && !line.contains('\n'),
        "{line}"
    );
}

/// Mistake: any error ends the call quietly, as if it were a goodbye.
#[test]
fn a_swallowed_reset_is_caught() {
    fn errors_are_goodbyes(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match read(line, &mut buf) {
                Ok(0) | Err(_) => return Ok(heard),
                Ok(n) => heard.extend_from_slice(&buf[..n]),
            }
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: errors_are_goodbyes,
            ..SOLUTION
        }),
        "ch07.reset-ignored",
    );
    assert!(f.got.contains("half a sent"), "{f}");
}

/// Mistake: each read() replaces what was heard instead of adding to it.
#[test]
fn overwriting_instead_of_appending_is_caught() {
    fn overwrites(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match read(line, &mut buf)? {
                0 => return Ok(heard),
                n => heard = buf[..n].to_vec(), // should be extend_from_slice
            }
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: overwrites,
            ..SOLUTION
        }),
        "ch07.overwritten",
    );
    assert!(f.got.contains("brief."), "{f}");
    assert!(f.syscall.contains("extend_from_slice"), "{f}");
}

/// Mistake: reading into a Vec with capacity but no length: read() gets an
/// empty buffer and returns 0 at once, which looks like end of file.
#[test]
fn reading_into_an_empty_vec_is_caught() {
    fn empty_vec(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let mut heard = Vec::new();
        let mut buf: Vec<u8> = Vec::with_capacity(4096); // len 0!
        loop {
            match read(line, &mut buf)? {
                0 => return Ok(heard),
                n => heard.extend_from_slice(&buf[..n]),
            }
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: empty_vec,
            ..SOLUTION
        }),
        "ch07.empty-buffer",
    );
    assert!(f.syscall.contains("buf.len()"), "{f}");
}

/// Mistake (a flag): the line made non-blocking "so it can't hang", and
/// EAGAIN taken for the end of the speech.
#[test]
fn a_non_blocking_line_is_caught() {
    fn nonblocking(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        fcntl(line, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            match read(line, &mut buf) {
                Ok(0) | Err(Errno::EAGAIN) => return Ok(heard),
                Ok(n) => heard.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: nonblocking,
            ..SOLUTION
        }),
        "ch07.nonblocking",
    );
    assert!(f.syscall.contains("O_NONBLOCK"), "{f}");
}

/// Mistake (the wrong socket shut down, a later step's call): hear_out()
/// "hangs up properly" on the line it was only lent.
#[test]
fn hear_out_hanging_up_the_lent_line_is_caught() {
    fn hangs_up_too(line: &OwnedFd) -> nix::Result<Vec<u8>> {
        let heard = solution::hear_out(line)?;
        shutdown(line.as_raw_fd(), Shutdown::Both)?; // "and hang up"
        Ok(heard)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            hear_out: hangs_up_too,
            ..SOLUTION
        }),
        "ch07.hear-out-hung-up",
    );
    assert!(f.got.contains("end of file"), "{f}");
}

// ------------------------------------------------------------- ask_and_hear_back

/// Mistake: ask, then wait for the answer without saying "over".
#[test]
fn no_half_close_is_caught() {
    fn never_says_over(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        solution::say_all(&line, question)?;
        solution::hear_out(&line)
    }
    expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: never_says_over,
            ..SOLUTION
        }),
        "ch07.no-shutdown",
    );
}

/// Mistake: shut both halves (or the reading half) before the answer.
#[test]
fn shutting_both_halves_is_caught() {
    fn covers_ears(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        solution::say_all(&line, question)?;
        shutdown(line.as_raw_fd(), Shutdown::Both)?;
        solution::hear_out(&line)
    }
    expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: covers_ears,
            ..SOLUTION
        }),
        "ch07.hung-up-too-early",
    );
}

/// Mistake: one read() for the answer.
#[test]
fn half_an_answer_is_caught() {
    fn hears_a_bit(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        solution::say_all(&line, question)?;
        shutdown(line.as_raw_fd(), Shutdown::Write)?;
        let mut buf = [0u8; 512];
        let n = read(&line, &mut buf)?;
        Ok(buf[..n].to_vec())
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: hears_a_bit,
            ..SOLUTION
        }),
        "ch07.partial-answer",
    );
    assert!(f.got.contains("fine, "), "{f}");
}

/// Mistake: the question said without its last byte (an off-by-one).
#[test]
fn a_garbled_question_is_caught() {
    fn mumbles(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        solution::ask_and_hear_back(line, &question[..question.len() - 1])
    }
    expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: mumbles,
            ..SOLUTION
        }),
        "ch07.question-garbled",
    );
}

/// Mistake: a leaked handset (the descriptor never closed).
#[test]
fn a_leaked_descriptor_is_caught() {
    fn leaves_it_off_the_hook(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        let heard =
            solution::ask_and_hear_back(line.try_clone().map_err(|_| Errno::EMFILE)?, question);
        // "I'll close it later": the original handset is never put down.
        std::mem::forget(line);
        heard
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: leaves_it_off_the_hook,
            ..SOLUTION
        }),
        "ch07.leaked-handset",
    );
    assert!(f.got.contains("1 still open"), "{f}");
}

/// Mistake: every error ignored, so a dead line looks like a quiet chat.
#[test]
fn ignoring_a_dead_line_is_caught() {
    fn carefree(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        let _ = solution::say_all(&line, question);
        let _ = shutdown(line.as_raw_fd(), Shutdown::Write);
        Ok(solution::hear_out(&line).unwrap_or_default())
    }
    expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: carefree,
            ..SOLUTION
        }),
        "ch07.vanished-ignored",
    );
}

/// Mistake: shutdown(Read) instead of Write: nothing is sent, so the other
/// side never hears "over", and your own read() returns 0 at once. The
/// verdict names the wrong half, within the chapter's time.
#[test]
fn shutting_the_reading_half_is_caught_in_time() {
    fn covers_ears_only(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        solution::say_all(&line, question)?;
        shutdown(line.as_raw_fd(), Shutdown::Read)?; // should be Write
        solution::hear_out(&line)
    }
    let start = Instant::now();
    let f = expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: covers_ears_only,
            ..SOLUTION
        }),
        "ch07.wrong-half",
    );
    let took = start.elapsed();
    assert!(took < chapter().timeout(), "took {took:?}: {f}");
    assert!(f.syscall.contains("Shutdown::Read"), "{f}");
}

/// Mistake: "over" said first, then the question (the calls in the wrong order).
#[test]
fn saying_over_before_the_question_is_caught() {
    fn over_first(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        shutdown(line.as_raw_fd(), Shutdown::Write)?;
        solution::say_all(&line, question)?;
        solution::hear_out(&line)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: over_first,
            ..SOLUTION
        }),
        "ch07.over-too-soon",
    );
    assert!(f.got.contains("EPIPE"), "{f}");
}

/// Mistake (a dup'd descriptor): closing a copy as the way to say "over".
/// The call ends only when its last descriptor closes, so nothing is sent.
#[test]
fn closing_a_copy_as_over_is_caught() {
    fn closes_a_copy(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>> {
        solution::say_all(&line, question)?;
        drop(line.try_clone().map_err(|_| Errno::EMFILE)?); // "hang up the extension"
        solution::hear_out(&line)
    }
    let start = Instant::now();
    let f = expect_mistake(
        check::run(&check::Answer {
            ask_and_hear_back: closes_a_copy,
            ..SOLUTION
        }),
        "ch07.no-shutdown",
    );
    assert!(start.elapsed() < chapter().timeout(), "{f}");
    assert!(f.syscall.contains("copy"), "{f}");
}

// ------------------------------------------------------------- the scene

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "= 0: end of file",
        "shutdown(fd",
        "= Ok(\"ten past nine\")",
        "MSG_NOSIGNAL) = -1 EPIPE",
        "handsets on this line: 2",
        "F_DUPFD_CLOEXEC",
        "= 12 \"still there?\"",
        "unread: your kernel sends a reset",
        "16) = -1 ECONNRESET",
        "-1 EAGAIN",
        "handsets on this line: 0",
    ] {
        assert!(
            text.contains(needle),
            "the scene should show {needle:?}:\n{text}"
        );
    }
    crate::assert_transcript!("ch07-transcript", text);
}

/// The scene with the starter stops at hear_out() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| scene::play(s, &STARTER, &[]));
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        text.contains("SHUT_WR") && !text.contains("hear_out(fd"),
        "the scene should stop at the first learner call:\n{text}"
    );
    crate::assert_transcript!("ch07-starter", err.as_printed(80));
}

/// A stray argument gets one usage line, not a panic.
#[test]
fn an_argument_is_a_usage_error() {
    let (_, result) = play(chapter(), |s| {
        scene::play(s, &SOLUTION, &["--nonsense".to_string()])
    });
    let err = result
        .expect_err("chapter 7 takes no arguments")
        .to_string();
    assert!(err.contains("Usage") && !err.contains('\n'), "{err}");
}
