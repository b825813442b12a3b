//! Chapter 1 (install a phone): solution, starter, wrong answers, transcript.

use ch01_install_phone::{chapter, check, scene};
use nix::sys::socket::{
    bind, connect, listen, socket, AddressFamily, Backlog, SockFlag, SockProtocol, SockType,
    SockaddrIn,
};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Mutex;

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/01-install-phone/answer.rs"]
mod solution;
#[path = "../../chapters/01-install-phone/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    install_phone: solution::install_phone,
};

fn answer(install_phone: fn() -> nix::Result<OwnedFd>) -> check::Answer {
    check::Answer { install_phone }
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
    expect_unfinished(check::run(&answer(starter::install_phone)), chapter());
}

/// Mistake: SOCK_DGRAM (postcards) instead of SOCK_STREAM.
#[test]
fn datagram_socket_is_caught() {
    let f = expect_mistake(check::run(&answer(datagram)), "ch01.datagram");
    assert!(f.got.contains("SOCK_DGRAM"), "{f}");
}

fn datagram() -> nix::Result<OwnedFd> {
    socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::empty(),
        None,
    )
}

fn ipv6() -> nix::Result<OwnedFd> {
    socket(
        AddressFamily::Inet6,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
}

/// Mistake: AF_INET6 (or AF_UNIX) instead of AF_INET.
#[test]
fn ipv6_socket_is_caught() {
    let f = expect_mistake(check::run(&answer(ipv6)), "ch01.not-ipv4");
    assert!(f.got.contains("AF_INET6"), "{f}");
}

/// Mistake: the in-building intercom (AF_UNIX) instead of AF_INET.
#[test]
fn unix_socket_is_caught() {
    fn intercom() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
    }
    let f = expect_mistake(check::run(&answer(intercom)), "ch01.not-ipv4");
    assert!(f.got.contains("AF_UNIX"), "{f}");
}

/// Mistake: SOCK_SEQPACKET ("a reliable sequence of packets" sounds like a
/// call), here on the intercom, where the kernel grants it: the type is
/// checked first, and named.
#[test]
fn a_packet_socket_is_the_wrong_type() {
    fn packets() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::empty(),
            None,
        )
    }
    let f = expect_mistake(check::run(&answer(packets)), "ch01.wrong-type");
    assert!(
        f.got.contains("SOCK_SEQPACKET") && f.syscall.contains("SOCK_SEQPACKET"),
        "{f}"
    );
}

/// Mistake: SOCK_NONBLOCK where the task says no flags: every later
/// accept() or read() on it would say EAGAIN instead of waiting.
#[test]
fn a_non_blocking_socket_is_caught() {
    fn hasty() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK,
            None,
        )
    }
    let f = expect_mistake(check::run(&answer(hasty)), "ch01.non-blocking");
    assert!(
        f.got.contains("O_NONBLOCK") && f.syscall.contains("EAGAIN"),
        "{f}"
    );
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(hasty), &[]));
    let line = result
        .expect_err("a non-blocking phone is not this scene's")
        .to_string();
    assert!(text.contains("F_GETFL) = O_RDWR|O_NONBLOCK"), "{text}");
    assert!(
        line.contains("O_NONBLOCK") && !line.contains('\n'),
        "{line}"
    );
}

/// Not a mistake: SOCK_CLOEXEC, what std::net asks for on every socket,
/// passes, and the check says close-on-exec is on.
#[test]
fn close_on_exec_passes_and_is_reported() {
    fn tidy() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
    }
    let passed = expect_pass(check::run(&answer(tidy)));
    assert!(
        passed.0.iter().any(|p| p.contains("close-on-exec is on")),
        "{:?}",
        passed.0
    );
    let plain = expect_pass(check::run(&SOLUTION));
    assert!(
        plain.0.iter().any(|p| p.contains("close-on-exec is off")),
        "{:?}",
        plain.0
    );
}

/// Mistake: jumping ahead and binding inside install_phone().
#[test]
fn binding_too_early_is_caught() {
    fn numbered() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        Ok(fd)
    }
    let f = expect_mistake(check::run(&answer(numbered)), "ch01.already-bound");
    assert!(
        f.got.contains("127.0.0.1:") && f.got.contains("bind()"),
        "{f}"
    );
}

/// Mistake: jumping two chapters ahead and switching the phone on (listen()
/// numbers it too, so the verdict must name listen(), not bind()).
#[test]
fn switching_on_too_early_is_caught() {
    fn switched_on() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        listen(&fd, Backlog::new(4)?)?;
        Ok(fd)
    }
    let f = expect_mistake(check::run(&answer(switched_on)), "ch01.switched-on");
    assert!(
        f.got.contains("SO_ACCEPTCONN = 1") && f.syscall.contains("listen()"),
        "{f}"
    );
}

/// The number the dialling wrong answer below calls: a listener this test holds.
static LISTENING: AtomicU16 = AtomicU16::new(0);

/// Mistake: jumping ahead to chapter 4 and dialling inside install_phone().
#[test]
fn dialling_too_early_is_caught() {
    fn dials() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        let port = LISTENING.load(Ordering::SeqCst);
        connect(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, port))?;
        Ok(fd)
    }
    let (listener, number) =
        dialtone_kit::party::switched_on_phone().expect("a loopback listener for the test");
    LISTENING.store(number.port(), Ordering::SeqCst);
    let f = expect_mistake(check::run(&answer(dials)), "ch01.on-a-call");
    assert!(
        f.got.contains("getpeername") && f.syscall.contains("connect()"),
        "{f}"
    );
    drop(listener);
}

/// The one phone the copying wrong answer below keeps; the test takes it
/// back afterwards, so no socket outlives the test.
static KEPT: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Mistake: one phone kept in a static and a copy (try_clone, a dup) handed
/// out on every call: new descriptor numbers, one kernel socket.
#[test]
fn a_copy_of_one_phone_is_caught() {
    fn shared() -> nix::Result<OwnedFd> {
        let mut kept = KEPT.lock().map_err(|_| nix::errno::Errno::EDEADLK)?;
        if kept.is_none() {
            *kept = Some(socket(
                AddressFamily::Inet,
                SockType::Stream,
                SockFlag::empty(),
                None,
            )?);
        }
        let phone = kept.as_ref().expect("set just above");
        phone.try_clone().map_err(|_| nix::errno::Errno::EMFILE)
    }
    let f = expect_mistake(check::run(&answer(shared)), "ch01.same-phone");
    assert!(f.got.contains("socket:[") && f.got.contains("dup"), "{f}");
    drop(KEPT.lock().expect("no test panics holding it").take());
}

/// Mistake: a descriptor that is no socket at all (a file is a descriptor too).
#[test]
fn a_file_is_not_a_phone() {
    fn a_file() -> nix::Result<OwnedFd> {
        std::fs::File::open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|_| nix::errno::Errno::ENOENT)
    }
    let f = expect_mistake(check::run(&answer(a_file)), "ch01.not-a-socket");
    assert!(f.got.contains("ENOTSOCK"), "{f}");
}

/// Mistake: a protocol that doesn't fit the type (UDP for a stream); the
/// kernel's Err is passed up as asked, and the verdict names the argument,
/// spelling out the socket() call, never a helper learners don't see.
#[test]
fn a_refused_socket_names_the_protocol() {
    fn udp_stream() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            SockProtocol::Udp,
        )
    }
    let f = expect_mistake(check::run(&answer(udp_stream)), "ch01.socket-error");
    assert!(f.got.contains("EPROTONOSUPPORT"), "{f}");
    assert!(
        f.syscall
            .contains("socket(AddressFamily::Inet, SockType::Stream")
            && f.syscall.contains("protocol doesn't fit"),
        "{f}"
    );
    assert!(!f.to_string().contains("dialtone_kit"), "{f}");
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    assert!(
        text.contains("SOCK_STREAM") && text.contains("0.0.0.0:0"),
        "{text}"
    );
    assert!(
        text.contains("no longer our socket"),
        "dropping the phone should close it:\n{text}"
    );
    crate::assert_transcript!("ch01-transcript", text);
}

/// The scene with the starter stops at install_phone() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &answer(starter::install_phone), &[])
    });
    let err = result.expect_err("the starter can't finish the scene");
    let paragraph = err.as_printed(80);
    assert!(
        !text.contains("install_phone() ="),
        "the scene should stop before the first call:\n{text}"
    );
    crate::assert_transcript!("ch01-starter", paragraph);
}

/// The scene with a datagram socket tells what the kernel read back
/// (SOCK_DGRAM), claims no stream, and stops with one line pointing at the check.
#[test]
fn datagram_scene_tells_the_truth_and_stops() {
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(datagram), &[]));
    let err = result.expect_err("a postcard box is not the phone this scene narrates");
    let line = err.to_string();
    assert!(text.contains("install_phone() = fd"), "{text}");
    assert!(text.contains("SO_TYPE) = SOCK_DGRAM"), "{text}");
    assert!(
        !text.contains("SOCK_STREAM") && !text.contains("a stream:"),
        "the transcript must not claim a stream:\n{text}"
    );
    assert!(
        !text.contains("no longer our socket"),
        "the scene should stop, not narrate on:\n{text}"
    );
    assert!(
        line.contains("SOCK_DGRAM") && line.contains("cargo run -- check 1"),
        "{line}"
    );
    assert!(!line.contains('\n'), "one line:\n{line}");
}

/// The scene with an IPv6 phone says so in the family's words; it doesn't
/// blame getsockname or claim IPv4.
#[test]
fn ipv6_scene_names_the_family_and_stops() {
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(ipv6), &[]));
    let err = result.expect_err("an IPv6 phone is not the phone this scene narrates");
    let line = err.to_string();
    assert!(text.contains("sa_family = AF_INET6"), "{text}");
    assert!(
        !text.contains("IPv4. ") && !text.contains("0.0.0.0"),
        "the transcript must not claim IPv4:\n{text}"
    );
    assert!(
        line.contains("AF_INET6") && line.contains("IPv6") && line.contains("cargo run -- check 1"),
        "{line}"
    );
    assert!(
        !line.contains("getsockname") && !line.contains("EAFNOSUPPORT"),
        "{line}"
    );
}
