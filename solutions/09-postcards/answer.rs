//! Chapter 9, the reference answer: postcards.
//!
//! Compiled in place of `chapters/09-postcards/src/answer.rs` by
//! `cargo run -p ch09-postcards --features solution`.

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
    // ANCHOR: open_postbox
    // SOCK_DGRAM: postcards, not a call. The kernel picks UDP, the one
    // datagram protocol IPv4 has.
    let postbox = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::empty(),
        None,
    )?;
    // A number, so replies can find us. No listen(), no accept(): there
    // are no calls to switch on for, only cards to collect.
    bind(postbox.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0))?;
    Ok(postbox)
    // ANCHOR_END: open_postbox
}

/// Takes one card from `postbox`, posts the same words back to whoever
/// wrote it, and says who that was.
pub fn answer_one_card(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
    // ANCHOR: answer_one_card
    let mut card = [0u8; CARD_MAX];
    // One recvfrom is one card, whole (it fits: no card is bigger than
    // CARD_MAX), and the sender's number written on it.
    let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
    // A card from a socket with no number can't be answered; on IPv4 the
    // kernel numbers every sender, so this is only for safety.
    let sender = from.ok_or(Errno::EDESTADDRREQ)?;
    // The reply goes to that sender, from this same postbox: the sender
    // sees it come from the number it wrote to.
    sendto(postbox.as_raw_fd(), &card[..n], &sender, MsgFlags::empty())?;
    Ok(sender)
    // ANCHOR_END: answer_one_card
}

/// Asks `server` a `question` and returns its reply: at most `TRIES`
/// postings, `WAIT` for each reply, then `Err(ETIMEDOUT)`. Nobody collecting
/// mail at `server` is `Err(ECONNREFUSED)`, as soon as the post office says so.
pub fn ask(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
    // ANCHOR: ask
    let postbox = open_postbox()?;
    // connect() on a datagram socket makes no call: it writes `server` on
    // every card (send, no address) and takes replies only from there. And
    // the post office's "return to sender" notice (ICMP port unreachable)
    // now reaches us, as ECONNREFUSED on our next call.
    connect(postbox.as_raw_fd(), &server)?;
    let wait = TimeVal::new(
        WAIT.as_secs() as nix::libc::time_t,
        WAIT.subsec_micros() as nix::libc::suseconds_t,
    );
    setsockopt(&postbox, sockopt::ReceiveTimeout, &wait)?;
    let mut reply = vec![0u8; CARD_MAX];
    for _ in 0..TRIES {
        send(postbox.as_raw_fd(), question, MsgFlags::empty())?;
        match recv(postbox.as_raw_fd(), &mut reply, MsgFlags::empty()) {
            Ok(n) => {
                reply.truncate(n);
                return Ok(reply);
            }
            // SO_RCVTIMEO ran out (or a signal came): the card or its reply
            // may be lost. Post it again.
            Err(Errno::EAGAIN | Errno::EINTR) => continue,
            // ECONNREFUSED: nobody there. Asking again won't change that.
            Err(e) => return Err(e),
        }
    }
    Err(Errno::ETIMEDOUT)
    // `postbox` is dropped here: close(), so its number is free again.
    // ANCHOR_END: ask
}

/// Takes one card from `postbox` into a buffer of `room` bytes; returns the
/// bytes kept and the card's real length (more than `room` if it was cut).
pub fn read_card(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)> {
    // ANCHOR: read_card
    let mut kept = vec![0u8; room];
    // MSG_TRUNC (Linux, udp(7)): recv returns the card's real length even
    // when only `room` bytes fit. What didn't fit is gone all the same.
    let real = recv(postbox.as_raw_fd(), &mut kept, MsgFlags::MSG_TRUNC)?;
    kept.truncate(real.min(room));
    Ok((kept, real))
    // ANCHOR_END: read_card
}
