//! The judge: runs a chapter's self-check on the learner's code without
//! running a line of it.
//!
//! [`run`] starts the host (the learner's code in a process of its own,
//! see [`crate::host`]), runs the check with proxy functions that send each
//! call over a Unix socket ([`crate::rpc`]), and at the verdict kills the
//! host's whole process group and every process it left behind. What the
//! host did to itself is evidence too: exiting early, dying by a signal,
//! running out of memory and leaving processes running each get a verdict
//! of their own, the same in `cargo test -p` and in the operator's `check`.

use crate::check::{Failure, Passed};
use crate::course::Chapter;
use crate::host;
use crate::rpc::{self, Broken, In, Out};
use nix::sys::signal::{killpg, SigSet, Signal};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How much of each of the learner's streams is kept for the verdict (the
/// operator keeps 64 KiB of what the driver passes on: this fits).
const OUTPUT_CAP: usize = 16 * 1024;
/// Past the chapter's timeout, how long the whole check may take before the
/// judge stops the learner's process itself.
const OVERALL_GRACE: Duration = Duration::from_millis(2500);

/// Set by [`driver`]: the learner's output goes to the operator as it was.
static AS_DRIVER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The host this process is judging, for the proxies (fn pointers can't
/// carry it, so it is process-wide). One judged run at a time.
static LINK: Mutex<Option<Arc<Link>>> = Mutex::new(None);

struct Link {
    /// The host's pid, for looking at its descriptors.
    host: Pid,
    control: Mutex<OwnedFd>,
    calls: Mutex<Calls>,
    /// How the host ended, once it has (set by its waiter).
    exit: Arc<Exit>,
    /// What it printed on stderr, where a death leaves its last words.
    stderr: Captured,
    /// A check took a death in a call as its own evidence ([`Death::claim`]):
    /// its verdict names the cause better than the judge's generic one.
    claimed: std::sync::atomic::AtomicBool,
}

/// The host's exit status, set once by the thread that waits for it.
#[derive(Default)]
struct Exit {
    status: Mutex<Option<std::io::Result<ExitStatus>>>,
    ended: std::sync::Condvar,
}

impl Exit {
    fn set(&self, status: std::io::Result<ExitStatus>) {
        *lock(&self.status) = Some(status);
        self.ended.notify_all();
    }

    /// The status, waiting at most `patience` for it; `None` while the host
    /// still runs (or its wait failed).
    fn wait(&self, patience: Duration) -> Option<ExitStatus> {
        let guard = lock(&self.status);
        let (guard, _) = self
            .ended
            .wait_timeout_while(guard, patience, |s| s.is_none())
            .unwrap_or_else(|p| p.into_inner());
        guard.as_ref().and_then(|s| s.as_ref().ok().copied())
    }
}

/// How the learner's process died during one of its calls: evidence a check
/// may turn into its own verdict (a frame reader that died asking for the
/// memory a hostile length header named allocated before it checked).
#[derive(Debug, Clone)]
pub struct Death {
    /// The call it died in.
    pub call: String,
    /// Rust's last words when an allocation failed under the memory limit:
    /// "memory allocation of N bytes failed".
    pub memory: Option<String>,
    /// The signal that ended it (SIGABRT after a failed allocation).
    pub signal: Option<Signal>,
    /// Its exit status, if it exited.
    pub code: Option<i32>,
}

impl Death {
    /// The check's verdict on this death replaces the judge's generic one
    /// (`judge.memory`, `judge.killed`, `judge.exited`).
    pub fn claim(&self) {
        if let Some(link) = lock(&LINK).clone() {
            link.claimed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The size in "memory allocation of N bytes failed", if that was it.
    pub fn asked_for(&self) -> Option<u64> {
        self.memory
            .as_deref()?
            .strip_prefix("memory allocation of ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

/// If the learner's process died while running `call` (the call's line went
/// dead and the process ended), what the evidence says about how; `None`
/// when nothing is being judged, the call didn't die, or the process still
/// runs. Waits a moment for a dying process to be reaped.
pub fn death_in(call: &str) -> Option<Death> {
    let link = lock(&LINK).clone()?;
    if lock(&link.calls).cut.as_deref() != Some(call) {
        return None;
    }
    let status = link.exit.wait(Duration::from_secs(1))?;
    let (err, _) = link.stderr.now(Duration::from_millis(200));
    use std::os::unix::process::ExitStatusExt;
    Some(Death {
        call: call.to_string(),
        memory: err
            .lines()
            .find(|l| l.starts_with("memory allocation of"))
            .map(|l| l.trim().to_string()),
        signal: status.signal().and_then(|s| Signal::try_from(s).ok()),
        code: status.code(),
    })
}

/// Whether the learner's code runs in a process of its own (judged), not in
/// the check's own process (the integrity suite's in-process runs).
pub fn judging() -> bool {
    lock(&LINK).is_some()
}

/// Stops the learner's process (SIGSTOP) and lets it go on (SIGCONT), the
/// way Ctrl-Z and `fg` would; `false` when the learner's code runs in the
/// check's own process, which can't be stopped.
///
/// A stop interrupts every blocking call in the process. A `write()` that
/// was waiting for room part-way returns the bytes it had taken: a short
/// write, with no handler and no timeout involved. A call that had taken
/// nothing yet is restarted as if nothing happened (signal(7)), except on a
/// socket with a timeout (`SO_RCVTIMEO`, `SO_SNDTIMEO`), where it fails with
/// `EINTR`: use this only on lines without one.
pub fn pause_learner() -> bool {
    let Some(pid) = lock(&LINK).as_ref().map(|l| l.host) else {
        return false;
    };
    if nix::sys::signal::kill(pid, Signal::SIGSTOP).is_err() {
        return false;
    }
    // SIGCONT before the stop has landed would cancel it unseen: wait (a
    // moment at most) until every thread has stopped.
    let deadline = std::time::Instant::now() + Duration::from_millis(200);
    while !stopped(pid) && std::time::Instant::now() < deadline {
        thread::yield_now();
    }
    nix::sys::signal::kill(pid, Signal::SIGCONT).is_ok()
}

/// Every thread of `pid` stopped (state `T` in `/proc/<pid>/task/*/stat`).
fn stopped(pid: Pid) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    tasks.flatten().all(|t| {
        std::fs::read_to_string(t.path().join("stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|state| state == "T" || state == "Z" || state == "X")
        })
    })
}

/// Which learner calls were made, for naming the one a death happened in.
#[derive(Default, Clone)]
struct Calls {
    running: Vec<String>,
    last: Option<String>,
    /// The first call whose line went dead (the host died or cut it).
    cut: Option<String>,
    garbled: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a proxy's panic says when the host is gone; the verdict then names
/// what the evidence shows instead.
fn gone(name: &str) -> ! {
    std::panic::resume_unwind(Box::new(format!(
        "the program running {name}() stopped before it answered"
    )))
}

/// One call of the learner's function `name` in the host (`out` holds the
/// name, then the arguments): used by the proxies that
/// [`tasks!`](crate::tasks) writes. Reports during the call go
/// to `on_event`; a panic in the host is raised here again with its message
/// (so [`crate::learner::call`] words it as usual).
pub fn call(name: &str, out: Out, on_event: &mut dyn FnMut(&mut In) -> Result<bool, Broken>) -> In {
    let Some(link) = lock(&LINK).clone() else {
        std::panic::resume_unwind(Box::new(format!(
            "{name}() was called with no learner's program to run it"
        )))
    };
    // A line of its own for each call, so calls can overlap (a check dials
    // while the learner's accept() waits).
    let Ok((mine, theirs)) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    ) else {
        gone(name)
    };
    lock(&link.calls).running.push(name.to_string());
    let mut header = Out::new();
    header.give(theirs);
    let sent = rpc::send(&*lock(&link.control), rpc::LINE, header);
    let answer = sent
        .and_then(|()| rpc::send(&mine, rpc::CALL, out))
        .map_err(|_| ())
        .and_then(|()| wait_for_answer(&mine, on_event).map_err(|_| ()));
    if let Ok(Ok(_)) = answer {
        settle(&mine);
    }
    let mut calls = lock(&link.calls);
    if let Some(i) = calls.running.iter().position(|n| n == name) {
        calls.running.remove(i);
    }
    calls.last = Some(name.to_string());
    match answer {
        Ok(Ok(inp)) => inp,
        Ok(Err(message)) => {
            drop(calls);
            std::panic::resume_unwind(Box::new(message))
        }
        Err(()) => {
            calls.cut.get_or_insert_with(|| name.to_string());
            drop(calls);
            gone(name)
        }
    }
}

/// Waits, briefly, until the host has let go of this call's line. By then it
/// has dropped its own copies of the descriptors it sent back, so a check
/// that counts who holds a socket counts only what the learner's code kept.
fn settle(line: &OwnedFd) {
    use nix::sys::socket::{recv, setsockopt, sockopt::ReceiveTimeout, MsgFlags};
    use std::os::fd::AsRawFd;
    let _ = setsockopt(
        line,
        ReceiveTimeout,
        &nix::sys::time::TimeVal::new(0, 500_000),
    );
    let mut byte = [0u8; 1];
    // 0 (the host closed its end) or EAGAIN (it didn't, in time): either way
    // the check goes on.
    let _ = recv(line.as_raw_fd(), &mut byte, MsgFlags::empty());
}

/// `Ok(reply)`, or `Err(panic message)`; an I/O error if the line broke.
fn wait_for_answer(
    line: &OwnedFd,
    on_event: &mut dyn FnMut(&mut In) -> Result<bool, Broken>,
) -> Result<Result<In, String>, Broken> {
    loop {
        match rpc::recv(line) {
            Ok(Some((rpc::REPLY, inp))) => return Ok(Ok(inp)),
            Ok(Some((rpc::PANIC, mut inp))) => return Ok(Err(inp.text()?)),
            Ok(Some((rpc::EVENT, mut inp))) => {
                if !on_event(&mut inp)? {
                    return Err(Broken("a report nobody asked for".into()));
                }
            }
            _ => return Err(Broken("the line went dead".into())),
        }
    }
}

/// A reply that doesn't decode: the host is not the program it should be.
pub fn decoded<T>(name: &str, value: Result<T, Broken>) -> T {
    match value {
        Ok(v) => v,
        Err(_) => {
            if let Some(link) = lock(&LINK).clone() {
                lock(&link.calls)
                    .garbled
                    .get_or_insert_with(|| name.to_string());
            }
            gone(name)
        }
    }
}

/// How many descriptors in the learner's process point at `target` (as
/// `/proc/<pid>/fd` spells it, e.g. `socket:[81723]`); 0 when nothing is
/// being judged. A socket the learner's code kept (a leaked handset) is
/// open there, not in the judge. A host that hid its descriptor table
/// (`PR_SET_DUMPABLE` off) counts as holding one: it can't show that it
/// let go.
pub fn handsets_in_host(target: &str) -> usize {
    let Some(pid) = lock(&LINK).as_ref().map(|l| l.host) else {
        return 0;
    };
    match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .filter(|e| {
                std::fs::read_link(e.path()).is_ok_and(|p| p.display().to_string() == target)
            })
            .count(),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => 1,
        // Gone: it holds nothing.
        Err(_) => 0,
    }
}

/// The learner's process being judged, if any: its pid and the program it
/// runs (`/proc/<pid>/exe`). A check that needs a second process of the
/// learner's program (chapter 10's caller under another uid) starts this
/// program again; the host's own `main` decides what it is asked to be.
pub fn host_program() -> Option<(Pid, std::path::PathBuf)> {
    let pid = lock(&LINK).as_ref().map(|l| l.host)?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    Some((pid, exe))
}

/// What the watchdog saw while the check ran.
enum Watched {
    InTime,
    /// Past the time limit: it stopped the learner's process.
    Overtime,
    /// More processes under the judge than a check allows: it stopped them.
    TooMany(usize),
}

/// The learner's program as started, and what the judge gathers from it.
struct Hosted {
    pid: Pid,
    exit: Arc<Exit>,
    stdout: Captured,
    stderr: Captured,
    /// The kernel's own bound on its processes, where the judge could make one.
    pids: Option<processes::PidsCgroup>,
}

/// A stream read on a thread of its own into a shared buffer: the judge
/// takes what is there at the verdict and never waits on the pipe (a process
/// holding it open must not hold the check).
#[derive(Clone)]
struct Captured {
    text: Arc<Mutex<Vec<u8>>>,
    /// Bytes read in all, kept or not.
    total: Arc<std::sync::atomic::AtomicUsize>,
    done: Arc<Mutex<Option<mpsc::Receiver<()>>>>,
}

impl Captured {
    fn read(mut stream: impl Read + Send + 'static) -> Captured {
        let text = Arc::new(Mutex::new(Vec::new()));
        let total = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let (kept, count) = (text.clone(), total.clone());
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                count.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                let mut kept = lock(&kept);
                let room = OUTPUT_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
            let _ = tx.send(());
        });
        Captured {
            text,
            total,
            done: Arc::new(Mutex::new(Some(rx))),
        }
    }

    /// What arrived, after giving the writer `patience` to finish, and how
    /// many bytes past the cap were dropped.
    fn now(&self, patience: Duration) -> (String, usize) {
        if let Some(rx) = lock(&self.done).take() {
            let _ = rx.recv_timeout(patience);
        }
        let kept = lock(&self.text);
        let total = self.total.load(std::sync::atomic::Ordering::Relaxed);
        (
            String::from_utf8_lossy(&kept).into_owned(),
            total.saturating_sub(kept.len()),
        )
    }
}

/// The learner's stdout then stderr, with a note of what was dropped.
fn printed(hosted: &Hosted) -> String {
    let patience = Duration::from_millis(200);
    let (out, lost_out) = hosted.stdout.now(patience);
    let (err, lost_err) = hosted.stderr.now(patience);
    let mut text = out + &err;
    if lost_out + lost_err > 0 {
        text.push_str(&format!(
            "\n[... {} more bytes not kept]\n",
            lost_out + lost_err
        ));
    }
    text
}

/// Runs `check` (a chapter's `check::run` with proxy functions) against the
/// learner's code in `host`, a command that starts a host (a chapter binary,
/// or the operator's driver itself). Returns the verdict; afterwards no
/// process of the learner's is left.
pub fn run(
    chapter: &'static Chapter,
    host: Command,
    check: impl FnOnce() -> Result<Passed, Failure>,
) -> Result<Passed, Failure> {
    let mut hosted = match start(host) {
        Ok(h) => h,
        Err(e) => return Err(verdicts::no_host(&e)),
    };
    let (stop_watch, watch) = mpsc::channel::<()>();
    let pid = hosted.pid;
    let limit = chapter.timeout() + OVERALL_GRACE;
    // Stops the learner's process when the check runs past its time, or
    // when it has started more processes than a check allows.
    let watchdog = thread::spawn(move || {
        let start = std::time::Instant::now();
        loop {
            let left = limit.saturating_sub(start.elapsed());
            match watch.recv_timeout(left.min(processes::COUNT_EVERY)) {
                Err(mpsc::RecvTimeoutError::Timeout) if left.is_zero() => {
                    let _ = killpg(pid, Signal::SIGKILL);
                    return Watched::Overtime;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let many = processes::descendants(Pid::this(), pid);
                    if many.len() > processes::MAX_PROCESSES {
                        processes::kill_all(pid, &many);
                        return Watched::TooMany(many.len());
                    }
                }
                _ => return Watched::InTime,
            }
        }
    });
    // A check that panics (a bug in the check, not the learner's code) still
    // leaves nothing running: clean up first, then let the panic go on.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
    // Kept until the host is dead: the host leaves when its line closes,
    // and that exit is not evidence.
    let link = lock(&LINK).take();
    let calls = link
        .as_ref()
        .map(|l| lock(&l.calls).clone())
        .unwrap_or_default();
    let claimed = link
        .as_ref()
        .is_some_and(|l| l.claimed.load(std::sync::atomic::Ordering::Relaxed));
    let _ = stop_watch.send(());
    let watched = watchdog.join().unwrap_or(Watched::InTime);
    let exited = if calls.cut.is_some() {
        // The line went dead: give a dying host a moment to be reaped.
        hosted.exit.wait(Duration::from_secs(1))
    } else {
        hosted.exit.wait(Duration::ZERO)
    };
    // Read before the kill: how much memory the learner's process had in
    // use at its peak. A memory hog on a loaded machine may still be
    // filling its last megabytes when a call's time runs out.
    let peak = peak_memory(pid);
    let strays = processes::descendants(Pid::this(), pid);
    processes::kill_all(pid, &strays);
    if exited.is_none() {
        // Reaped by its waiter as soon as the SIGKILL lands.
        let _ = hosted.exit.wait(Duration::from_secs(1));
    }
    // Forks the kernel refused because the cgroup was full: the bound was
    // reached even if the processes are gone by now.
    let refused = hosted.pids.as_ref().map_or(0, |c| c.refused());
    if let Some(cgroup) = hosted.pids.take() {
        cgroup.remove(pid);
    }
    drop(link);
    let output = printed(&hosted);
    if !output.trim().is_empty() {
        // libtest shows this with a failing test; the operator's driver
        // passes it on bare, and the operator shows it under the verdict.
        if AS_DRIVER.load(std::sync::atomic::Ordering::Relaxed) {
            eprint!("{output}");
        } else {
            eprintln!("What your code printed:\n{}", output.trim_end());
        }
    }
    let evidence = verdicts::Evidence {
        chapter,
        calls: &calls,
        output: &output,
        limit,
    };
    match watched {
        Watched::Overtime => return Err(verdicts::overtime(&evidence)),
        Watched::TooMany(n) => return Err(verdicts::too_many(&evidence, n, 0)),
        Watched::InTime => {}
    }
    if refused > 0 {
        return Err(verdicts::too_many(&evidence, 0, refused));
    }
    let hung = matches!(&result, Ok(Err(f)) if f.id == "hung");
    if hung && exited.is_none() && peak.is_some_and(|p| p >= host::MEMORY / 2) {
        return Err(verdicts::still_growing(&evidence, peak.unwrap_or(0)));
    }
    if let Some(status) = exited {
        return match result {
            // The check read the death as evidence of its own.
            Ok(Err(f)) if claimed => Err(f),
            _ => Err(verdicts::ended(&evidence, status)),
        };
    }
    if calls.cut.is_some() || calls.garbled.is_some() {
        return Err(verdicts::cut(&evidence));
    }
    if let Some(stray) = strays.first() {
        return Err(verdicts::stray(&evidence, stray, strays.len()));
    }
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `VmHWM` of `pid` in bytes: the most memory it ever had in use (resident;
/// its address space, `VmPeak`, counts reservations such as thread stacks
/// and malloc arenas that a correct answer has too).
fn peak_memory(pid: Pid) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// Starts the host: its own process group, signals unblocked, stdin the
/// control line, stdout and stderr pipes of its own.
fn start(mut host: Command) -> std::io::Result<Hosted> {
    // Threads and children inherit the signal mask; a learner's process
    // that starts with SIGTERM blocked can't be asked to stop.
    let _ = SigSet::all().thread_unblock();
    // Orphans the learner's code leaves come to us, not to init, so they
    // can be found and stopped.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // Same user, but the learner's code can't open our /proc/<pid>/fd (our
    // stdout, where the verdict goes) or attach a debugger to us.
    let _ = nix::sys::prctl::set_dumpable(false);
    let (mine, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    host.env(host::ROLE, "1")
        // Fewer malloc arenas: each reserves address space the memory
        // limit counts.
        .env("MALLOC_ARENA_MAX", "2")
        // Its verdict-worthy messages are ours to word: no backtraces.
        .env("RUST_BACKTRACE", "0")
        .process_group(0)
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = host.spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    // Before its first call (it runs none of the learner's code until then),
    // so everything the learner's code starts is counted from the start.
    let pids = processes::PidsCgroup::enter(pid);
    let stdout = Captured::read(child.stdout.take().expect("stdout was piped above"));
    let stderr = Captured::read(child.stderr.take().expect("stderr was piped above"));
    let exit = Arc::new(Exit::default());
    let waiter = exit.clone();
    thread::spawn(move || waiter.set(child.wait()));
    *lock(&LINK) = Some(Arc::new(Link {
        host: pid,
        control: Mutex::new(mine),
        calls: Mutex::new(Calls::default()),
        exit: exit.clone(),
        stderr: stderr.clone(),
        claimed: std::sync::atomic::AtomicBool::new(false),
    }));
    Ok(Hosted {
        pid,
        exit,
        stdout,
        stderr,
        pids,
    })
}

/// For the operator's per-edit driver: reads this run's nonce from stdin,
/// runs the check with `self_check`, this very program being the host, and
/// prints the verdict (one JSON line with the nonce) on stdout.
///
/// The nonce is read before the host starts and the verdict printed after
/// every process of the learner's is dead, so nothing the learner's code
/// does can put a verdict where the operator reads it.
pub fn driver(self_check: fn(Command) -> Result<Passed, Failure>) -> ! {
    let mut nonce = String::new();
    // Bounded: a nonce is a short line; anything longer is not one.
    let _ = std::io::stdin().take(256).read_to_string(&mut nonce);
    AS_DRIVER.store(true, std::sync::atomic::Ordering::Relaxed);
    // /proc/self/exe, not the path: the operator may put a newer driver in
    // place while this one runs.
    let result = self_check(Command::new("/proc/self/exe"));
    let line = crate::check::Verdict::from_result(result).to_json_line(nonce.trim());
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{line}").and_then(|()| out.flush());
    // Exit at once: a proxy waiting on a hung call is parked on its own
    // thread and must not keep the process alive.
    std::process::exit(if written.is_ok() { 0 } else { 3 })
}

mod processes;
mod verdicts;

/// Declares a chapter's tasks once; in the chapter's `lib.rs`:
///
/// ```text
/// dialtone_kit::tasks! {
///     fn send_all(phone: &OwnedFd, words: &[u8]) -> nix::Result<()>;
/// }
/// ```
///
/// It writes `ANSWER` (the functions of `answer.rs`), `PROXY` (the same
/// signatures, each sending its call to the host), `host_if_asked` (for the
/// chapter binary's and the driver's `main`) and `self_check` (the judged
/// check, for `tests/self_check.rs`). The names `check::Answer`, `answer`
/// and `chapter()` must be in scope, as in every chapter.
#[macro_export]
macro_rules! tasks {
    ($(fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*) => {
        /// The answer this build was compiled with: the learner's, or the solution.
        pub const ANSWER: check::Answer = check::Answer {
            $($name: answer::$name,)*
        };

        /// The same functions, run in the host process: what the judge checks.
        pub const PROXY: check::Answer = check::Answer {
            $($name: proxy::$name,)*
        };

        #[doc(hidden)]
        pub mod proxy {
            #[allow(unused_imports)]
            use super::*;
            $(
                pub fn $name($($arg: $ty),*) -> $ret {
                    use $crate::rpc::{Param, Ret};
                    let name = stringify!($name);
                    let mut out = $crate::rpc::Out::new();
                    out.bytes(name.as_bytes());
                    $(
                        #[allow(unused_mut, clippy::let_unit_value)]
                        let mut $arg = <$ty as Param<'_>>::send($arg, &mut out);
                    )*
                    #[allow(unused_mut)]
                    let mut reply = $crate::judge::call(name, out, &mut |_inp| {
                        #[allow(unused_mut)]
                        let mut handled = false;
                        $(
                            if !handled {
                                handled = <$ty as Param<'_>>::event(&mut $arg, _inp)?;
                            }
                        )*
                        Ok(handled)
                    });
                    $(
                        $crate::judge::decoded(name, <$ty as Param<'_>>::back($arg, &mut reply));
                    )*
                    $crate::judge::decoded(name, <$ret as Ret>::take(&mut reply))
                }
            )*
        }

        /// In the host: runs the task `name` of `answer`.
        fn dispatch(
            answer: &check::Answer,
            name: &str,
            _inp: &mut $crate::rpc::In,
            _caller: &$crate::rpc::Caller,
        ) -> Option<Result<$crate::rpc::Out, $crate::rpc::Broken>> {
            use $crate::rpc::{Param, Ret};
            $(
                if name == stringify!($name) {
                    let ran = (|| {
                        $(
                            #[allow(unused_mut, clippy::let_unit_value)]
                            let mut $arg = <$ty as Param<'_>>::take(_inp, _caller)?;
                        )*
                        let value = (answer.$name)($(<$ty as Param<'_>>::lend(&mut $arg)),*);
                        let mut out = $crate::rpc::Out::new();
                        $(<$ty as Param<'_>>::give_back($arg, &mut out);)*
                        <$ret as Ret>::put(value, &mut out);
                        Ok(out)
                    })();
                    return Some(ran);
                }
            )*
            None
        }

        /// When this process was started by a judge, serves `answer`'s
        /// functions to it and exits; otherwise returns at once.
        pub fn host_if_asked(answer: &check::Answer) {
            $crate::host::serve_if_asked(*answer, dispatch)
        }

        /// The self-check of the learner's code run by `host` (this
        /// chapter's binary, or the driver), judged from outside it.
        pub fn self_check(
            host: std::process::Command,
        ) -> Result<$crate::check::Passed, $crate::check::Failure> {
            $crate::judge::run(chapter(), host, || check::run(&PROXY))
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size Rust's last words name is read back; other words give none.
    #[test]
    fn a_failed_allocation_names_its_size() {
        let death = |memory: Option<&str>| Death {
            call: "read_frame".into(),
            memory: memory.map(str::to_string),
            signal: Some(Signal::SIGABRT),
            code: None,
        };
        let failed = death(Some("memory allocation of 4294967280 bytes failed"));
        assert_eq!(failed.asked_for(), Some(4_294_967_280));
        assert_eq!(death(None).asked_for(), None);
        assert_eq!(death(Some("something else")).asked_for(), None);
    }

    /// Nothing judged: no death to claim, no process to pause.
    #[test]
    fn without_a_host_there_is_nothing_to_ask() {
        if lock(&LINK).is_none() {
            assert!(death_in("read_frame").is_none());
            assert!(!pause_learner());
            assert!(!judging());
        }
    }
}
