//! Chapter 6 (talk): solution, starter, wrong answers, transcript.
//!
//! Each wrong answer below is a mistake learners really make with stream
//! sockets; each must fail the self-check with the message meant for it.

use ch06_talk::{chapter, check, scene};
use nix::errno::Errno;
use nix::sys::socket::{shutdown, Shutdown};
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, OwnedFd};
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
    assert!(f.got.contains("Ok(Some(\"h\"))"), "{f}");
    assert!(f.got.contains("half a message"), "{f}");
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
                    Err(Errno::EPROTO)
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
                    Err(Errno::EPROTO)
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
                0 => return Err(Errno::EPROTO),
                n => got += n,
            }
        }
        let mut payload = vec![0u8; u32::from_be_bytes(header) as usize];
        let mut got = 0;
        while got < payload.len() {
            match read(line, &mut payload[got..])? {
                0 => return Err(Errno::EPROTO),
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

/// Mistake: the buffer is made from the header's length first, and the
/// length checked after: `vec![0; len]` for a hostile header of almost
/// 4 GiB. In the learner's process (256 MiB of address space) that dies
/// asking for the memory; the verdict says why.
fn allocates_first(line: &OwnedFd) -> Heard {
    let mut head = [0u8; 4];
    if !whole_header(line, &mut head)? {
        return Ok(None);
    }
    let len = u32::from_be_bytes(head) as usize;
    let mut payload = vec![0u8; len];
    if len > solution::MAX_FRAME {
        return Err(Errno::EMSGSIZE);
    }
    let mut got = 0;
    while got < len {
        match read(line, &mut payload[got..])? {
            0 => return Err(Errno::EPROTO),
            n => got += n,
        }
    }
    Ok(Some(payload))
}

#[test]
fn allocating_before_the_limit_is_caught_in_the_learners_process() {
    const WRONG: check::Answer = check::Answer {
        read_frame: allocates_first,
        ..SOLUTION
    };
    ch06_talk::host_if_asked(&WRONG);
    let f = expect_mistake(
        crate::support::judged(
            "ch06::allocating_before_the_limit_is_caught_in_the_learners_process",
            ch06_talk::self_check,
        ),
        "ch06.frame-alloc-first",
    );
    assert!(f.got.contains("4294967280 bytes"), "{f}");
}

/// The same with a `try_reserve` whose polite failure becomes ENOMEM:
/// refused, but only after asking for the memory.
#[test]
fn reserving_before_the_limit_is_caught() {
    fn reserves_first(line: &OwnedFd) -> Heard {
        let mut head = [0u8; 4];
        if !whole_header(line, &mut head)? {
            return Ok(None);
        }
        let len = u32::from_be_bytes(head) as usize;
        let mut payload: Vec<u8> = Vec::new();
        payload.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
        if len > solution::MAX_FRAME {
            return Err(Errno::EMSGSIZE);
        }
        payload.resize(len, 0);
        let mut got = 0;
        while got < len {
            match read(line, &mut payload[got..])? {
                0 => return Err(Errno::EPROTO),
                n => got += n,
            }
        }
        Ok(Some(payload))
    }
    const WRONG: check::Answer = check::Answer {
        read_frame: reserves_first,
        ..SOLUTION
    };
    ch06_talk::host_if_asked(&WRONG);
    let f = expect_mistake(
        crate::support::judged(
            "ch06::reserving_before_the_limit_is_caught",
            ch06_talk::self_check,
        ),
        "ch06.frame-alloc-first",
    );
    assert!(f.got.contains("ENOMEM"), "{f}");
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
                0 => return Err(Errno::EPROTO),
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

// ------------------------------------------------------------- more mistakes

/// A correct read_frame but for how the header is heard (`header`) and
/// what a short payload becomes (`cut`).
fn frame_reader(
    line: &OwnedFd,
    header: impl Fn(&OwnedFd, &mut [u8; 4]) -> nix::Result<bool>,
    decode: fn([u8; 4]) -> u32,
    too_long: fn(usize) -> bool,
) -> Heard {
    let mut head = [0u8; 4];
    if !header(line, &mut head)? {
        return Ok(None);
    }
    let len = decode(head) as usize;
    if too_long(len) {
        return Err(Errno::EMSGSIZE);
    }
    let mut payload = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match read(line, &mut payload[got..])? {
            0 => return Err(Errno::EPROTO),
            n => got += n,
        }
    }
    Ok(Some(payload))
}

/// The header heard properly: `Ok(false)` only at end-of-file before it.
fn whole_header(line: &OwnedFd, head: &mut [u8; 4]) -> nix::Result<bool> {
    let mut got = 0;
    while got < 4 {
        match read(line, &mut head[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(Errno::EPROTO),
            n => got += n,
        }
    }
    Ok(true)
}

fn over_the_limit(len: usize) -> bool {
    len > solution::MAX_FRAME
}

/// Mistake: at end of file, an empty line instead of Ok(None).
#[test]
fn an_empty_line_at_the_hang_up_is_caught() {
    fn empty_at_eof(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        with_eof(line, pending, |p| {
            Some(if p.is_empty() {
                Ok(Some(Vec::new()))
            } else {
                Err(Errno::EPROTO)
            })
        })
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: empty_at_eof,
            ..SOLUTION
        }),
        "ch06.eof-is-a-line",
    );
    assert!(f.got.contains("Ok(Some(\"\"))"), "{f}");
}

/// Mistake (issue 10): a hang-up inside the 4-byte header taken for a
/// goodbye. Caught by the hang-up after 1 header byte.
#[test]
fn a_goodbye_inside_the_header_is_caught() {
    fn header_or_goodbye(line: &OwnedFd) -> Heard {
        let loose = |line: &OwnedFd, head: &mut [u8; 4]| {
            let mut got = 0;
            while got < 4 {
                match read(line, &mut head[got..])? {
                    0 => return Ok(false), // "they hung up: that's all"
                    n => got += n,
                }
            }
            Ok(true)
        };
        frame_reader(line, loose, u32::from_be_bytes, over_the_limit)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_frame: header_or_goodbye,
            ..SOLUTION
        }),
        "ch06.eof-mid-frame",
    );
    assert!(
        f.got.starts_with("Ok(None)") && f.expected.contains("inside the 4-byte length"),
        "{f}"
    );
}

/// Mistake: the old habit of calling a truncated message a reset. Nobody
/// slammed the phone down: the verdict says a reset is something else.
#[test]
fn a_truncated_message_called_a_reset_is_caught() {
    fn says_reset(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        match solution::read_line(line, pending) {
            Err(Errno::EPROTO) => Err(Errno::ECONNRESET),
            other => other,
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: says_reset,
            ..SOLUTION
        }),
        "ch06.truncated-wrong-error",
    );
    assert!(
        f.got.contains("ECONNRESET") && f.got.contains("politely"),
        "{f}"
    );
}

/// Mistake: the newline kept at the end of the line.
#[test]
fn keeping_the_newline_is_caught() {
    fn keeps(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        let mut said = solution::read_line(line, pending)?;
        if let Some(l) = said.as_mut() {
            l.push(b'\n');
        }
        Ok(said)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: keeps,
            ..SOLUTION
        }),
        "ch06.newline-kept",
    );
    assert!(f.got.contains("hello\\n"), "{f}");
}

/// Mistake (issue 10): the line taken out of pending without its newline,
/// which stays behind; the next call returns an empty line. The verdict
/// names the newline, not a forgotten second line.
#[test]
fn leaving_the_newline_in_pending_is_caught() {
    fn leaves_it(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        let mut buf = [0u8; 512];
        loop {
            if let Some(at) = pending.iter().position(|&b| b == b'\n') {
                return Ok(Some(pending.drain(..at).collect()));
            }
            match read(line, &mut buf)? {
                0 if pending.is_empty() => return Ok(None),
                0 => return Err(Errno::EPROTO),
                n => pending.extend_from_slice(&buf[..n]),
            }
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: leaves_it,
            ..SOLUTION
        }),
        "ch06.newline-left-in-pending",
    );
    assert!(
        f.got.contains("Ok(Some(\"\"))") && f.got.contains("old '\\n'"),
        "{f}"
    );
}

/// Mistake: at end-of-file, only this call's own reads count; half a line
/// left in pending by the call before is forgotten.
#[test]
fn forgetting_half_a_line_in_pending_is_caught() {
    fn fresh_only(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard {
        let mut buf = [0u8; 512];
        let mut read_now = 0;
        loop {
            if let Some(at) = pending.iter().position(|&b| b == b'\n') {
                let mut said: Vec<u8> = pending.drain(..=at).collect();
                said.pop();
                return Ok(Some(said));
            }
            match read(line, &mut buf)? {
                0 if read_now == 0 => return Ok(None),
                0 => return Err(Errno::EPROTO),
                n => {
                    read_now += n;
                    pending.extend_from_slice(&buf[..n]);
                }
            }
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_line: fresh_only,
            ..SOLUTION
        }),
        "ch06.eof-mid-line",
    );
    assert!(f.expected.contains("\"tw\" is half a line"), "{f}");
}

/// Mistake (issue 10): the length decoded little-endian. A 9-byte frame
/// looks 150994944 bytes long: the verdict says byte order.
#[test]
fn a_little_endian_read_frame_is_caught() {
    fn backwards(line: &OwnedFd) -> Heard {
        frame_reader(line, whole_header, u32::from_le_bytes, over_the_limit)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_frame: backwards,
            ..SOLUTION
        }),
        "ch06.frame-read-byte-order",
    );
    assert!(
        f.got.contains("150994944") && f.syscall.contains("from_be_bytes"),
        "{f}"
    );
}

/// Mistake: `>=` for the limit. A frame of exactly MAX_FRAME is refused.
#[test]
fn refusing_a_frame_at_the_limit_is_caught() {
    fn strict(line: &OwnedFd) -> Heard {
        frame_reader(line, whole_header, u32::from_be_bytes, |len| {
            len >= solution::MAX_FRAME
        })
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_frame: strict,
            ..SOLUTION
        }),
        "ch06.frame-limit-read",
    );
    assert!(f.got.contains("EMSGSIZE"), "{f}");
}

/// Mistake: a reset in the middle of a frame turned into a goodbye.
#[test]
fn a_swallowed_reset_in_a_frame_is_caught() {
    fn calm(line: &OwnedFd) -> Heard {
        match solution::read_frame(line) {
            Err(Errno::ECONNRESET) => Ok(None),
            other => other,
        }
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            read_frame: calm,
            ..SOLUTION
        }),
        "ch06.reset-ignored",
    );
    assert!(f.headline.contains("read_frame()"), "{f}");
}

/// Mistake: write_frame() with two plain writes (header, then payload),
/// not through send_all(). Short writes happen on every path that writes.
#[test]
fn a_write_frame_without_send_all_is_caught() {
    fn two_writes(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
        if payload.len() > solution::MAX_FRAME {
            return Err(Errno::EMSGSIZE);
        }
        write(line, &(payload.len() as u32).to_be_bytes())?;
        write(line, payload)?;
        Ok(())
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            write_frame: two_writes,
            ..SOLUTION
        }),
        "ch06.frame-short-write",
    );
    assert!(f.got.contains("of 65540 bytes arrived"), "{f}");
}

/// Mistakes: jumping ahead to chapter 7, `shutdown(Write)` once the words
/// are said, in send_all() and in write_frame().
#[test]
fn hanging_up_after_talking_is_caught() {
    fn says_and_goes(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        solution::send_all(line, bytes)?;
        shutdown(line.as_raw_fd(), Shutdown::Write)
    }
    fn frames_and_goes(line: &OwnedFd, payload: &[u8]) -> nix::Result<()> {
        solution::write_frame(line, payload)?;
        shutdown(line.as_raw_fd(), Shutdown::Write)
    }
    let f = expect_mistake(
        check::run(&check::Answer {
            send_all: says_and_goes,
            ..SOLUTION
        }),
        "ch06.shut-down-line",
    );
    assert!(
        f.got.contains("EPIPE") && f.headline.contains("send_all()"),
        "{f}"
    );
    let f = expect_mistake(
        check::run(&check::Answer {
            write_frame: frames_and_goes,
            ..SOLUTION
        }),
        "ch06.shut-down-line",
    );
    assert!(f.headline.contains("write_frame()"), "{f}");
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
    crate::assert_transcript!("ch06-starter", err.as_printed(80));
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
