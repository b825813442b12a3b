//! Chapter 10: The intercom.
//!
//! The chapter starts with one small exercise, `get_a_phone()`: ask the
//! kernel for a new IPv4 stream socket. Its self-check asks the kernel
//! (getsockopt SO_TYPE, getsockname) what it really got.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch10-intercom`).
//! - [`check`] is the self-check (`cargo test -p ch10-intercom`).
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/10-intercom/answer.rs"
)]
pub mod answer;
pub mod check;
pub mod scene;

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}

// The learner's functions, declared once: `ANSWER` (as compiled), `PROXY`
// (the same calls, run in a process of their own for the self-check),
// `host_if_asked` and `self_check`. Add a line here for each new task.
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn get_a_phone() -> nix::Result<OwnedFd>;
}
