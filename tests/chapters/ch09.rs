//! Chapter 9 (Postcards): solution, starter, wrong answers, transcript, the
//! postcard service, and senders nobody here wrote (`nc -u`, `socat`,
//! Python).
//!
//! Each wrong answer below is a mistake learners really make with datagram
//! sockets; each must fail with the message meant for it. The real-world
//! tests run the reference service against the system's tools: a missing
//! tool is a note locally and a failure under CI (which installs them).

use ch09_postcards::{chapter, check, scene, service};
use dialtone_kit::child::run_limited;
use dialtone_kit::kernel;
use dialtone_kit::party::{self, Kind};
use dialtone_kit::scene::SceneError;
use nix::errno::Errno;
use nix::sys::socket::{
    bind, connect, recv, recvfrom, send, sendto, setsockopt, socket, sockopt, AddressFamily,
    MsgFlags, SockFlag, SockType, SockaddrIn, SockaddrIn6,
};
use nix::sys::time::TimeVal;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/09-postcards/answer.rs"]
mod solution;
// The starter's constants are for the learner; nothing here reads them.
#[allow(dead_code)]
#[path = "../../chapters/09-postcards/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    open_postbox: solution::open_postbox,
    answer_one_card: solution::answer_one_card,
    ask: solution::ask,
    read_card: solution::read_card,
};

const POSTCARDS: Kind = Kind::new(AddressFamily::Inet, SockType::Datagram);

/// The reference answers with one function replaced.
fn with_open(open_postbox: fn() -> nix::Result<OwnedFd>) -> check::Answer {
    check::Answer {
        open_postbox,
        ..SOLUTION
    }
}
fn with_answer(answer_one_card: fn(&OwnedFd) -> nix::Result<SockaddrIn>) -> check::Answer {
    check::Answer {
        answer_one_card,
        ..SOLUTION
    }
}
fn with_ask(ask: fn(SockaddrIn, &[u8]) -> nix::Result<Vec<u8>>) -> check::Answer {
    check::Answer { ask, ..SOLUTION }
}
fn with_read(read_card: check::ReadCard) -> check::Answer {
    check::Answer {
        read_card,
        ..SOLUTION
    }
}

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert_eq!(passed.0.len(), 8, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its first todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    let starter = check::Answer {
        open_postbox: starter::open_postbox,
        answer_one_card: starter::answer_one_card,
        ask: starter::ask,
        read_card: starter::read_card,
    };
    expect_unfinished(check::run(&starter), chapter());
}

// ------------------------------------------------------ open_postbox

fn bound(fd: OwnedFd, to: &dyn nix::sys::socket::SockaddrLike) -> nix::Result<OwnedFd> {
    bind(fd.as_raw_fd(), to)?;
    Ok(fd)
}

fn loopback() -> SockaddrIn {
    SockaddrIn::new(127, 0, 0, 1, 0)
}

/// Mistake: SOCK_STREAM, a phone, instead of SOCK_DGRAM.
#[test]
fn a_stream_socket_is_caught() {
    fn stream() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        bound(fd, &loopback())
    }
    let f = expect_mistake(check::run(&with_open(stream)), "ch09.not-datagram");
    assert!(f.got.contains("SOCK_STREAM"), "{f}");
}

/// Mistake: an IPv6 postbox.
#[test]
fn an_ipv6_postbox_is_caught() {
    fn ipv6() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet6,
            SockType::Datagram,
            SockFlag::empty(),
            None,
        )?;
        let any = SockaddrIn6::from(std::net::SocketAddrV6::new(
            std::net::Ipv6Addr::LOCALHOST,
            0,
            0,
            0,
        ));
        bound(fd, &any)
    }
    let f = expect_mistake(check::run(&with_open(ipv6)), "ch09.not-ipv4");
    assert!(f.got.contains("AF_INET6"), "{f}");
}

/// Mistake: SOCK_NONBLOCK, "so it never hangs".
#[test]
fn a_nonblocking_postbox_is_caught() {
    fn nonblocking() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        bound(fd, &loopback())
    }
    expect_mistake(check::run(&with_open(nonblocking)), "ch09.nonblocking");
}

/// Mistake: no bind (a number would come with the first sendto).
#[test]
fn an_unnumbered_postbox_is_caught() {
    fn unnumbered() -> nix::Result<OwnedFd> {
        socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::empty(),
            None,
        )
    }
    expect_mistake(check::run(&with_open(unnumbered)), "ch09.no-number");
}

/// Mistake: bound to 0.0.0.0, open to the whole network.
#[test]
fn a_postbox_on_every_interface_is_caught() {
    fn everywhere() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::empty(),
            None,
        )?;
        bound(fd, &SockaddrIn::new(0, 0, 0, 0, 0))
    }
    let f = expect_mistake(check::run(&with_open(everywhere)), "ch09.not-loopback");
    assert!(f.got.contains("0.0.0.0"), "{f}");
}

/// Mistake: connect()ed to one number, like a stream client.
#[test]
fn a_connected_postbox_is_caught() {
    fn connected() -> nix::Result<OwnedFd> {
        let fd = solution::open_postbox()?;
        connect(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 9))?;
        Ok(fd)
    }
    expect_mistake(check::run(&with_open(connected)), "ch09.connected");
}

/// Copies the wrong answers below keep; emptied by the tests that fill them.
static KEPT: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

/// Mistake: a try_clone() of each postbox kept back in a static.
#[test]
fn a_copy_kept_is_caught() {
    fn keeps_a_copy() -> nix::Result<OwnedFd> {
        let fd = solution::open_postbox()?;
        let copy = fd.try_clone().map_err(|_| Errno::EMFILE)?;
        KEPT.lock().unwrap_or_else(|p| p.into_inner()).push(copy);
        Ok(fd)
    }
    let result = check::run(&with_open(keeps_a_copy));
    let f = expect_mistake(result, "ch09.copy-kept");
    assert!(f.got.contains("2 descriptors"), "{f}");
}

/// Mistake: one postbox made once, a copy handed out each time.
#[test]
fn the_same_postbox_twice_is_caught() {
    static ONE: OnceLock<OwnedFd> = OnceLock::new();
    fn the_same() -> nix::Result<OwnedFd> {
        let one = match ONE.get() {
            Some(fd) => fd,
            None => ONE.get_or_init(|| solution::open_postbox().expect("a loopback postbox")),
        };
        one.try_clone().map_err(|_| Errno::EMFILE)
    }
    expect_mistake(check::run(&with_open(the_same)), "ch09.same-postbox");
}

// --------------------------------------------------- answer_one_card

const CARD_MAX: usize = ch09_postcards::CARD_MAX;

/// Mistake: the reply addressed to the postbox's own number.
#[test]
fn replying_to_yourself_is_caught() {
    fn to_self(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; CARD_MAX];
        let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        let me = kernel::own_number(postbox)?;
        sendto(postbox.as_raw_fd(), &card[..n], &me, MsgFlags::empty())?;
        from.ok_or(Errno::EDESTADDRREQ)
    }
    expect_mistake(check::run(&with_answer(to_self)), "ch09.reply-to-self");
}

/// Mistake: the first sender's number kept and used for every reply.
#[test]
fn replying_to_a_fixed_address_is_caught() {
    static FIRST: OnceLock<SockaddrIn> = OnceLock::new();
    fn fixed(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; CARD_MAX];
        let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        let from = from.ok_or(Errno::EDESTADDRREQ)?;
        let to = *FIRST.get_or_init(|| from);
        sendto(postbox.as_raw_fd(), &card[..n], &to, MsgFlags::empty())?;
        Ok(from)
    }
    expect_mistake(check::run(&with_answer(fixed)), "ch09.fixed-address");
}

/// Mistake: a number typed in (the discard port), not the sender's.
#[test]
fn replying_to_a_typed_in_number_is_caught() {
    fn typed_in(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; CARD_MAX];
        let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        let nine = SockaddrIn::new(127, 0, 0, 1, 9);
        sendto(postbox.as_raw_fd(), &card[..n], &nine, MsgFlags::empty())?;
        from.ok_or(Errno::EDESTADDRREQ)
    }
    expect_mistake(check::run(&with_answer(typed_in)), "ch09.reply-lost");
}

/// Mistake: the reply posted from a new socket (another port).
#[test]
fn replying_from_a_new_socket_is_caught() {
    fn new_socket(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; CARD_MAX];
        let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        let from = from.ok_or(Errno::EDESTADDRREQ)?;
        let other = solution::open_postbox()?;
        sendto(other.as_raw_fd(), &card[..n], &from, MsgFlags::empty())?;
        Ok(from)
    }
    let f = expect_mistake(
        check::run(&with_answer(new_socket)),
        "ch09.reply-from-new-socket",
    );
    assert!(f.got.contains("127.0.0.1:"), "{f}");
}

/// Mistake: the postbox's own number returned as the sender.
#[test]
fn naming_the_wrong_sender_is_caught() {
    fn own_number(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        solution::answer_one_card(postbox)?;
        kernel::own_number(postbox)
    }
    expect_mistake(check::run(&with_answer(own_number)), "ch09.wrong-sender");
}

/// Mistake: `send` (no address), as on a stream: an unconnected postbox
/// doesn't know where to send it.
#[test]
fn replying_with_send_is_caught() {
    fn with_send(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; CARD_MAX];
        let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        send(postbox.as_raw_fd(), &card[..n], MsgFlags::empty())?;
        from.ok_or(Errno::EDESTADDRREQ)
    }
    let f = expect_mistake(check::run(&with_answer(with_send)), "ch09.card-error");
    assert!(f.got.contains("EDESTADDRREQ"), "{f}");
}

/// Mistake: a buffer smaller than the card (1 KiB), the loss unnoticed.
#[test]
fn a_small_buffer_is_caught() {
    fn small(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; 1024];
        let (n, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        let from = from.ok_or(Errno::EDESTADDRREQ)?;
        sendto(postbox.as_raw_fd(), &card[..n], &from, MsgFlags::empty())?;
        Ok(from)
    }
    let f = expect_mistake(check::run(&with_answer(small)), "ch09.card-cut");
    assert!(f.got.contains("first 1024 bytes"), "{f}");
}

/// Mistake: the whole buffer sent back, not the n bytes received.
#[test]
fn the_whole_buffer_back_is_caught() {
    fn whole(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        let mut card = [0u8; CARD_MAX];
        let (_, from) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut card)?;
        let from = from.ok_or(Errno::EDESTADDRREQ)?;
        sendto(postbox.as_raw_fd(), &card, &from, MsgFlags::empty())?;
        Ok(from)
    }
    expect_mistake(check::run(&with_answer(whole)), "ch09.echo-garbled");
}

/// Mistake: a service loop where one card was asked for.
#[test]
fn answering_for_ever_is_caught() {
    fn for_ever(postbox: &OwnedFd) -> nix::Result<SockaddrIn> {
        loop {
            solution::answer_one_card(postbox)?;
        }
    }
    expect_mistake(check::run(&with_answer(for_ever)), "ch09.answers-forever");
}

// --------------------------------------------------------------- ask

/// A reference-shaped ask with its own tries, wait and error handling.
fn ask_with(
    server: SockaddrIn,
    question: &[u8],
    tries: Option<usize>,
    wait: Duration,
    on_refusal_retry: bool,
) -> nix::Result<Vec<u8>> {
    let postbox = solution::open_postbox()?;
    connect(postbox.as_raw_fd(), &server)?;
    let t = TimeVal::new(
        wait.as_secs() as nix::libc::time_t,
        wait.subsec_micros() as nix::libc::suseconds_t,
    );
    setsockopt(&postbox, sockopt::ReceiveTimeout, &t)?;
    let mut reply = vec![0u8; CARD_MAX];
    let mut n = 0;
    while tries.is_none_or(|t| n < t) {
        n += 1;
        send(postbox.as_raw_fd(), question, MsgFlags::empty())?;
        match recv(postbox.as_raw_fd(), &mut reply, MsgFlags::empty()) {
            Ok(got) => {
                reply.truncate(got);
                return Ok(reply);
            }
            Err(Errno::EAGAIN) => continue,
            Err(_) if on_refusal_retry => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::ETIMEDOUT)
}

/// Mistake: no SO_RCVTIMEO, one send, one blocking recv.
#[test]
fn no_timeout_is_caught() {
    fn no_timeout(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
        let postbox = solution::open_postbox()?;
        sendto(postbox.as_raw_fd(), question, &server, MsgFlags::empty())?;
        let mut reply = vec![0u8; CARD_MAX];
        let (n, _) = recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut reply)?;
        reply.truncate(n);
        Ok(reply)
    }
    expect_mistake(check::run(&with_ask(no_timeout)), "ch09.no-timeout");
}

/// Mistake: a timeout, but one try only.
#[test]
fn no_retry_is_caught() {
    fn once(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
        let postbox = solution::open_postbox()?;
        connect(postbox.as_raw_fd(), &server)?;
        let t = TimeVal::new(0, 250_000);
        setsockopt(&postbox, sockopt::ReceiveTimeout, &t)?;
        send(postbox.as_raw_fd(), question, MsgFlags::empty())?;
        let mut reply = vec![0u8; CARD_MAX];
        let n = recv(postbox.as_raw_fd(), &mut reply, MsgFlags::empty())?;
        reply.truncate(n);
        Ok(reply)
    }
    expect_mistake(check::run(&with_ask(once)), "ch09.no-retry");
}

/// Mistake: retrying for ever.
#[test]
fn retrying_for_ever_is_caught() {
    fn for_ever(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        ask_with(server, q, None, Duration::from_millis(250), false)
    }
    let f = expect_mistake(check::run(&with_ask(for_ever)), "ch09.retries-forever");
    assert!(f.got.contains("still going"), "{f}");
}

/// Mistake: four tries, not three.
#[test]
fn the_wrong_number_of_tries_is_caught() {
    fn four(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        ask_with(server, q, Some(4), Duration::from_millis(250), false)
    }
    let f = expect_mistake(check::run(&with_ask(four)), "ch09.wrong-tries");
    assert!(f.got.starts_with("4 cards"), "{f}");
}

/// Mistake: waiting 600 ms a try, not 250: the promise is broken.
#[test]
fn waiting_too_long_is_caught() {
    fn slow(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        ask_with(server, q, Some(3), Duration::from_millis(600), false)
    }
    expect_mistake(check::run(&with_ask(slow)), "ch09.too-patient");
}

/// Mistake: 60 ms a try, five tries: the question posted while the first
/// reply was on its way.
#[test]
fn asking_again_too_soon_is_caught() {
    fn hasty(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        ask_with(server, q, Some(5), Duration::from_millis(60), false)
    }
    expect_mistake(check::run(&with_ask(hasty)), "ch09.too-impatient");
}

/// Mistake: a non-blocking recv (MSG_DONTWAIT): no try waits at all.
#[test]
fn not_waiting_is_caught() {
    fn dontwait(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
        let postbox = solution::open_postbox()?;
        connect(postbox.as_raw_fd(), &server)?;
        let mut reply = vec![0u8; CARD_MAX];
        for _ in 0..3 {
            send(postbox.as_raw_fd(), question, MsgFlags::empty())?;
            match recv(postbox.as_raw_fd(), &mut reply, MsgFlags::MSG_DONTWAIT) {
                Ok(n) => {
                    reply.truncate(n);
                    return Ok(reply);
                }
                Err(Errno::EAGAIN) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Errno::ETIMEDOUT)
    }
    expect_mistake(check::run(&with_ask(dontwait)), "ch09.does-not-wait");
}

/// Mistake: the last recv's EAGAIN returned after the last try.
#[test]
fn giving_up_with_eagain_is_caught() {
    fn eagain(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        match solution::ask(server, q) {
            Err(Errno::ETIMEDOUT) => Err(Errno::EAGAIN),
            other => other,
        }
    }
    expect_mistake(check::run(&with_ask(eagain)), "ch09.unclear-error");
}

/// Mistake: a newline added to the question.
#[test]
fn a_changed_question_is_caught() {
    fn with_newline(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        solution::ask(server, &[q, b"\n"].concat())
    }
    expect_mistake(check::run(&with_ask(with_newline)), "ch09.question-garbled");
}

/// Mistake: the whole reply buffer returned.
#[test]
fn the_whole_reply_buffer_is_caught() {
    fn whole(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        solution::ask(server, q).map(|mut r| {
            r.resize(CARD_MAX, 0);
            r
        })
    }
    expect_mistake(check::run(&with_ask(whole)), "ch09.reply-garbled");
}

/// Mistake: the postbox kept after ask() returns.
#[test]
fn a_postbox_left_open_is_caught() {
    fn left_open(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
        let postbox = solution::open_postbox()?;
        connect(postbox.as_raw_fd(), &server)?;
        setsockopt(&postbox, sockopt::ReceiveTimeout, &TimeVal::new(0, 250_000))?;
        send(postbox.as_raw_fd(), question, MsgFlags::empty())?;
        let mut reply = vec![0u8; CARD_MAX];
        let n = recv(postbox.as_raw_fd(), &mut reply, MsgFlags::empty());
        KEPT.lock().unwrap_or_else(|p| p.into_inner()).push(postbox);
        reply.truncate(n?);
        Ok(reply)
    }
    expect_mistake(check::run(&with_ask(left_open)), "ch09.postbox-left-open");
}

/// Mistake: sendto/recvfrom on an unconnected postbox, expecting to be
/// told ECONNREFUSED at a dead number.
#[test]
fn expecting_refusal_without_connect_is_caught() {
    fn unconnected(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
        let postbox = solution::open_postbox()?;
        setsockopt(&postbox, sockopt::ReceiveTimeout, &TimeVal::new(0, 250_000))?;
        let mut reply = vec![0u8; CARD_MAX];
        for _ in 0..3 {
            sendto(postbox.as_raw_fd(), question, &server, MsgFlags::empty())?;
            match recvfrom::<SockaddrIn>(postbox.as_raw_fd(), &mut reply) {
                Ok((n, _)) => {
                    reply.truncate(n);
                    return Ok(reply);
                }
                Err(Errno::EAGAIN) => continue,
                // "A dead number would say ECONNREFUSED here": it never does.
                Err(e) => return Err(e),
            }
        }
        Err(Errno::ETIMEDOUT)
    }
    let f = expect_mistake(check::run(&with_ask(unconnected)), "ch09.refusal-unheard");
    assert!(f.syscall.contains("unconnected"), "{f}");
}

/// Mistake: every error taken as "try again", ECONNREFUSED too.
#[test]
fn retrying_after_a_refusal_is_caught() {
    fn stubborn(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        ask_with(server, q, Some(3), Duration::from_millis(250), true)
    }
    expect_mistake(check::run(&with_ask(stubborn)), "ch09.retries-refusal");
}

/// Mistake: a stream socket dialling the server.
#[test]
fn asking_on_a_stream_is_caught() {
    fn stream(server: SockaddrIn, question: &[u8]) -> nix::Result<Vec<u8>> {
        let phone = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        connect(phone.as_raw_fd(), &server)?;
        send(phone.as_raw_fd(), question, MsgFlags::empty())?;
        let mut reply = vec![0u8; CARD_MAX];
        let n = recv(phone.as_raw_fd(), &mut reply, MsgFlags::empty())?;
        reply.truncate(n);
        Ok(reply)
    }
    expect_mistake(check::run(&with_ask(stream)), "ch09.ask-stream");
}

// --------------------------------------------------------- read_card

/// Mistake: recv without MSG_TRUNC: the cut goes unnoticed.
#[test]
fn loss_unnoticed_is_caught() {
    fn plain(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)> {
        let mut kept = vec![0u8; room];
        let n = recv(postbox.as_raw_fd(), &mut kept, MsgFlags::empty())?;
        kept.truncate(n);
        Ok((kept, n))
    }
    let f = expect_mistake(check::run(&with_read(plain)), "ch09.loss-unnoticed");
    assert!(f.got.contains("real length 40"), "{f}");
}

/// Mistake: a big buffer, whatever the room.
#[test]
fn ignoring_the_room_is_caught() {
    fn big(postbox: &OwnedFd, _room: usize) -> nix::Result<(Vec<u8>, usize)> {
        let mut kept = vec![0u8; CARD_MAX];
        let n = recv(postbox.as_raw_fd(), &mut kept, MsgFlags::MSG_TRUNC)?;
        kept.truncate(n);
        Ok((kept, n))
    }
    expect_mistake(check::run(&with_read(big)), "ch09.ignores-room");
}

/// Mistake: the buffer returned untrimmed (zeros after a short card).
#[test]
fn the_blank_end_kept_is_caught() {
    fn untrimmed(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)> {
        let mut kept = vec![0u8; room];
        let n = recv(postbox.as_raw_fd(), &mut kept, MsgFlags::MSG_TRUNC)?;
        Ok((kept, n))
    }
    expect_mistake(check::run(&with_read(untrimmed)), "ch09.kept-wrong");
}

/// Mistake: MSG_PEEK with MSG_TRUNC: the card is measured and left there.
#[test]
fn peeking_is_caught() {
    fn peek(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)> {
        let mut kept = vec![0u8; room];
        let flags = MsgFlags::MSG_TRUNC | MsgFlags::MSG_PEEK;
        let n = recv(postbox.as_raw_fd(), &mut kept, flags)?;
        kept.truncate(n.min(room));
        Ok((kept, n))
    }
    expect_mistake(check::run(&with_read(peek)), "ch09.card-left-behind");
}

/// Mistake: the length off by one (the kept bytes counted with a
/// terminator, as in C).
#[test]
fn a_wrong_length_is_caught() {
    fn off_by_one(postbox: &OwnedFd, room: usize) -> nix::Result<(Vec<u8>, usize)> {
        solution::read_card(postbox, room).map(|(kept, real)| (kept, real + 1))
    }
    expect_mistake(check::run(&with_read(off_by_one)), "ch09.wrong-length");
}

/// Every verdict about ask() lands within the chapter's timeout.
#[test]
fn verdicts_come_in_time() {
    let started = std::time::Instant::now();
    fn for_ever(server: SockaddrIn, q: &[u8]) -> nix::Result<Vec<u8>> {
        ask_with(server, q, None, Duration::from_millis(250), false)
    }
    let _ = check::run(&with_ask(for_ever));
    assert!(
        started.elapsed() < chapter().timeout(),
        "{:?}",
        started.elapsed()
    );
    KEPT.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

// --------------------------------------------------------- the scene

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for seen in [
        "SO_TYPE) = SOCK_DGRAM",
        "3 bytes \"one\", 3 bytes \"two\", 5 bytes \"three\"",
        "= 11 bytes \"onetwothree\"",
        "40, MSG_TRUNC) = 100; kept 40 bytes, 60 lost",
        "msg_flags MSG_TRUNC",
        ") = ECONNREFUSED",
        "= Err(ECONNREFUSED)",
    ] {
        assert!(text.contains(seen), "{seen:?} not in:\n{text}");
    }
    crate::assert_transcript!("ch09-transcript", text);
}

/// The scene with the starter stops at open_postbox() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let starter = check::Answer {
        open_postbox: starter::open_postbox,
        answer_one_card: starter::answer_one_card,
        ask: starter::ask,
        read_card: starter::read_card,
    };
    let (text, result) = play(chapter(), |s| scene::play(s, &starter, &[]));
    let err = result.expect_err("the starter can't finish the scene");
    assert!(!text.contains("open_postbox() ="), "{text}");
    crate::assert_transcript!("ch09-starter", err.as_printed(80));
}

/// With a stream socket for a postbox, the scene says what the kernel read
/// back and stops in one line.
#[test]
fn a_stream_scene_tells_the_truth_and_stops() {
    fn stream() -> nix::Result<OwnedFd> {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        bound(fd, &loopback())
    }
    let (text, result) = play(chapter(), |s| scene::play(s, &with_open(stream), &[]));
    let line = result.expect_err("a phone is not a postbox").to_string();
    assert!(text.contains("SO_TYPE) = SOCK_STREAM"), "{text}");
    assert!(
        line.contains("cargo run -- check 9") && !line.contains('\n'),
        "{line}"
    );
}

// ------------------------------------------------------- the service

/// A bare --listen means loopback and a free port; a bare port means loopback.
#[test]
fn listen_defaults_to_loopback() {
    let parse = |v: &[&str]| {
        let args: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        match scene::parse(&args) {
            Ok(dialtone_kit::args::Mode::Real(a)) => (a.ip(), a.port()),
            other => panic!("{v:?}: {other:?}"),
        }
    };
    assert_eq!(parse(&["--listen"]), (std::net::Ipv4Addr::LOCALHOST, 0));
    assert_eq!(
        parse(&["--listen", "5000"]),
        (std::net::Ipv4Addr::LOCALHOST, 5000)
    );
    assert_eq!(
        parse(&["--listen", "0.0.0.0:7"]),
        (std::net::Ipv4Addr::UNSPECIFIED, 7)
    );
}

/// A port already taken is one line saying so, not a panic.
#[test]
fn a_port_in_use_is_one_line() {
    let (_busy, number) = party::numbered(POSTCARDS).expect("a loopback postbox");
    let port = number.as_sockaddr_in().expect("IPv4").port();
    let args = vec!["--listen".to_string(), format!("127.0.0.1:{port}")];
    let (_, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
    let err = result.expect_err("the port is taken");
    assert!(
        matches!(
            err,
            SceneError::Sys {
                errno: Errno::EADDRINUSE,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains('\n'), "{err}");
}

/// The commands printed for real senders name the service's real number.
#[test]
fn try_it_commands_name_the_number() {
    let commands = service::try_it(&SockaddrIn::new(127, 0, 0, 1, 4567));
    assert_eq!(commands.len(), 3);
    assert!(
        commands[0].contains("nc -u -w 1 127.0.0.1 4567"),
        "{commands:?}"
    );
    assert!(commands[1].contains("UDP:127.0.0.1:4567"), "{commands:?}");
    assert!(commands[2].contains("('127.0.0.1', 4567)"), "{commands:?}");
    let any = service::try_it(&SockaddrIn::new(0, 0, 0, 0, 4567));
    assert!(any[0].contains("127.0.0.1"), "{any:?}");
}

/// The reference service on a thread, for `cards` cards.
struct Running {
    number: SockaddrIn,
    log: Receiver<String>,
}

fn start_service(cards: usize) -> Running {
    let postbox = service::open(&loopback()).expect("a loopback postbox");
    let number = kernel::own_number(&postbox).expect("a bound socket has a number");
    let (tx, log) = mpsc::channel();
    thread::spawn(move || {
        let _ = service::run(
            &SOLUTION,
            postbox,
            cards,
            Duration::from_secs(30),
            move |l| {
                let _ = tx.send(l);
            },
        );
    });
    Running { number, log }
}

impl Running {
    fn next_log(&self) -> String {
        self.log
            .recv_timeout(Duration::from_secs(5))
            .expect("the service logs every card")
    }
}

/// Many cards from many senders: each gets its own card back.
#[test]
fn every_sender_gets_its_own_card_back() {
    let service = start_service(20);
    let target = service.number;
    for i in 0..20 {
        let (me, _) = party::numbered(POSTCARDS).expect("a postbox");
        let words = format!("card {i}");
        party::post(&me, words.as_bytes(), &target).expect("sendto");
        let back = party::hear_datagram(&me, Duration::from_secs(5))
            .expect("recvfrom")
            .expect("the card came back");
        assert_eq!(back.bytes, words.as_bytes());
        assert!(service
            .next_log()
            .starts_with(&format!("card {}: from 127.0.0.1:", i + 1)));
    }
}

// ------------------------------------------- senders nobody here wrote

fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let advice = format!("install the Debian package {package} (apt-get install {package})");
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed: CI must run this real-world test; {advice}"
        );
        eprintln!(
            "note: {name} is not installed, so this real-world test is skipped; {advice} to run it"
        );
    }
    found
}

const TOOL_LIMIT: Duration = Duration::from_secs(20);

/// Runs the page's command (from `try_it`) with bash; its stdout.
fn run_try_it(command: &str) -> String {
    let ran = run_limited(Command::new("bash").args(["-c", command]), b"", TOOL_LIMIT)
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    assert!(
        ran.status.success(),
        "{command}: {}: {}",
        ran.status,
        String::from_utf8_lossy(&ran.stderr)
    );
    String::from_utf8_lossy(&ran.stdout).into_owned()
}

/// OpenBSD's nc -u posts "hello\n" and prints the card that comes back.
#[test]
fn nc_is_answered() {
    if tool("nc", "netcat-openbsd").is_none() {
        return;
    }
    let service = start_service(1);
    let heard = run_try_it(&service::try_it(&service.number)[0]);
    assert_eq!(heard, "hello\n");
    assert!(service.next_log().starts_with("card 1: from 127.0.0.1:"));
}

/// socat's UDP client posts "hello\n" and prints the reply.
#[test]
fn socat_is_answered() {
    if tool("socat", "socat").is_none() {
        return;
    }
    let service = start_service(1);
    let heard = run_try_it(&service::try_it(&service.number)[1]);
    assert_eq!(heard, "hello\n");
    assert!(service.next_log().starts_with("card 1: from 127.0.0.1:"));
}

/// Python's socket module: the page's one-liner, then a card of every byte
/// value, which comes back unchanged.
#[test]
fn python_is_answered() {
    if tool("python3", "python3").is_none() {
        return;
    }
    let service = start_service(2);
    let heard = run_try_it(&service::try_it(&service.number)[2]);
    assert_eq!(heard, "hello\n");
    let port = service.number.port();
    let binary = format!(
        "import socket, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)\n\
         card = bytes(range(256)) * 16\n\
         s.sendto(card, ('127.0.0.1', {port}))\n\
         back, _ = s.recvfrom(65536)\n\
         sys.exit(0 if back == card else 1)\n"
    );
    run_try_it(&format!("python3 -c \"{binary}\""));
    assert_eq!(service.next_log().split(':').next(), Some("card 1"));
    assert_eq!(service.next_log().split(':').next(), Some("card 2"));
}
