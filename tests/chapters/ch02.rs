//! Chapter 2 (get a number): solution, starter, wrong answers, transcript.

use ch02_get_number::{chapter, check, scene};
use nix::sys::socket::{
    bind, connect, getpeername, getsockname, listen, setsockopt, sockopt, Backlog, SockaddrIn,
};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/02-get-number/answer.rs"]
mod solution;
#[path = "../../chapters/02-get-number/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    get_a_number: solution::get_a_number,
};

fn answer(get_a_number: fn(&OwnedFd) -> nix::Result<SockaddrIn>) -> check::Answer {
    check::Answer { get_a_number }
}

/// A loopback socket holding a kernel-chosen port, so a wrong answer can
/// collide with a number that is certainly taken (never a guessed fixed port).
fn occupy() -> (OwnedFd, u16) {
    let holder = dialtone_kit::party::new_phone().expect("a test can install a phone");
    bind(holder.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).expect("port 0 is always free");
    let port = getsockname::<SockaddrIn>(holder.as_raw_fd())
        .expect("a bound IPv4 socket has an IPv4 name")
        .port();
    (holder, port)
}

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 4, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    expect_unfinished(check::run(&answer(starter::get_a_number)), chapter());
}

fn everywhere(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
    bind(phone.as_raw_fd(), &SockaddrIn::new(0, 0, 0, 0, 0))?;
    getsockname(phone.as_raw_fd())
}

/// Mistake: 0.0.0.0 (every line into the building) instead of loopback.
#[test]
fn all_interfaces_is_caught() {
    let f = expect_mistake(check::run(&answer(everywhere)), "ch02.all-lines");
    assert!(f.got.contains("0.0.0.0:"), "{f}");
}

/// The port a fixed-port wrong answer asks for; set by the test to a port it holds.
static TAKEN_PORT: AtomicU16 = AtomicU16::new(0);

/// Mistake: a fixed port (think 5000) that another program already has.
#[test]
fn a_fixed_port_that_is_taken_is_caught() {
    fn fixed(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        let port = TAKEN_PORT.load(Ordering::SeqCst);
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        getsockname(phone.as_raw_fd())
    }
    let (holder, port) = occupy();
    TAKEN_PORT.store(port, Ordering::SeqCst);
    let f = expect_mistake(check::run(&answer(fixed)), "ch02.fixed-number");
    assert!(
        f.got.contains("EADDRINUSE") && f.headline.contains("already has"),
        "{f}"
    );
    drop(holder);
}

/// The number a hard-wiring wrong answer got first, and then asks for again.
static HARD_WIRED: AtomicU16 = AtomicU16::new(0);

/// Mistake: a fixed port that happens to be free: the first phone gets it,
/// the second is refused. Only the two-phones check can see this one.
#[test]
fn the_same_port_every_time_is_caught() {
    fn hard_wired(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        let port = HARD_WIRED.load(Ordering::SeqCst);
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        let number: SockaddrIn = getsockname(phone.as_raw_fd())?;
        HARD_WIRED.store(number.port(), Ordering::SeqCst);
        Ok(number)
    }
    let f = expect_mistake(check::run(&answer(hard_wired)), "ch02.fixed-number");
    assert!(
        f.got.contains("EADDRINUSE") && f.got.contains("second phone"),
        "{f}"
    );
}

/// Remembered by the SO_REUSEADDR variant below.
static SHARED: AtomicU16 = AtomicU16::new(0);

/// Mistake: the same fixed port with SO_REUSEADDR, which lets two phones
/// that aren't switched on share it: no EADDRINUSE, but the same number twice.
#[test]
fn a_shared_fixed_port_is_caught() {
    fn shared(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        setsockopt(phone, sockopt::ReuseAddr, &true)?;
        let port = SHARED.load(Ordering::SeqCst);
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        let number: SockaddrIn = getsockname(phone.as_raw_fd())?;
        SHARED.store(number.port(), Ordering::SeqCst);
        Ok(number)
    }
    let f = expect_mistake(check::run(&answer(shared)), "ch02.fixed-number");
    assert!(f.got.contains("both phones got"), "{f}");
}

/// Mistake: returning the address asked for (port 0) instead of asking getsockname.
#[test]
fn a_made_up_number_is_caught() {
    fn made_up(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        let wanted = SockaddrIn::new(127, 0, 0, 1, 0);
        bind(phone.as_raw_fd(), &wanted)?;
        Ok(wanted)
    }
    let f = expect_mistake(check::run(&answer(made_up)), "ch02.made-up-number");
    assert!(
        f.got.contains("127.0.0.1:0") && f.got.contains("what you asked bind() for"),
        "{f}"
    );
}

/// Mistake: a C habit, converting the port to network byte order (htons)
/// though nix's SockaddrIn already takes and gives host order.
#[test]
fn a_byte_swapped_port_is_caught() {
    fn network_order(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        let number: SockaddrIn = getsockname(phone.as_raw_fd())?;
        Ok(SockaddrIn::new(127, 0, 0, 1, number.port().to_be()))
    }
    if cfg!(target_endian = "big") {
        return; // to_be() changes nothing there: the answer is right
    }
    let f = expect_mistake(check::run(&answer(network_order)), "ch02.made-up-number");
    assert!(f.got.contains("byte order"), "{f}");
}

/// Mistake: no bind() at all, or a bind() on a socket of one's own.
#[test]
fn no_bind_is_caught() {
    fn no_bind(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        getsockname(phone.as_raw_fd())
    }
    fn own_socket(_phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mine = dialtone_kit::party::new_phone()?;
        bind(mine.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        getsockname(mine.as_raw_fd())
    }
    for wrong in [no_bind, own_socket] {
        let f = expect_mistake(check::run(&answer(wrong)), "ch02.unnumbered");
        assert!(f.got.contains("0.0.0.0:0"), "{f}");
    }
}

/// Mistake: an address that isn't this machine's (a documentation-only network).
#[test]
fn a_foreign_address_is_caught() {
    fn foreign(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(192, 0, 2, 1, 0))?;
        getsockname(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(foreign)), "ch02.wrong-line");
    assert!(f.got.contains("EADDRNOTAVAIL"), "{f}");
}

/// Mistake: binding the phone twice (the second bind() is refused).
#[test]
fn binding_twice_is_caught() {
    fn twice(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        getsockname(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(twice)), "ch02.numbered-twice");
    assert!(f.got.contains("EINVAL"), "{f}");
}

/// Mistake: a well-known port below 1024. As an ordinary user bind() says
/// EACCES; as root (or with ip_unprivileged_port_start lowered, as in many
/// containers) it is granted, and the check still names it and says why.
#[test]
fn a_reserved_port_is_caught() {
    fn reserved(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 7))?;
        getsockname(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(reserved)), "ch02.reserved-number");
    assert!(
        f.got.contains("EACCES") || f.got.contains("granted port 7"),
        "{f}"
    );
    assert!(
        f.got.contains("CAP_NET_BIND_SERVICE") || f.got.contains("ip_unprivileged_port_start"),
        "{f}"
    );
}

/// Mistake: switching the phone on too (chapter 3's listen()) after bind().
#[test]
fn switching_on_too_early_is_caught() {
    fn switched_on(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        listen(phone, Backlog::new(4)?)?;
        getsockname(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(switched_on)), "ch02.switched-on");
    assert!(
        f.got.contains("SO_ACCEPTCONN = 1") && f.syscall.contains("listen()"),
        "{f}"
    );
}

/// Mistake: connect() where bind() was meant (both take a SockaddrIn). The
/// kernel refuses a call to port 0, and the verdict names the mix-up.
#[test]
fn connect_instead_of_bind_is_caught() {
    fn dials(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        connect(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        getsockname(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(dials)), "ch02.dialled");
    assert!(
        f.got.contains("ECONNREFUSED") && f.syscall.contains("not connect()"),
        "{f}"
    );
}

/// The number the dialling wrong answer below calls: a listener the test holds.
static LISTENING: AtomicU16 = AtomicU16::new(0);

/// Mistake: connect() to a number that answers: the phone ends up numbered
/// on 127.0.0.1, but on a call, which only getpeername shows.
#[test]
fn a_call_that_gets_through_is_caught() {
    fn dials(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        let port = LISTENING.load(Ordering::SeqCst);
        connect(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        getsockname(phone.as_raw_fd())
    }
    let (listener, number) =
        dialtone_kit::party::switched_on_phone().expect("a loopback listener for the test");
    LISTENING.store(number.port(), Ordering::SeqCst);
    let f = expect_mistake(check::run(&answer(dials)), "ch02.dialled");
    assert!(f.got.contains("getpeername = 127.0.0.1:"), "{f}");
    drop(listener);
}

/// Mistake: getpeername() (the other end's number) instead of getsockname().
#[test]
fn caller_id_instead_of_own_number_is_caught() {
    fn peer(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        getpeername(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(peer)), "ch02.caller-id");
    assert!(
        f.got.contains("ENOTCONN") && f.syscall.contains("getsockname"),
        "{f}"
    );
}

/// Mistake: the machine's name's address (127.0.1.1 on Debian) instead of
/// 127.0.0.1: it binds, but it is not the course's loopback line.
#[test]
fn another_loopback_address_is_caught() {
    fn hostname(phone: &OwnedFd) -> nix::Result<SockaddrIn> {
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 1, 1, 0))?;
        getsockname(phone.as_raw_fd())
    }
    let f = expect_mistake(check::run(&answer(hostname)), "ch02.wrong-line");
    assert!(f.got.contains("127.0.1.1:"), "{f}");
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "getsockname(fd",
        "= 0.0.0.0:0",
        "SO_REUSEADDR) = 0",
        "= EADDRINUSE",
        "a different number from yours",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // TIME_WAIT, as /proc/net/tcp shows it: the shop that hung up first
    // waits, the caller is gone; SO_REUSEADDR on the new phone alone is
    // refused, on both phones it is granted.
    assert_eq!(text.matches(" TIME_WAIT\n").count(), 2, "{text}");
    assert_eq!(text.matches(" gone\n").count(), 2, "{text}");
    let binds: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("a shop opens"))
        .filter(|l| l.contains("⚙ bind("))
        .collect();
    assert_eq!(binds.len(), 2, "{text}");
    assert!(binds[0].ends_with("= EADDRINUSE"), "{text}");
    assert!(binds[1].ends_with(") = 0"), "{text}");
    crate::assert_transcript!("ch02-transcript", text);
}

/// The scene with a 0.0.0.0 bind shows what the kernel said (0.0.0.0), never
/// claims a loopback bind, and stops with one line pointing at the check.
#[test]
fn all_interfaces_scene_tells_the_truth_and_stops() {
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(everywhere), &[]));
    let err = result.expect_err("a 0.0.0.0 number is not the one this scene narrates");
    let line = err.to_string();
    assert!(text.contains("get_a_number(fd"), "{text}");
    assert!(
        text.contains("getsockname(fd") && text.contains("= 0.0.0.0:"),
        "{text}"
    );
    assert!(
        !text.contains("127.0.0.1"),
        "the transcript must not claim the loopback line:\n{text}"
    );
    assert!(
        !text.contains("EADDRINUSE"),
        "the scene should stop, not narrate on:\n{text}"
    );
    assert!(
        line.contains("0.0.0.0") && line.contains("cargo run -- check 2") && !line.contains('\n'),
        "{line}"
    );
}

/// The scene with the starter stops at get_a_number() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &answer(starter::get_a_number), &[])
    });
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        !text.contains("get_a_number(fd"),
        "the scene should stop at the learner's first call:\n{text}"
    );
    crate::assert_transcript!("ch02-starter", err.as_printed(80));
}

/// A stray argument is a usage error (one line), not a scene.
#[test]
fn a_stray_argument_is_a_usage_line() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &SOLUTION, &["--to".to_string()])
    });
    let err = result.expect_err("chapter 2 takes no arguments");
    assert!(
        matches!(err, dialtone_kit::scene::SceneError::Usage(ref l) if !l.contains('\n') && l.contains("Usage")),
        "{err}"
    );
    assert!(text.is_empty(), "nothing should play:\n{text}");
}
