//! The integrity suite, chapter by chapter (`cargo test` at the root).
//!
//! For every chapter it proves: the reference answer passes the chapter's
//! self-check; the untouched starter fails with its own hint; plausible wrong
//! answers each fail with the message meant for that mistake; and the scene's
//! transcript, played with the reference answer, matches its snapshot (the
//! very text the book page shows). And every chapter binary, run for real,
//! answers `--help` and refuses a bad argument in one line (`cli`).
//!
//! Answers are compiled in from their files with `#[path]`, so the solution,
//! the starter and the wrong answers all run through the same check code.
#![forbid(unsafe_code)]

#[path = "chapters/support.rs"]
mod support;

#[path = "chapters/ch01.rs"]
mod ch01;

#[path = "chapters/ch02.rs"]
mod ch02;

#[path = "chapters/ch03.rs"]
mod ch03;

#[path = "chapters/ch04.rs"]
mod ch04;

#[path = "chapters/ch05.rs"]
mod ch05;

#[path = "chapters/ch06.rs"]
mod ch06;

#[path = "chapters/ch07.rs"]
mod ch07;

#[path = "chapters/ch08.rs"]
mod ch08;

#[path = "chapters/ch09.rs"]
mod ch09;

#[path = "chapters/ch10.rs"]
mod ch10;

#[path = "chapters/ch11.rs"]
mod ch11;

#[path = "chapters/cli.rs"]
mod cli;
