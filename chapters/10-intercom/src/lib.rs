//! Chapter 10: The intercom.
//!
//! A phone that only rings inside this building: an `AF_UNIX` socket, whose
//! number is a path in the filesystem (or, on Linux only, a name in the
//! abstract namespace). The learner puts one on the wall safely (dial first,
//! remove a stale socket file only if nobody answers), reads the caller's ID
//! the kernel noted (`SO_PEERCRED`), and takes it off the wall leaving no
//! file behind. The scene adds what a path brings with it: file permissions
//! decide who may call, `socketpair` is a line with both ends in one hand,
//! and `SOCK_SEQPACKET` is a call that keeps each message whole.
//!
//! Datagrams between Unix sockets are chapter 9's postcards with a path for
//! an address; passing descriptors over the line (`SCM_RIGHTS`) is left out
//! (the course's judge uses it, see `kit/src/rpc.rs`).
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch10-intercom`), or runs
//!   the intercom for real callers (`-- --listen [PATH]`, [`service`]).
//! - [`check`] is the self-check (`cargo test -p ch10-intercom`).
//! - [`folder`] and [`caller`] are the plumbing all of them share: private
//!   folders that never leave a socket file behind, and a caller in a
//!   process of its own, as another user.
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/10-intercom/answer.rs"
)]
pub mod answer;
pub mod caller;
pub mod check;
pub mod folder;
pub mod scene;
pub mod service;

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}

/// The learner's functions, declared once: `ANSWER` (as compiled), `PROXY`
/// (the same calls, run in a process of their own for the self-check),
/// `host_if_asked` and `self_check`. In a module of their own so that this
/// chapter's [`host_if_asked`] can first ask whether the process is the
/// caller ([`caller::act_if_asked`]).
mod judged {
    use super::{answer, chapter, check};
    use nix::sys::socket::UnixCredentials;
    use std::os::fd::OwnedFd;
    dialtone_kit::tasks! {
        fn open_intercom(path: &str) -> nix::Result<OwnedFd>;
        fn answer_with_caller_id(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)>;
        fn close_intercom(intercom: OwnedFd, path: &str) -> nix::Result<()>;
    }
}
pub use judged::{self_check, ANSWER, PROXY};

/// First thing in `main`: a process started as the self-check's caller
/// calls and exits; one started as a `--listen` service's watcher tidies up
/// after it and exits; one started by a judge serves the learner's functions
/// and exits; anything else returns at once.
pub fn host_if_asked(answer: &check::Answer) {
    caller::act_if_asked();
    service::watch_if_asked();
    judged::host_if_asked(answer)
}
