//! Chapter 3: turn the phone on.
//!
//! A socket with a number still refuses every call (`ECONNREFUSED`) until
//! `listen()` switches it on. From then on the kernel answers callers itself:
//! their `connect()` completes and the call waits in the phone's queue (the
//! backlog) until someone picks up. `getsockopt(SO_ACCEPTCONN)` shows the
//! switch. Picking up a waiting call is chapter 5 (`accept`); dialling,
//! chapter 4 (`connect`), is used here only as the test call.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch03-turn-on`).
//! - [`check`] is the self-check (`cargo test -p ch03-turn-on`).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/03-turn-on/answer.rs")]
pub mod answer;
pub mod check;
pub mod scene;

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
    fn open_for_calls() -> nix::Result<(OwnedFd, SockaddrIn)>;
}
