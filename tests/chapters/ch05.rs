//! Chapter 5 (pick up): solution, starter, wrong answers, transcript, real caller.

use ch05_pick_up::{chapter, check, scene};
use dialtone_kit::scene::{Scene, SceneError, SceneResult};
use dialtone_kit::{kernel, names, party};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{
    accept, accept4, getpeername, getsockname, shutdown, Shutdown, SockFlag, SockaddrIn,
};
use nix::unistd::{read, write};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/05-pick-up/answer.rs"]
mod solution;
#[path = "../../chapters/05-pick-up/src/answer.rs"]
mod starter;

type PickUp = fn(&OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)>;

const SOLUTION: check::Answer = check::Answer {
    pick_up: solution::pick_up,
};

fn answer(pick_up: PickUp) -> check::Answer {
    check::Answer { pick_up }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 5, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    expect_unfinished(check::run(&answer(starter::pick_up)), chapter());
}

/// Mistake: handing back (a duplicate of) the listening phone, never accepting.
#[test]
fn returning_the_listening_phone_is_caught() {
    fn wall(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = phone.try_clone().map_err(|_| Errno::EMFILE)?;
        Ok((line, kernel::own_number(phone)?))
    }
    let f = expect_mistake(check::run(&answer(wall)), "ch05.listening-socket");
    assert!(f.got.contains("SO_ACCEPTCONN = 1"), "{f}");
}

/// Mistake: accepting, but returning the phone on the wall instead of the line.
#[test]
fn accepting_but_returning_the_wall_phone_is_caught() {
    fn mixed_up(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept(phone)?;
        let caller = getpeername(line.as_raw_fd())?;
        Ok((phone.try_clone().map_err(|_| Errno::EMFILE)?, caller))
    }
    expect_mistake(check::run(&answer(mixed_up)), "ch05.listening-socket");
}

fn own(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
    let line = accept(phone)?;
    let me = getsockname(line.as_raw_fd())?;
    Ok((line, me))
}

/// Mistake: getsockname (your own number) instead of getpeername.
#[test]
fn own_number_as_caller_id_is_caught() {
    let f = expect_mistake(check::run(&answer(own)), "ch05.own-number");
    assert!(f.syscall.contains("getpeername"), "{f}");
}

/// Mistake: asking the phone on the wall, not the new line, for caller ID.
#[test]
fn caller_id_from_the_wall_phone_is_caught() {
    fn wall_id(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept(phone)?;
        let caller = getpeername(phone.as_raw_fd())?;
        Ok((line, caller))
    }
    let f = expect_mistake(check::run(&answer(wall_id)), "ch05.caller-id-of-wall");
    assert!(f.got.contains("ENOTCONN"), "{f}");
}

/// Mistake: the C habit of swapping the port's bytes (htons twice).
#[test]
fn a_garbled_caller_id_is_caught() {
    fn swapped(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept(phone)?;
        let caller: SockaddrIn = getpeername(line.as_raw_fd())?;
        let [a, b, c, d] = caller.ip().octets();
        Ok((
            line,
            SockaddrIn::new(a, b, c, d, caller.port().swap_bytes()),
        ))
    }
    expect_mistake(check::run(&answer(swapped)), "ch05.wrong-caller-id");
}

/// Mistake: returning some other socket than the accepted one.
#[test]
fn returning_another_socket_is_caught() {
    fn fresh(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept(phone)?;
        let caller = getpeername(line.as_raw_fd())?;
        let other = dialtone_kit::party::new_phone()?;
        Ok((other, caller))
    }
    let f = expect_mistake(check::run(&answer(fresh)), "ch05.wrong-line");
    assert!(f.got.contains("ENOTCONN"), "{f}");
}

/// Mistake: accepting twice. The second accept() waits forever; the check
/// names the mistake within the chapter's timeout (plus a second to prove it).
#[test]
fn accepting_twice_gets_its_own_verdict_in_time() {
    fn twice(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let _first = accept(phone)?;
        let line = accept(phone)?;
        let caller = getpeername(line.as_raw_fd())?;
        Ok((line, caller))
    }
    let start = Instant::now();
    let f = expect_mistake(check::run(&answer(twice)), "ch05.accepted-twice");
    let took = start.elapsed();
    assert_eq!(
        f.headline,
        "pick_up waited for a second call that never came"
    );
    assert!(took < Duration::from_secs(10), "verdict took {took:?}");
}

/// A pick_up() that hangs without answering gets the general "hung" verdict,
/// not the accept-twice one (the call is still ringing).
#[test]
fn hanging_without_answering_is_hung() {
    fn never(_phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        loop {
            thread::park();
        }
    }
    let start = Instant::now();
    expect_mistake(check::run(&answer(never)), "hung");
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// Mistake: reading the caller's words inside pick_up(); they're gone.
#[test]
fn eating_the_callers_words_is_caught() {
    fn eats(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept(phone)?;
        let mut buf = [0u8; 64];
        read(&line, &mut buf)?;
        let caller = getpeername(line.as_raw_fd())?;
        Ok((line, caller))
    }
    expect_mistake(check::run(&answer(eats)), "ch05.words-lost");
}

/// Mistake (issue 10): switching the phone on the wall off after picking up.
/// `shutdown()` of the listening socket leaves SO_ACCEPTCONN 0 and the next
/// caller is refused, against the page's "it keeps ringing for others".
#[test]
fn shutting_the_wall_phone_down_is_caught() {
    fn unplugs(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept(phone)?;
        let caller = getpeername(line.as_raw_fd())?;
        shutdown(phone.as_raw_fd(), Shutdown::Both)?;
        Ok((line, caller))
    }
    let f = expect_mistake(check::run(&answer(unplugs)), "ch05.wall-phone-off");
    assert!(f.got.contains("SO_ACCEPTCONN = 0"), "{f}");
    assert!(f.syscall.contains("shutdown()"), "{f}");
}

/// Mistake: making the wall phone non-blocking "so accept() can't hang".
/// O_NONBLOCK belongs to the open socket: every holder of it sees the change.
#[test]
fn a_non_blocking_wall_phone_is_caught() {
    fn never_waits(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        fcntl(phone, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        solution::pick_up(phone)
    }
    let f = expect_mistake(check::run(&answer(never_waits)), "ch05.wall-phone-changed");
    assert!(f.got.contains("O_NONBLOCK"), "{f}");
}

/// Mistake: a non-blocking line ("so reads can't hang"). accept() doesn't
/// pass O_NONBLOCK on, so only pick_up() can have set it.
#[test]
fn a_non_blocking_line_is_caught() {
    fn impatient(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let (line, caller) = solution::pick_up(phone)?;
        fcntl(&line, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        Ok((line, caller))
    }
    let f = expect_mistake(check::run(&answer(impatient)), "ch05.line-nonblocking");
    assert!(f.got.contains("EAGAIN"), "{f}");
}

/// accept4() with SOCK_CLOEXEC (what std does) is as right as accept();
/// with SOCK_NONBLOCK it is the non-blocking line again.
#[test]
fn accept4_passes_with_cloexec_and_is_caught_with_nonblock() {
    fn cloexec(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept4(phone, SockFlag::SOCK_CLOEXEC)?;
        let caller = getpeername(line.as_raw_fd())?;
        Ok((line, caller))
    }
    fn nonblock(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let line = accept4(phone, SockFlag::SOCK_NONBLOCK)?;
        let caller = getpeername(line.as_raw_fd())?;
        Ok((line, caller))
    }
    let passed = expect_pass(check::run(&answer(cloexec)));
    assert!(
        passed.0.iter().any(|p| p.contains("close-on-exec is on")),
        "{:?}",
        passed.0
    );
    expect_mistake(check::run(&answer(nonblock)), "ch05.line-nonblocking");
}

/// Mistake: jumping ahead to chapter 6, greeting the caller inside pick_up().
#[test]
fn greeting_inside_pick_up_is_caught() {
    fn chatty(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let (line, caller) = solution::pick_up(phone)?;
        write(&line, b"hello?\n")?;
        Ok((line, caller))
    }
    let f = expect_mistake(check::run(&answer(chatty)), "ch05.spoke-first");
    assert!(
        f.got.contains("7 byte(s)") && f.got.contains("hello?"),
        "{f}"
    );
}

/// Mistake: jumping ahead to chapter 7, `shutdown(Write)` on the new line
/// ("I have nothing to say") before handing it over.
#[test]
fn hanging_up_the_new_line_is_caught() {
    fn curt(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let (line, caller) = solution::pick_up(phone)?;
        shutdown(line.as_raw_fd(), Shutdown::Write)?;
        Ok((line, caller))
    }
    let f = expect_mistake(check::run(&answer(curt)), "ch05.line-hung-up");
    assert!(f.got.contains("end-of-file"), "{f}");
}

/// Mistake: a duplicate of the accepted line is still that line (the same
/// socket inode in /proc/self/fd): returning one passes, as it should.
#[test]
fn a_duplicate_of_the_line_is_still_the_line() {
    fn duplicated(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)> {
        let (line, caller) = solution::pick_up(phone)?;
        Ok((line.try_clone().map_err(|_| Errno::EMFILE)?, caller))
    }
    expect_pass(check::run(&answer(duplicated)));
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "timeout 0) = 0: nobody is ringing",
        "SO_ACCEPTCONN) = 1",
        "SO_ACCEPTCONN) = 0",
        "they match",
        "F_GETFL) = O_RDWR;",
        "F_GETFD) = 0 (no FD_CLOEXEC)",
        "= 0: end-of-file",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    crate::assert_transcript!("ch05-transcript", text);
}

/// The scene with a pick_up() that returns its own number as caller ID:
/// the getpeername line is the kernel's answer, not pick_up()'s claim.
#[test]
fn own_number_scene_shows_the_kernels_caller_id() {
    let (text, _) = play(chapter(), |s| scene::play(s, &answer(own), &[]));
    let line = |needle: &str| -> &str {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} line in:\n{text}"))
    };
    // `pick_up(fd P) = Ok((fd L, ADDR)), ...` and `getpeername(fd L) = ADDR`.
    let returned = line("pick_up(fd")
        .split_once("Ok((fd ")
        .and_then(|(_, rest)| rest.split_once(", "))
        .and_then(|(_, rest)| rest.split_once("))"))
        .map(|(addr, _)| addr)
        .unwrap_or_else(|| panic!("pick_up()'s answer should be shown:\n{text}"));
    let peer = line("getpeername(fd")
        .rsplit(' ')
        .next()
        .unwrap_or_default();
    assert_ne!(
        returned, peer,
        "getpeername should show the kernel's caller ID, not pick_up()'s:\n{text}"
    );
    assert!(!text.contains("accept(fd"), "{text}");
    assert!(text.contains("they DON'T match"), "{text}");
}

/// The scene with the starter stops at pick_up() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &answer(starter::pick_up), &[])
    });
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        !text.contains("pick_up(fd"),
        "the scene should stop before accept:\n{text}"
    );
    crate::assert_transcript!("ch05-starter", err.as_printed(80));
}

/// A transcript that arrives as it is written, so a test can read the
/// number the scene prints while the scene is still waiting for a call.
struct Pipe(mpsc::Sender<Vec<u8>>);

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The reader may have given up (a failed test); nobody to tell.
        let _ = self.0.send(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Plays the scene with `args` on its own thread; returns the live transcript
/// and the scene's result.
fn play_live(args: &[&str]) -> (mpsc::Receiver<Vec<u8>>, mpsc::Receiver<SceneResult>) {
    let (text_tx, text_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let args = strings(args);
    thread::spawn(move || {
        let mut pipe = Pipe(text_tx);
        let mut s = Scene::new(&mut pipe, chapter());
        let _ = done_tx.send(scene::play(&mut s, &SOLUTION, &args));
    });
    (text_rx, done_rx)
}

/// Reads the live transcript until `until` says stop, or fails after 5 s.
fn read_until(rx: &mpsc::Receiver<Vec<u8>>, text: &mut String, until: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !until(text) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("the scene went quiet:\n{text}"));
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// `--listen 127.0.0.1:0`: the scene prints the number and the nc command;
/// a caller dials it, sees caller ID match, trades words, reads end-of-file.
#[test]
fn a_real_caller_gets_through() {
    let (live, done) = play_live(&["--listen", "127.0.0.1:0"]);
    let mut text = String::new();
    read_until(&live, &mut text, |t| {
        t.contains("nc 127.0.0.1 ") && t.contains("Ctrl-C")
    });
    let port: u16 = text
        .split("nc 127.0.0.1 ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{text}"));
    let caller = party::dial(&SockaddrIn::new(127, 0, 0, 1, port)).expect("the scene is listening");
    let me = kernel::own_number(&caller).expect("a connected phone has a number");
    let greeting = party::hear_line(&caller, 200, Duration::from_secs(5)).expect("read");
    assert!(
        String::from_utf8_lossy(&greeting).starts_with("hello?"),
        "{greeting:?}"
    );
    write(&caller, b"hi from the test \x07\n").expect("the line is open");
    let rest = party::hear(&caller, 1000, Duration::from_secs(5)).expect("read");
    assert_eq!(rest, b"goodbye!\n", "then end-of-file");
    let result = done
        .recv_timeout(Duration::from_secs(5))
        .expect("the scene ends");
    result.expect("the scene plays to the end");
    while let Ok(chunk) = live.try_recv() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    for needle in [
        "you asked for port 0, so the exchange picked port".to_string(),
        r#"says "hi from the test \u{7}""#.to_string(),
    ] {
        assert!(text.contains(&needle), "missing {needle:?}:\n{text}");
    }
    let caller_id = format!(") = {}", names::addr(&me));
    assert!(
        text.lines()
            .any(|l| l.contains("getpeername(fd ") && l.contains(&caller_id)),
        "caller ID should show {}:\n{text}",
        names::addr(&me)
    );
}

/// `--listen` on a number that is taken: one line with what to do.
#[test]
fn a_taken_number_is_one_line() {
    let (_taken, number) = party::switched_on_phone().expect("a loopback listener");
    let args = strings(&["--listen", &names::addr(&number)]);
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
    let err = result.expect_err("the number is taken");
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
    assert!(text.is_empty() && !line.contains('\n'), "{text}{line}");
    assert!(line.contains("use port 0"), "{line}");
}

/// `--listen nonsense` is a usage line, not a panic.
#[test]
fn nonsense_is_a_usage_line() {
    for bad in [
        &["--listen", "nonsense"][..],
        &["--listen"],
        &["--listen", "127.0.0.1:+80"],
        &["--to", "127.0.0.1:1"],
    ] {
        let (_, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &strings(bad)));
        let err = result.expect_err("nonsense is refused");
        assert!(
            matches!(&err, SceneError::Usage(l) if l.contains("--listen HOST:PORT") && !l.contains('\n')),
            "{err:?}"
        );
    }
}
