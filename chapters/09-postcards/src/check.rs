//! The self-check for chapter 9: real postcards, posted to and from the
//! learner's code on 127.0.0.1, and the kernel asked what happened.
//!
//! Nothing reads the learner's source. Each scenario is one small function:
//! the postbox `open_postbox()` returns is asked for its type, family,
//! flags and number; `answer_one_card()` gets cards from two senders in
//! turn, and each sender says what came back and from where; `ask()` talks
//! to a scripted server that answers, loses the first card, never answers,
//! or isn't there at all, while the server counts the cards and the check
//! times the answer; `read_card()` gets cards longer than, as long as and
//! shorter than its buffer. What the senders and the server saw, with how
//! the learner's function ended, names the mistake.

use crate::{chapter, CARD_MAX, TRIES, WAIT};
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{LearnerError, Trouble};
use dialtone_kit::party::{self, Datagram, Kind};
use dialtone_kit::patience::{ALREADY_IN_THE_KERNEL, SHOULD_RETURN_AT_ONCE};
use dialtone_kit::{kernel, learner_call, names, wire};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{AddressFamily, SockType, SockaddrIn, SockaddrLike};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// The shape of `read_card`: the bytes kept, and the card's real length.
pub type ReadCard = fn(&OwnedFd, usize) -> nix::Result<(Vec<u8>, usize)>;

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub open_postbox: fn() -> nix::Result<OwnedFd>,
    pub answer_one_card: fn(&OwnedFd) -> nix::Result<SockaddrIn>,
    pub ask: fn(SockaddrIn, &[u8]) -> nix::Result<Vec<u8>>,
    pub read_card: ReadCard,
}

/// Postcards on IPv4, the kind every postbox here is.
const POSTCARDS: Kind = Kind::new(AddressFamily::Inet, SockType::Datagram);

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    passed.saw(check_new_postbox(answer)?);
    passed.saw(check_postbox(answer)?);
    passed.saw(check_answer(answer)?);
    passed.saw(check_ask_answered(answer)?);
    passed.saw(check_ask_lost(answer)?);
    passed.saw(check_ask_silent(answer)?);
    passed.saw(check_ask_nobody(answer)?);
    passed.saw(check_read_card(answer)?);
    Ok(passed)
}

// ------------------------------------------------------------ open_postbox

/// The postbox `open_postbox()` returns: a datagram socket, IPv4, blocking,
/// numbered on 127.0.0.1, on no one's line, held once, and it takes cards.
fn check_postbox(answer: &Answer) -> Result<String, Failure> {
    let postbox = get_postbox(answer)?;
    let kind = kernel::line_kind(&postbox).map_err(|e| unreadable("SO_TYPE", e))?;
    if kind != SockType::Datagram {
        return Err(Failure::new("ch09.not-datagram", "open_postbox() installed a phone, not a postbox")
            .expected("SO_TYPE = SOCK_DGRAM")
            .got(format!("SO_TYPE = {}", names::sock_type(kind)))
            .phone("a stream is a call: someone must listen and accept before a word goes through. A postbox takes cards from anyone, one by one.")
            .syscall("pass SockType::Datagram to socket()."));
    }
    let family = kernel::network(&postbox).map_err(|e| unreadable("the family", e))?;
    if family != Some(AddressFamily::Inet) {
        let got = family.map_or("no family", names::family);
        return Err(Failure::new(
            "ch09.not-ipv4",
            "open_postbox() put the postbox on another network",
        )
        .expected("family AF_INET (IPv4)")
        .got(format!("family {got}"))
        .phone("this chapter's cards travel on the IPv4 network: 127.0.0.1.")
        .syscall(format!(
            "pass AddressFamily::Inet to socket(), not the one that gave {got}."
        )));
    }
    let flags = fcntl(&postbox, FcntlArg::F_GETFL).map_err(|e| unreadable("F_GETFL", e))?;
    if OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK) {
        return Err(Failure::new("ch09.nonblocking", "open_postbox() made a postbox that never waits")
            .expected("fcntl(F_GETFL) without O_NONBLOCK (no flags)")
            .got("fcntl(F_GETFL) has O_NONBLOCK: the socket was made with SOCK_NONBLOCK")
            .phone("you'd look in the box, find it empty and give up at once, instead of waiting for the post.")
            .syscall("pass SockFlag::empty() to socket(): with SOCK_NONBLOCK every recvfrom() on an empty box fails with EAGAIN."));
    }
    check_number(&postbox)?;
    if let Ok(peer) = kernel::other_end_of(&postbox) {
        return Err(Failure::new("ch09.connected", "open_postbox() addressed the postbox to one number")
            .expected("no other end: getpeername says ENOTCONN")
            .got(format!("getpeername = {}: connect() was called", names::number(&peer)))
            .phone("a postbox that only takes cards from one sender can't answer anyone else.")
            .syscall("remove the connect() from open_postbox(); only a client that talks to one server (ask) connects."));
    }
    let copies = wire::handsets_on(&postbox);
    if copies > 1 {
        return Err(Failure::new("ch09.copy-kept", "open_postbox() kept a copy of the postbox")
            .expected("one descriptor for the socket: the one you returned")
            .got(format!("{copies} descriptors name the same socket (a dup or try_clone kept somewhere)"))
            .phone("you kept a key to the box you gave away: it is never really closed, and its number never free.")
            .syscall("return the OwnedFd from socket() itself; don't keep a try_clone() of it in a static or a thread."));
    }
    takes_cards(&postbox)?;
    Ok("open_postbox() gave a blocking IPv4 datagram socket (SO_TYPE SOCK_DGRAM, no O_NONBLOCK), numbered on 127.0.0.1 and held once; a card posted to its number arrived".into())
}

/// Numbered, on the loopback line.
fn check_number(postbox: &OwnedFd) -> Result<(), Failure> {
    let number = kernel::own_number(postbox).map_err(|e| unreadable("getsockname", e))?;
    if number.port() == 0 {
        return Err(Failure::new("ch09.no-number", "open_postbox() gave the postbox no number")
            .expected("getsockname = 127.0.0.1:(a port the kernel picked)")
            .got(format!("getsockname = {}: bind() was not called", names::addr(&number)))
            .phone("a postbox with no number on the door: nobody can post a card to it (the kernel would pick one at your first sendto, and you'd never know it in advance).")
            .syscall("bind(postbox.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)) before you return it."));
    }
    if !number.ip().is_loopback() {
        return Err(Failure::new("ch09.not-loopback", "open_postbox() put the postbox beyond this machine")
            .expected("getsockname = 127.0.0.1:(a port)")
            .got(format!("getsockname = {}", names::addr(&number)))
            .phone("a postbox on the street takes cards from anyone on the network; this one is for this machine only.")
            .syscall("bind to SockaddrIn::new(127, 0, 0, 1, 0), not 0.0.0.0."));
    }
    Ok(())
}

/// A card posted to the postbox's number arrives there.
fn takes_cards(postbox: &OwnedFd) -> Result<(), Failure> {
    let number = kernel::number_of(postbox).map_err(|e| unreadable("getsockname", e))?;
    let (sender, _) = party::numbered(POSTCARDS).map_err(setup("socket"))?;
    party::post(&sender, b"test card", &number).map_err(setup("sendto"))?;
    match party::hear_datagram(postbox, ALREADY_IN_THE_KERNEL) {
        Ok(Some(card)) if card.bytes == b"test card" => Ok(()),
        other => Err(Failure::new(
            "ch09.takes-no-cards",
            "a card posted to the postbox never arrived",
        )
        .expected("the card \"test card\" waiting in the postbox")
        .got(format!("{other:?}"))
        .phone("the number on the door doesn't lead to this box.")
        .syscall("return the socket you bound, not another one.")),
    }
}

/// Two calls, two postboxes.
fn check_new_postbox(answer: &Answer) -> Result<String, Failure> {
    let first = get_postbox(answer)?;
    let second = get_postbox(answer)?;
    let (a, b) = (
        kernel::fd_target(first.as_raw_fd()),
        kernel::fd_target(second.as_raw_fd()),
    );
    if a.is_some() && a == b {
        return Err(Failure::new("ch09.same-postbox", "open_postbox() handed out the same postbox twice")
            .expected("a new socket for each call: another socket:[inode] in /proc/self/fd")
            .got(format!("both descriptors name {}: one socket, two descriptors", a.unwrap_or_default()))
            .phone("two keys to one box: the cards for one are read by the other.")
            .syscall("call socket() and bind() inside open_postbox() every time; don't keep one socket in a static."));
    }
    Ok("a second open_postbox() gave another socket with a number of its own".into())
}

fn get_postbox(answer: &Answer) -> Result<OwnedFd, Failure> {
    let result = learner_call!(chapter(), answer.open_postbox())?;
    result.map_err(|errno| {
        Failure::new("ch09.socket-error", "open_postbox() returned an error")
            .expected("Ok(fd): a new, numbered datagram socket")
            .got(format!("Err({})", names::errno(errno)))
            .phone(format!("the post office refused: {}.", names::errno_phone_on(errno, POSTCARDS)))
            .syscall("socket(AddressFamily::Inet, SockType::Datagram, SockFlag::empty(), None), then bind() to 127.0.0.1 port 0.")
    })
}

// --------------------------------------------------------- answer_one_card

/// Two senders in turn, each posting a card: each must get its own card
/// back, from the postbox's own number, and be named as the sender.
fn check_answer(answer: &Answer) -> Result<String, Failure> {
    let (postbox, _) = numbered()?;
    let (first, first_number) = numbered()?;
    let (second, second_number) = numbered()?;
    let big: Vec<u8> = (0..CARD_MAX).map(|i| (i % 251) as u8).collect();
    let elsewhere = Elsewhere {
        postbox: &postbox,
        others: &[],
    };
    answered(answer, &postbox, (&first, first_number), &big, &elsewhere)?;
    let elsewhere = Elsewhere {
        postbox: &postbox,
        others: &[(&first, first_number)],
    };
    answered(
        answer,
        &postbox,
        (&second, second_number),
        b"second card",
        &elsewhere,
    )?;
    Ok(format!(
        "answer_one_card() sent a {CARD_MAX}-byte card and then a short one back to two senders in turn, each from the postbox's own number, and named each sender"
    ))
}

/// Where a reply that didn't reach the sender may have gone instead.
struct Elsewhere<'a> {
    postbox: &'a OwnedFd,
    others: &'a [(&'a OwnedFd, SockaddrIn)],
}

/// One card from `sender` to `postbox`, answered by the learner.
fn answered(
    answer: &Answer,
    postbox: &OwnedFd,
    (sender, sender_number): (&OwnedFd, SockaddrIn),
    words: &[u8],
    elsewhere: &Elsewhere,
) -> Result<(), Failure> {
    let number = kernel::own_number(postbox).map_err(setup("getsockname"))?;
    party::post(sender, words, &number).map_err(setup("sendto"))?;
    let lent = postbox
        .try_clone()
        .map_err(|_| setup("dup")(Errno::EMFILE))?;
    let outcome = learner_call!(
        chapter(),
        answer.answer_one_card,
        move |answer_one_card| answer_one_card(&lent),
        within = SHOULD_RETURN_AT_ONCE
    );
    let heard = party::hear_datagram(sender, ALREADY_IN_THE_KERNEL).map_err(setup("recvfrom"))?;
    let returned = match outcome {
        Ok(Ok(who)) => who,
        Ok(Err(e)) => {
            return Err(Failure::new("ch09.card-error", "answer_one_card() returned an error")
                .expected(format!("Ok({}): the sender's number", names::addr(&sender_number)))
                .got(format!("Err({})", names::errno(e)))
                .phone(format!("the post office said: {}.", names::errno_phone_on(e, POSTCARDS)))
                .syscall(if e == Errno::EDESTADDRREQ {
                    "send() and write() take no address: on a postbox nobody connect()ed, use sendto(postbox, &card[..n], &sender, ..) with the sender recvfrom() named."
                } else {
                    "recvfrom() the card, then sendto() it back to the address recvfrom() gave you."
                }))
        }
        Err(e) if heard.is_some() && matches!(e.trouble, Trouble::Hung(_)) => {
            return Err(Failure::new("ch09.answers-forever", "answer_one_card() answered, then waited for another card")
                .expected(format!("answer_one_card() to return within {} s of answering", SHOULD_RETURN_AT_ONCE.as_secs()))
                .got("the reply arrived, and the function was still running")
                .phone("answer one card and come back from the postbox: the service loop is the caller's job.")
                .syscall("one recvfrom(), one sendto(), return the sender. No loop."))
        }
        Err(e) => return Err(e.into()),
    };
    let Some(reply) = heard else {
        return Err(lost_reply(&sender_number, elsewhere));
    };
    check_reply(&reply, words, &number)?;
    if returned != sender_number {
        return Err(Failure::new(
            "ch09.wrong-sender",
            "answer_one_card() named the wrong sender",
        )
        .expected(format!(
            "Ok({}): the number recvfrom() gave",
            names::addr(&sender_number)
        ))
        .got(format!("Ok({})", names::addr(&returned)))
        .phone("you answered the right person but wrote down someone else's name.")
        .syscall("return the address recvfrom() gave you for this card."));
    }
    Ok(())
}

/// The reply must be the card's words, whole, from the postbox's number.
fn check_reply(reply: &Datagram, words: &[u8], postbox: &SockaddrIn) -> Result<(), Failure> {
    let from = reply
        .from
        .as_ref()
        .and_then(|a| a.as_sockaddr_in().copied());
    if from != Some(*postbox) {
        let got = reply
            .from
            .as_ref()
            .map_or("no number".to_string(), names::number);
        return Err(Failure::new("ch09.reply-from-new-socket", "the reply came from another postbox")
            .expected(format!("the reply from {}, the number the sender wrote to", names::addr(postbox)))
            .got(format!("the reply came from {got}"))
            .phone("you answered from a phone box down the street: the sender doesn't know that number, and a sender who only takes post from you (connect) never sees it.")
            .syscall("sendto() on the same postbox the card came in on, not on a new socket."));
    }
    if reply.bytes == words {
        return Ok(());
    }
    let cut = reply.bytes.len() < words.len() && words.starts_with(&reply.bytes);
    if cut {
        return Err(Failure::new("ch09.card-cut", "answer_one_card() cut the card short")
            .expected(format!("the {}-byte card said back whole", words.len()))
            .got(format!("only its first {} bytes came back: the rest was lost in recvfrom()", reply.bytes.len()))
            .phone("the card was bigger than your hand: what didn't fit fell on the floor, and nobody told you.")
            .syscall(format!("a datagram longer than the buffer is cut, silently. Use a buffer of CARD_MAX ({CARD_MAX}) bytes.")));
    }
    Err(Failure::new(
        "ch09.echo-garbled",
        "answer_one_card() said back something else",
    )
    .expected(format!("{} said back exactly", names::quote(words, 24)))
    .got(format!("{} came back", names::quote(&reply.bytes, 24)))
    .phone("you copied the card wrong: too much, too little, or changed.")
    .syscall("sendto(&card[..n]) with the n recvfrom() returned: not the whole buffer."))
}

/// The sender heard nothing: say where the reply went, if it came to one
/// of the check's own postboxes.
fn lost_reply(sender: &SockaddrIn, elsewhere: &Elsewhere) -> Failure {
    let quick = Duration::from_millis(100);
    if let Ok(Some(_)) = party::hear_datagram(elsewhere.postbox, quick) {
        return Failure::new(
            "ch09.reply-to-self",
            "answer_one_card() posted the reply to its own postbox",
        )
        .expected(format!("the reply at {}, the sender", names::addr(sender)))
        .got("the sender heard nothing; a card arrived in the learner's own postbox")
        .phone("you wrote your own address on the reply and dropped it in your own box.")
        .syscall("sendto() the address recvfrom() returned, not getsockname()'s.");
    }
    for (other, other_number) in elsewhere.others {
        if let Ok(Some(_)) = party::hear_datagram(*other, quick) {
            return Failure::new("ch09.fixed-address", "answer_one_card() answered an earlier sender, not this one")
                .expected(format!("the reply at {}, who wrote this card", names::addr(sender)))
                .got(format!("it went to {}, who wrote the card before", names::addr(other_number)))
                .phone("you reply to one address whoever writes: the first sender gets everybody's answers.")
                .syscall("take the address from this card's recvfrom() each time; don't keep one in a static or type it in.");
        }
    }
    Failure::new("ch09.reply-lost", "the sender never got a reply")
        .expected(format!("a reply at {}, the number recvfrom() named, within {} s", names::addr(sender), ALREADY_IN_THE_KERNEL.as_secs()))
        .got("nothing arrived there: the reply went to another address, or was never sent")
        .phone("the reply went in the post with the wrong address on it, or not at all.")
        .syscall("sendto(postbox, &card[..n], &sender) with `sender` from recvfrom(), not a fixed address.")
}

// --------------------------------------------------------------------- ask

/// What the scripted server does with the cards `ask()` posts to it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// Answers every card, after a moment's thought.
    Answers,
    /// Loses the first card (takes it and says nothing), answers the rest.
    LosesFirst,
    /// Takes every card and never answers.
    Silent,
}

/// The server's "moment's thought" before it answers: shorter than WAIT, so
/// a right answer gets its reply on the first try, and long enough that a
/// postbox that doesn't wait at all has given up by then.
const THINKING: Duration = Duration::from_millis(100);

/// How long `ask()` may take: every try's wait, and a second more for a
/// slow machine. A promise the page makes.
fn ask_limit() -> Duration {
    WAIT * TRIES as u32 + Duration::from_secs(1)
}

/// One card as the server saw it.
struct Seen {
    from: SockaddrIn,
    bytes: Vec<u8>,
    /// When the server took it.
    at: Instant,
}

/// The scripted server: a numbered postbox and a thread following `script`
/// until told to stop. Its cards come back from [`Server::stop`].
struct Server {
    number: SockaddrIn,
    stop: Arc<AtomicBool>,
    cards: mpsc::Receiver<Vec<Seen>>,
}

impl Server {
    fn start(script: Script) -> Result<Server, Failure> {
        let (postbox, number) = numbered()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, cards) = mpsc::channel();
        let stopping = Arc::clone(&stop);
        thread::spawn(move || {
            let mut seen: Vec<Seen> = Vec::new();
            let deadline = Instant::now() + ask_limit() + Duration::from_secs(1);
            while Instant::now() < deadline {
                // Told to stop, it still takes what is already queued, so
                // a card posted a moment before ask() returned is counted.
                let stopped = stopping.load(Ordering::SeqCst);
                let wait = if stopped {
                    Duration::ZERO
                } else {
                    Duration::from_millis(20)
                };
                let card = match party::hear_datagram(&postbox, wait) {
                    Ok(Some(card)) => card,
                    _ if stopped => break,
                    _ => continue,
                };
                let at = Instant::now();
                let Some(from) = card.from.as_ref().and_then(|a| a.as_sockaddr_in().copied())
                else {
                    continue;
                };
                let answers = match script {
                    Script::Answers => true,
                    Script::LosesFirst => !seen.is_empty(),
                    Script::Silent => false,
                };
                if answers && !stopped {
                    // This sleep *is* the server thinking, not a wait for a peer.
                    thread::sleep(THINKING);
                    let reply = [&b"re: "[..], &card.bytes].concat();
                    let _ = party::post(&postbox, &reply, &from);
                }
                seen.push(Seen {
                    from,
                    bytes: card.bytes,
                    at,
                });
            }
            let _ = tx.send(seen);
        });
        Ok(Server {
            number,
            stop,
            cards,
        })
    }

    fn stop(self) -> Vec<Seen> {
        self.stop.store(true, Ordering::SeqCst);
        self.cards
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default()
    }
}

/// How one `ask()` went: what it returned, how long it took, what the
/// server saw.
struct Asked {
    result: Result<nix::Result<Vec<u8>>, LearnerError>,
    took: Duration,
    cards: Vec<Seen>,
}

const QUESTION: &[u8] = b"what time is it?";

/// What the server saw and how long it took, for a verdict.
struct Tally {
    cards: usize,
    took: Duration,
}

impl Asked {
    fn tally(&self) -> Tally {
        Tally {
            cards: self.cards.len(),
            took: self.took,
        }
    }
}

fn ask_once(answer: &Answer, script: Script) -> Result<Asked, Failure> {
    let server = Server::start(script)?;
    let number = server.number;
    let started = Instant::now();
    let result = learner_call!(
        chapter(),
        answer.ask(number, QUESTION),
        within = ask_limit()
    );
    let took = started.elapsed();
    let cards = server.stop();
    Ok(Asked {
        result,
        took,
        cards,
    })
}

fn expected_reply() -> Vec<u8> {
    [&b"re: "[..], QUESTION].concat()
}

/// A server that answers: one card, its reply returned, the postbox closed.
fn check_ask_answered(answer: &Answer) -> Result<String, Failure> {
    let asked = ask_once(answer, Script::Answers)?;
    if let Some(card) = asked.cards.iter().find(|c| c.bytes != QUESTION) {
        return Err(Failure::new(
            "ch09.question-garbled",
            "ask() posted something other than the question",
        )
        .expected(format!("the card {}", names::quote(QUESTION, 40)))
        .got(format!("the server got {}", names::quote(&card.bytes, 40)))
        .phone("the server answered, but not the question you were asked to post.")
        .syscall("send() exactly the question's bytes."));
    }
    let result = match asked.result.clone() {
        Ok(r) => r,
        Err(e) => return Err(hung_ask(e, &asked.cards)),
    };
    match result {
        Ok(reply) if reply == expected_reply() => {}
        Ok(reply) => return Err(reply_garbled(&reply)),
        Err(e) if asked.cards.is_empty() => return Err(no_card_posted(e)),
        Err(e) if asked.took < THINKING => return Err(did_not_wait(e, &asked.tally())),
        Err(e) => return Err(ask_error(e, &asked.tally())),
    }
    // A second card long before WAIT was up: the learner's wait is too
    // short. (One that came near WAIT is a loaded machine slowing the
    // server's reply, not the learner's mistake.)
    let hasty = asked
        .cards
        .get(1)
        .map(|c| c.at.duration_since(asked.cards[0].at));
    if hasty.is_some_and(|gap| gap < WAIT / 2) {
        return Err(Failure::new("ch09.too-impatient", "ask() posted the question again before the wait was up")
            .expected(format!("one card: the reply comes {} ms later, inside WAIT ({} ms)", THINKING.as_millis(), WAIT.as_millis()))
            .got(format!("{} cards in {} ms", asked.cards.len(), asked.took.as_millis()))
            .phone("you sent the same letter again while the first was still being answered.")
            .syscall("set SO_RCVTIMEO to WAIT (sockopt::ReceiveTimeout) before you recv(), and post again only on EAGAIN."));
    }
    let from = asked.cards[0].from;
    still_open(from)?;
    Ok(format!(
        "ask() posted one card from a postbox of its own ({}), returned the reply that came {} ms later, and closed its postbox",
        "127.0.0.1",
        THINKING.as_millis()
    ))
}

/// The first card is lost: `ask()` must wait, give up on it after WAIT,
/// and post the question again.
fn check_ask_lost(answer: &Answer) -> Result<String, Failure> {
    let asked = ask_once(answer, Script::LosesFirst)?;
    let result = match asked.result.clone() {
        Ok(r) => r,
        Err(e) if asked.cards.len() <= 1 => {
            return Err(dialtone_kit::task::hung_means(e, || {
                Failure::new("ch09.no-timeout", "ask() waited for ever for a lost card's reply")
                    .expected(format!("after WAIT ({} ms) with no reply, the question posted again", WAIT.as_millis()))
                    .got(format!("one card posted; ask() was still waiting {:.1} s later", ask_limit().as_secs_f32()))
                    .phone("the card was lost in the post and you sit by the letterbox for ever: nobody will ever tell you it won't come.")
                    .syscall("setsockopt(postbox, sockopt::ReceiveTimeout, &TimeVal for WAIT) before recv(): then recv() fails with EAGAIN when the wait runs out.")
            }))
        }
        Err(e) => return Err(hung_ask(e, &asked.cards)),
    };
    match result {
        Ok(reply) if reply == expected_reply() => {
            still_open(asked.cards[0].from)?;
            Ok(format!(
                "with the first card lost, ask() waited, posted the question again ({} cards) and returned the reply",
                asked.cards.len()
            ))
        }
        Ok(reply) => Err(reply_garbled(&reply)),
        Err(e) if asked.cards.len() == 1 => Err(Failure::new("ch09.no-retry", "ask() gave up after one lost card")
            .expected(format!("the question posted again after WAIT, up to TRIES ({TRIES}) times: the second one is answered"))
            .got(format!("one card, then Err({}) after {} ms", names::errno(e), asked.took.as_millis()))
            .phone("one letter lost in the post, and you never write again: the server would have answered the second.")
            .syscall("loop TRIES times: send(), then recv(); on EAGAIN go round again.")),
        Err(e) => Err(ask_error(e, &asked.tally())),
    }
}

/// A server that never answers: exactly TRIES cards, then ETIMEDOUT, on time.
fn check_ask_silent(answer: &Answer) -> Result<String, Failure> {
    let asked = ask_once(answer, Script::Silent)?;
    let result = match asked.result.clone() {
        Ok(r) => r,
        Err(e) => return Err(hung_ask(e, &asked.cards)),
    };
    let n = asked.cards.len();
    match result {
        Err(Errno::ETIMEDOUT) if n == TRIES => {
            still_open(asked.cards[0].from)?;
            Ok(format!(
                "with nobody answering, ask() posted {TRIES} cards and gave up with ETIMEDOUT after {:.1} s",
                WAIT.as_secs_f32() * TRIES as f32
            ))
        }
        Err(e) if n != TRIES && n > 0 => Err(Failure::new(
            "ch09.wrong-tries",
            "ask() posted the question the wrong number of times",
        )
        .expected(format!("TRIES ({TRIES}) cards, then Err(ETIMEDOUT)"))
        .got(format!("{n} cards, then Err({})", names::errno(e)))
        .phone("you promised to write three times before giving up.")
        .syscall("for _ in 0..TRIES { send; recv } and only then Err(Errno::ETIMEDOUT).")),
        Err(Errno::EAGAIN) => Err(Failure::new(
            "ch09.unclear-error",
            "ask() gave up with EAGAIN, which means \"try again\"",
        )
        .expected("Err(ETIMEDOUT) after the last try: \"nobody answered in time\"")
        .got(format!("{n} cards, then Err(EAGAIN)"))
        .phone("you say \"ask me again\" when you mean \"nobody answered\".")
        .syscall("after the loop, return Err(Errno::ETIMEDOUT), not the last recv()'s EAGAIN.")),
        Err(e) => Err(ask_error(e, &asked.tally())),
        Ok(reply) => Err(reply_garbled(&reply)),
    }
}

/// Nobody at the number: the connected postbox hears "return to sender"
/// (ECONNREFUSED) on the recv after its first send; return it at once.
fn check_ask_nobody(answer: &Answer) -> Result<String, Failure> {
    let dead = dead_number()?;
    let started = Instant::now();
    let result = learner_call!(chapter(), answer.ask(dead, QUESTION), within = ask_limit());
    let took = started.elapsed();
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            return Err(dialtone_kit::task::hung_means(e, || {
                refusal_ignored("ask() was still trying when the check gave up")
            }))
        }
    };
    match result {
        Err(Errno::ECONNREFUSED) => Ok(format!(
            "at a number where nobody collects mail, ask() returned ECONNREFUSED in {} ms: its connected postbox heard the return-to-sender notice",
            took.as_millis().max(1)
        )),
        Err(Errno::ETIMEDOUT | Errno::EAGAIN) if took >= WAIT * TRIES as u32 * 4 / 5 => {
            Err(Failure::new("ch09.refusal-unheard", "ask() never heard that nobody was there")
                .expected("Err(ECONNREFUSED) at once: the post office's return-to-sender notice")
                .got(format!("Err(ETIMEDOUT) after {} ms of waiting", took.as_millis()))
                .phone("the post office sends back \"nobody lives here\", but only to a postbox addressed to that one number.")
                .syscall("an unconnected datagram socket (sendto, recvfrom) is never told ECONNREFUSED. connect() the postbox to the server first; the refusal then comes on the next call (recv)."))
        }
        Err(Errno::ETIMEDOUT | Errno::EAGAIN) => Err(refusal_ignored(&format!(
            "Err(ETIMEDOUT) after only {} ms: refused, and posted again",
            took.as_millis()
        ))),
        Err(e) => Err(Failure::new("ch09.ask-error", "ask() failed at a dead number with the wrong error")
            .expected("Err(ECONNREFUSED)")
            .got(format!("Err({})", names::errno(e)))
            .phone("nobody collects mail at that number, and the post office says so with ECONNREFUSED.")
            .syscall("return the error recv() gives you (ECONNREFUSED) as it is.")),
        Ok(reply) => Err(reply_garbled(&reply)),
    }
}

fn refusal_ignored(got: &str) -> Failure {
    Failure::new("ch09.retries-refusal", "ask() was told nobody was there, and kept posting")
        .expected("Err(ECONNREFUSED) returned at once")
        .got(got.to_string())
        .phone("the post office returned your card marked \"nobody lives here\" and you posted it again, and again.")
        .syscall("only EAGAIN (the wait ran out) means try again; return ECONNREFUSED and every other error as it is.")
}

/// A learner call that didn't return within the promised time.
fn hung_ask(e: LearnerError, cards: &[Seen]) -> Failure {
    let n = cards.len();
    dialtone_kit::task::hung_means(e, || {
        if n > TRIES {
            Failure::new(
                "ch09.retries-forever",
                "ask() kept posting and never gave up",
            )
            .expected(format!(
                "TRIES ({TRIES}) cards, then Err(ETIMEDOUT), within {:.1} s",
                ask_limit().as_secs_f32()
            ))
            .got(format!("{n} cards and still going"))
            .phone("nobody answers and you write again, for ever: your program never finishes.")
            .syscall("a bounded loop: for _ in 0..TRIES, then return Err(Errno::ETIMEDOUT).")
        } else {
            Failure::new("ch09.too-patient", "ask() didn't give up in time")
                .expected(format!("TRIES ({TRIES}) waits of WAIT ({} ms), then Err(ETIMEDOUT): {:.2} s", WAIT.as_millis(), WAIT.as_secs_f32() * TRIES as f32))
                .got(format!("{n} cards, and still waiting {:.1} s after the first", ask_limit().as_secs_f32()))
                .phone("you promised to wait a quarter of a second for each reply and waited much longer.")
                .syscall("SO_RCVTIMEO (sockopt::ReceiveTimeout) must be WAIT, set before the first recv().")
        }
    })
}

fn no_card_posted(e: Errno) -> Failure {
    if e == Errno::ECONNREFUSED {
        return Failure::new("ch09.ask-stream", "ask() dialled the server instead of posting a card")
            .expected("a card at the server's postbox")
            .got("no card arrived, and ask() returned Err(ECONNREFUSED) though a server was there")
            .phone("you rang a postbox's number: a postbox takes cards, not calls, so the call is refused.")
            .syscall("ask()'s postbox must be SOCK_DGRAM (use your open_postbox()); a SOCK_STREAM connect() to a UDP port is refused.");
    }
    Failure::new("ch09.ask-error", "ask() failed before posting anything")
        .expected("a card at the server's postbox, then its reply")
        .got(format!("no card arrived; Err({})", names::errno(e)))
        .phone(format!(
            "the post office said: {}.",
            names::errno_phone_on(e, POSTCARDS)
        ))
        .syscall("open_postbox(), connect() it to the server, send() the question.")
}

fn did_not_wait(e: Errno, asked: &Tally) -> Failure {
    Failure::new("ch09.does-not-wait", "ask() gave up before the reply could come")
        .expected(format!("the reply, which comes {} ms after the card; each try waits WAIT ({} ms)", THINKING.as_millis(), WAIT.as_millis()))
        .got(format!("{} cards, then Err({}) after {} ms", asked.cards, names::errno(e), asked.took.as_millis()))
        .phone("you open the letterbox the moment you post your letter, find it empty, and give up.")
        .syscall("recv() must wait: no SOCK_NONBLOCK or MSG_DONTWAIT, and SO_RCVTIMEO set to WAIT, not to a microsecond.")
}

fn ask_error(e: Errno, asked: &Tally) -> Failure {
    Failure::new(
        "ch09.ask-error",
        "ask() returned an error though the server answered",
    )
    .expected(format!(
        "Ok({}): the reply",
        names::quote(&expected_reply(), 40)
    ))
    .got(format!(
        "{} cards, then Err({}) after {} ms",
        asked.cards,
        names::errno(e),
        asked.took.as_millis()
    ))
    .phone(format!(
        "the post office said: {}.",
        names::errno_phone_on(e, POSTCARDS)
    ))
    .syscall("recv() the reply on the postbox you sent from; retry only on EAGAIN.")
}

fn reply_garbled(reply: &[u8]) -> Failure {
    let want = expected_reply();
    let cut = reply.len() < want.len() && want.starts_with(reply);
    Failure::new(
        "ch09.reply-garbled",
        if cut {
            "ask() cut the reply short"
        } else {
            "ask() returned something other than the reply"
        },
    )
    .expected(format!("Ok({})", names::quote(&want, 40)))
    .got(format!("Ok({})", names::quote(reply, 40)))
    .phone("you read the reply wrong: part of it, or more than was written.")
    .syscall("recv() into a CARD_MAX buffer, and keep exactly the n bytes it returns.")
}

/// After `ask()` returned, its postbox must be closed: no descriptor in the
/// learner's program (or this one) still names the socket at `number`.
///
/// Asked by the socket, not by `bind`ing the number: a program started
/// meanwhile (by anyone, for anything) inherits every descriptor made
/// without close-on-exec for as long as it runs, and holds the number then,
/// though the learner's code let go.
fn still_open(number: SockaddrIn) -> Result<(), Failure> {
    let Some(inode) = udp_inode(&number) else {
        return Ok(()); // the kernel has no socket at that number: closed
    };
    let holders = wire::handsets_for(&format!("socket:[{inode}]"));
    if holders == 0 {
        return Ok(());
    }
    Err(Failure::new("ch09.postbox-left-open", "ask() left its postbox open")
        .expected(format!("the postbox at {} closed once ask() returned", names::addr(&number)))
        .got(format!("{holders} descriptor(s) in your program still name socket:[{inode}], bound to {}", names::addr(&number)))
        .phone("you walked away and left your letterbox on the wall: every ask() leaves another one.")
        .syscall("let the OwnedFd drop when ask() returns; don't keep it, a dup of it, or mem::forget() it."))
}

/// The inode of the IPv4 UDP socket bound to `number`, from the kernel's
/// table `/proc/net/udp` (Linux): its address is hex, in network order.
fn udp_inode(number: &SockaddrIn) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    let want = format!(
        "{:08X}:{:04X}",
        u32::from(number.ip()).swap_bytes(),
        number.port()
    );
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&want.as_str()))
            .then(|| fields.get(9).map(|i| i.to_string()))
            .flatten()
    })
}

/// A number nobody has: a postbox numbered, its number read, and closed.
fn dead_number() -> Result<SockaddrIn, Failure> {
    let (gone, number) = numbered()?;
    drop(gone);
    Ok(number)
}

// --------------------------------------------------------------- read_card

/// The room `read_card()` is given.
const ROOM: usize = 40;

/// Cards longer than, as long as, and shorter than the room, and an empty
/// one: each kept as far as it fits, with its real length.
fn check_read_card(answer: &Answer) -> Result<String, Failure> {
    let (postbox, number) = numbered()?;
    let (sender, _) = numbered()?;
    for size in [100, ROOM, 10, 0] {
        let card: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        party::post(&sender, &card, &number).map_err(setup("sendto"))?;
        let lent = postbox
            .try_clone()
            .map_err(|_| setup("dup")(Errno::EMFILE))?;
        let outcome = learner_call!(
            chapter(),
            answer.read_card,
            move |read_card| read_card(&lent, ROOM),
            within = SHOULD_RETURN_AT_ONCE
        );
        let (kept, real) = match outcome? {
            Ok(got) => got,
            Err(e) => {
                return Err(
                    Failure::new("ch09.read-error", "read_card() returned an error")
                        .expected(format!("Ok(.., {size}): a {size}-byte card was waiting"))
                        .got(format!("Err({})", names::errno(e)))
                        .phone(format!(
                            "the post office said: {}.",
                            names::errno_phone_on(e, POSTCARDS)
                        ))
                        .syscall("recv(postbox, &mut buf[..room], MsgFlags::MSG_TRUNC)."),
                )
            }
        };
        judge_card(&card, &kept, real)?;
        if let Ok(Some(left)) = wire::next_datagram(&postbox) {
            return Err(Failure::new("ch09.card-left-behind", "read_card() left the card in the postbox")
                .expected("the card taken out: the postbox empty again")
                .got(format!("a {left}-byte card still waiting after read_card() returned"))
                .phone("you read the card through the letterbox's window and left it there: the next read gets it again.")
                .syscall("don't pass MSG_PEEK: MSG_TRUNC alone takes the card and still says its real length."));
        }
    }
    Ok(format!(
        "read_card() with {ROOM} bytes of room kept 40 of a 100-byte card and said 100 (60 lost), and read 40-, 10- and 0-byte cards whole"
    ))
}

/// What `read_card()` said about one card.
fn judge_card(card: &[u8], kept: &[u8], real: usize) -> Result<(), Failure> {
    let size = card.len();
    let fits = &card[..size.min(ROOM)];
    if kept.len() > ROOM {
        return Err(Failure::new("ch09.ignores-room", "read_card() kept more than its room")
            .expected(format!("at most {ROOM} bytes kept (room = {ROOM})"))
            .got(format!("{} bytes kept of a {size}-byte card", kept.len()))
            .phone("you were given a small envelope and read the card with a big one: the lesson is what a small one loses.")
            .syscall("recv() into a buffer of exactly `room` bytes: vec![0u8; room]."));
    }
    if kept != fits {
        return Err(
            Failure::new("ch09.kept-wrong", "read_card() kept the wrong bytes")
                .expected(format!("{}: what fits of the card", names::quote(fits, 40)))
                .got(names::quote(kept, 40))
                .phone("you copied the card wrong, or kept the blank end of the envelope.")
                .syscall(
                    "truncate the buffer to what arrived: the smaller of room and recv()'s answer.",
                ),
        );
    }
    if real == size {
        return Ok(());
    }
    if real == kept.len() && size > ROOM {
        return Err(Failure::new("ch09.loss-unnoticed", "read_card() didn't notice the card was cut")
            .expected(format!("real length {size}: {ROOM} bytes kept, {} lost", size - ROOM))
            .got(format!("real length {real}: as if nothing was lost"))
            .phone("the card was bigger than the envelope and the end fell off; you said the card was whole.")
            .syscall("pass MsgFlags::MSG_TRUNC to recv(): on Linux it then returns the card's real length (udp(7)), not the bytes that fit."));
    }
    Err(Failure::new(
        "ch09.wrong-length",
        "read_card() got the card's length wrong",
    )
    .expected(format!("real length {size}"))
    .got(format!("real length {real}"))
    .phone("you measured the card wrong.")
    .syscall("return what recv(.., MSG_TRUNC) returns, as it is."))
}

// ---------------------------------------------------------------- plumbing

/// A datagram socket of the check's own on 127.0.0.1, kernel-chosen port.
fn numbered() -> Result<(OwnedFd, SockaddrIn), Failure> {
    let (postbox, number) = party::numbered(POSTCARDS).map_err(setup("socket"))?;
    let number = number
        .as_sockaddr_in()
        .copied()
        .ok_or_else(|| setup("getsockname")(Errno::EAFNOSUPPORT))?;
    debug_assert_eq!(number.family(), Some(AddressFamily::Inet));
    Ok((postbox, number))
}

fn unreadable(what: &str, errno: Errno) -> Failure {
    dialtone_kit::task::unreadable(chapter(), what, "your postbox", errno)
}

/// The check's own setup failed: not the learner's fault, but say so plainly.
fn setup(call: &'static str) -> impl Fn(Errno) -> Failure {
    move |e| {
        Failure::new(
            "ch09.setup",
            format!("the self-check couldn't set up its own postboxes ({call})"),
        )
        .expected(format!("{call} to succeed"))
        .got(names::errno(e))
        .phone("the post office is out of order on this machine, not in your code.")
        .syscall("check ulimit -n and that loopback (127.0.0.1) works, then run the check again.")
    }
}
