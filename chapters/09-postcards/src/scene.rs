//! The scene of chapter 9, narrated line by line.
//!
//! You get a phone with the learner's `get_a_phone()`, ask the kernel what
//! kind of line it is, and hang it up.

use crate::check::Answer;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, kernel, learner_call, names};
use nix::sys::socket::SockType;
use std::os::fd::AsRawFd;

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    args::none(s.chapter, args)?;
    s.title("You need a phone of your own before anyone can ring you.")?;

    // ANCHOR: get
    let phone = learner_call!(s.chapter, answer.get_a_phone())?.map_err(sys(
        "get_a_phone()",
        "Check the arguments you pass to socket().",
    ))?;
    let fd = phone.as_raw_fd();
    // ANCHOR_END: get
    s.step(Who::You, "get a phone", &format!("get_a_phone() = fd {fd}"))?;

    // ANCHOR: ask
    let kind = kernel::line_kind(&phone).map_err(sys("getsockopt(SO_TYPE)", "Is it a socket?"))?;
    // ANCHOR_END: ask
    s.step(
        Who::You,
        "ask the exchange what kind of line this is",
        &format!(
            "getsockopt(fd {fd}, SOL_SOCKET, SO_TYPE) = {}",
            names::sock_type(kind)
        ),
    )?;
    if kind != SockType::Stream {
        // Say what the kernel read back and stop: the self-check names the fix.
        return Err(SceneError::Unexpected(format!(
            "SO_TYPE says {}, not the stream line (SOCK_STREAM) this chapter asks for. `cargo run -- check 9` explains what to change.",
            names::sock_type(kind)
        )));
    }
    s.note("a stream: a two-way conversation, bytes arrive in order or not at all")?;
    s.pause()?;

    drop(phone); // OwnedFd's Drop calls close(fd): the phone comes off the wall.
    s.step(
        Who::You,
        "hang the phone up",
        &format!("close(fd {fd}), when the OwnedFd is dropped"),
    )?;
    s.pause()?;
    s.moral()?;
    Ok(())
}
