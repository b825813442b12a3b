//! Chapter 2: get a number.
//!
//! `bind()` gives a socket its address: a telephone number made of an IP
//! address (which line) and a port (which phone on that line). This chapter
//! binds to the loopback line with port 0, so the kernel picks a free number,
//! and reads the choice back with `getsockname()`. It also shows the rule
//! behind "Address already in use": one number, one phone. Switching the phone
//! on so it can ring is chapter 3 (`listen`).
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch02-get-number`).
//! - [`check`] is the self-check (`cargo test -p ch02-get-number`).
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/02-get-number/answer.rs"
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
// `host_if_asked` and `self_check`.
use nix::sys::socket::SockaddrIn;
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn get_a_number(phone: &OwnedFd) -> nix::Result<SockaddrIn>;
}
