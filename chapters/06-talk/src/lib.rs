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

/// The answer this build was compiled with: the learner's, or the solution.
pub const ANSWER: check::Answer = check::Answer {
    send_all: answer::send_all,
    read_line: answer::read_line,
    write_frame: answer::write_frame,
    read_frame: answer::read_frame,
};
