//! Chapter 9, your turn: postcards.
//!
//! Four functions, on datagram sockets (SOCK_DGRAM):
//! - `open_postbox` gets a postbox with a number (no listen, no accept);
//! - `answer_one_card` answers whoever wrote, at the number on the card;
//! - `ask` posts a question and waits, a bounded time, for the reply, and
//!   posts it again if it was lost;
//! - `read_card` reads a card into a small buffer and says if it was cut.
//!
//! Then:
//! - `cargo run -p ch09-postcards` plays the scene with your code;
//! - `cargo test -p ch09-postcards` checks it with the kernel;
//! - `cargo run -p ch09-postcards -- --listen` lets `nc -u`, `socat` or
//!   Python post cards to your `answer_one_card`.

// These are the pieces you'll need; the allows stop the compiler from nagging
// about them until you use them.
#![allow(unused_imports, unused_variables)]
use nix::errno::Errno;
use nix::sys::socket::{
    bind, connect, recv, recvfrom, send, sendto, setsockopt, socket, sockopt, AddressFamily,
    MsgFlags, SockFlag, SockType, SockaddrIn,
};
use nix::sys::time::TimeVal;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The biggest card anyone sends in this chapter.
pub const CARD_MAX: usize = 4096;
/// How many times `ask` posts its question before it gives up.
pub const TRIES: usize = 3;
/// How long `ask` waits for the reply to each try.
pub const WAIT: Duration = Duration::from_millis(250);

/// A postbox of your own: an IPv4 datagram socket with a number on the
/// loopback line (127.0.0.1, a port the kernel picks).
pub fn open_postbox() -> nix::Result<OwnedFd> {
    // TODO: socket() in the IPv4 family of the datagram type, no flags,
    // default protocol; then bind() it to 127.0.0.1 port 0. No listen().
    todo!("open_postbox")
}

/// Takes one card from `postbox`, posts the same words back to whoever
/// wrote it, and returns who that was.
///
/// Cards are at most `CARD_MAX` bytes. The reply must come from `postbox`
/// itself, so the sender sees it come from the number it wrote to.
pub fn answer_one_card(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
    // TODO: recvfrom() into a [u8; CARD_MAX] buffer: it gives the card's
    // length and the sender's number. sendto() exactly those bytes back to
    // that number, on the same postbox, and return the number.
    todo!("answer_one_card")
}

/// Asks `server` a `question` and returns its reply.
///
/// Post the question and wait at most `WAIT` for the reply; if none comes,
/// post it again: `TRIES` postings in all, then `Err(Errno::ETIMEDOUT)`. If
/// nobody collects mail at `server`, return `Err(Errno::ECONNREFUSED)` as
/// soon as the post office says so (only a `connect`ed postbox hears it).
/// Close your postbox before you return.
pub fn ask(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
    // TODO: open_postbox(), connect() it to `server`, set SO_RCVTIMEO to WAIT
    // (sockopt::ReceiveTimeout). Then TRIES times: send() the question and
    // recv() the reply; EAGAIN means the wait ran out: try again. Any other
    // error is the answer. After the last try: Err(Errno::ETIMEDOUT).
    todo!("ask")
}

/// Takes one card from `postbox` into a buffer of `room` bytes. Returns the
/// bytes kept (at most `room`) and the card's real length, which is more
/// than `room` when the card was cut.
pub fn read_card(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)> {
    // TODO: recv() into a buffer of `room` bytes with MsgFlags::MSG_TRUNC:
    // on Linux it returns the card's whole length, even when only `room`
    // bytes fit. Keep only the bytes that really arrived.
    todo!("read_card")
}
