//! How fast does the postcard service answer? Round trips per second with
//! one sender on loopback, beside `socat` doing the same UDP echo in the
//! same run.
//!
//! ```console
//! $ cargo run --release -p ch09-postcards --features solution --example postcard-bench
//! ```
//!
//! (Without `--features solution` it measures your own answer.) One round
//! trip is: the sender posts a 32-byte card and takes the 32-byte reply.
//! Each side runs at most 50 000 round trips or 2 seconds, whichever comes
//! first, so the command always stops by itself. A reply that doesn't come
//! within a second (a card lost on a busy machine) ends that side's run
//! with a note, instead of hanging it.
//!
//! socat can't print the port it listens on, so it is given one: a port
//! the kernel picked for a postbox of ours, taken down just before socat
//! starts (another program could take it in between; then socat says so
//! and the run says which side it couldn't measure). `UDP-LISTEN` waits for
//! the first card and then echoes (`PIPE`) every card from that sender.
#![forbid(unsafe_code)]

use ch09_postcards::{service, ANSWER};
use dialtone_kit::{kernel, party};
use nix::errno::Errno;
use nix::sys::socket::{connect, recv, send, AddressFamily, MsgFlags, SockType, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const CARD: [u8; 32] = *b"ring ring, is anybody there?\r\n..";
const MAX_TRIPS: u32 = 50_000;
const MAX_TIME: Duration = Duration::from_secs(2);
/// How long a sender waits for one reply.
const PATIENCE: Duration = Duration::from_secs(1);
/// How long socat has to start and answer its first card.
const STARTING: Duration = Duration::from_secs(5);
const POSTCARDS: party::Kind = party::Kind::new(AddressFamily::Inet, SockType::Datagram);

fn main() {
    let started = Instant::now();
    println!(
        "postcard round trips, one sender, {}-byte cards, 127.0.0.1",
        CARD.len()
    );
    let ours = ours();
    report("postcard service", &ours);
    let theirs = socat();
    report("socat UDP PIPE", &theirs);
    if let (Ok(a), Ok(b)) = (&ours, &theirs) {
        println!(
            "ratio: the service does {:.2}x socat's round trips per second",
            rate(a) / rate(b)
        );
    }
    println!("wall time: {:.2} s", started.elapsed().as_secs_f64());
}

/// The postcard service (your answer_one_card, or the reference one with
/// --features solution) on a thread, for as many cards as the run posts.
fn ours() -> Result<(u32, Duration), String> {
    let postbox = service::open(&SockaddrIn::new(127, 0, 0, 1, 0)).map_err(|e| e.to_string())?;
    let number = kernel::own_number(&postbox).map_err(|e| e.to_string())?;
    // The service answers one card more than the most the run posts (the
    // first, a warm-up), then returns; if the run stops early, the thread
    // is left waiting for post, and ends with the program.
    thread::spawn(move || {
        service::run(
            &ANSWER,
            postbox,
            MAX_TRIPS as usize + 1,
            Duration::from_secs(60),
            |_| {},
        )
    });
    let sender = sender_to(&number)?;
    round_trip(&sender).map_err(|e| format!("the first card: {e}"))?;
    round_trips(&sender)
}

/// A connected postbox of our own, whose every recv gives up after PATIENCE.
fn sender_to(number: &SockaddrIn) -> Result<OwnedFd, String> {
    let sender = party::phone(POSTCARDS).map_err(|e| e.to_string())?;
    connect(sender.as_raw_fd(), number).map_err(|e| format!("connect: {e}"))?;
    party::be_patient(&sender, PATIENCE).map_err(|e| e.to_string())?;
    Ok(sender)
}

/// Posts the card and takes the reply.
fn round_trip(sender: &OwnedFd) -> Result<(), String> {
    send(sender.as_raw_fd(), &CARD, MsgFlags::empty()).map_err(|e| format!("send: {e}"))?;
    let mut reply = [0u8; 64];
    match recv(sender.as_raw_fd(), &mut reply, MsgFlags::empty()) {
        Ok(n) if reply[..n] == CARD => Ok(()),
        Ok(n) => Err(format!("a {n}-byte reply that isn't the card")),
        Err(Errno::EAGAIN) => Err(format!("no reply within {PATIENCE:?}")),
        Err(e) => Err(format!("recv: {e}")),
    }
}

/// Round trips until the count or the time runs out.
fn round_trips(sender: &OwnedFd) -> Result<(u32, Duration), String> {
    let start = Instant::now();
    let mut trips = 0;
    while trips < MAX_TRIPS && start.elapsed() < MAX_TIME {
        round_trip(sender).map_err(|e| format!("round trip {trips}: {e}"))?;
        trips += 1;
    }
    Ok((trips, start.elapsed()))
}

/// socat's UDP echo at a port we picked for it.
fn socat() -> Result<(u32, Duration), String> {
    let (probe, number) = party::numbered(POSTCARDS).map_err(|e| e.to_string())?;
    let number = number.as_sockaddr_in().copied().ok_or("not IPv4")?;
    drop(probe);
    let child = Command::new("socat")
        .args([
            format!("UDP-LISTEN:{},bind=127.0.0.1", number.port()),
            "PIPE".into(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start socat ({e}); install the Debian package socat"))?;
    let mut child = Reaped(child);
    let sender = first_answer(&number, &mut child.0)?;
    round_trips(&sender)
}

/// Posts the first card until socat (just started) answers it, each try
/// from a new sender: a card that found no postbox yet comes back as a
/// refusal on a connected sender, and socat echoes only to the first
/// sender it hears from. Bounded by STARTING; gives up if socat exits.
fn first_answer(number: &SockaddrIn, child: &mut Child) -> Result<OwnedFd, String> {
    let deadline = Instant::now() + STARTING;
    while Instant::now() < deadline {
        let sender = sender_to(number)?;
        party::be_patient(&sender, Duration::from_millis(300)).map_err(|e| e.to_string())?;
        if round_trip(&sender).is_ok() {
            party::be_patient(&sender, PATIENCE).map_err(|e| e.to_string())?;
            return Ok(sender);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("socat exited ({status}) before answering"));
        }
    }
    Err(format!("socat didn't answer within {STARTING:?}"))
}

/// socat is killed and reaped however the benchmark ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rate((trips, elapsed): &(u32, Duration)) -> f64 {
    f64::from(*trips) / elapsed.as_secs_f64()
}

fn report(who: &str, result: &Result<(u32, Duration), String>) {
    match result {
        Ok(r) => println!(
            "{who:<18} {:>6} round trips in {:.3} s = {:>8.0} per second ({:.1} us each)",
            r.0,
            r.1.as_secs_f64(),
            rate(r),
            1e6 / rate(r)
        ),
        Err(e) => println!("{who:<18} not measured: {e}"),
    }
}
