//! The postcard service around the learner's `answer_one_card()`: a postbox
//! at a number, one card answered after another, one log line per card, and
//! the commands that post to it.
//!
//! It is UDP's echo service (RFC 862): each card comes back to its sender,
//! word for word. There is no call to pick up and none to hang up, so the
//! service needs no timeouts of its own: between cards it simply waits for
//! the post, and one sender who never writes again holds up nobody.

use crate::chapter;
use crate::check::Answer;
use dialtone_kit::scene::{sys, SceneError};
use dialtone_kit::{args, learner_call, names, party};
use nix::errno::Errno;
use nix::sys::socket::{bind, AddressFamily, SockType, SockaddrIn};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Puts a postbox at `number`: a datagram socket, bound. No listen.
pub fn open(number: &SockaddrIn) -> Result<OwnedFd, SceneError> {
    let at = names::addr(number);
    let kind = party::Kind::new(AddressFamily::Inet, SockType::Datagram);
    let postbox = party::phone(kind).map_err(sys(
        "socket(AF_INET, SOCK_DGRAM, 0)",
        "Check your system's limits.",
    ))?;
    bind(postbox.as_raw_fd(), number)
        .map_err(|errno| sys(format!("bind({at})"), args::bind_advice(errno, &at))(errno))?;
    Ok(postbox)
}

/// Answers `cards` cards on `postbox` with the learner's
/// `answer_one_card()`, within `within`, handing `log` one line per card.
pub fn run(
    answer: &Answer,
    postbox: OwnedFd,
    cards: usize,
    within: Duration,
    mut log: impl FnMut(String) + Send + 'static,
) -> Result<(), SceneError> {
    let answer = *answer;
    learner_call!(
        chapter(),
        answer.answer_one_card,
        move |answer_one_card| {
            for n in 1..=cards {
                log(log_line(n, &answer_one_card(&postbox)));
            }
        },
        within = within
    )?;
    Ok(())
}

/// One line saying how card `n` went, for the log on stderr.
pub fn log_line(n: usize, outcome: &nix::Result<SockaddrIn>) -> String {
    match outcome {
        Ok(sender) => format!("card {n}: from {}, said back", names::addr(sender)),
        Err(e) => format!(
            "card {n}: {} ({e:?}); waiting for the next card",
            match *e {
                Errno::EMSGSIZE => "the reply was too big to post",
                other => names::errno_phone_on(
                    other,
                    party::Kind::new(AddressFamily::Inet, SockType::Datagram)
                ),
            }
        ),
    }
}

/// Writes one log line; a log nobody reads (`EPIPE`) is dropped, and the
/// service goes on answering cards.
pub fn log_to(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The commands that post a card to the service at `number`: `nc -u`,
/// `socat` and Python. Each sends "hello" and prints what comes back.
pub fn try_it(number: &SockaddrIn) -> Vec<String> {
    let (ip, port) = (number.ip(), number.port());
    let ip = if ip.is_unspecified() {
        std::net::Ipv4Addr::LOCALHOST
    } else {
        ip
    };
    vec![
        format!("echo hello | nc -u -w 1 {ip} {port}"),
        format!("echo hello | socat -t 1 - UDP:{ip}:{port}"),
        format!(
            "python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
             s.settimeout(2); s.sendto(b'hello', ('{ip}', {port})); print(s.recvfrom(4096)[0].decode())\""
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each card's outcome is one line that names it.
    #[test]
    fn each_card_is_one_line() {
        let ok = log_line(2, &Ok(SockaddrIn::new(127, 0, 0, 1, 5000)));
        assert_eq!(ok, "card 2: from 127.0.0.1:5000, said back");
        let too_big = log_line(3, &Err(Errno::EMSGSIZE));
        assert!(
            too_big.starts_with("card 3: the reply was too big"),
            "{too_big}"
        );
        let other = log_line(4, &Err(Errno::EBADF));
        assert!(other.contains("EBADF") && !other.contains('\n'), "{other}");
    }
}
