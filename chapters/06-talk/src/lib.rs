//! Chapter 6: talk.
//!
//! Once a call is connected, both phones `write` bytes and `read` bytes. The
//! catch this chapter is about: a stream socket carries bytes, not messages.
//! Two `write`s can arrive in one `read`, and one `write` in several, so a
//! conversation needs framing (a newline at the end of each line, or a length
//! in front of each frame), and a writer must say all of a buffer even when
//! `write` takes only part of it. `send`/`recv` are `write`/`read` with flags:
//! the scene shows `MSG_PEEK` and `MSG_WAITALL`. Hanging up (`close`,
//! `shutdown`, end-of-file, `EPIPE`) is chapter 7.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch06-talk`).
//! - [`check`] is the self-check (`cargo test -p ch06-talk`).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/06-talk/answer.rs")]
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
use check::Heard;
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn send_all(line: &OwnedFd, words: &[u8]) -> nix::Result<()>;
    fn read_line(line: &OwnedFd, pending: &mut Vec<u8>) -> Heard;
    fn write_frame(line: &OwnedFd, message: &[u8]) -> nix::Result<()>;
    fn read_frame(line: &OwnedFd) -> Heard;
}
