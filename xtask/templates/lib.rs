//! Chapter {{N}}: {{TITLE}}.
//!
//! The chapter starts with one small exercise, `get_a_phone()`: ask the
//! kernel for a new IPv4 stream socket. Its self-check asks the kernel
//! (getsockopt SO_TYPE, getsockname) what it really got.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p {{CRATE}}`).
//! - [`check`] is the self-check (`cargo test -p {{CRATE}}`).
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/{{ID}}/answer.rs"
)]
pub mod answer;
pub mod check;
pub mod scene;

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}

/// The answer this build was compiled with: the learner's, or the solution.
pub const ANSWER: check::Answer = check::Answer {
    get_a_phone: answer::get_a_phone,
};
