//! Chapter 7: hang up.
//!
//! How a call ends is part of the conversation. When the other side closes,
//! your `read` returns 0: end of file, the dial tone. `shutdown(Write)` says
//! "I'm done talking" while you keep listening (a half-close), so the other
//! side can tell your question is complete and still answer it. Talking into
//! a line the other side has hung up is not refused at once: the first write
//! after their close usually succeeds (your kernel only knows they stopped
//! talking), and the ones after it fail with `EPIPE`, or first with
//! `ECONNRESET` if they reset the call (Rust ignores `SIGPIPE`;
//! `MSG_NOSIGNAL` makes that explicit per call). And a handset
//! left off the hook (a leaked or duplicated descriptor) keeps the line busy:
//! the other side never hears the dial tone. Chapter 8 puts it all together
//! in a service real clients can call.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch07-hang-up`).
//! - [`check`] is the self-check (`cargo test -p ch07-hang-up`).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/07-hang-up/answer.rs")]
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
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn hear_out(line: &OwnedFd) -> nix::Result<Vec<u8>>;
    fn ask_and_hear_back(line: OwnedFd, question: &[u8]) -> nix::Result<Vec<u8>>;
}
