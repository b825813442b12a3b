//! Chapter 11: International calls.
//!
//! IPv6 is a second family of numbers, not a farther place: `::1` is this
//! machine, as 127.0.0.1 is, in `AF_INET6` with a 28-byte `sockaddr_in6`.
//! The chapter shows the three things that trip programs up when both
//! families are about:
//!
//! - a name gives a *list* of numbers (`getaddrinfo`, std's
//!   `ToSocketAddrs`), of both families, and a client must try each in turn,
//!   a new phone of the right family for each, with a bounded ring;
//! - an IPv6 phone with `IPV6_V6ONLY` off also takes IPv4 callers, who show
//!   up as `::ffff:127.0.0.1`; with it on they can't reach it at all;
//! - the default of `IPV6_V6ONLY` is a machine setting
//!   (`net.ipv6.bindv6only`), so a program sets it explicitly.
//!
//! Everything stays on loopback: `::1` and the IPv4-mapped
//! `::ffff:127.0.0.1`. Binding `::` (every interface) is shown only inside
//! a network namespace of the integrity suite's own.
//!
//! - [`answer`] is the learner's file (or, with `--features solution`, the
//!   reference answer from `solutions/`).
//! - [`scene`] narrates the chapter (`cargo run -p ch11-international-calls`),
//!   or answers real callers on `[::1]` (`-- --listen`).
//! - [`check`] is the self-check (`cargo test -p ch11-international-calls`).
#![forbid(unsafe_code)]

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/11-international-calls/answer.rs"
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
use nix::sys::socket::SockaddrIn6;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::time::Duration;
dialtone_kit::tasks! {
    fn dial_each(numbers: &[SocketAddr], ring_out: Duration) -> nix::Result<(OwnedFd, SocketAddr)>;
    fn open_listener(number: SockaddrIn6, v6only: bool) -> nix::Result<OwnedFd>;
}
