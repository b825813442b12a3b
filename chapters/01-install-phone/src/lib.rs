//! Chapter 1: install a phone.
//!
//! `socket()` is installing a telephone: the kernel hands back a file
//! descriptor, a small number naming the new phone. This chapter asks the
//! kernel what it installed (the type and the family) and shows that the phone
//! has no number yet. Getting a number is chapter 2 (`bind`).
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch01-install-phone`).
//! - [`check`] is the self-check (`cargo test -p ch01-install-phone`).
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/01-install-phone/answer.rs"
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
use std::os::fd::OwnedFd;
dialtone_kit::tasks! {
    fn install_phone() -> nix::Result<OwnedFd>;
}
