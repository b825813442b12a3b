//! The answering service around the learner's code: the phone it answers on,
//! the one-line log of each call, and the commands that call it.
//!
//! Setting up the phone (chapters 1 to 3) is done here, not by the learner:
//! this chapter's work is the conversation. The learner's `serve()` runs on a
//! learner thread ([`run`]), so an unfinished or stuck answer is reported in
//! one paragraph instead of a panic or a frozen terminal.

use crate::check::Answer;
use crate::{chapter, GREETING};
use dialtone_kit::scene::{sys, SceneError};
use dialtone_kit::{args, learner_call, names};
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{bind, listen, setsockopt, sockopt, Backlog, SockaddrIn};
use nix::sys::time::TimeVal;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// How many callers may wait, fully connected, while the service is busy
/// with one: `SOMAXCONN`, 4096 in Linux's headers. The kernel quietly caps it
/// at `net.core.somaxconn` (4096 by default since Linux 5.4). A small backlog
/// is no saving: when the queue is full, Linux drops the caller's handshake
/// packets (and with SYN cookies in play may answer them with a reset), so a
/// crowd arriving together is turned away although the service would have
/// answered every one of them a moment later.
pub const BACKLOG: Backlog = Backlog::MAXCONN;

/// How long the service gives one caller before it hangs up on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `SO_SNDTIMEO`: a caller who stops taking what the service says. Without
    /// it, a caller who talks but never listens fills both directions and
    /// the service's write waits forever.
    pub send: Duration,
    /// `SO_RCVTIMEO`: the idle limit, a caller who says nothing at all.
    /// Without it, one silent caller holds the service (and everyone queued
    /// behind them) for ever: this service answers one caller at a time.
    pub idle: Duration,
}

/// The service's limits: 5 s to take what it says, 30 s of silence.
pub const LIMITS: Limits = Limits {
    send: Duration::from_secs(5),
    idle: Duration::from_secs(30),
};

fn timeval(d: Duration) -> TimeVal {
    TimeVal::new(
        d.as_secs() as libc::time_t,
        d.subsec_micros() as libc::suseconds_t,
    )
}

/// Installs a phone, numbers it `number`, switches it on, and sets the send
/// timeout and idle limit that every line `accept()` returns inherits.
pub fn open(number: &SockaddrIn, limits: Limits) -> Result<OwnedFd, SceneError> {
    let at = names::addr(number);
    let phone = dialtone_kit::party::new_phone().map_err(sys(
        "socket(AF_INET, SOCK_STREAM, 0)",
        "Check your system's limits.",
    ))?;
    // Restarting the service right after a call would otherwise meet the old
    // calls' TIME_WAIT: "address already in use" for a minute. A phone that is
    // really still switched on keeps its number all the same.
    setsockopt(&phone, sockopt::ReuseAddr, &true)
        .map_err(sys("setsockopt(SO_REUSEADDR)", "Is it a socket?"))?;
    bind(phone.as_raw_fd(), number)
        .map_err(|errno| sys(format!("bind({at})"), args::bind_advice(errno, &at))(errno))?;
    listen(&phone, BACKLOG).map_err(sys(format!("listen({at})"), "Is the phone numbered?"))?;
    // ANCHOR: patience
    // Set on the listening phone, inherited by every line accept() returns
    // (Linux copies both timeouts to the new socket).
    setsockopt(&phone, sockopt::SendTimeout, &timeval(limits.send))
        .map_err(sys("setsockopt(SO_SNDTIMEO)", "Is it a socket?"))?;
    setsockopt(&phone, sockopt::ReceiveTimeout, &timeval(limits.idle))
        .map_err(sys("setsockopt(SO_RCVTIMEO)", "Is it a socket?"))?;
    // ANCHOR_END: patience
    Ok(phone)
}

/// Runs the learner's `serve()` for `callers` calls on `phone` (opened with
/// `limits`), within `within`, handing `log` one line per call (numbered from
/// `first_call`).
pub fn run(
    answer: &Answer,
    phone: OwnedFd,
    (callers, first_call): (usize, usize),
    limits: Limits,
    within: Duration,
    mut log: impl FnMut(String) + Send + 'static,
) -> Result<(), SceneError> {
    let answer = *answer;
    let result = learner_call!(
        chapter(),
        answer.serve,
        move |serve| {
            let mut number = first_call;
            let mut each_call = |outcome: nix::Result<u64>| {
                log(log_line(number, &outcome, limits));
                number += 1;
            };
            serve(&phone, callers, GREETING, &mut each_call)
        },
        within = within
    )?;
    result.map_err(sys(
        "serve(): accept",
        "The phone itself failed: check the system's limits (ulimit -n) and try again.",
    ))
}

/// One line saying how call `number` ended: for the log on stderr and the scene.
pub fn log_line(number: usize, outcome: &nix::Result<u64>, limits: Limits) -> String {
    match outcome {
        Ok(n) => format!("call {number}: echoed {n} bytes; the caller hung up"),
        Err(e) => {
            // Both timeouts end in the same EAGAIN: the log names both.
            let timed_out = format!(
                "the caller said nothing for {} s (the idle limit) or stopped listening for {} s, so the service hung up on them",
                limits.idle.as_secs_f32(),
                limits.send.as_secs_f32()
            );
            let what = match *e {
                Errno::ECONNRESET => "the caller slammed the phone down mid-call",
                Errno::EPIPE => "the caller hung up while the service was still talking",
                Errno::EAGAIN => &timed_out,
                other => names::errno_phone(other),
            };
            format!("call {number}: {what} ({:?}); answering the next caller", e)
        }
    }
}

/// Writes one log line to `out` (stderr, for the real service). A log that
/// can't be written (its reader went away: `EPIPE`, since Rust ignores
/// `SIGPIPE`) is dropped: the callers still need answering. `eprintln!`
/// would panic here and take the service down with it.
pub fn log_to(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The commands that call the service at `number`: `nc`, `socat` and Python.
pub fn try_it(number: &SockaddrIn) -> Vec<String> {
    let (ip, port) = (number.ip(), number.port());
    // A service listening on every interface (0.0.0.0) is called at loopback.
    let ip = if ip.is_unspecified() {
        std::net::Ipv4Addr::LOCALHOST
    } else {
        ip
    };
    vec![
        format!("nc -N {ip} {port}"),
        format!("socat - TCP:{ip}:{port}"),
        format!(
            "python3 -c \"import socket; s = socket.create_connection(('{ip}', {port})); \
             s.sendall(b'hello\\n'); s.shutdown(socket.SHUT_WR); \
             print(b''.join(iter(lambda: s.recv(4096), b'')).decode(errors='replace'), end='')\""
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way a call can end gets exactly one line that names it.
    #[test]
    fn each_ending_is_one_line() {
        for (outcome, needle) in [
            (Ok(12), "echoed 12 bytes"),
            (Err(Errno::ECONNRESET), "slammed"),
            (Err(Errno::EPIPE), "hung up while"),
            (Err(Errno::EAGAIN), "said nothing for 30 s (the idle limit)"),
        ] {
            let line = log_line(3, &outcome, LIMITS);
            assert!(line.starts_with("call 3: "), "{line}");
            assert!(line.contains(needle), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
