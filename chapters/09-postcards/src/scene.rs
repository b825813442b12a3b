//! The scene of chapter 9, narrated line by line; or, with `--listen`, the
//! postcard service for real senders.
//!
//! You and a friend each have a postbox on the loopback line. The friend
//! writes and your `answer_one_card()` answers; three cards are three
//! receives, beside a stream where three writes are one read; a card too big
//! for `read_card()`'s buffer is cut, and the kernel says by how much; your
//! `ask()` gets an answer, and at a dead number a connected postbox hears
//! "return to sender" where an unconnected one hears nothing; and a small
//! postbox filled before anyone reads loses cards. Every wait has a limit
//! and nothing here depends on timing, so the transcript is the same on
//! every run.

use crate::check::Answer;
use crate::service;
use crate::{chapter, CARD_MAX};
use dialtone_kit::args::{self, Flag, Mode};
use dialtone_kit::patience::SCENE_SETTLES as PATIENCE;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{kernel, learner_call, names, party, wire};
use nix::errno::Errno;
use nix::sys::socket::{
    connect, getsockopt, recv, recvmsg, send, setsockopt, sockopt, AddressFamily, MsgFlags,
    SockType, SockaddrIn,
};
use nix::unistd::{read, write};
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, OwnedFd};
use std::thread;
use std::time::Duration;

const POSTCARDS: party::Kind = party::Kind::new(AddressFamily::Inet, SockType::Datagram);

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    match parse(args)? {
        Mode::Scene => scene(s, answer),
        Mode::Real(number) => listen_for_real(s, answer, &number),
    }
}

/// `--listen HOST:PORT`, with the kit's rule for every binary (`--listen
/// PORT` is 127.0.0.1:PORT, and an address beyond loopback gets a warning);
/// a bare `--listen` is 127.0.0.1 on a free port, as in chapter 8.
pub fn parse(args: &[String]) -> Result<Mode, SceneError> {
    let bare = args.iter().filter(|a| a.as_str() != args::HOLD).count() == 1
        && args.iter().any(|a| a == LISTEN.name);
    if bare {
        return Ok(Mode::Real(SockaddrIn::new(127, 0, 0, 1, 0)));
    }
    args::parse(chapter(), args, &LISTEN)
}

/// `--listen [HOST:]PORT`: answer real senders' cards instead of the scene's.
pub const LISTEN: Flag = Flag {
    name: "--listen",
    example: "127.0.0.1:0",
    does:
        "run the postcard service at HOST:PORT: every card comes back to its sender, until Ctrl-C",
    note: "--listen alone picks a free port and prints it; --listen PORT is 127.0.0.1:PORT",
};

/// The postcard service for real senders, until Ctrl-C.
fn listen_for_real(s: &mut Scene, answer: &Answer, number: &SockaddrIn) -> SceneResult {
    // ANCHOR: listen
    let postbox = service::open(number)?;
    let number = kernel::own_number(&postbox).map_err(sys("getsockname", "Is it a socket?"))?;
    // ANCHOR_END: listen
    s.title(&format!(
        "Your postcard service is at {}. Post it a card from another terminal:",
        names::addr(&number)
    ))?;
    for command in service::try_it(&number) {
        s.note(&command)?;
    }
    s.note("each card gets one line in the log (on stderr); Ctrl-C closes the postbox")?;
    // A century: "until Ctrl-C", through the same guarded call as the scene.
    let forever = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    service::run(answer, postbox, usize::MAX, forever, |line| {
        service::log_to(&mut std::io::stderr(), &line)
    })
}

fn scene(s: &mut Scene, answer: &Answer) -> SceneResult {
    s.title("No call this time: you and a friend each have a postbox, and write postcards.")?;
    let (postbox, number) = your_postbox(s, answer)?;
    let (friend, friends_number) =
        party::numbered(POSTCARDS).map_err(sys("socket", "Check your system's limits."))?;
    let friends_number = friends_number
        .as_sockaddr_in()
        .copied()
        .ok_or(SceneError::Unexpected(
            "the friend's postbox isn't IPv4".into(),
        ))?;
    s.step(
        Who::Caller,
        "your friend puts up a postbox too",
        &format!(
            "socket(AF_INET, SOCK_DGRAM, 0) = fd {}; bind(127.0.0.1:0); getsockname = {}",
            friend.as_raw_fd(),
            names::addr(&friends_number)
        ),
    )?;
    s.note("no listen(), no accept(): nobody switches anything on or picks anything up")?;
    s.pause()?;

    first_card(s, answer, &postbox, &number, &friend)?;
    s.pause()?;
    three_cards(s, &postbox, &number, &friend)?;
    s.pause()?;
    too_big(s, answer, &postbox, &number, &friend)?;
    s.pause()?;
    asking(s, answer, friend, &friends_number)?;
    s.pause()?;
    nobody_there(s, answer, &postbox)?;
    s.pause()?;
    lost_in_the_post(s)?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// Your postbox, from your `open_postbox()`, and its number.
fn your_postbox(s: &mut Scene, answer: &Answer) -> Result<(OwnedFd, SockaddrIn), SceneError> {
    // ANCHOR: open
    let postbox = learner_call!(s.chapter, answer.open_postbox())?.map_err(sys(
        "open_postbox()",
        "Check the arguments you pass to socket() and bind().",
    ))?;
    let number =
        kernel::own_number(&postbox).map_err(sys("getsockname", "Is it an IPv4 socket?"))?;
    // ANCHOR_END: open
    let fd = postbox.as_raw_fd();
    let kind =
        kernel::line_kind(&postbox).map_err(sys("getsockopt(SO_TYPE)", "Is it a socket?"))?;
    s.step(
        Who::You,
        "put up a postbox with a number",
        &format!(
            "open_postbox() = fd {fd}; getsockopt(fd {fd}, SO_TYPE) = {}; getsockname(fd {fd}) = {}",
            names::sock_type(kind),
            names::addr(&number)
        ),
    )?;
    if kind != SockType::Datagram || number.port() == 0 {
        return Err(SceneError::Unexpected(format!(
            "open_postbox() gave a {} socket numbered {}, not a numbered postbox (SOCK_DGRAM). `cargo run -- check 9` explains what to change.",
            names::sock_type(kind),
            names::addr(&number)
        )));
    }
    Ok((postbox, number))
}

/// The friend writes; your `answer_one_card()` writes back to the sender.
fn first_card(
    s: &mut Scene,
    answer: &Answer,
    postbox: &OwnedFd,
    number: &SockaddrIn,
    friend: &OwnedFd,
) -> SceneResult {
    let ffd = friend.as_raw_fd();
    party::post(friend, b"hello", number).map_err(sys("sendto", "Is the postbox there?"))?;
    s.step(
        Who::Caller,
        "your friend posts a card to your number",
        &format!("sendto(fd {ffd}, \"hello\", {}) = 5", names::addr(number)),
    )?;
    // ANCHOR: answer
    let lent = postbox
        .try_clone()
        .map_err(|_| sys("dup", "Too many open files?")(Errno::EMFILE))?;
    let sender =
        learner_call!(s.chapter, answer.answer_one_card, move |f| f(&lent))?.map_err(sys(
            "answer_one_card()",
            "`cargo test -p ch09-postcards` says why.",
        ))?;
    // ANCHOR_END: answer
    s.step(
        Who::You,
        "take the card, read who wrote it, and write back to them",
        &format!(
            "answer_one_card(fd {}) = Ok({}): your code names the sender",
            postbox.as_raw_fd(),
            names::addr(&sender)
        ),
    )?;
    let reply = party::hear_datagram(friend, PATIENCE)
        .map_err(sys("recvfrom", "Is the postbox there?"))?
        .ok_or_else(|| {
            SceneError::Unexpected(format!(
                "Your friend waited {} s and no reply came. `cargo test -p ch09-postcards` says which mistake that is.",
                PATIENCE.as_secs()
            ))
        })?;
    let from = reply
        .from
        .as_ref()
        .map_or("no number".into(), names::number);
    s.step(
        Who::Caller,
        "your friend finds the reply, from your number",
        &format!(
            "recvfrom(fd {ffd}) = {} bytes {} from {from}",
            reply.bytes.len(),
            names::quote(&reply.bytes, 40)
        ),
    )?;
    s.note("recvfrom() is the only way you learned the friend's number: the card carried it")?;
    Ok(())
}

/// Three cards are three receives; three writes on a stream can be one read.
fn three_cards(
    s: &mut Scene,
    postbox: &OwnedFd,
    number: &SockaddrIn,
    friend: &OwnedFd,
) -> SceneResult {
    let (pfd, ffd) = (postbox.as_raw_fd(), friend.as_raw_fd());
    let mut posted = Vec::new();
    // ANCHOR: three
    for card in [&b"one"[..], b"two", b"three"] {
        let n = nix::sys::socket::sendto(ffd, card, number, MsgFlags::empty())
            .map_err(sys("sendto", "Is the postbox there?"))?;
        posted.push(format!(
            "sendto(fd {ffd}, {}) = {n}",
            names::quote(card, 10)
        ));
    }
    // ANCHOR_END: three
    s.step(
        Who::Caller,
        "your friend posts three cards",
        &posted.join("; "),
    )?;
    let mut got = Vec::new();
    for _ in 0..3 {
        let mut buf = [0u8; CARD_MAX];
        let (n, _) = nix::sys::socket::recvfrom::<SockaddrIn>(pfd, &mut buf)
            .map_err(sys("recvfrom", "Is the postbox there?"))?;
        got.push(format!("{} bytes {}", n, names::quote(&buf[..n], 10)));
    }
    s.step(
        Who::You,
        "take them out: one card each time, however big the hand",
        &format!("recvfrom(fd {pfd}, {CARD_MAX}) x 3 = {}", got.join(", ")),
    )?;
    let pair = wire::call_pair().map_err(sys("a stream pair", "Check your system's limits."))?;
    let mut wrote = Vec::new();
    for words in [&b"one"[..], b"two", b"three"] {
        let n = write(&pair.caller, words).map_err(sys("write", "Is the line up?"))?;
        wrote.push(n.to_string());
    }
    wire::wait_until_queued(&pair.callee, 11, PATIENCE);
    let mut buf = [0u8; CARD_MAX];
    let n = read(&pair.callee, &mut buf).map_err(sys("read", "Is the line up?"))?;
    s.step(
        Who::Exchange,
        "the same three on a stream (chapter 6's call), side by side",
        &format!(
            "write x 3 = {}; read(fd {}, {CARD_MAX}) = {n} bytes {}",
            wrote.join(", "),
            pair.callee.as_raw_fd(),
            names::quote(&buf[..n], 20)
        ),
    )?;
    s.note("a stream is bytes with no edges; a datagram keeps each card's edges: one sendto, one recvfrom")?;
    Ok(())
}

/// A card bigger than the hand: cut, and the kernel says how much.
fn too_big(
    s: &mut Scene,
    answer: &Answer,
    postbox: &OwnedFd,
    number: &SockaddrIn,
    friend: &OwnedFd,
) -> SceneResult {
    let (pfd, ffd) = (postbox.as_raw_fd(), friend.as_raw_fd());
    let long: Vec<u8> = (0..100).map(|i| b'a' + (i % 26) as u8).collect();
    party::post(friend, &long, number).map_err(sys("sendto", "Is the postbox there?"))?;
    s.step(
        Who::Caller,
        "your friend posts a long card",
        &format!("sendto(fd {ffd}, 100 bytes) = 100"),
    )?;
    // ANCHOR: read_card
    let lent = postbox
        .try_clone()
        .map_err(|_| sys("dup", "Too many open files?")(Errno::EMFILE))?;
    let (kept, real) = learner_call!(s.chapter, answer.read_card, move |f| f(&lent, 40))?.map_err(
        sys("read_card()", "`cargo test -p ch09-postcards` says why."),
    )?;
    // ANCHOR_END: read_card
    s.step(
        Who::You,
        "read it with room for 40 bytes",
        &format!(
            "read_card(fd {pfd}, 40): recv(fd {pfd}, 40, MSG_TRUNC) = {real}; kept {} bytes, {} lost",
            kept.len(),
            real.saturating_sub(kept.len())
        ),
    )?;
    s.note("with MSG_TRUNC, Linux's recv returns the card's real length (udp(7)); the rest of the card is gone all the same")?;
    party::post(friend, &long, number).map_err(sys("sendto", "Is the postbox there?"))?;
    // ANCHOR: recvmsg
    let mut room = [0u8; 40];
    let mut iov = [IoSliceMut::new(&mut room)];
    let got = recvmsg::<SockaddrIn>(pfd, &mut iov, None, MsgFlags::empty())
        .map_err(sys("recvmsg", "Is the postbox there?"))?;
    let cut = got.flags.contains(MsgFlags::MSG_TRUNC);
    // ANCHOR_END: recvmsg
    s.step(
        Who::You,
        "the same long card again, through recvmsg",
        &format!(
            "sendto(fd {ffd}, 100 bytes) = 100; recvmsg(fd {pfd}, 40) = {}, msg_flags {}",
            got.bytes,
            if cut { "MSG_TRUNC" } else { "0" }
        ),
    )?;
    s.note(
        "recvmsg's MSG_TRUNC flag only says the card was cut; recv with MSG_TRUNC says by how much",
    )?;
    Ok(())
}

/// Your `ask()` gets an answer from the friend.
fn asking(
    s: &mut Scene,
    answer: &Answer,
    friend: OwnedFd,
    friends_number: &SockaddrIn,
) -> SceneResult {
    let ffd = friend.as_raw_fd();
    // The friend answers one card on a thread of its own, within PATIENCE.
    let answering = thread::spawn(move || {
        let card = party::hear_datagram(&friend, PATIENCE).ok().flatten()?;
        let from = card.from.as_ref()?.as_sockaddr_in().copied()?;
        party::post(&friend, b"ten past four", &from).ok()?;
        Some((from, card.bytes))
    });
    // ANCHOR: ask
    let to = *friends_number;
    let reply = learner_call!(s.chapter, answer.ask(to, b"what time is it?"))?;
    // ANCHOR_END: ask
    let seen = answering.join().ok().flatten();
    let reply = reply.map_err(sys("ask()", "`cargo test -p ch09-postcards` says why."))?;
    let Some((from, question)) = seen else {
        return Err(SceneError::Unexpected(
            "Your friend never got the question.".into(),
        ));
    };
    s.step(
        Who::You,
        "ask your friend the time, from a postbox of your own",
        &format!(
            "ask({}, \"what time is it?\"): your code, with a postbox of its own",
            names::addr(friends_number)
        ),
    )?;
    s.step(
        Who::Caller,
        "your friend answers whoever wrote",
        &format!(
            "recvfrom(fd {ffd}) = {} bytes from {}; sendto(fd {ffd}, \"ten past four\", {}) = 13",
            question.len(),
            names::addr(&from),
            names::addr(&from)
        ),
    )?;
    s.step(
        Who::You,
        "the reply comes back to the postbox you asked from",
        &format!(
            "ask(..) = Ok({}): your postbox is closed again",
            names::quote(&reply, 40)
        ),
    )?;
    s.note("had the card been lost, recv would have given up after 250 ms (EAGAIN) and ask() would have posted it again, 3 times at most")?;
    Ok(())
}

/// At a number nobody has, nothing complains, unless the postbox is connected.
fn nobody_there(s: &mut Scene, answer: &Answer, postbox: &OwnedFd) -> SceneResult {
    let pfd = postbox.as_raw_fd();
    let (gone, dead) =
        party::numbered(POSTCARDS).map_err(sys("socket", "Check your system's limits."))?;
    let dead = dead
        .as_sockaddr_in()
        .copied()
        .ok_or(SceneError::Unexpected("not IPv4".into()))?;
    drop(gone);
    s.step(
        Who::Exchange,
        "a number nobody has: a postbox numbered, then taken down",
        &format!(
            "bind(127.0.0.1:0); getsockname = {}; close",
            names::addr(&dead)
        ),
    )?;
    let a = nix::sys::socket::sendto(pfd, b"anyone?", &dead, MsgFlags::empty())
        .map_err(sys("sendto", "Is the postbox there?"))?;
    let b = nix::sys::socket::sendto(pfd, b"anyone?", &dead, MsgFlags::empty())
        .map_err(sys("sendto", "Is the postbox there?"))?;
    s.step(
        Who::You,
        "post two cards there from your postbox",
        &format!(
            "sendto(fd {pfd}, \"anyone?\", {}) = {a}; and again = {b}",
            names::addr(&dead)
        ),
    )?;
    s.note(
        "no connection, no refusal: an unconnected postbox is never told the card went nowhere",
    )?;
    // ANCHOR: refused
    let asker = party::phone(POSTCARDS).map_err(sys("socket", "Check your system's limits."))?;
    connect(asker.as_raw_fd(), &dead).map_err(sys("connect", "Is it a datagram socket?"))?;
    party::be_patient(&asker, PATIENCE)
        .map_err(sys("setsockopt(SO_RCVTIMEO)", "Is it a socket?"))?;
    let sent = send(asker.as_raw_fd(), b"anyone?", MsgFlags::empty());
    let mut buf = [0u8; 64];
    let later = recv(asker.as_raw_fd(), &mut buf, MsgFlags::empty());
    // ANCHOR_END: refused
    let afd = asker.as_raw_fd();
    s.step(
        Who::You,
        "a postbox addressed to that number: connect() writes it on every card",
        &format!(
            "socket(AF_INET, SOCK_DGRAM, 0) = fd {afd}; connect(fd {afd}, {}) = 0; SO_RCVTIMEO, SO_SNDTIMEO {} s",
            names::addr(&dead),
            PATIENCE.as_secs()
        ),
    )?;
    s.step(
        Who::You,
        "post a card, then look for the reply",
        &format!(
            "send(fd {afd}, \"anyone?\") = {}; recv(fd {afd}) = {}",
            shown(&sent),
            shown(&later)
        ),
    )?;
    s.note("the send went out fine; the post office's \"return to sender\" (ICMP port unreachable) came back after it, so the NEXT call says ECONNREFUSED")?;
    let asked = learner_call!(s.chapter, answer.ask(dead, b"anyone?"))?;
    s.step(
        Who::You,
        "your ask() at that number",
        &format!(
            "ask({}, \"anyone?\") = {}",
            names::addr(&dead),
            match &asked {
                Ok(reply) => format!("Ok({})", names::quote(reply, 20)),
                Err(e) => format!("Err({e:?})"),
            }
        ),
    )?;
    Ok(())
}

fn shown(r: &nix::Result<usize>) -> String {
    match r {
        Ok(n) => n.to_string(),
        Err(e) => format!("{e:?}"),
    }
}

/// Cards posted to a full postbox are dropped: counted, sent vs received.
fn lost_in_the_post(s: &mut Scene) -> SceneResult {
    const CARDS: usize = 50;
    let (small, number) =
        party::numbered(POSTCARDS).map_err(sys("socket", "Check your system's limits."))?;
    let (sender, _) =
        party::numbered(POSTCARDS).map_err(sys("socket", "Check your system's limits."))?;
    // ANCHOR: loss
    setsockopt(&small, sockopt::RcvBuf, &1024)
        .map_err(sys("setsockopt(SO_RCVBUF)", "Is it a socket?"))?;
    let size = getsockopt(&small, sockopt::RcvBuf)
        .map_err(sys("getsockopt(SO_RCVBUF)", "Is it a socket?"))?;
    // How many fit depends on what the kernel charges per card (its skb
    // "truesize", several times the 100 bytes), not on timing: nobody reads
    // until every card is posted.
    let mut sent = 0;
    for _ in 0..CARDS {
        if party::post(&sender, &[b'x'; 100], &number).is_ok() {
            sent += 1;
        }
    }
    let mut received = 0;
    let mut buf = [0u8; 100];
    while recv(small.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT).is_ok() {
        received += 1;
    }
    // ANCHOR_END: loss
    let sfd = small.as_raw_fd();
    s.step(
        Who::You,
        "a small postbox: room for about 1 KiB of cards",
        &format!("setsockopt(fd {sfd}, SO_RCVBUF, 1024); getsockopt = {size} (Linux doubles it, and keeps a minimum)"),
    )?;
    s.step(
        Who::Caller,
        &format!("your friend posts {CARDS} cards of 100 bytes before anyone reads"),
        &format!("sendto x {CARDS}: {sent} returned 100"),
    )?;
    s.step(
        Who::You,
        "empty the postbox",
        &format!("recv(fd {sfd}, MSG_DONTWAIT) x {received}, then EAGAIN: {received} of {sent} arrived, {} lost", sent - received),
    )?;
    s.note("every sendto said yes; the postbox was full, so the kernel dropped the rest without a word: nobody is told a card was lost")?;
    Ok(())
}
