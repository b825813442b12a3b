//! Chapter 11 (International calls): solution, starter, wrong answers, transcript.

use ch11_international_calls::{chapter, check, scene};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use std::os::fd::OwnedFd;

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/11-international-calls/answer.rs"]
mod solution;
#[path = "../../chapters/11-international-calls/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    get_a_phone: solution::get_a_phone,
};

fn answer(get_a_phone: fn() -> nix::Result<OwnedFd>) -> check::Answer {
    check::Answer { get_a_phone }
}

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 3, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    expect_unfinished(check::run(&answer(starter::get_a_phone)), chapter());
}

fn datagram() -> nix::Result<OwnedFd> {
    socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::empty(),
        None,
    )
}

/// Mistake: SOCK_DGRAM (postcards) instead of SOCK_STREAM.
#[test]
fn datagram_socket_is_caught() {
    let f = expect_mistake(check::run(&answer(datagram)), "ch11.wrong-type");
    assert!(f.got.contains("SOCK_DGRAM"), "{f}");
}

/// Mistake: AF_INET6 instead of AF_INET.
#[test]
fn ipv6_socket_is_caught() {
    fn ipv6() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Inet6,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
    }
    let f = expect_mistake(check::run(&answer(ipv6)), "ch11.not-ipv4");
    assert!(f.got.contains("AF_INET6"), "{f}");
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    assert!(text.contains("SO_TYPE) = SOCK_STREAM"), "{text}");
    crate::assert_transcript!("ch11-transcript", text);
}

/// The scene with the starter stops at get_a_phone() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| {
        scene::play(s, &answer(starter::get_a_phone), &[])
    });
    let err = result.expect_err("the starter can't finish the scene");
    assert!(!text.contains("get_a_phone() ="), "{text}");
    crate::assert_transcript!("ch11-starter", err.to_string());
}

/// The scene with a datagram socket says what the kernel read back and stops.
#[test]
fn datagram_scene_tells_the_truth_and_stops() {
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(datagram), &[]));
    let line = result
        .expect_err("a postcard box is not this scene's phone")
        .to_string();
    assert!(text.contains("SO_TYPE) = SOCK_DGRAM"), "{text}");
    assert!(
        line.contains("cargo run -- check 11") && !line.contains('\n'),
        "{line}"
    );
}
