//! Chapter 1 (install a phone): solution, starter, wrong answers, transcript.

use ch01_install_phone::{chapter, check, scene};
use nix::sys::socket::{bind, socket, AddressFamily, SockFlag, SockProtocol, SockType, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};

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

/// Mistake: jumping ahead and binding inside install_phone().
#[test]
fn binding_too_early_is_caught() {
    fn numbered() -> nix::Result<OwnedFd> {
        let fd = dialtone_kit::party::new_phone()?;
        bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
        Ok(fd)
    }
    expect_mistake(check::run(&answer(numbered)), "ch01.already-bound");
}

/// Mistake: unwrap() on the kernel's answer; a panic is reported, not propagated.
#[test]
fn a_panic_is_reported_not_propagated() {
    fn unwraps() -> nix::Result<OwnedFd> {
        // The kernel says no (UDP is no stream protocol) and the learner unwrap()s it.
        let refused = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            SockProtocol::Udp,
        );
        Ok(refused.unwrap())
    }
    let f = expect_mistake(check::run(&answer(unwraps)), "panicked");
    assert!(f.got.contains("EPROTONOSUPPORT"), "{f}");
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
    let paragraph = err.to_string();
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
