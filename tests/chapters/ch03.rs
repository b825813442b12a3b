//! Chapter 3 (turn the phone on): solution, starter, wrong answers, transcript.

use ch03_turn_on::{chapter, check, scene};
use nix::sys::socket::{
    accept, bind, getsockname, listen, setsockopt, socket, sockopt, AddressFamily, Backlog,
    SockFlag, SockType, SockaddrIn,
};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Mutex;

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/03-turn-on/answer.rs"]
mod solution;
#[path = "../../chapters/03-turn-on/src/answer.rs"]
mod starter;

type Phone = nix::Result<(OwnedFd, SockaddrIn)>;

const SOLUTION: check::Answer = check::Answer {
    open_for_calls: solution::open_for_calls,
};

fn answer(open_for_calls: fn() -> Phone) -> check::Answer {
    check::Answer { open_for_calls }
}

/// A new IPv4 phone of the given type, as a wrong answer would install it.
fn install(kind: SockType) -> nix::Result<OwnedFd> {
    socket(AddressFamily::Inet, kind, SockFlag::empty(), None)
}

/// The reference answer passes every step, including a real call.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 7, "{:?}", passed.0);
    assert!(
        passed
            .0
            .iter()
            .any(|p| p.contains("before anyone called accept()")),
        "{:?}",
        passed.0
    );
}

/// The starter, untouched, fails by pointing at its todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    expect_unfinished(check::run(&answer(starter::open_for_calls)), chapter());
}

/// Mistake: forgetting listen(): numbered, but switched off (callers get ECONNREFUSED).
#[test]
fn forgetting_listen_is_caught() {
    fn no_listen() -> Phone {
        let phone = install(SockType::Stream)?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(no_listen)), "ch03.switched-off");
    assert!(
        f.got.contains("SO_ACCEPTCONN = 0") && f.got.contains("ECONNREFUSED"),
        "{f}"
    );
}

fn everywhere() -> Phone {
    let phone = install(SockType::Stream)?;
    bind(phone.as_raw_fd(), &SockaddrIn::new(0, 0, 0, 0, 0))?;
    listen(&phone, Backlog::new(4)?)?;
    let number = getsockname(phone.as_raw_fd())?;
    Ok((phone, number))
}

/// Mistake: 0.0.0.0 (every line into the building) instead of loopback.
#[test]
fn all_interfaces_is_caught() {
    let f = expect_mistake(check::run(&answer(everywhere)), "ch03.all-lines");
    assert!(f.got.contains("0.0.0.0:"), "{f}");
}

/// Mistake: the machine's name's address (127.0.1.1 on Debian), not 127.0.0.1.
#[test]
fn another_loopback_address_is_caught() {
    fn hostname() -> Phone {
        let phone = install(SockType::Stream)?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 1, 1, 0))?;
        listen(&phone, Backlog::new(4)?)?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(hostname)), "ch03.wrong-line");
    assert!(f.got.contains("127.0.1.1:"), "{f}");
}

/// Mistake: skipping bind(): listen() then numbers the phone 0.0.0.0 itself.
#[test]
fn forgetting_bind_is_caught() {
    fn no_bind() -> Phone {
        let phone = install(SockType::Stream)?;
        listen(&phone, Backlog::new(4)?)?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    expect_mistake(check::run(&answer(no_bind)), "ch03.all-lines");
}

/// Mistake: returning the address asked for (port 0), not the one the kernel gave.
#[test]
fn the_wrong_number_is_caught() {
    fn asked_for() -> Phone {
        let wanted = SockaddrIn::new(127, 0, 0, 1, 0);
        let phone = install(SockType::Stream)?;
        bind(phone.as_raw_fd(), &wanted)?;
        listen(&phone, Backlog::new(4)?)?;
        Ok((phone, wanted))
    }
    let f = expect_mistake(check::run(&answer(asked_for)), "ch03.wrong-number");
    assert!(f.got.contains("127.0.0.1:0"), "{f}");
}

/// The port the hard-wiring wrong answer below got first, and asks for again.
static HARD_WIRED: AtomicU16 = AtomicU16::new(0);

/// Mistake: a fixed port (free the first time): the second phone is refused.
#[test]
fn the_same_port_every_time_is_caught() {
    fn hard_wired() -> Phone {
        let phone = install(SockType::Stream)?;
        let port = HARD_WIRED.load(Ordering::SeqCst);
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        listen(&phone, Backlog::new(4)?)?;
        let number: SockaddrIn = getsockname(phone.as_raw_fd())?;
        HARD_WIRED.store(number.port(), Ordering::SeqCst);
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(hard_wired)), "ch03.fixed-number");
    assert!(f.got.contains("EADDRINUSE"), "{f}");
}

/// Remembered by the SO_REUSEPORT variant below.
static SHARED: AtomicU16 = AtomicU16::new(0);

/// Mistake: the same fixed port with SO_REUSEPORT, which lets two switched-on
/// phones share it: no EADDRINUSE, but the same number twice.
#[test]
fn a_shared_fixed_port_is_caught() {
    fn shared() -> Phone {
        let phone = install(SockType::Stream)?;
        setsockopt(&phone, sockopt::ReusePort, &true)?;
        let port = SHARED.load(Ordering::SeqCst);
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        listen(&phone, Backlog::new(4)?)?;
        let number: SockaddrIn = getsockname(phone.as_raw_fd())?;
        SHARED.store(number.port(), Ordering::SeqCst);
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(shared)), "ch03.fixed-number");
    assert!(f.got.contains("both phones got"), "{f}");
}

/// Mistake: a datagram socket; listen() refuses it with EOPNOTSUPP.
#[test]
fn a_datagram_socket_is_caught() {
    fn postcards() -> Phone {
        let phone = install(SockType::Datagram)?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        listen(&phone, Backlog::new(4)?)?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(postcards)), "ch03.postcards");
    assert!(f.got.contains("EOPNOTSUPP"), "{f}");
}

/// Mistake: a datagram socket with no listen() at all: SO_TYPE gives it away.
#[test]
fn a_datagram_socket_without_listen_is_caught() {
    fn quiet_postcards() -> Phone {
        let phone = install(SockType::Datagram)?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(quiet_postcards)), "ch03.postcards");
    assert!(f.got.contains("SOCK_DGRAM"), "{f}");
}

/// Mistake: listen() with a backlog of 0: the first caller waits, the second rings out.
#[test]
fn a_queue_of_one_is_caught() {
    fn tiny_queue() -> Phone {
        let phone = install(SockType::Stream)?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        listen(&phone, Backlog::new(0)?)?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(tiny_queue)), "ch03.queue-too-small");
    // What the kernel said, as strace shows it: a blocking connect() whose
    // SO_SNDTIMEO runs out fails with EINPROGRESS on Linux, not ETIMEDOUT.
    assert!(
        f.got.contains("EINPROGRESS") && !f.got.contains("ETIMEDOUT"),
        "{f}"
    );
    // The scene, too, stops at the second caller with one line, not a hang.
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(tiny_queue), &[]));
    let err = result.expect_err("the second caller can't get through");
    let line = err.to_string();
    assert!(
        line.contains("EINPROGRESS") && line.contains("backlog") && !line.contains('\n'),
        "{line}"
    );
    assert!(text.contains("a caller dials"), "{text}");
}

/// Mistake: SOCK_NONBLOCK. Calls still queue, but chapter 5's accept() on
/// this phone would say EAGAIN instead of waiting: the flag is checked.
#[test]
fn a_non_blocking_phone_is_caught() {
    fn hasty() -> Phone {
        let phone = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        listen(&phone, Backlog::new(4)?)?;
        let number = getsockname(phone.as_raw_fd())?;
        Ok((phone, number))
    }
    let f = expect_mistake(check::run(&answer(hasty)), "ch03.non-blocking");
    assert!(
        f.got.contains("O_NONBLOCK") && f.syscall.contains("EAGAIN"),
        "{f}"
    );
}

/// The one listening phone the copying wrong answer below keeps; the test
/// takes it back afterwards, so no socket outlives the test.
static KEPT: Mutex<Option<(OwnedFd, SockaddrIn)>> = Mutex::new(None);

/// Mistake: one listening phone kept in a static, and a copy handed out on
/// every call: a second "phone" at the same number, one kernel socket.
#[test]
fn a_copy_of_one_phone_is_caught() {
    fn shared() -> Phone {
        let mut kept = KEPT.lock().map_err(|_| nix::errno::Errno::EDEADLK)?;
        if kept.is_none() {
            let phone = install(SockType::Stream)?;
            bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
            listen(&phone, Backlog::new(4)?)?;
            let number = getsockname(phone.as_raw_fd())?;
            *kept = Some((phone, number));
        }
        let (phone, number) = kept.as_ref().expect("set just above");
        let copy = phone.try_clone().map_err(|_| nix::errno::Errno::EMFILE)?;
        Ok((copy, *number))
    }
    let f = expect_mistake(check::run(&answer(shared)), "ch03.same-phone");
    assert!(f.got.contains("socket:[") && f.got.contains("dup"), "{f}");
    drop(KEPT.lock().expect("no test panics holding it").take());
}

/// The number the picking-up wrong answer below waits on, so the test can
/// ring it afterwards and let its stuck thread finish (no leaked socket).
static WAITING_AT: AtomicU16 = AtomicU16::new(0);

/// Mistake: jumping ahead to chapter 5 and calling accept() inside
/// open_for_calls(): it waits for a caller nobody can send, and the verdict
/// names that likely cause within the chapter's time.
#[test]
fn picking_up_too_early_is_caught() {
    fn picks_up() -> Phone {
        let phone = install(SockType::Stream)?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        listen(&phone, Backlog::new(4)?)?;
        let number: SockaddrIn = getsockname(phone.as_raw_fd())?;
        WAITING_AT.store(number.port(), Ordering::SeqCst);
        let line = accept(&phone)?;
        drop(line);
        Ok((phone, number))
    }
    let start = std::time::Instant::now();
    let f = expect_mistake(check::run(&answer(picks_up)), "ch03.never-returned");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(
        f.syscall.contains("accept()") && f.syscall.contains("chapter 5"),
        "{f}"
    );
    // Ring the stuck accept() so its thread returns and closes its sockets.
    let port = WAITING_AT.load(Ordering::SeqCst);
    let _release = check::dial(&SockaddrIn::new(127, 0, 0, 1, port), check::RING_OUT);
}

/// The dial helper the check relies on really reports a refusal and a
/// completed call, so "it rang" can't be a helper that always says yes.
#[test]
fn dial_tells_refused_from_connected() {
    let phone = install(SockType::Stream).expect("a test can install a phone");
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).expect("port 0 is always free");
    let number: SockaddrIn =
        getsockname(phone.as_raw_fd()).expect("a bound IPv4 socket has an IPv4 name");
    let timeout = std::time::Duration::from_secs(2);
    assert_eq!(
        check::dial(&number, timeout).err(),
        Some(nix::errno::Errno::ECONNREFUSED)
    );
    listen(&phone, Backlog::new(1).expect("1 is a valid backlog"))
        .expect("a bound stream socket can listen");
    assert!(check::dial(&number, timeout).is_ok());
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "SO_ACCEPTCONN) = 0",
        "ECONNREFUSED (Connection refused)",
        "SO_ACCEPTCONN) = 1",
        "nobody has called accept(), yet connect() returned 0",
        "SOMAXCONN",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let through = text
        .lines()
        .filter(|l| l.contains("connect(fd") && l.ends_with(") = 0"))
        .count();
    assert_eq!(through, 2, "two calls on hold:\n{text}");
    crate::assert_transcript!("ch03-transcript", text);
}

/// The scene with a 0.0.0.0 phone shows what getsockname said and stops:
/// after the learner's call, nothing claims a loopback bind.
#[test]
fn all_interfaces_scene_tells_the_truth_and_stops() {
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(everywhere), &[]));
    let err = result.expect_err("a 0.0.0.0 phone is not the one this scene narrates");
    let line = err.to_string();
    // Before the learner's call, the scene's own switched-off phone is on
    // 127.0.0.1 (the scene bound it); from the call on, only the learner's.
    let (_, after) = text
        .split_once("open_for_calls() =")
        .unwrap_or_else(|| panic!("the learner's call should be shown:\n{text}"));
    assert!(
        after.contains("getsockname(fd") && after.contains("= 0.0.0.0:"),
        "{text}"
    );
    assert!(
        !after.contains("127.0.0.1"),
        "after open_for_calls(), the transcript must not claim the loopback line:\n{text}"
    );
    assert!(
        !text.contains("a caller dials"),
        "the scene should stop, not narrate on:\n{text}"
    );
    assert!(
        line.contains("0.0.0.0") && line.contains("cargo run -- check 3") && !line.contains('\n'),
        "{line}"
    );
}

/// The scene with the starter stops at open_for_calls() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &answer(starter::open_for_calls), &[])
    });
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        !text.contains("open_for_calls() ="),
        "the scene should stop at the learner's call:\n{text}"
    );
    crate::assert_transcript!("ch03-starter", err.as_printed(80));
}

/// A stray argument is a usage error (one line), not a scene.
#[test]
fn a_stray_argument_is_a_usage_line() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &SOLUTION, &["now".to_string()])
    });
    let err = result.expect_err("chapter 3 takes no arguments");
    assert!(
        matches!(err, dialtone_kit::scene::SceneError::Usage(ref l) if !l.contains('\n') && l.contains("Usage")),
        "{err}"
    );
    assert!(text.is_empty(), "nothing should play:\n{text}");
}
