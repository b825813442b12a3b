//! Chapter 4: dial.
//!
//! `connect()` is dialling a number. The caller never calls `bind()`, yet
//! after the call goes through it has a number of its own: the kernel hands
//! it an ephemeral port from a pool (`/proc/sys/net/ipv4/ip_local_port_range`).
//! Dialling a number where no phone is switched on is refused at once
//! (`ECONNREFUSED`). Picking up the call is chapter 5 (`accept`).
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch04-dial`, or
//!   `-- --to HOST:PORT` to dial a real phone).
//! - [`check`] is the self-check (`cargo test -p ch04-dial`).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/04-dial/answer.rs")]
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
    fn dial(number: SockaddrIn) -> nix::Result<OwnedFd>;
}
