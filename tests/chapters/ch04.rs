//! Chapter 4 (dial): solution, starter, wrong answers, transcript, real peer.

use ch04_dial::{chapter, check, scene};
use dialtone_kit::scene::SceneError;
use dialtone_kit::{kernel, names, party};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{
    accept, bind, connect, listen, setsockopt, shutdown, socket, sockopt, AddressFamily, Backlog,
    Shutdown, SockFlag, SockType, SockaddrIn,
};
use nix::unistd::read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/04-dial/answer.rs"]
mod solution;
#[path = "../../chapters/04-dial/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    dial: solution::dial,
};

fn answer(dial: fn(SockaddrIn) -> nix::Result<OwnedFd>) -> check::Answer {
    check::Answer { dial }
}

fn stream() -> nix::Result<OwnedFd> {
    dialtone_kit::party::new_phone()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(check::run(&SOLUTION));
    assert!(passed.0.len() >= 7, "{:?}", passed.0);
}

/// The starter, untouched, fails by pointing at its todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    expect_unfinished(check::run(&answer(starter::dial)), chapter());
}

/// Mistake: binding a well-known-looking number before dialling. Whether
/// 4444 is free or taken on this machine, the verdict is the same.
#[test]
fn binding_a_fixed_number_is_caught() {
    fn fixed(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = stream()?;
        bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 4444))?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(fixed)), "ch04.bound-fixed");
    assert!(
        f.got.contains("4444") || f.got.contains("EADDRINUSE"),
        "{f}"
    );
    if f.got.contains("getsockname = 127.0.0.1:4444") {
        assert!(f.got.contains("port 4444 not in "), "{f}");
    }
}

/// A loopback number just below the ephemeral pool, held for the tests by a
/// holder socket (SO_REUSEPORT lets an answer bind it too). Found by trying
/// ports downwards from the pool's edge, so no port number is hard-wired.
fn outside_the_pool() -> &'static (OwnedFd, SockaddrIn) {
    static HOLDER: OnceLock<(OwnedFd, SockaddrIn)> = OnceLock::new();
    HOLDER.get_or_init(|| {
        let (low, _) = party::ephemeral_range().expect("Linux has ip_local_port_range");
        (1024..low)
            .rev()
            .find_map(|port| {
                let phone = stream().ok()?;
                setsockopt(&phone, sockopt::ReusePort, &true).ok()?;
                let number = SockaddrIn::new(127, 0, 0, 1, port);
                bind(phone.as_raw_fd(), &number).ok()?;
                Some((phone, number))
            })
            .expect("some port below the pool is free")
    })
}

/// Mistake: bind() to the held number outside the pool, then connect().
fn bound_outside_the_pool(number: SockaddrIn) -> nix::Result<OwnedFd> {
    let phone = stream()?;
    setsockopt(&phone, sockopt::ReusePort, &true)?;
    bind(phone.as_raw_fd(), &outside_the_pool().1)?;
    connect(phone.as_raw_fd(), &number)?;
    Ok(phone)
}

/// Mistake: a fixed number outside the ephemeral pool. The verdict's got line
/// must say the port is NOT in the pool, not contradict itself.
#[test]
fn a_fixed_number_outside_the_pool_says_not_in() {
    let f = expect_mistake(
        check::run(&answer(bound_outside_the_pool)),
        "ch04.bound-fixed",
    );
    let port = outside_the_pool().1.port();
    assert!(f.got.contains(&format!(":{port}")), "{f}");
    assert!(
        f.got.contains(&format!("port {port} not in ")),
        "the got line must say the port is not in the pool:\n{f}"
    );
    assert!(f.expected.contains(" in "), "{f}");
}

/// The scene with that answer shows the kernel's numbers and never claims
/// dial() went without bind().
#[test]
fn bound_outside_the_pool_scene_claims_no_unbound_dial() {
    let (text, _) = play(chapter(), |s| {
        scene::play(s, &answer(bound_outside_the_pool), &[])
    });
    assert!(text.contains("OUTSIDE the ephemeral pool"), "{text}");
    assert!(
        !text.contains("you never called bind()") && !text.contains("socket(AF_INET"),
        "the transcript must not claim what dial() did inside:\n{text}"
    );
}

/// Mistake: a fixed number that happens to sit inside the ephemeral pool. The
/// port is reserved for this test by a holder socket (SO_REUSEPORT lets the
/// answer bind it too), so no other program can take it: the only thing that
/// catches this answer is the second, concurrent dial.
#[test]
fn a_fixed_number_inside_the_pool_is_caught_by_the_second_dial() {
    fn holder() -> &'static (OwnedFd, SockaddrIn) {
        static HOLDER: OnceLock<(OwnedFd, SockaddrIn)> = OnceLock::new();
        HOLDER.get_or_init(|| {
            let phone = stream().expect("a socket for the holder");
            setsockopt(&phone, sockopt::ReusePort, &true).expect("SO_REUSEPORT on Linux");
            bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).expect("port 0 is free");
            let number = kernel::own_number(&phone).expect("bound just now");
            (phone, number)
        })
    }
    fn fixed_in_pool(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = stream()?;
        setsockopt(&phone, sockopt::ReusePort, &true)?;
        bind(phone.as_raw_fd(), &holder().1)?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(fixed_in_pool)), "ch04.bound-fixed");
    assert!(f.got.contains("second dial"), "{f}");
}

/// Mistake: installing a phone and returning it without dialling.
#[test]
fn forgetting_connect_is_caught() {
    fn no_connect(_number: SockaddrIn) -> nix::Result<OwnedFd> {
        stream()
    }
    let f = expect_mistake(check::run(&answer(no_connect)), "ch04.not-connected");
    assert!(f.got.contains("ENOTCONN"), "{f}");
}

/// Mistake: ignoring the argument and dialling a number of one's own, where
/// somebody does answer.
#[test]
fn dialling_another_live_number_is_caught() {
    fn elsewhere(_number: SockaddrIn) -> nix::Result<OwnedFd> {
        static OTHER: OnceLock<(OwnedFd, SockaddrIn)> = OnceLock::new();
        let other = OTHER.get_or_init(|| party::switched_on_phone().expect("a second listener"));
        party::dial(&other.1)
    }
    let f = expect_mistake(check::run(&answer(elsewhere)), "ch04.wrong-number");
    assert!(f.got.contains("getpeername"), "{f}");
}

/// Mistake: ignoring the argument and dialling a number where nobody answers.
#[test]
fn dialling_a_dead_number_is_caught() {
    fn dead(_number: SockaddrIn) -> nix::Result<OwnedFd> {
        static OFF: OnceLock<(OwnedFd, SockaddrIn)> = OnceLock::new();
        let off = OFF.get_or_init(|| party::numbered_phone().expect("a bound phone"));
        party::dial(&off.1)
    }
    let f = expect_mistake(check::run(&answer(dead)), "ch04.wrong-number");
    assert!(f.got.contains("ECONNREFUSED"), "{f}");
}

/// Mistake: a datagram socket; its connect() "succeeds" but calls nobody.
#[test]
fn a_datagram_socket_is_caught() {
    fn postcard(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::empty(),
            None,
        )?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(postcard)), "ch04.datagram");
    assert!(f.got.contains("SOCK_DGRAM"), "{f}");
}

/// Mistake: `let _ = connect(..)`: a refused call is reported as a success.
#[test]
fn ignoring_connects_error_is_caught() {
    fn hopeful(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = stream()?;
        let _ = connect(phone.as_raw_fd(), &number);
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(hopeful)), "ch04.refused-ignored");
    assert!(f.got.contains("ENOTCONN"), "{f}");
}

/// Mistake: replacing the kernel's errno with one of one's own.
#[test]
fn a_made_up_errno_is_caught() {
    fn relabel(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = stream()?;
        connect(phone.as_raw_fd(), &number).map_err(|_| Errno::EHOSTUNREACH)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(relabel)), "ch04.refused-wrong-error");
    assert!(f.got.contains("EHOSTUNREACH"), "{f}");
}

/// Mistake: unwrap() on connect(); the refused call panics, and is reported.
#[test]
fn unwrapping_a_refused_call_is_reported() {
    fn unwraps(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = stream()?;
        connect(phone.as_raw_fd(), &number).unwrap();
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(unwraps)), "panicked");
    assert!(f.got.contains("ECONNREFUSED"), "{f}");
}

/// Mistake: waiting for words after dialling. The check gives its verdict
/// within the chapter's timeout instead of hanging.
#[test]
fn a_dial_that_waits_forever_gets_a_verdict_in_time() {
    fn waits(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = party::dial(&number)?;
        let mut buf = [0u8; 1];
        read(&phone, &mut buf)?; // nobody ever says anything
        Ok(phone)
    }
    let start = Instant::now();
    expect_mistake(check::run(&answer(waits)), "hung");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "verdict took {took:?}");
}

/// Mistake (chapter 1's flags): `SOCK_NONBLOCK`. connect() then returns
/// EINPROGRESS before the call is through; the verdict says so.
#[test]
fn a_non_blocking_socket_is_caught() {
    fn hasty(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(hasty)), "ch04.nonblocking");
    assert!(f.got.contains("EINPROGRESS"), "{f}");
    assert!(f.syscall.contains("SOCK_NONBLOCK"), "{f}");
}

/// Mistake: the call goes through, then O_NONBLOCK "so reads can't hang".
/// Checked after dial() returns, with fcntl(F_GETFL).
#[test]
fn a_phone_made_non_blocking_afterwards_is_caught() {
    fn afterwards(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = solution::dial(number)?;
        fcntl(&phone, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(afterwards)), "ch04.nonblocking");
    assert!(f.got.contains("O_NONBLOCK"), "{f}");
}

/// Mistakes: the wrong family, IPv6 or the Unix domain. connect() with an
/// IPv4 number says EINVAL, and the verdict names the family.
#[test]
fn the_wrong_family_is_caught() {
    fn inet6(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = socket(
            AddressFamily::Inet6,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    fn unix(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    for wrong in [inet6 as fn(_) -> _, unix] {
        let f = expect_mistake(check::run(&answer(wrong)), "ch04.wrong-family");
        assert!(f.got.contains("EINVAL"), "{f}");
        assert!(f.syscall.contains("AF_INET6 or AF_UNIX"), "{f}");
    }
}

/// Mistake: jumping ahead to chapter 3, listen() before connect(). A
/// listening socket can't dial: the kernel says EISCONN.
#[test]
fn listening_before_dialling_is_caught() {
    fn switched_on(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = stream()?;
        listen(&phone, Backlog::new(1)?)?;
        connect(phone.as_raw_fd(), &number)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(switched_on)), "ch04.switched-on");
    assert!(f.got.contains("EISCONN"), "{f}");
}

/// Mistake: keeping a duplicate of the phone (a try_clone() in a static, "to
/// keep the call"). /proc/self/fd shows two descriptors for one socket.
#[test]
fn keeping_a_second_handset_is_caught() {
    fn keeps(number: SockaddrIn) -> nix::Result<OwnedFd> {
        static KEPT: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());
        let phone = solution::dial(number)?;
        let extra = phone.try_clone().map_err(|_| Errno::EMFILE)?;
        KEPT.lock().expect("not poisoned").push(extra);
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(keeps)), "ch04.extra-handset");
    assert!(
        f.got.contains("2 descriptors") && f.got.contains("socket:["),
        "{f}"
    );
}

/// Mistakes: jumping ahead to chapters 6 and 7, saying hello or hanging up
/// (shutdown(Write)) inside dial(). The check's end of the call hears it.
#[test]
fn talking_or_hanging_up_inside_dial_is_caught() {
    fn chatty(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = solution::dial(number)?;
        nix::unistd::write(&phone, b"hello?\n")?;
        Ok(phone)
    }
    fn curt(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = solution::dial(number)?;
        shutdown(phone.as_raw_fd(), Shutdown::Write)?;
        Ok(phone)
    }
    let f = expect_mistake(check::run(&answer(chatty)), "ch04.spoke-first");
    assert!(f.got.contains("hello?"), "{f}");
    let f = expect_mistake(check::run(&answer(curt)), "ch04.hung-up");
    assert!(f.got.contains("end-of-file"), "{f}");
}

/// The verdict for a phone that is switched on but refuses, in syscall
/// words: never a helper of the course's own (issue 10).
#[test]
fn an_unexpected_error_spells_out_the_calls() {
    fn busy(_number: SockaddrIn) -> nix::Result<OwnedFd> {
        Err(Errno::ENETDOWN)
    }
    let f = expect_mistake(check::run(&answer(busy)), "ch04.dial-error");
    assert!(
        f.syscall
            .contains("socket(AddressFamily::Inet, SockType::Stream"),
        "{f}"
    );
    assert!(!f.syscall.contains("dialtone_kit"), "{f}");
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &[]));
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "from the pool in /proc/sys/net/ipv4/ip_local_port_range",
        "poll(fd",
        "ECONNREFUSED (Connection refused)",
        // The aside: a non-blocking connect, and a full queue dropping a SYN.
        "= EINPROGRESS (Operation now in progress)",
        "SO_ERROR) = 0: connected",
        "POLLOUT, 300 ms) = 0: still ringing",
        "TcpExtListenOverflows went up while the second caller rang",
        // Room again: the dropped caller's retried SYN gets through.
        "POLLOUT, 5000 ms) = 1; getsockopt(fd ",
        // Only the pair must be unique: one caller number on two calls, and
        // the same pair again refused.
        ") = 0; getsockname = 127.0.0.1:",
        "= EADDRNOTAVAIL (Cannot assign requested address)",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    crate::assert_transcript!("ch04-transcript", text);
}

/// The scene with the starter stops at dial() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(starter::dial), &[]));
    let err = result.expect_err("the starter can't finish the scene");
    assert!(
        !text.contains("dial(127."),
        "the scene should stop before the call:\n{text}"
    );
    crate::assert_transcript!("ch04-starter", err.as_printed(80));
}

/// `--to HOST:PORT` dials a real phone: the listener here sees the very
/// number the scene printed as its own.
#[test]
fn dialling_a_real_phone() {
    let (callee, number) = party::switched_on_phone().expect("a loopback listener");
    let args = strings(&["--to", &names::addr(&number)]);
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
    result.expect("the call goes through");
    assert!(party::ready(&callee, Duration::from_secs(2)).expect("poll"));
    let line = accept(&callee).expect("poll said a call is queued");
    let caller = kernel::other_end(&line).expect("an accepted line has a peer");
    for needle in [
        format!("= {}", names::addr(&caller)),
        format!(
            "getpeername(fd {}) = {}",
            text_fd(&text),
            names::addr(&number)
        ),
    ] {
        assert!(text.contains(&needle), "missing {needle:?}:\n{text}");
    }
}

/// The descriptor the real-call transcript names for your phone.
fn text_fd(text: &str) -> String {
    let at = text
        .find("getsockname(fd ")
        .expect("the transcript asks getsockname")
        + 15;
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// `--to` a number nobody answers: one line that says what to do.
#[test]
fn dialling_a_dead_real_number_is_one_line() {
    let (_off, number) = party::numbered_phone().expect("a bound phone");
    let args = strings(&["--to", &names::addr(&number)]);
    let (text, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &args));
    let err = result.expect_err("nobody listens there");
    assert!(
        matches!(
            err,
            SceneError::Sys {
                errno: Errno::ECONNREFUSED,
                ..
            }
        ),
        "{err:?}"
    );
    let line = err.to_string();
    assert!(!line.contains('\n') && text.is_empty(), "{text}{line}");
    assert!(
        line.contains("start the listener first")
            && line.contains(&format!("nc -l 127.0.0.1 {}", number.port())),
        "{line}"
    );
}

/// `--to nonsense` is a usage line, not a panic.
#[test]
fn nonsense_is_a_usage_line() {
    for bad in [
        &["--to", "nonsense"][..],
        &["--to"],
        &["--listen", "127.0.0.1:1"],
    ] {
        let (_, result) = play(chapter(), |s| scene::play(s, &SOLUTION, &strings(bad)));
        let err = result.expect_err("nonsense is refused");
        assert!(
            matches!(&err, SceneError::Usage(l) if l.contains("--to HOST:PORT") && !l.contains('\n')),
            "{err:?}"
        );
    }
}

/// `--to` with a dial() that never returns: one line after the chapter's
/// timeout (the same words a silently dropped call would get), not a hang.
#[test]
fn a_real_dial_that_never_returns_is_one_line_in_time() {
    fn waits(number: SockaddrIn) -> nix::Result<OwnedFd> {
        let phone = party::dial(&number)?;
        let mut buf = [0u8; 1];
        read(&phone, &mut buf)?; // the listener below never says a word
        Ok(phone)
    }
    let (_callee, number) = party::switched_on_phone().expect("a loopback listener");
    let args = strings(&["--to", &names::addr(&number)]);
    let start = Instant::now();
    let (text, result) = play(chapter(), |s| scene::play(s, &answer(waits), &args));
    assert!(start.elapsed() < Duration::from_secs(10));
    let err = result.expect_err("dial() never returned");
    assert!(
        matches!(
            err,
            SceneError::Sys {
                errno: Errno::ETIMEDOUT,
                ..
            }
        ),
        "{err:?}"
    );
    let line = err.to_string();
    assert!(text.is_empty() && !line.contains('\n'), "{text}{line}");
    let within = format!("No answer within {} s", chapter().timeout_secs);
    assert!(line.contains(&within), "{line}");
}
