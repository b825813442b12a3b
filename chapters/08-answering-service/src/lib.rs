//! Chapter 8: an answering service.
//!
//! Everything from Part I and the conversation so far comes together: a phone
//! that picks up one caller after another, greets each (the way a daytime
//! server, RFC 867, speaks first) and says back every byte it hears (the echo
//! service, RFC 862), until the caller hangs up. Real clients nobody here
//! wrote (`nc`, `socat`, Python) can call it with `--listen`.
//!
//! It answers one caller at a time: while one talks, the next waits in the
//! backlog. Many callers at once is Part IV (threads, then `poll`).
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch08-answering-service`),
//!   or runs the service for real callers (`-- --listen 127.0.0.1:0`).
//! - [`check`] is the self-check (`cargo test -p ch08-answering-service`).
//! - [`caller`] and [`service`] are the plumbing both share.
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/08-answering-service/answer.rs"
)]
pub mod answer;
pub mod caller;
pub mod check;
pub mod scene;
pub mod service;

/// What the service says the moment it picks up. A daytime server would say
/// the date and time; this one says who answered, so every transcript is the
/// same on every run.
pub const GREETING: &str = "Dial Tone answering service: say anything, I'll say it back.";

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}

// The learner's functions, declared once: `ANSWER` (as compiled), `PROXY`
// (the same calls, run in a process of their own for the self-check),
// `host_if_asked` and `self_check`.
use check::Log;
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn send_all(line: &OwnedFd, words: &[u8]) -> nix::Result<()>;
    fn answer_one_call(line: OwnedFd, greeting: &str) -> nix::Result<u64>;
    fn serve(phone: &OwnedFd, calls: usize, greeting: &str, log: Log) -> nix::Result<()>;
}
