//! The self-check for chapter 7: do your functions end a call so that both
//! sides know it is over?
//!
//! Every scenario is a real loopback call whose other end (the check) hangs
//! up politely, speaks in pieces, says "over" and waits, slams the phone down
//! mid-sentence, waits for your "over" before answering, or is gone before
//! you speak. It watches the wire, the line's flags (`fcntl(F_GETFL)`) and
//! `/proc/self/fd`, never your source, both while your function runs and
//! after it returns. Each classic mistake fails with its own id, and every
//! call runs under a timeout, so a loop that never ends fails in seconds.
//!
//! The scenarios, in order (each claim on the page names the ids that catch
//! it, in `course.toml`):
//!
//! | scenario | what it proves |
//! |---|---|
//! | [`silent_hang_up`] | `read() = 0` ends `hear_out` with `Ok`, at once |
//! | [`three_pieces`] | `hear_out` appends every piece until end of file |
//! | [`a_long_speech`] | ... however many reads the speech takes |
//! | [`over_and_waiting`] | `hear_out` only listens: the line still talks |
//! | [`slammed_mid_sentence`] | a reset is an `Err`, not a goodbye |
//! | [`the_question`] | say, `shutdown(Write)`, hear it all, hang up gracefully |
//! | [`a_dead_line`] | talking into a hung-up line: the `Err` is passed on |

use crate::chapter;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::LearnerError;
use dialtone_kit::patience::{PEER_REPLY, SHOULD_RETURN_AT_ONCE as QUIET};
use dialtone_kit::task::hung_means;
use dialtone_kit::{kernel, learner_call, names, wire};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recv, shutdown, MsgFlags, Shutdown};
use nix::unistd::read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub hear_out: fn(&OwnedFd) -> nix::Result<Vec<u8>>,
    pub ask_and_hear_back: fn(OwnedFd, &[u8]) -> nix::Result<Vec<u8>>,
}

// QUIET: how long a call may take where the classic mistake is to wait for
// ever. A right answer takes milliseconds; two seconds keeps the slowest
// verdict (a call that never returns) well inside the chapter's 4 s.

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    for scenario in [
        silent_hang_up,
        three_pieces,
        a_long_speech,
        over_and_waiting,
        slammed_mid_sentence,
    ] {
        passed.saw(scenario(answer)?);
    }
    passed.saw(the_question(answer)?);
    passed.saw("afterwards no descriptor points at the call: the handset is back on the hook");
    passed.saw(a_dead_line(answer)?);
    Ok(passed)
}

// ------------------------------------------------------------ the check's props

fn pair() -> Result<wire::Pair, Failure> {
    wire::call_pair().map_err(|e| {
        exchange_trouble("the self-check couldn't set up a loopback call")
            .expected("a connected pair on 127.0.0.1")
            .got(names::errno(e))
    })
}

/// The check's own plumbing failed: not the learner's fault, and it says so.
fn exchange_trouble(headline: &str) -> Failure {
    Failure::new("ch07.no-line", headline)
        .phone("the exchange itself is out of order: this is not your code.")
        .syscall("check that loopback (127.0.0.1) works on this machine, then run the check again.")
}

/// Says `pieces` one at a time on `mine`, each only once the learner has
/// taken the one before (so each is its own `read`), then ends the call:
/// `End::Close` hangs up, `End::Slam` resets, `End::Over` only shuts the
/// check's talking half and keeps `mine` open (returned for the check).
fn speak(learner: &Arc<OwnedFd>, mine: OwnedFd, pieces: Vec<Vec<u8>>, end: End) -> Speaker {
    let learner = Arc::clone(learner);
    thread::spawn(move || {
        for piece in pieces {
            wire::wait_until_drained(&*learner, PEER_REPLY);
            if wire::say_all(&mine, &piece).is_err() {
                return None;
            }
        }
        wire::wait_until_drained(&*learner, PEER_REPLY);
        match end {
            End::Close => None,
            End::Slam => {
                let _ = wire::slam_down(mine);
                None
            }
            End::Over => {
                let _ = shutdown(mine.as_raw_fd(), Shutdown::Write);
                Some(mine)
            }
        }
    })
}

type Speaker = thread::JoinHandle<Option<OwnedFd>>;

#[derive(Clone, Copy)]
enum End {
    Close,
    Slam,
    Over,
}

/// Bytes in a verdict: as text, or counted when there are too many to read.
fn show(bytes: &[u8]) -> String {
    names::show_or_count(bytes, 40)
}

fn show_result(r: &nix::Result<Vec<u8>>) -> String {
    match r {
        Ok(b) => format!("Ok({})", show(b)),
        Err(e) => format!("Err({})", names::errno(*e)),
    }
}

/// Is `O_NONBLOCK` set on the line (`fcntl(F_GETFL)`)? Shared by every
/// descriptor of the call, so the check sees what the learner's code set.
fn nonblocking<F: AsFd>(fd: &F) -> bool {
    fcntl(fd.as_fd(), FcntlArg::F_GETFL)
        .is_ok_and(|f| OFlag::from_bits_truncate(f).contains(OFlag::O_NONBLOCK))
}

/// What is waiting unread on `fd`, without taking it: `Some(0)` is end of
/// file, `None` is nothing yet (the line is open and quiet).
fn peek<F: AsFd>(fd: &F) -> Option<nix::Result<usize>> {
    let mut one = [0u8; 1];
    match recv(
        fd.as_fd().as_raw_fd(),
        &mut one,
        MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT,
    ) {
        Err(Errno::EAGAIN) => None,
        other => Some(other),
    }
}

// -------------------------------------------------------------------- hear_out

fn hear_out(answer: &Answer, line: &Arc<OwnedFd>) -> Result<nix::Result<Vec<u8>>, LearnerError> {
    let line = Arc::clone(line);
    learner_call!(chapter(), answer.hear_out(&line), within = QUIET)
}

/// Calls `hear_out` on a line the check speaks `pieces` on, then ends with
/// `end`. Every verdict about a speech that was heard short lives here.
fn hear_speech(
    answer: &Answer,
    pieces: &[&[u8]],
    end: End,
) -> Result<(Arc<OwnedFd>, Option<OwnedFd>), Failure> {
    let p = pair()?;
    let learner = Arc::new(p.caller);
    let owned: Vec<Vec<u8>> = pieces.iter().map(|p| p.to_vec()).collect();
    let speaker = speak(&learner, p.callee, owned, end);
    let got = hear_out(answer, &learner).map_err(|e| hung_means(e, || eof_loop("hear_out")))?;
    if got.as_ref().is_ok_and(|h| *h == pieces.concat()) {
        still_blocking(&learner)?;
        // Only now: a speaker whose words were never all read is left to
        // give up by itself once this line is put down.
        let mine = speaker.join().ok().flatten();
        return Ok((learner, mine));
    }
    Err(heard_short(&learner, pieces, &got))
}

/// `hear_out` returned something other than the whole speech: name the cause
/// the evidence shows.
fn heard_short(line: &OwnedFd, pieces: &[&[u8]], got: &nix::Result<Vec<u8>>) -> Failure {
    let whole = pieces.concat();
    let expected = format!(
        "Ok({}): said in {} piece(s), then a hang-up",
        show(&whole),
        pieces.len()
    );
    let base = |id: &str, headline: &str| {
        Failure::new(id, headline)
            .expected(expected.clone())
            .got(show_result(got))
    };
    if nonblocking(line) {
        return base("ch07.nonblocking", "hear_out() made the line non-blocking and stopped at \"nothing yet\"")
            .phone("you stopped listening the moment the other side paused for breath, not when they hung up.")
            .syscall("with O_NONBLOCK, read() fails with EAGAIN whenever nothing has arrived yet: that is not the end. Leave the line blocking (no fcntl(F_SETFL, O_NONBLOCK), no SOCK_NONBLOCK) and stop only at read() = 0.");
    }
    match got {
        Ok(h) if h.is_empty() && wire::wait_until_queued(line, 1, Duration::from_millis(500)) => {
            base("ch07.empty-buffer", "hear_out() returned before reading anything, with words waiting")
                .phone("you held the receiver to your ear with your hand over it: the words were there, you took none.")
                .syscall("read() fills at most buf.len() bytes, and a Vec::new() or Vec::with_capacity(n) has length 0, so read() returns 0 at once. Read into a fixed array ([0u8; 4096]) and append &buf[..n].")
        }
        Ok(h) if !h.is_empty() && *h == **pieces.last().unwrap_or(&&[][..]) && pieces.len() > 1 => {
            base("ch07.overwritten", "hear_out() kept only the last piece")
                .phone("you heard every piece, but wrote each one over the one before: only the last words are on your notepad.")
                .syscall("append each read: heard.extend_from_slice(&buf[..n]), not heard = buf[..n].to_vec().")
        }
        _ => base("ch07.one-read", "hear_out() stopped before the other side hung up")
            .phone("you put the phone down after the first words; they were still talking.")
            .syscall("one read() is not the whole speech, and a read() shorter than your buffer is not the end: keep reading, appending, until read() returns 0."),
    }
}

/// After `hear_out` returns, the line is as blocking as it was given.
fn still_blocking(line: &OwnedFd) -> Result<(), Failure> {
    if !nonblocking(line) {
        return Ok(());
    }
    Err(Failure::new("ch07.nonblocking", "hear_out() left the line it was lent non-blocking")
        .expected("the line's flags (fcntl(F_GETFL)) as they were: O_NONBLOCK off")
        .got("O_NONBLOCK is set on the line after hear_out() returned")
        .phone("you borrowed the phone and changed how it rings; its owner's next read() won't wait any more.")
        .syscall("hear_out() only reads: no fcntl(F_SETFL, O_NONBLOCK). A blocking read() waits for words or the end of file, which is what you want here."))
}

fn eof_loop(function: &str) -> Failure {
    Failure::new("ch07.eof-loop", format!("{function}() kept listening after the other side hung up"))
        .expected("to return once read() returned 0")
        .got(format!("still running after {} s", QUIET.as_secs()))
        .phone("you're holding the receiver to the dial tone, waiting for more words.")
        .syscall("read() returning 0 is end of file; it returns 0 forever after. Leave the loop and return what you heard.")
}

/// 1. The other side hangs up without a word.
fn silent_hang_up(answer: &Answer) -> Result<String, Failure> {
    let p = pair()?;
    let learner = Arc::new(p.caller);
    drop(p.callee);
    let got = hear_out(answer, &learner).map_err(|e| hung_means(e, || eof_loop("hear_out")))?;
    match got {
        Ok(heard) if heard.is_empty() => {}
        Err(e) => {
            return Err(Failure::new("ch07.eof-is-error", "hear_out() called a polite hang-up an error")
                .expected("Ok(\"\"): the other side hung up without a word, which is how calls end")
                .got(format!("Err({})", names::errno(e)))
                .phone("hearing the dial tone isn't a fault on the line; the call is simply over.")
                .syscall("read() returning 0 is end of file: return Ok(what you heard); keep Err for real errors."))
        }
        Ok(heard) => {
            return Err(Failure::new("ch07.eof-is-error", "hear_out() made up words after a silent hang-up")
                .expected("Ok(\"\")")
                .got(format!("Ok({})", show(&heard)))
                .phone("nobody said anything.")
                .syscall("return only the bytes read() gave you."))
        }
    }
    still_blocking(&learner)?;
    Ok("a silent hang-up: read() returned 0 and hear_out() said Ok(\"\")".into())
}

/// 2. Three pieces, each its own read, then a polite hang-up.
fn three_pieces(answer: &Answer) -> Result<String, Failure> {
    hear_speech(answer, &[b"I'll ", b"be ", b"brief."], End::Close)?;
    Ok("three pieces and a hang-up: hear_out() appended each until read() returned 0".into())
}

/// 3. A speech longer than any one read brings (256 KiB at once).
fn a_long_speech(answer: &Answer) -> Result<String, Failure> {
    let speech: Vec<u8> = (0..256 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    hear_speech(answer, &[&speech], End::Close)?;
    Ok("a 256 KiB speech said at once came back whole, over many reads".into())
}

/// 4. The other side says "over" (shutdown Write) and stays on the line:
///    `hear_out` must return at that end of file and leave the line able to
///    talk, since it was only lent.
fn over_and_waiting(answer: &Answer) -> Result<String, Failure> {
    let (learner, mine) = hear_speech(answer, &[b"your turn"], End::Over)?;
    let mine = mine.ok_or_else(|| {
        exchange_trouble("the self-check's end of the line went away")
            .expected("the check's end still open after its shutdown(SHUT_WR)")
            .got("it was gone")
    })?;
    let lent_line_ended = |got: String| {
        Failure::new("ch07.hear-out-hung-up", "hear_out() hung up the line it was only lent")
            .expected("after hear_out() returns, the line still open and able to talk back")
            .got(got)
            .phone("the other side said \"over\" and waited for your reply, but you hung up (or covered your mouth) on their turn.")
            .syscall("hear_out() takes &OwnedFd: it only reads. No shutdown() and no close() in it; whoever owns the line decides when the call ends.")
    };
    if kernel::fd_target(learner.as_raw_fd()).is_none() {
        return Err(lent_line_ended("the descriptor was closed".into()));
    }
    if let Some(Ok(0)) = peek(&mine) {
        return Err(lent_line_ended(
            "the other side read end of file: your side was shut down (SHUT_WR or SHUT_RDWR)"
                .into(),
        ));
    }
    match wire::say_all(&*learner, b"roger") {
        Ok(()) if wire::wait_until_queued(&mine, 5, PEER_REPLY) => {}
        other => {
            return Err(lent_line_ended(format!(
                "a reply on it failed: {}",
                other.err().map_or("it never arrived".into(), names::errno)
            )))
        }
    }
    Ok("after the other side said \"over\", hear_out() returned and the line still carried a reply".into())
}

/// 5. Half a sentence, then the phone slammed down (a reset).
fn slammed_mid_sentence(answer: &Answer) -> Result<String, Failure> {
    let p = pair()?;
    let learner = Arc::new(p.caller);
    let _ = speak(&learner, p.callee, vec![b"half a sent".to_vec()], End::Slam);
    let got = hear_out(answer, &learner)
        .map_err(|e| hung_means(e, || reset_ignored("still running: the error was retried")))?;
    if got != Err(Errno::ECONNRESET) {
        return Err(reset_ignored(&show_result(&got)));
    }
    Ok("a reset (SO_LINGER 0) mid-sentence came back as Err(ECONNRESET), not as a goodbye".into())
}

fn reset_ignored(got: &str) -> Failure {
    Failure::new("ch07.reset-ignored", "hear_out() treated a slammed-down phone as a goodbye")
        .expected("Err(ECONNRESET): the other side reset the call after \"half a sent\"")
        .got(got.to_string())
        .phone("a crash on the line is not \"goodbye\": whoever relies on you should know the message may be cut off.")
        .syscall("return read()'s Err as it is (use `?`): only a 0-byte read means a clean end.")
}

// ----------------------------------------------------------- ask_and_hear_back

/// The check's end for `ask_and_hear_back`, a real server's habits: it hears
/// the question to end of file, answers in two pieces and says "over" itself
/// (shutdown Write): the graceful close, from its side.
///
/// It paces the answer through `view`, a peek-only second handset on the
/// learner's line that the check puts down the moment the learner's
/// function returns, so it never keeps the call alive.
struct Machine {
    mine: Arc<OwnedFd>,
    view: Arc<Mutex<Option<OwnedFd>>>,
    returned: Arc<AtomicBool>,
    /// The question as heard, once the answer (if any) is said.
    question: mpsc::Receiver<Vec<u8>>,
}

impl Machine {
    fn start(mine: OwnedFd, view: OwnedFd) -> Machine {
        let (question_tx, question) = mpsc::channel();
        let machine = Machine {
            mine: Arc::new(mine),
            view: Arc::new(Mutex::new(Some(view))),
            returned: Arc::new(AtomicBool::new(false)),
            question,
        };
        let (mine, view, returned) = (
            Arc::clone(&machine.mine),
            Arc::clone(&machine.view),
            Arc::clone(&machine.returned),
        );
        thread::spawn(move || {
            let (question, heard_the_end) = hear_question(&mine, &returned);
            if heard_the_end && !returned.load(Ordering::SeqCst) {
                answer_and_say_over(&mine, &view);
            }
            let _ = question_tx.send(question);
        });
        machine
    }

    /// The learner's function has returned: put the view down, and ask
    /// whether the question's end of file had arrived by then.
    fn learner_returned(&self) -> bool {
        // The check's end may still be reading the question: once it has
        // taken what is queued, a peek tells end of file from "not yet".
        wire::wait_until_drained(&*self.mine, Duration::from_millis(500));
        let said_over = matches!(peek(&*self.mine), Some(Ok(0) | Err(_)));
        self.returned.store(true, Ordering::SeqCst);
        if let Ok(mut view) = self.view.lock() {
            view.take();
        }
        said_over
    }

    fn question(&self) -> Result<Vec<u8>, Failure> {
        self.question
            .recv_timeout(PEER_REPLY + PEER_REPLY)
            .map_err(|_| {
                exchange_trouble("the self-check's end of the line stopped answering")
                    .expected("its report within 6 s")
                    .got("nothing")
            })
    }
}

/// Reads the question until end of file, the learner's return, or `QUIET`.
fn hear_question(mine: &OwnedFd, returned: &AtomicBool) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + QUIET + QUIET;
    let mut question = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !returned.load(Ordering::SeqCst) {
        // Short polls, so the learner's return is noticed at once.
        let mut fds = [PollFd::new(mine.as_fd(), PollFlags::POLLIN)];
        if !matches!(poll(&mut fds, PollTimeout::from(20u16)), Ok(1..)) {
            continue;
        }
        match read(mine, &mut buf) {
            Ok(0) => return (question, true),
            Ok(n) => question.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    (question, false)
}

/// "fine, " and "thanks" as two reads, then the check's own "over".
fn answer_and_say_over(mine: &OwnedFd, view: &Mutex<Option<OwnedFd>>) {
    let drained = || {
        let deadline = Instant::now() + PEER_REPLY;
        while Instant::now() < deadline {
            match view.lock().ok().as_deref() {
                Some(Some(v)) if wire::queued(v).is_ok_and(|q| q > 0) => {}
                _ => return,
            }
            thread::sleep(Duration::from_micros(200));
        }
    };
    for piece in [&b"fine, "[..], b"thanks"] {
        if wire::say_all(mine, piece).is_err() {
            return;
        }
        drained();
    }
    let _ = shutdown(mine.as_raw_fd(), Shutdown::Write);
}

/// 6. A question, "over", an answer in two pieces, a hang-up.
fn the_question(answer: &Answer) -> Result<String, Failure> {
    let p = pair()?;
    let raw = p.caller.as_raw_fd();
    let target = kernel::fd_target(raw).unwrap_or_default();
    let view = p.caller.try_clone().map_err(|e| {
        exchange_trouble("the self-check couldn't duplicate its test line")
            .expected("dup() to work")
            .got(e.to_string())
    })?;
    let machine = Machine::start(p.callee, view);
    let question = b"how are you?";
    let line = p.caller;
    let outcome = learner_call!(
        chapter(),
        answer.ask_and_hear_back(line, question),
        within = QUIET
    );
    let said_over = machine.learner_returned();
    let got = outcome.map_err(|e| {
        hung_means(e, || {
            if said_over {
                eof_loop("ask_and_hear_back")
            } else {
                no_shutdown()
            }
        })
    })?;
    let heard = machine.question()?;
    judge_the_question(question, &got, said_over, &heard)?;
    no_handset_left(&target, raw)?;
    Ok("the other side heard the whole question, then end of file (your shutdown Write), and you heard its answer, said in two pieces, to the end".into())
}

fn judge_the_question(
    question: &[u8],
    got: &nix::Result<Vec<u8>>,
    said_over: bool,
    heard: &[u8],
) -> Result<(), Failure> {
    if heard != question {
        if said_over && heard.is_empty() && got.is_err() {
            return Err(over_too_soon(got));
        }
        return Err(Failure::new(
            "ch07.question-garbled",
            "ask_and_hear_back() didn't say the question exactly",
        )
        .expected(format!("the other side to hear {}", show(question)))
        .got(format!("it heard {}", show(heard)))
        .phone("the other side heard something other than your question.")
        .syscall("say_all(&line, question) says every byte; then shutdown(Write)."));
    }
    match got {
        Ok(a) if a == b"fine, thanks" => Ok(()),
        _ if !said_over => Err(wrong_half(got)),
        Ok(a) if a.is_empty() => Err(too_early("Ok(\"\"): end of file at once")),
        Err(Errno::ECONNRESET) => Err(too_early(
            "Err(ECONNRESET): your own kernel reset the call when the answer reached the half you had shut",
        )),
        Err(Errno::EAGAIN) => Err(Failure::new(
            "ch07.nonblocking",
            "ask_and_hear_back() made the line non-blocking and gave up at \"nothing yet\"",
        )
        .expected("Ok(\"fine, thanks\")")
        .got(show_result(got))
        .phone("you stopped listening the moment the other side paused for breath.")
        .syscall("EAGAIN from read() means O_NONBLOCK is set and nothing has arrived yet. Leave the line blocking.")),
        _ => Err(partial_answer(got)),
    }
}

fn partial_answer(got: &nix::Result<Vec<u8>>) -> Failure {
    let (phone, cause) = match got {
        Ok(a) if a == b"thanks" => (
            "you heard both pieces, but wrote the second over the first.",
            "append each read (extend_from_slice), don't replace what you heard; or call hear_out(), which does.",
        ),
        _ => (
            "you put the phone down before the other side had finished.",
            "after the half-close, hear_out() the answer: read until read() returns 0.",
        ),
    };
    Failure::new(
        "ch07.partial-answer",
        "ask_and_hear_back() didn't hear the whole answer",
    )
    .expected("Ok(\"fine, thanks\"): sent in two pieces, then the other side's \"over\"")
    .got(show_result(got))
    .phone(phone)
    .syscall(cause)
}

/// After the call: no descriptor left pointing at it.
fn no_handset_left(target: &str, raw: i32) -> Result<(), Failure> {
    let left = wire::handsets_for(target);
    if left == 0 {
        return Ok(());
    }
    Err(Failure::new("ch07.leaked-handset", "ask_and_hear_back() left the line open")
        .expected(format!("no descriptor left pointing at {target} once the call is over"))
        .got(format!("{left} still open (fd {raw} or a copy of it)"))
        .phone("you left the handset off the hook: the line stays busy and no one else can use it.")
        .syscall("let the OwnedFd drop (no mem::forget, into_raw_fd or kept clones): dropping it calls close()."))
}

fn over_too_soon(got: &nix::Result<Vec<u8>>) -> Failure {
    Failure::new("ch07.over-too-soon", "ask_and_hear_back() said \"over\" before the question")
        .expected("the question, then end of file")
        .got(format!("end of file with no question, and {}", show_result(got)))
        .phone("you said \"over\" and then tried to ask: the other side had already stopped listening for you.")
        .syscall("say_all(&line, question) first, then shutdown(Write): after SHUT_WR every send() fails with EPIPE.")
}

fn wrong_half(got: &nix::Result<Vec<u8>>) -> Failure {
    Failure::new("ch07.wrong-half", "ask_and_hear_back() never said \"over\", and stopped listening")
        .expected("the other side to read end of file after your question, then Ok(\"fine, thanks\")")
        .got(format!("{} at once, and the other side never heard end of file while you were on the line", show_result(got)))
        .phone("you only told yourself to stop listening (that sends nothing) instead of saying \"over\": they are still waiting for the end of your question.")
        .syscall("likely shutdown(Shutdown::Read), which sends nothing and only makes your own read() return 0; or returning before hear_out(). Use shutdown(fd, Shutdown::Write), then hear_out().")
}

fn too_early(got: &str) -> Failure {
    Failure::new(
        "ch07.hung-up-too-early",
        "ask_and_hear_back() stopped listening before the answer",
    )
    .expected("Ok(\"fine, thanks\")")
    .got(format!("{got}: you had shut your listening half too, or not listened"))
    .phone("you said \"I'm done talking\" and covered your ears: the answer came to nobody.")
    .syscall("shutdown(fd, Shutdown::Write), not Both: you still need to read the answer with hear_out().")
}

fn no_shutdown() -> Failure {
    Failure::new("ch07.no-shutdown", "ask_and_hear_back() and the other side waited for each other")
        .expected("the question, then end of file, then the answer")
        .got(format!("nothing within {} s: the other side never heard that your question was finished", QUIET.as_secs()))
        .phone("you asked and waited; they waited for you to finish. Say \"over\".")
        .syscall("after say_all(), call shutdown(line.as_raw_fd(), Shutdown::Write): their read() returns 0 and they can answer. Closing a copy (try_clone, dup) says nothing: the call ends only when its last descriptor closes.")
}

/// 7. The other side has already hung up, and the line is dead: its kernel
///    answered the check's first word with a reset. On a line in CLOSE_WAIT
///    (the other side's FIN came first) Linux files that reset as `EPIPE`,
///    so every `send()` now fails with `EPIPE` (and, without `MSG_NOSIGNAL`
///    or Rust's ignored `SIGPIPE`, would kill the process).
fn a_dead_line(answer: &Answer) -> Result<String, Failure> {
    let p = pair()?;
    drop(p.callee);
    let _ = nix::sys::socket::send(p.caller.as_raw_fd(), b"?", MsgFlags::MSG_NOSIGNAL);
    if !wire::wait_until_dead(&p.caller, PEER_REPLY) {
        return Err(
            exchange_trouble("the self-check's test line didn't go dead")
                .expected("a reset within 3 s of talking to a closed phone")
                .got("no reset"),
        );
    }
    let speech: &'static [u8] = b"hello? are you there?";
    let line = p.caller;
    let got = learner_call!(
        chapter(),
        answer.ask_and_hear_back(line, speech),
        within = QUIET
    )
    .map_err(|e| hung_means(e, || eof_loop("ask_and_hear_back")))?;
    if let Ok(a) = &got {
        return Err(Failure::new("ch07.vanished-ignored", "ask_and_hear_back() said all was well on a dead line")
            .expected("Err(EPIPE): the other side hung up before you spoke")
            .got(format!("Ok({})", show(a)))
            .phone("you talked into a dead phone and reported a pleasant chat.")
            .syscall("pass every Err on with `?` (say_all's EPIPE, shutdown's, hear_out's): don't ignore them."));
    }
    Ok(format!(
        "talking into a line the other side had hung up: {}, passed on (no SIGPIPE)",
        show_result(&got)
    ))
}
