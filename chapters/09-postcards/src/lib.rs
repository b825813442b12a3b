//! Chapter 9: postcards.
//!
//! Part III opens with the other kind of line: a datagram socket
//! (`SOCK_DGRAM`, UDP on IPv4) carries postcards, not a call. There is no
//! `listen` and no `accept`: a numbered postbox takes cards from anyone,
//! and `recvfrom` says who wrote each one, so the reply goes back to that
//! sender. Each card arrives whole or not at all (three sends are three
//! receives, unlike chapter 6's stream), a card bigger than the buffer is
//! cut, nobody refuses a card unless the postbox is `connect`ed, and cards
//! get lost: the learner's client waits a bounded time and asks again.
//!
//! The intercom (Unix domain sockets, chapter 10) and IPv6 (chapter 11)
//! come next; many senders at once is Part IV.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch09-postcards`), or
//!   runs a postcard service for real senders (`-- --listen`).
//! - [`check`] is the self-check (`cargo test -p ch09-postcards`).
//! - [`service`] is the postcard service both the scene and the benchmark use.
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/09-postcards/answer.rs"
)]
pub mod answer;
pub mod check;
pub mod scene;
pub mod service;

use std::time::Duration;

/// The biggest card anyone sends in this chapter (the learner's file says
/// the same: the check and the scene keep to it).
pub const CARD_MAX: usize = 4096;
/// How many times `ask()` posts its question before it gives up.
pub const TRIES: usize = 3;
/// How long `ask()` waits for the reply to each try.
pub const WAIT: Duration = Duration::from_millis(250);

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}

// The learner's functions, declared once: `ANSWER` (as compiled), `PROXY`
// (the same calls, run in a process of their own for the self-check),
// `host_if_asked` and `self_check`.
use nix::sys::socket::SockaddrIn;
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn open_postbox() -> nix::Result<OwnedFd>;
    fn answer_one_card(postbox: &OwnedFd) -> nix::Result<SockaddrIn>;
    fn ask(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>>;
    fn read_card(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)>;
}
