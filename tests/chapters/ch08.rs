//! Chapter 8 (an answering service): solution, starter, wrong answers,
//! transcript, bad callers, and callers nobody here wrote (`nc`, `socat`,
//! Python).
//!
//! Each wrong answer below is a mistake learners really make with an echo
//! server; each must fail with the message meant for it. The real-world tests
//! run the reference service against the system's tools: a missing tool is a
//! note locally and a failure under CI (which installs them).

use ch08_answering_service::caller::{self, Heard};
use ch08_answering_service::{chapter, check, scene, service, GREETING};
use dialtone_kit::child::run_limited;
use dialtone_kit::kernel;
use dialtone_kit::scene::SceneError;
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{accept, recv, send, MsgFlags, Shutdown, SockaddrIn};
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/08-answering-service/answer.rs"]
mod solution;
// The starter's CHUNK is for the learner; nothing here reads it.
#[allow(dead_code)]
#[path = "../../chapters/08-answering-service/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    send_all: solution::send_all,
    answer_one_call: solution::answer_one_call,
    serve: solution::serve,
};

fn with_send_all(send_all: fn(&OwnedFd, &[u8]) -> nix::Result<()>) -> check::Answer {
    check::Answer {
        send_all,
        ..SOLUTION
    }
}

fn with_answer(answer_one_call: fn(OwnedFd, &str) -> nix::Result<u64>) -> check::Answer {
    check::Answer {
        answer_one_call,
        ..SOLUTION
    }
}

fn with_serve(serve: check::Serve) -> check::Answer {
    check::Answer { serve, ..SOLUTION }
}

/// The greeting line, as the learner's wrong answers send it.
fn greet(line: &OwnedFd, greeting: &str) -> nix::Result<()> {
    solution::send_all(line, format!("{greeting}\n").as_bytes())
}

// ------------------------------------------------------- solution, starter

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert_eq!(passed.0.len(), 4, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its first todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    let starter = check::Answer {
        send_all: starter::send_all,
        answer_one_call: starter::answer_one_call,
        serve: starter::serve,
    };
    expect_unfinished(check::run(&starter), chapter());
}

// ------------------------------------------------------------- send_all

/// Mistake: one write() and its count ignored; the rest of the bytes are lost.
#[test]
fn ignoring_a_short_write_is_caught() {
    fn one_write(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        write(line, bytes)?;
        Ok(())
    }
    let f = expect_mistake(check::run(&with_send_all(one_write)), "ch08.short-write");
    assert!(f.got.contains("only the first"), "{f}");
}

/// Mistake: after a short write, writing the whole buffer again from the top.
#[test]
fn starting_again_from_the_top_is_caught() {
    fn from_the_top(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        let mut sent = 0;
        while sent < bytes.len() {
            sent += write(line, bytes)?; // should be &bytes[sent..]
        }
        Ok(())
    }
    expect_mistake(
        check::run(&with_send_all(from_the_top)),
        "ch08.send-garbled",
    );
}

/// Mistake: a short write taken for an error.
#[test]
fn a_short_write_as_an_error_is_caught() {
    fn gives_up_short(line: &OwnedFd, bytes: &[u8]) -> nix::Result<()> {
        if write(line, bytes)? < bytes.len() {
            return Err(Errno::EIO); // "it didn't take it all: something broke"
        }
        Ok(())
    }
    let f = expect_mistake(
        check::run(&with_send_all(gives_up_short)),
        "ch08.send-error",
    );
    assert!(f.got.contains("EIO"), "{f}");
}

// ------------------------------------------------------ answer_one_call

/// Mistake: one read taken for the whole message, then the phone put down.
#[test]
fn one_read_for_one_message_is_caught() {
    fn one_read(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let mut chunk = [0u8; 4096];
        let n = read(&line, &mut chunk)?;
        solution::send_all(&line, &chunk[..n])?;
        Ok(n as u64)
    }
    let f = expect_mistake(check::run(&with_answer(one_read)), "ch08.one-read");
    assert!(f.syscall.contains("no message boundaries"), "{f}");
}

/// Mistake: collecting a whole line before echoing it (unbounded, and a
/// caller who never says "\n" hears nothing).
#[test]
fn waiting_for_the_newline_is_caught() {
    fn by_lines(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let (mut pending, mut echoed, mut chunk) = (Vec::new(), 0, [0u8; 4096]);
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                return Ok(echoed);
            }
            pending.extend_from_slice(&chunk[..n]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line_bytes: Vec<u8> = pending.drain(..=end).collect();
                solution::send_all(&line, &line_bytes)?;
                echoed += line_bytes.len() as u64;
            }
        }
    }
    expect_mistake(check::run(&with_answer(by_lines)), "ch08.holds-the-line");
}

/// Mistake: echoing the whole buffer instead of the n bytes just read.
#[test]
fn echoing_the_whole_buffer_is_caught() {
    fn whole_buffer(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                return Ok(echoed);
            }
            solution::send_all(&line, &chunk)?; // should be &chunk[..n]
            echoed += n as u64;
        }
    }
    let f = expect_mistake(check::run(&with_answer(whole_buffer)), "ch08.echo-garbled");
    assert!(f.syscall.contains("&chunk[..n]"), "{f}");
}

/// Mistake: treating the bytes as text (lossy UTF-8), which mangles binary.
#[test]
fn treating_bytes_as_text_is_caught() {
    fn as_text(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                return Ok(echoed);
            }
            let text = String::from_utf8_lossy(&chunk[..n]).into_owned();
            solution::send_all(&line, text.as_bytes())?;
            echoed += n as u64;
        }
    }
    let f = expect_mistake(check::run(&with_answer(as_text)), "ch08.binary-garbled");
    assert!(f.syscall.contains("bytes, not text"), "{f}");
    // Bytes 0x00-0x7f are valid UTF-8 and come back as they went; 0x80 is
    // the first that lossy text turns into U+FFFD (0xef 0xbf 0xbd). Both
    // lines name that offset and show the bytes there.
    assert!(
        f.expected.contains("byte 128: 0x80 0x81"),
        "expected should show the bytes where they differ:\n{f}"
    );
    assert!(
        f.got.contains("byte 128: 0xef 0xbf 0xbd"),
        "got should show the bytes where they differ:\n{f}"
    );
}

/// Mistake: read() = 0 taken for an error.
#[test]
fn end_of_file_as_an_error_is_caught() {
    fn eof_is_error(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let mut chunk = [0u8; 4096];
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                return Err(Errno::ECONNRESET); // "the caller is gone: an error"
            }
            solution::send_all(&line, &chunk[..n])?;
        }
    }
    expect_mistake(
        check::run(&with_answer(eof_is_error)),
        "ch08.eof-is-an-error",
    );
}

/// Mistake: read() = 0 taken for "nothing yet", so the loop never ends.
#[test]
fn looping_on_end_of_file_is_caught_in_seconds() {
    fn loops_on_zero(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let mut chunk = [0u8; 4096];
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                // "Nothing yet: wait a moment and try again." It will be 0
                // for ever. (The pause also keeps this leaked thread from
                // spinning a CPU for the rest of the suite: after the
                // caller's FIN, even its reset can't make read() fail.)
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            solution::send_all(&line, &chunk[..n])?;
        }
    }
    let started = Instant::now();
    expect_mistake(check::run(&with_answer(loops_on_zero)), "ch08.loops-on-eof");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

/// Mistake: into_raw_fd() to feed recv()/send(), so the line is never closed.
#[test]
fn a_line_never_closed_is_caught() {
    fn leaks(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        let fd = line.into_raw_fd(); // the OwnedFd is gone: nothing will close it
        send(fd, format!("{greeting}\n").as_bytes(), MsgFlags::empty())?;
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = recv(fd, &mut chunk, MsgFlags::empty())?;
            if n == 0 {
                return Ok(echoed);
            }
            let mut left = &chunk[..n];
            while !left.is_empty() {
                left = &left[send(fd, left, MsgFlags::empty())?..];
            }
            echoed += n as u64;
        }
    }
    let f = expect_mistake(check::run(&with_answer(leaks)), "ch08.never-closed");
    assert!(f.syscall.contains("into_raw_fd"), "{f}");
}

/// Mistake: no greeting; the echo starts straight away.
#[test]
fn a_missing_greeting_is_caught() {
    fn silent(line: OwnedFd, _greeting: &str) -> nix::Result<u64> {
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                return Ok(echoed);
            }
            solution::send_all(&line, &chunk[..n])?;
            echoed += n as u64;
        }
    }
    expect_mistake(check::run(&with_answer(silent)), "ch08.no-greeting");
}

/// Mistake: a daytime service only: greet and hang up.
#[test]
fn greeting_and_hanging_up_is_caught() {
    fn daytime(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        Ok(0)
    }
    expect_mistake(check::run(&with_answer(daytime)), "ch08.hung-up-early");
}

/// Mistake: counting the greeting as echoed bytes.
#[test]
fn a_wrong_count_is_caught() {
    fn counts_greeting(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        let echoed = solution::answer_one_call(line, greeting)?;
        Ok(echoed + greeting.len() as u64 + 1)
    }
    expect_mistake(
        check::run(&with_answer(counts_greeting)),
        "ch08.wrong-count",
    );
}

/// Mistake: unwrap() on read(): a caller's reset crashes the service.
#[test]
fn a_panic_on_reset_is_caught() {
    fn unwraps(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = read(&line, &mut chunk).unwrap();
            if n == 0 {
                return Ok(echoed);
            }
            solution::send_all(&line, &chunk[..n]).unwrap();
            echoed += n as u64;
        }
    }
    let f = expect_mistake(check::run(&with_answer(unwraps)), "ch08.reset-panicked");
    assert!(f.got.contains("ECONNRESET"), "{f}");
}

/// Mistake: waiting for a caller who slammed the phone down to ring back.
#[test]
fn waiting_on_a_dead_line_is_caught() {
    fn waits_for_callback(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = match read(&line, &mut chunk) {
                Ok(n) => n,
                // "they'll call back": they won't; this waits for ever.
                Err(Errno::ECONNRESET) => loop {
                    thread::park();
                },
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Ok(echoed);
            }
            solution::send_all(&line, &chunk[..n])?;
            echoed += n as u64;
        }
    }
    expect_mistake(
        check::run(&with_answer(waits_for_callback)),
        "ch08.reset-hung",
    );
}

// ----------------------------------------------------------------- serve

/// Mistake: `?` on a caller's error, so one reset ends the whole service.
#[test]
fn one_callers_error_ending_the_service_is_caught() {
    fn gives_up(
        phone: &OwnedFd,
        callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        for _ in 0..callers {
            let line = accept(phone)?;
            let echoed = solution::answer_one_call(line, greeting)?;
            log(Ok(echoed));
        }
        Ok(())
    }
    let f = expect_mistake(
        check::run(&with_serve(gives_up)),
        "ch08.caller-error-ends-service",
    );
    assert!(f.got.contains("ECONNRESET"), "{f}");
}

/// Mistake: no loop: one caller answered, then the service returns.
#[test]
fn answering_only_one_caller_is_caught() {
    fn once(
        phone: &OwnedFd,
        _callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        let line = accept(phone)?;
        log(solution::answer_one_call(line, greeting));
        Ok(())
    }
    expect_mistake(check::run(&with_serve(once)), "ch08.one-caller-only");
}

/// Mistake: `loop` instead of `callers` times: serve() never returns.
#[test]
fn never_stopping_is_caught() {
    fn forever(
        phone: &OwnedFd,
        _callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        loop {
            let line = accept(phone)?;
            log(solution::answer_one_call(line, greeting));
        }
    }
    expect_mistake(check::run(&with_serve(forever)), "ch08.never-stops");
}

/// Mistake: only the good calls are logged.
#[test]
fn a_missing_log_entry_is_caught() {
    fn logs_good_calls(
        phone: &OwnedFd,
        callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        for _ in 0..callers {
            let line = accept(phone)?;
            if let Ok(n) = solution::answer_one_call(line, greeting) {
                log(Ok(n));
            }
        }
        Ok(())
    }
    let f = expect_mistake(check::run(&with_serve(logs_good_calls)), "ch08.log-wrong");
    assert!(f.got.contains("2 call(s)"), "{f}");
}

/// Mistake (a flag): the line made non-blocking "so a silent caller can't
/// hang the service": read() fails with EAGAIN before the caller speaks.
#[test]
fn a_non_blocking_line_is_caught() {
    fn nonblocking(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        fcntl(&line, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        solution::answer_one_call(line, greeting)
    }
    let f = expect_mistake(check::run(&with_answer(nonblocking)), "ch08.nonblocking");
    assert!(
        f.got.contains("EAGAIN") && f.syscall.contains("O_NONBLOCK"),
        "{f}"
    );
}

/// Mistake (chapter 7's call in the wrong place): "over" said right after
/// the greeting, so nothing can be said back.
#[test]
fn saying_over_after_the_greeting_is_caught() {
    fn over_at_once(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        greet(&line, greeting)?;
        nix::sys::socket::shutdown(line.as_raw_fd(), Shutdown::Write)?;
        let (mut echoed, mut chunk) = (0, [0u8; 4096]);
        loop {
            let n = read(&line, &mut chunk)?;
            if n == 0 {
                return Ok(echoed);
            }
            solution::send_all(&line, &chunk[..n])?;
            echoed += n as u64;
        }
    }
    let f = expect_mistake(
        check::run(&with_answer(over_at_once)),
        "ch08.said-over-too-soon",
    );
    assert!(f.got.contains("EPIPE"), "{f}");
}

/// Mistake (the wrong socket shut down): the service "hangs up properly"
/// on its own phone once the callers are answered.
#[test]
fn switching_the_phone_off_after_the_callers_is_caught() {
    fn switches_off(
        phone: &OwnedFd,
        callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        solution::serve(phone, callers, greeting, log)?;
        nix::sys::socket::shutdown(phone.as_raw_fd(), Shutdown::Both) // "and hang up"
    }
    let f = expect_mistake(
        check::run(&with_serve(switches_off)),
        "ch08.phone-switched-off",
    );
    assert!(f.got.contains("SO_ACCEPTCONN = 0"), "{f}");
}

/// Mistake (chapter 5's lesson missed): the wall phone shut down after the
/// first accept, as if picking up ended its job. The next caller is refused.
#[test]
fn switching_the_phone_off_after_one_caller_is_caught() {
    fn one_and_off(
        phone: &OwnedFd,
        callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        for _ in 0..callers {
            let line = accept(phone)?;
            nix::sys::socket::shutdown(phone.as_raw_fd(), Shutdown::Both)?; // "got one"
            log(solution::answer_one_call(line, greeting));
        }
        Ok(())
    }
    expect_mistake(
        check::run(&with_serve(one_and_off)),
        "ch08.phone-switched-off",
    );
}

/// Mistake (a dup'd descriptor): a copy of the wall phone handed to
/// answer_one_call() instead of the line accept() returns.
#[test]
fn talking_on_the_wall_phone_is_caught() {
    fn phone_as_line(
        phone: &OwnedFd,
        callers: usize,
        greeting: &str,
        log: &mut dyn FnMut(nix::Result<u64>),
    ) -> nix::Result<()> {
        for _ in 0..callers {
            let line = phone.try_clone().map_err(|_| Errno::EMFILE)?; // should be accept(phone)
            log(solution::answer_one_call(line, greeting));
        }
        Ok(())
    }
    let f = expect_mistake(
        check::run(&with_serve(phone_as_line)),
        "ch08.talks-on-phone",
    );
    assert!(
        f.got.contains("never picked up") && f.syscall.contains("accept(phone)"),
        "{f}"
    );
}

// ------------------------------------------------------------ the scene

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "Ok(269)",
        "no longer our socket",
        "ECONNRESET",
        "echoed 1048576 bytes",
        "ECONNREFUSED",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    crate::assert_transcript!("ch08-transcript", text);
}

/// The scene with the starter stops at the first todo!() it meets, in one paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let starter = check::Answer {
        send_all: starter::send_all,
        answer_one_call: starter::answer_one_call,
        serve: starter::serve,
    };
    let (text, result) = play(chapter(), |s| scene::play(s, &starter, &[]));
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        !text.contains("hear the greeting"),
        "the scene should stop before the caller hears anything:\n{text}"
    );
    crate::assert_transcript!("ch08-starter", err.as_printed(80));
}

/// A learner who finished send_all() is sent on to answer_one_call(), and
/// one who finished that too is told send_all() is the missing piece when
/// answer_one_call() calls it (the scene names the todo!() really reached).
#[test]
fn the_scene_names_the_todo_really_reached() {
    fn mine(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
        starter::send_all(&line, greeting.as_bytes())?;
        Ok(0)
    }
    let answer = check::Answer {
        send_all: starter::send_all,
        answer_one_call: mine,
        serve: starter::serve,
    };
    let (_, result) = play(chapter(), |s| scene::play(s, &answer, &[]));
    let err = result.expect_err("send_all is a todo!()").to_string();
    assert!(err.starts_with("Not yet: send_all()"), "{err}");
}

// ------------------------------------------------ --listen: the real service

/// Nonsense arguments get one usage line (exit 2), not a panic.
#[test]
fn nonsense_arguments_get_a_usage_line() {
    for bad in [
        &["--listen", "nonsense"][..],
        &["--listen", "127.0.0.1:99999"],
        &["--lisen", "127.0.0.1:0"],
        &["--listen", "127.0.0.1:0", "extra"],
    ] {
        let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        let (_, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
        match result {
            Err(SceneError::Usage(line)) => {
                assert!(
                    line.contains("--listen HOST:PORT") && !line.contains('\n'),
                    "{line}"
                )
            }
            other => panic!("{bad:?}: expected a usage line, got {other:?}"),
        }
    }
}

/// A bare --listen means loopback and a free port; a bare port means loopback.
#[test]
fn listen_defaults_to_loopback() {
    let parse = |v: &[&str]| {
        let args: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        match scene::parse(&args) {
            Ok(dialtone_kit::args::Mode::Real(a)) => (a.ip(), a.port()),
            other => panic!("{v:?}: {other:?}"),
        }
    };
    assert_eq!(parse(&["--listen"]), (std::net::Ipv4Addr::LOCALHOST, 0));
    assert_eq!(
        parse(&["--listen", "5000"]),
        (std::net::Ipv4Addr::LOCALHOST, 5000)
    );
    assert_eq!(
        parse(&["--listen", "0.0.0.0:7"]),
        (std::net::Ipv4Addr::UNSPECIFIED, 7),
        "an address the user typed is taken as typed"
    );
}

/// A port already in use is one line saying so (exit 1), not a panic.
#[test]
fn a_port_in_use_is_one_line() {
    let busy = service::open(&SockaddrIn::new(127, 0, 0, 1, 0), service::LIMITS)
        .expect("a free loopback port is always available");
    let number = kernel::own_number(&busy).expect("a bound socket has a number");
    let args = vec![
        "--listen".to_string(),
        format!("127.0.0.1:{}", number.port()),
    ];
    let (_, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
    let err = result.expect_err("the port is taken");
    assert!(
        matches!(
            err,
            SceneError::Sys {
                errno: Errno::EADDRINUSE,
                ..
            }
        ),
        "{err:?}"
    );
    let line = err.to_string();
    assert!(
        !line.contains('\n') && line.contains("pick another port"),
        "{line}"
    );
}

/// The commands printed for real callers name the service's real number.
#[test]
fn try_it_commands_name_the_number() {
    let commands = service::try_it(&SockaddrIn::new(127, 0, 0, 1, 4567));
    assert_eq!(commands.len(), 3);
    assert!(
        commands[0].starts_with("nc -N 127.0.0.1 4567"),
        "{commands:?}"
    );
    assert!(commands[1].contains("TCP:127.0.0.1:4567"), "{commands:?}");
    assert!(commands[2].contains("('127.0.0.1', 4567)"), "{commands:?}");
    let any = service::try_it(&SockaddrIn::new(0, 0, 0, 0, 4567));
    assert!(
        any[0].contains("127.0.0.1"),
        "0.0.0.0 is called at loopback: {any:?}"
    );
}

// ------------------------------------------------------ bad callers, in Rust

/// The reference service, running on a thread for `callers` calls.
struct Running {
    number: SockaddrIn,
    log: Receiver<String>,
    done: Receiver<Result<(), SceneError>>,
}

/// The limits the tests' services run with: `send` as given, and an idle
/// limit long enough for any test caller but a silent one.
fn limits(send: Duration) -> service::Limits {
    service::Limits {
        send,
        idle: Duration::from_secs(10),
    }
}

fn start_service(callers: usize, limits: service::Limits) -> Running {
    let (log_tx, log) = mpsc::channel();
    let (number, done) = start_service_logging(callers, limits, move |l| {
        let _ = log_tx.send(l);
    });
    Running { number, log, done }
}

/// The reference service on a thread, handing each log line to `log`.
fn start_service_logging(
    callers: usize,
    limits: service::Limits,
    log: impl FnMut(String) + Send + 'static,
) -> (SockaddrIn, Receiver<Result<(), SceneError>>) {
    let phone = service::open(&SockaddrIn::new(127, 0, 0, 1, 0), limits)
        .expect("a free loopback port is always available");
    let number = kernel::own_number(&phone).expect("a bound socket has a number");
    let (done_tx, done) = mpsc::channel();
    thread::spawn(move || {
        let result = service::run(
            &SOLUTION,
            phone,
            (callers, 1),
            limits,
            Duration::from_secs(60),
            log,
        );
        let _ = done_tx.send(result);
    });
    (number, done)
}

impl Running {
    /// Waits for the service to finish its calls; returns its log.
    fn finish(self) -> Vec<String> {
        match self.done.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => {}
            other => panic!("the service should finish its calls: {other:?}"),
        }
        self.log.try_iter().collect()
    }
}

fn greeting_line() -> Vec<u8> {
    format!("{GREETING}\n").into_bytes()
}

/// A megabyte without a newline, binary garbage, a hang-up mid-line, a reset
/// mid-line and a caller who never listens: each gets one log line and the
/// service answers the next caller.
#[test]
fn bad_callers_leave_the_service_running() {
    let patience = Duration::from_secs(5);
    let service = start_service(6, limits(Duration::from_millis(300)));
    let n = service.number;
    let dial = || caller::dial(&n, patience).expect("the service's phone is on");
    let greeted = |p: &OwnedFd| assert_eq!(caller::hear_line(p), Heard::All(greeting_line()));

    // 1: a megabyte without a newline, heard back while still talking.
    let one = dial();
    greeted(&one);
    let talker = one.try_clone().expect("one more descriptor");
    let talking = thread::spawn(move || caller::say(&talker, &vec![b'x'; 1 << 20]));
    assert_eq!(
        caller::hear_exactly(&one, 1 << 20),
        Heard::All(vec![b'x'; 1 << 20])
    );
    talking
        .join()
        .expect("the talker doesn't panic")
        .expect("all said");
    caller::done_talking(&one).expect("half-close");
    assert_eq!(caller::hear_the_end(&one, 1024), Heard::All(vec![]));
    drop(one);

    // 2: binary garbage.
    let two = dial();
    greeted(&two);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    caller::say(&two, &garbage).expect("said");
    caller::done_talking(&two).expect("half-close");
    assert_eq!(caller::hear_the_end(&two, 8192), Heard::All(garbage));
    drop(two);

    // 3: hangs up politely in the middle of a line.
    let three = dial();
    greeted(&three);
    caller::say(&three, b"half a li").expect("said");
    assert_eq!(
        caller::hear_exactly(&three, 9),
        Heard::All(b"half a li".to_vec())
    );
    drop(three);

    // 4: slams the phone down in the middle of a line.
    let four = dial();
    greeted(&four);
    caller::say(&four, b"half a li").expect("said");
    assert_eq!(
        caller::hear_exactly(&four, 9),
        Heard::All(b"half a li".to_vec())
    );
    caller::slam_down(four).expect("reset");

    // 5: talks and never listens: the service's send timeout gives up on it.
    let five = dial();
    let _ = caller::say(&five, &vec![b'y'; 16 << 20]); // fails once the service hangs up
    drop(five);

    // 6: an ordinary caller is still answered.
    let six = dial();
    greeted(&six);
    caller::say(&six, b"still there?\n").expect("said");
    caller::done_talking(&six).expect("half-close");
    assert_eq!(
        caller::hear_the_end(&six, 1024),
        Heard::All(b"still there?\n".to_vec())
    );
    drop(six);

    let log = service.finish();
    assert_eq!(log.len(), 6, "{log:#?}");
    for (line, needle) in log.iter().zip([
        "call 1: echoed 1048576 bytes",
        "call 2: echoed 4096 bytes",
        "call 3: echoed 9 bytes",
        "call 4: the caller slammed the phone down mid-call (ECONNRESET)",
        "call 5: the caller said nothing for 10 s (the idle limit) or stopped listening for 0.3 s",
        "call 6: echoed 13 bytes",
    ]) {
        assert!(
            line.starts_with(needle) && !line.contains('\n'),
            "{line:?} should start with {needle:?}"
        );
    }
}

/// One polite caller: the greeting, a line, "that's all", and the end.
fn polite_call(number: &SockaddrIn, patience: Duration, words: &[u8]) -> Result<(), String> {
    let phone = caller::dial(number, patience).map_err(|e| format!("connect: {e}"))?;
    match caller::hear_line(&phone) {
        Heard::All(g) if g == greeting_line() => {}
        other => return Err(format!("greeting: {other:?}")),
    }
    caller::say(&phone, words).map_err(|e| format!("write: {e}"))?;
    caller::done_talking(&phone).map_err(|e| format!("shutdown: {e}"))?;
    match caller::hear_the_end(&phone, 1024) {
        Heard::All(b) if b == words => Ok(()),
        other => Err(format!("echo: {other:?}")),
    }
}

/// Issue: a backlog of 8 reset callers who arrived together. With the
/// backlog at SOMAXCONN, 200 callers dialling at the same moment are all
/// answered, one after another, and none is reset.
#[test]
fn two_hundred_callers_at_once_are_all_answered() {
    const CROWD: usize = 200;
    let service = start_service(CROWD, limits(Duration::from_secs(5)));
    let number = service.number;
    let start = Arc::new(Barrier::new(CROWD));
    let callers: Vec<_> = (0..CROWD)
        .map(|i| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                polite_call(
                    &number,
                    Duration::from_secs(20),
                    format!("caller {i}\n").as_bytes(),
                )
            })
        })
        .collect();
    let failed: Vec<String> = callers
        .into_iter()
        .filter_map(|c| c.join().expect("a caller thread doesn't panic").err())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {CROWD} callers failed: {failed:#?}",
        failed.len()
    );
    let log = service.finish();
    assert_eq!(log.len(), CROWD);
    assert!(
        log.iter().all(|l| l.contains("; the caller hung up")),
        "{log:#?}"
    );
}

/// Issue: one silent caller blocked the service for ever. Now the idle
/// limit hangs up on them, says so in the log, and the caller waiting
/// behind them is answered.
#[test]
fn a_silent_caller_is_dropped_after_the_idle_limit() {
    let idle = Duration::from_millis(500);
    let limits = service::Limits {
        send: Duration::from_secs(5),
        idle,
    };
    let service = start_service(2, limits);
    let patience = Duration::from_secs(10);
    let silent = caller::dial(&service.number, patience).expect("the service's phone is on");
    assert_eq!(caller::hear_line(&silent), Heard::All(greeting_line()));
    // The next caller rings while the silent one holds the line.
    let started = Instant::now();
    polite_call(&service.number, patience, b"my turn?\n").expect("the second caller is answered");
    let waited = started.elapsed();
    // The idle clock started as the greeting went out, a moment before
    // this caller dialled; without the limit it would wait out its patience.
    assert!(
        waited >= idle / 2 && waited < patience - Duration::from_secs(2),
        "the second caller waited {waited:?}, the idle limit is {idle:?}"
    );
    // The silent caller heard the service hang up (end of file).
    assert_eq!(caller::hear_the_end(&silent, 1024), Heard::All(vec![]));
    let log = service.finish();
    assert!(
        log[0].starts_with("call 1: the caller said nothing for 0.5 s (the idle limit)"),
        "{log:#?}"
    );
    assert!(log[1].starts_with("call 2: echoed 9 bytes"), "{log:#?}");
}

/// Issue: with its log reader gone (`2> >(head -1)`), the service died
/// (`eprintln!` panics on EPIPE). A log line that can't be written is
/// dropped; every caller is still answered.
#[test]
fn a_log_nobody_reads_never_stops_the_service() {
    let (reader, writer) = nix::unistd::pipe().expect("a pipe");
    drop(reader); // the reader went away: every write now fails with EPIPE
    let mut log = std::fs::File::from(writer);
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&failed);
    {
        use std::io::Write;
        assert!(writeln!(log, "probe").is_err(), "the pipe has no reader");
    }
    let (number, done) = start_service_logging(3, limits(Duration::from_secs(5)), move |line| {
        service::log_to(&mut log, &line);
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    for i in 0..3 {
        polite_call(
            &number,
            Duration::from_secs(5),
            format!("call {i}\n").as_bytes(),
        )
        .unwrap_or_else(|e| panic!("caller {i} should be answered: {e}"));
    }
    match done.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(())) => {}
        other => panic!("the service should finish its calls: {other:?}"),
    }
    assert_eq!(failed.load(std::sync::atomic::Ordering::SeqCst), 3);
}

// ------------------------------------------- callers nobody here wrote

/// Finds `name` on PATH. Missing: a failure under CI (which installs it), a
/// note otherwise (a fresh learner machine may lack it).
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing(&format!("{name} is not installed"), package);
    }
    found
}

fn missing(what: &str, package: &str) {
    let advice = format!("install the Debian package {package} (apt-get install {package})");
    assert!(
        std::env::var_os("CI").is_none(),
        "{what}: CI must run this real-world test; {advice}"
    );
    eprintln!("note: {what}, so this real-world test is skipped; {advice} to run it");
}

/// Runs `command` with `input` on its stdin; its stdout, or why not. Killed
/// and reaped after `limit`.
fn run(command: &mut Command, input: Vec<u8>, limit: Duration) -> Result<Vec<u8>, String> {
    run_both(command, input, limit).map(|(out, _)| out)
}

/// Like [`run`], returning stdout and stderr; a failed exit is an error.
fn run_both(
    command: &mut Command,
    input: Vec<u8>,
    limit: Duration,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let ran = run_limited(command, &input, limit)?;
    if !ran.status.success() {
        return Err(format!(
            "{command:?} exited with {}: {}",
            ran.status,
            String::from_utf8_lossy(&ran.stderr)
        ));
    }
    Ok((ran.stdout, ran.stderr))
}

const TOOL_LIMIT: Duration = Duration::from_secs(20);

/// OpenBSD's nc (Debian's netcat-openbsd): a line in, the greeting and the line back.
#[test]
fn nc_is_answered() {
    let Some(nc) = tool("nc", "netcat-openbsd") else {
        return;
    };
    // OpenBSD's nc prints its name and usage on stderr for -h.
    let help = run_both(Command::new(&nc).arg("-h"), vec![], TOOL_LIMIT)
        .map(|(out, err)| [out, err].concat())
        .unwrap_or_else(|e| e.into_bytes());
    if !String::from_utf8_lossy(&help).contains("OpenBSD") {
        return missing(
            "the nc on PATH is not OpenBSD's (it needs -N)",
            "netcat-openbsd",
        );
    }
    let service = start_service(1, limits(Duration::from_secs(5)));
    let port = service.number.port().to_string();
    // -N: shut down the sending side at the end of stdin, so the service sees
    // end of file, hangs up, and nc exits.
    let heard = run(
        Command::new(&nc).args(["-N", "127.0.0.1", &port]),
        b"hello from nc\n".to_vec(),
        TOOL_LIMIT,
    )
    .expect("nc talks to the service");
    assert_eq!(
        heard,
        [greeting_line(), b"hello from nc\n".to_vec()].concat()
    );
    assert_eq!(
        service.finish(),
        ["call 1: echoed 14 bytes; the caller hung up"]
    );
}

/// socat sends binary garbage (every byte value, no newline) and hears it back.
#[test]
fn socat_is_answered() {
    let Some(socat) = tool("socat", "socat") else {
        return;
    };
    let service = start_service(1, limits(Duration::from_secs(5)));
    let garbage: Vec<u8> = (0..1024u32).map(|i| (255 - i % 256) as u8).collect();
    let heard = run(
        Command::new(&socat).args([
            "-t",
            "5",
            "-",
            &format!("TCP:127.0.0.1:{}", service.number.port()),
        ]),
        garbage.clone(),
        TOOL_LIMIT,
    )
    .expect("socat talks to the service");
    assert_eq!(heard, [greeting_line(), garbage].concat());
    assert_eq!(
        service.finish(),
        ["call 1: echoed 1024 bytes; the caller hung up"]
    );
}

/// Python's socket module: a megabyte without a newline (sent from a thread
/// while reading), then a caller who resets mid-line, then the page's
/// one-liner: the service answers all three.
#[test]
fn python_is_answered() {
    let Some(python) = tool("python3", "python3") else {
        return;
    };
    let service = start_service(3, limits(Duration::from_secs(5)));
    let port = service.number.port();
    let megabyte = format!(
        "import socket, sys, threading\n\
         s = socket.create_connection(('127.0.0.1', {port}))\n\
         data = sys.stdin.buffer.read()\n\
         def talk():\n    s.sendall(data)\n    s.shutdown(socket.SHUT_WR)\n\
         t = threading.Thread(target=talk); t.start()\n\
         heard = b''.join(iter(lambda: s.recv(65536), b''))\n\
         t.join()\n\
         sys.stdout.buffer.write(heard)\n"
    );
    let heard = run(
        Command::new(&python).args(["-c", &megabyte]),
        vec![b'q'; 1 << 20],
        TOOL_LIMIT,
    )
    .expect("python talks to the service");
    assert_eq!(heard.len(), greeting_line().len() + (1 << 20));
    assert!(heard.starts_with(&greeting_line()) && heard.ends_with(&[b'q'; 1 << 20]));

    let rude = format!(
        "import socket, struct\n\
         s = socket.create_connection(('127.0.0.1', {port}))\n\
         f = s.makefile('rb'); f.readline()\n\
         s.sendall(b'half a li'); assert f.read(9) == b'half a li'\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
         f.close(); s.close()\n"
    );
    run(
        Command::new(&python).args(["-c", &rude]),
        vec![],
        TOOL_LIMIT,
    )
    .expect("python resets the call");

    // The book's "try it" line, exactly as the service prints it.
    let one_liner = service::try_it(&service.number)[2].clone();
    let script = one_liner
        .strip_prefix("python3 -c \"")
        .and_then(|s| s.strip_suffix('"'))
        .expect("the one-liner is python3 -c \"...\"");
    let heard = run(
        Command::new(&python).args(["-c", script]),
        vec![],
        TOOL_LIMIT,
    )
    .expect("the book's python one-liner talks to the service");
    assert_eq!(heard, [greeting_line(), b"hello\n".to_vec()].concat());

    let log = service.finish();
    assert_eq!(log.len(), 3, "{log:#?}");
    assert_eq!(log[0], "call 1: echoed 1048576 bytes; the caller hung up");
    assert!(
        log[1].starts_with("call 2: the caller slammed the phone down"),
        "{log:#?}"
    );
    assert_eq!(log[2], "call 3: echoed 6 bytes; the caller hung up");
}

/// Mistake: the echo said with one write() whose count is ignored: whatever
/// a short write didn't take is lost. Only a write interrupted part-way
/// comes back short on a blocking line, so the check stops and continues
/// the learner's process while its echo waits for room: judged.
fn echoes_with_one_write(line: OwnedFd, greeting: &str) -> nix::Result<u64> {
    solution::send_all(&line, format!("{greeting}\n").as_bytes())?;
    let mut chunk = [0u8; solution::CHUNK];
    let mut echoed = 0;
    loop {
        let n = read(&line, &mut chunk)?;
        if n == 0 {
            return Ok(echoed);
        }
        write(&line, &chunk[..n])?;
        echoed += n as u64;
    }
}

#[test]
fn a_single_write_on_the_echo_path_is_caught() {
    const WRONG: check::Answer = check::Answer {
        answer_one_call: echoes_with_one_write,
        ..SOLUTION
    };
    ch08_answering_service::host_if_asked(&WRONG);
    let f = expect_mistake(
        crate::support::judged(
            "ch08::a_single_write_on_the_echo_path_is_caught",
            ch08_answering_service::self_check,
        ),
        "ch08.echo-short-write",
    );
    assert!(f.got.contains("missing or wrong at byte"), "{f}");
}

/// The reference answer passes judged too: every short write's rest is
/// said, and the stops leave its blocking calls as they were.
#[test]
fn the_solution_passes_judged() {
    ch08_answering_service::host_if_asked(&SOLUTION);
    let passed = expect_pass(crate::support::judged(
        "ch08::the_solution_passes_judged",
        ch08_answering_service::self_check,
    ));
    assert!(
        passed.0.iter().any(|s| s.contains("interrupted part-way")),
        "{:?}",
        passed.0
    );
}
