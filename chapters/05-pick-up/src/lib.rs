//! Chapter 5: pick up.
//!
//! `accept()` is picking up a ringing phone. It returns a NEW descriptor for
//! this one conversation, while the listening phone stays on the wall,
//! ringing for the next caller. `getpeername()` on the new line is caller ID.
//! With nobody calling, `accept()` blocks: waiting by the telephone. The
//! first words go both ways with `write()`/`read()`, and when one side hangs
//! up the other reads end-of-file. Talking properly is chapter 6.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch05-pick-up`, or
//!   `-- --listen HOST:PORT` to wait for a real caller).
//! - [`check`] is the self-check (`cargo test -p ch05-pick-up`).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/05-pick-up/answer.rs")]
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
    fn pick_up(phone: &OwnedFd) -> nix::Result<(OwnedFd, SockaddrIn)>;
}
