//! Chapter 6 (talk): solution, starter, wrong answers, transcript.
//!
//! Each wrong answer below is a mistake learners really make with stream
//! sockets; each must fail the self-check with the message meant for it.

use ch06_talk::{chapter, check, scene};
use nix::errno::Errno;
use nix::unistd::{read, write};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/06-talk/answer.rs"]
mod solution;
#[path = "../../chapters/06-talk/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    send_all: solution::send_all,
    read_line: solution::read_line,
    write_frame: solution::write_frame,
    read_frame: solution::read_frame,
};

type Heard = nix::Result<Option<Vec<u8>>>;

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 10, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its first todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    let starter = check::Answer {
        send_all: starter::send_all,
        read_line: starter::read_line,
        write_frame: starter::write_frame,
        read_frame: starter::read_frame,
    };
    expect_unfinished(check::run(&starter), chapter());
}

/// With the first task done, the check stops at the next todo!() and names it.
#[test]
fn a_half_done_starter_names_the_next_task() {
    let half = check::Answer {
        read_line: starter::read_line,
        ..SOLUTION
    };
    let f = expect_mistake(check::run(&half), "unfinished");
    assert!(f.headline.contains("read_line()"), "{f}");
}

/// The two files agree on the frame limit the check tests.
#[test]
fn the_frame_limit_is_the_same_everywhere() {
    assert_eq!(solution::MAX_FRAME, check::MAX_FRAME);
    assert_eq!(starter::MAX_FRAME, check::MAX_FRAME);
}

// ------------------------------------------------------------- send_all

/// Mistake: one write() and hope (a short write loses the rest).
#[test]
fn a_single_write_is_caught() {
    fn once(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        write(line, bytes)?;
        Ok(())
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            send_all: once,
            ..SOLUTION
        }),
        "ch06.short-write",
    );
    assert!(f.got.contains("only"), "{f}");
}

/// Mistake: after a short write, start again from the beginning.
#[test]
fn resending_from_the_start_is_caught() {
    fn from_the_top(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        let mut sent = 0;
        while sent < bytes.len() {
            sent += write(line, &bytes[..bytes.len() - sent])?;
        }
        Ok(())
    }
    expect_mistake(
        check::run(&check::Answer {
            send_all: from_the_top,
            ..SOLUTION
        }),
        "ch06.send-garbled",
    );
}

/// Mistake: "don't wait" (MSG_DONTWAIT) and give up on EAGAIN.
#[test]
fn giving_up_on_a_full_line_is_caught() {
    fn impatient(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = nix::sys::socket::send(
                std::os::fd::AsRawFd::as_raw_fd(line),
                rest,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            )?;
            rest = &rest[n..];
        }
        Ok(())
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            send_all: impatient,
            ..SOLUTION
        }),
        "ch06.send-error",
    );
    assert!(f.got.contains("EAGAIN"), "{f}");
}

// ------------------------------------------------------------- read_line

/// Mistake: one read() is one message.
#[test]
fn one_read_per_line_is_caught() {
    fn once(line: &OwnedFd, _pending: &mut Vec<u8>) -> Heard {
        let mut buf = [0u8; 512];
        let n = read(line, &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        let mut said = buf[..n].to_vec();
        if said.last() == Some(&b'\n') {
            said.pop();
        }
        Ok(Some(said))
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: once,
            ..SOLUTION
        }),
        "ch06.one-read-one-message",
    );
    assert!(f.got.contains("\"h\""), "{f}");
}

/// Mistake: read until the buffer ends in a newline, return all of it.
#[test]
fn two_lines_returned_as_one_is_caught() {
    fn until_newline_at_end(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        let mut buf = [0u8; 512];
        while pending.last() != Some(&b'\n') {
            let n = read(line, &mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            pending.extend_from_slice(&buf[..n]);
        }
        let mut said = std::mem::take(pending);
        said.pop();
        Ok(Some(said))
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: until_newline_at_end,
            ..SOLUTION
        }),
        "ch06.two-messages-in-one-read",
    );
    assert!(f.got.contains("second"), "{f}");
}

/// Mistake: split at the newline but throw the rest away.
#[test]
fn losing_what_follows_the_newline_is_caught() {
    fn forgetful(line: &OwnedFd, _pending: &mut Vec<u8>) -> Heard {
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            let n = read(line, &mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            heard.extend_from_slice(&buf[..n]);
            if let Some(at) = heard.iter().position(|&b| b == b'\n') {
                heard.truncate(at);
                return Ok(Some(heard));
            }
        }
    }
    expect_mistake(
        check::run(&check::Answer {
            read_line: forgetful,
            ..SOLUTION
        }),
        "ch06.lost-pending",
    );
}

/// A correct read_line but for what read() returning 0 means (`on_eof`).
fn with_eof(
    line: &OwnedFd,
    pending: &mut Vec<u8>,
    on_eof: impl Fn(&mut Vec<u8>) -> Option<Heard>,
) -> Heard {
    let mut buf = [0u8; 512];
    loop {
        if let Some(at) = pending.iter().position(|&b| b == b'\n') {
            let mut said: Vec<u8> = pending.drain(..=at).collect();
            said.pop();
            return Ok(Some(said));
        }
        let n = read(line, &mut buf)?;
        if n == 0 {
            if let Some(verdict) = on_eof(pending) {
                return verdict;
            }
            continue;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

/// Mistake: read() returning 0 is an error.
#[test]
fn end_of_file_as_an_error_is_caught() {
    fn eof_error(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        with_eof(line, pending, |_| Some(Err(Errno::ECONNRESET)))
    }
    expect_mistake(
        check::run(&check::Answer {
            read_line: eof_error,
            ..SOLUTION
        }),
        "ch06.eof-is-error",
    );
}

/// Mistake: read() returning 0 means "nothing yet, try again": loops forever.
#[test]
fn looping_on_end_of_file_is_caught_in_seconds() {
    fn eof_again(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        // Bounded (and napping) only so the abandoned thread stops burning
        // CPU for the rest of the suite; the check gives up long before.
        let start = Instant::now();
        with_eof(line, pending, move |_| {
            std::thread::sleep(Duration::from_millis(1));
            (start.elapsed() > Duration::from_secs(10)).then_some(Ok(None))
        })
    }
    let start = Instant::now();
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: eof_again,
            ..SOLUTION
        }),
        "ch06.eof-loop",
    );
    assert!(start.elapsed() < Duration::from_secs(8), "{f}");
}

/// Mistake: whatever was heard when the caller hung up counts as a line.
#[test]
fn a_cut_off_line_accepted_is_caught() {
    fn half_is_fine(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        with_eof(line, pending, |p| {
            Some(Ok((!p.is_empty()).then(|| std::mem::take(p))))
        })
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: half_is_fine,
            ..SOLUTION
        }),
        "ch06.eof-mid-line",
    );
    assert!(f.got.contains("no newl"), "{f}");
}

/// Mistake: any error from read() is treated as a quiet goodbye.
#[test]
fn a_swallowed_reset_is_caught() {
    fn swallows_resets(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        let mut buf = [0u8; 512];
        loop {
            if let Some(at) = pending.iter().position(|&b| b == b'\n') {
                let mut said: Vec<u8> = pending.drain(..=at).collect();
                said.pop();
                return Ok(Some(said));
            }
            let n = match read(line, &mut buf) {
                Ok(n) => n,
                Err(_) => return Ok(None), // "the line's gone, never mind"
            };
            if n == 0 {
                return if pending.is_empty() {
                    Ok(None)
                } else {
                    Err(Errno::ECONNRESET)
                };
            }
            pending.extend_from_slice(&buf[..n]);
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: swallows_resets,
            ..SOLUTION
        }),
        "ch06.reset-ignored",
    );
    assert!(f.got.contains("Ok(None)"), "{f}");
}

// ------------------------------------------------------------- frames

fn little(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
    let mut f = (payload.len() as u32).to_le_bytes().to_vec();
    f.extend_from_slice(payload);
    solution::send_all(line, &f)
}

/// The scene with a little-endian write_frame() shows the bytes the kernel
/// holds and doesn't explain them as a big-endian length; it stops instead.
#[test]
fn little_endian_scene_claims_no_big_endian_frame() {
    let wrong = check::Answer {
        write_frame: little,
        ..SOLUTION
    };
    let (text, result) = play(chapter(), |s| scene::play(s, &wrong, &[]));
    let err = result.expect_err("a little-endian frame is not the one this scene narrates");
    assert!(text.contains("[09, 00, 00, 00]"), "{text}");
    assert!(
        !text.contains("big-endian (network byte order): 9"),
        "the transcript must not explain these bytes as a big-endian length:\n{text}"
    );
    let line = err.to_string();
    assert!(
        line.contains("cargo run -- check 6") && !line.contains('\n'),
        "{line}"
    );
}

/// Mistake: the length in the machine's own (little-endian) byte order.
#[test]
fn a_little_endian_length_is_caught() {
    expect_mistake(
        check::run(&check::Answer {
            write_frame: little,
            ..SOLUTION
        }),
        "ch06.frame-byte-order",
    );
}

/// Mistake: the payload without its length.
#[test]
fn a_frame_without_its_length_is_caught() {
    fn bare(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
        solution::send_all(line, payload)
    }
    expect_mistake(
        check::run(&check::Answer {
            write_frame: bare,
            ..SOLUTION
        }),
        "ch06.frame-no-length",
    );
}

/// Mistake: no limit on what write_frame() sends.
#[test]
fn an_unlimited_write_frame_is_caught() {
    fn unlimited(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
        let mut f = (payload.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        solution::send_all(line, &f)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            write_frame: unlimited,
            ..SOLUTION
        }),
        "ch06.frame-limit",
    );
    assert!(f.got.contains("Ok(())"), "{f}");
}

/// Mistake: one read() for the header and one for the payload.
#[test]
fn a_one_read_frame_is_caught() {
    fn once_each(line: &OwnedFd) -> Heard {
        let mut header = [0u8; 4];
        if read(line, &mut header)? == 0 {
            return Ok(None);
        }
        let mut payload = vec![0u8; u32::from_be_bytes(header) as usize];
        let n = read(line, &mut payload)?;
        payload.truncate(n);
        Ok(Some(payload))
    }
    expect_mistake(
        check::run(&check::Answer {
            read_frame: once_each,
            ..SOLUTION
        }),
        "ch06.frame-one-read",
    );
}

/// Mistake: read a big chunk and take the frame from the front of it
/// (whatever came after it is lost).
#[test]
fn an_over_reading_read_frame_is_caught() {
    fn greedy(line: &OwnedFd) -> Heard {
        let mut heard = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if heard.len() >= 4 {
                let len = u32::from_be_bytes([heard[0], heard[1], heard[2], heard[3]]) as usize;
                if len > solution::MAX_FRAME {
                    return Err(Errno::EMSGSIZE);
                }
                if heard.len() >= 4 + len {
                    return Ok(Some(heard[4..4 + len].to_vec()));
                }
            }
            let n = read(line, &mut buf)?;
            if n == 0 {
                return if heard.is_empty() {
                    Ok(None)
                } else {
                    Err(Errno::ECONNRESET)
                };
            }
            heard.extend_from_slice(&buf[..n]);
        }
    }
    expect_mistake(
        check::run(&check::Answer {
            read_frame: greedy,
            ..SOLUTION
        }),
        "ch06.frame-over-read",
    );
}

/// Mistake: trust the length, whatever it says.
#[test]
fn a_read_frame_without_a_limit_is_caught() {
    fn trusting(line: &OwnedFd) -> Heard {
        let mut header = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match read(line, &mut header[got..])? {
                0 if got == 0 => return Ok(None),
                0 => return Err(Errno::ECONNRESET),
                n => got += n,
            }
        }
        let mut payload = vec![0u8; u32::from_be_bytes(header) as usize];
        let mut got = 0;
        while got < payload.len() {
            match read(line, &mut payload[got..])? {
                0 => return Err(Errno::ECONNRESET),
                n => got += n,
            }
        }
        Ok(Some(payload))
    }
    expect_mistake(
        check::run(&check::Answer {
            read_frame: trusting,
            ..SOLUTION
        }),
        "ch06.frame-no-limit",
    );
}

/// Mistake: a frame cut short by a hang-up is returned as it is.
#[test]
fn a_cut_off_frame_accepted_is_caught() {
    fn shortchanged(line: &OwnedFd) -> Heard {
        let mut header = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match read(line, &mut header[got..])? {
                0 if got == 0 => return Ok(None),
                0 => return Err(Errno::ECONNRESET),
                n => got += n,
            }
        }
        let len = u32::from_be_bytes(header) as usize;
        if len > solution::MAX_FRAME {
            return Err(Errno::EMSGSIZE);
        }
        let mut payload = vec![0u8; len];
        let mut got = 0;
        while got < len {
            match read(line, &mut payload[got..])? {
                0 => break, // "that's all there is"
                n => got += n,
            }
        }
        payload.truncate(got);
        Ok(Some(payload))
    }
    expect_mistake(
        check::run(&check::Answer {
            read_frame: shortchanged,
            ..SOLUTION
        }),
        "ch06.eof-mid-frame",
    );
}

// ------------------------------------------------------------- the scene

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    assert!(
        text.contains("read(fd") && text.contains("= 19 \"hello\\nhow are you?\\n\""),
        "two writes should arrive in one read:\n{text}"
    );
    assert!(
        text.contains("one write, 4 reads"),
        "one write should take several small reads:\n{text}"
    );
    assert!(
        text.contains("MSG_WAITALL) = 10"),
        "MSG_WAITALL waits for all:\n{text}"
    );
    assert!(
        text.contains("read_line(fd") && text.contains("= None"),
        "{text}"
    );
    crate::assert_transcript!("ch06-transcript", text);
}

/// The scene with the starter shows the raw demonstrations, then stops at
/// send_all() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let starter = check::Answer {
        send_all: starter::send_all,
        read_line: starter::read_line,
        write_frame: starter::write_frame,
        read_frame: starter::read_frame,
    };
    let (text, result) = play(chapter(), |s| scene::play(s, &starter, &[]));
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        text.contains("MSG_WAITALL") && !text.contains("send_all(fd"),
        "the scene should stop at the first learner call:\n{text}"
    );
    crate::assert_transcript!("ch06-starter", err.to_string());
}

/// A stray argument gets one usage line, not a panic.
#[test]
fn an_argument_is_a_usage_error() {
    let (_, result) = play(chapter(), |s| {
        scene::play(s, &SOLUTION, &["--nonsense".to_string()])
    });
    let err = result
        .expect_err("chapter 6 takes no arguments")
        .to_string();
    assert!(err.contains("Usage") && !err.contains('\n'), "{err}");
}
