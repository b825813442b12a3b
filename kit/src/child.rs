//! Running another program under a time limit: the one way the operator
//! starts the compiler, cargo and a compiled self-check, and the one way the
//! test suites start a chapter binary, `nc`, `socat` or `python3`, so none
//! of them can hang a run or leave a process behind.
//!
//! Each child runs in a process group of its own, with the given input on its
//! stdin (then closed). Past the time limit, and again when it has finished,
//! the whole group is killed, so nothing it started outlives it. Output is
//! read on threads (a child blocked on a full pipe would look hung) and
//! capped, so a program that prints megabytes costs memory for the cap only.
//! While it runs its group is registered, so Ctrl-C's handler can kill it
//! ([`abort_all`]).

use nix::sys::signal::{killpg, SigSet, Signal};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How much of each output stream the operator keeps of a check: plenty for
/// a learner's prints, bounded for an answer that prints without end.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// How long a child may run, what it reads, and how much of its output is kept.
#[derive(Debug, Clone, Copy)]
pub struct Limits<'a> {
    /// Written to its stdin, which is then closed.
    pub input: &'a [u8],
    /// Past this the child's group is killed.
    pub time: Duration,
    /// How many bytes of each stream are kept from the start ([`Captured::kept`])
    /// and from the end ([`Captured::tail`]); the rest is counted.
    pub cap: usize,
}

/// What a child did.
#[derive(Debug)]
pub struct Finished {
    /// `None` when it was killed for running too long.
    pub status: Option<ExitStatus>,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// A stream's first `cap` bytes, its last `cap` to `2 * cap` bytes once some
/// were dropped (where a check program's verdict line is, however much was
/// printed before it) and how many there were in all.
#[derive(Debug, Default)]
pub struct Captured {
    pub kept: Vec<u8>,
    pub tail: Vec<u8>,
    pub total: usize,
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }

    /// The last bytes of the stream: all of it when nothing was dropped.
    pub fn last(&self) -> &[u8] {
        if self.total > self.kept.len() {
            &self.tail
        } else {
            &self.kept
        }
    }
}

/// Process groups running right now, for Ctrl-C to kill.
static RUNNING: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Runs `cmd` under `limits`: see the module's rules.
pub fn run(cmd: &mut Command, limits: Limits) -> std::io::Result<Finished> {
    cmd.process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_unblocked(cmd)?;
    let pgid = i32::try_from(child.id()).expect("pids fit in an i32");
    lock(&RUNNING).push(pgid);
    // Fed on a thread of its own, so a child that doesn't read its input
    // can't stall us on a full pipe; the pipe closes when the thread ends.
    let mut stdin = child.stdin.take().expect("stdin was piped just above");
    let input = limits.input.to_vec();
    let feeding = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = capture(child.stdout.take().expect("piped just above"), limits.cap);
    let err = capture(child.stderr.take().expect("piped just above"), limits.cap);
    // One thread owns the child and waits for it, so its pid can't be reused
    // before a kill lands: it stays unreaped until that wait returns.
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(limits.time) {
        Ok(status) => Some(status),
        Err(_) => {
            kill_group(pgid);
            // The wait returns as soon as the kill lands.
            let _ = rx.recv();
            None
        }
    };
    let _ = waiter.join();
    // Whatever the child started and left behind (a forked helper holding
    // the pipes) goes with it: no orphans, and the readers below can end.
    kill_group(pgid);
    lock(&RUNNING).retain(|p| *p != pgid);
    drop(feeding);
    let stdout = out.finish();
    let stderr = err.finish();
    Ok(Finished {
        status: status.transpose()?,
        stdout,
        stderr,
    })
}

/// A stream being read on a thread of its own.
struct Capturing {
    kept: Arc<Mutex<Captured>>,
    done: mpsc::Receiver<()>,
}

/// How long to wait for a stream's end once its child's group is gone: a
/// process the child moved to a group of its own may still hold the pipe,
/// and must not hold the caller.
const DRAIN: Duration = Duration::from_secs(1);

impl Capturing {
    /// What was read by the stream's end, or by `DRAIN` if it doesn't end.
    fn finish(self) -> Captured {
        let _ = self.done.recv_timeout(DRAIN);
        std::mem::take(&mut *lock(&self.kept))
    }
}

fn capture(mut stream: impl Read + Send + 'static, cap: usize) -> Capturing {
    let kept = Arc::new(Mutex::new(Captured::default()));
    let (tx, done) = mpsc::channel();
    let shared = kept.clone();
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        // Keep reading past the cap (and drop it): a child blocked on a full
        // pipe would look hung.
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            keep(&mut lock(&shared), &buf[..n], cap);
        }
        let _ = tx.send(());
    });
    Capturing { kept, done }
}

/// Adds `bytes` to `c`: the first `cap` bytes, and the last ones.
fn keep(c: &mut Captured, bytes: &[u8], cap: usize) {
    let room = cap.saturating_sub(c.kept.len());
    let (head, rest) = bytes.split_at(bytes.len().min(room));
    c.kept.extend_from_slice(head);
    c.total += bytes.len();
    if !rest.is_empty() {
        // The first bytes dropped: the tail starts as the kept ones.
        if c.tail.is_empty() {
            c.tail.extend_from_slice(&c.kept);
        }
        c.tail.extend_from_slice(rest);
        if c.tail.len() > 2 * cap {
            c.tail.drain(..c.tail.len() - cap);
        }
    }
}

/// Starts `cmd` from a short-lived thread with SIGINT, SIGTERM and SIGHUP
/// unblocked. A child inherits the signal mask of the thread that starts it
/// (the standard library does not reset it), and the operator blocks those
/// three everywhere for its Ctrl-C thread: a child started with them blocked
/// could not be asked to stop. Only this thread unblocks them, and only
/// while it spawns.
fn spawn_unblocked(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    thread::scope(|s| {
        s.spawn(|| {
            let _ = set.thread_unblock();
            cmd.spawn()
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the spawning thread panicked")))
    })
}

fn kill_group(pgid: i32) {
    // ESRCH (the group is already gone) is the usual, happy answer.
    let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
}

/// Kills every running child's group: Ctrl-C's clean-up.
pub fn abort_all() {
    for pgid in lock(&RUNNING).drain(..) {
        kill_group(pgid);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a program that finished in time left behind, all of it.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Ran {
    /// The exit code; `None` if a signal ended it.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// For tests: [`run`] keeping all the output, where running past `limit` is
/// an error that says so.
pub fn run_limited(command: &mut Command, input: &[u8], limit: Duration) -> Result<Ran, String> {
    let what = format!("{command:?}");
    let limits = Limits {
        input,
        time: limit,
        cap: usize::MAX,
    };
    let done = run(command, limits).map_err(|e| format!("could not run {what}: {e}"))?;
    match done.status {
        Some(status) => Ok(Ran {
            status,
            stdout: done.stdout.kept,
            stderr: done.stderr.kept,
        }),
        None => Err(format!("{what} did not finish within {limit:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn output_and_input_go_through() {
        let ran = run_limited(&mut Command::new("cat"), b"hello", Duration::from_secs(10))
            .expect("cat finishes");
        assert_eq!(ran.stdout, b"hello");
        assert_eq!(ran.code(), Some(0));
    }

    /// A program that never ends is stopped at the limit, not waited for.
    #[test]
    fn a_hang_is_killed_at_the_limit() {
        let start = Instant::now();
        let err = run_limited(
            Command::new("sleep").arg("30"),
            b"",
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    /// A helper the child leaves behind, holding the output pipe open, is
    /// killed with its group: it neither holds the run nor outlives it.
    #[test]
    fn a_left_behind_helper_goes_with_the_group() {
        let start = Instant::now();
        let ran = run_limited(
            Command::new("sh").args(["-c", "sleep 30 & echo started"]),
            b"",
            Duration::from_secs(20),
        )
        .expect("sh finishes at once");
        assert_eq!(ran.stdout, b"started\n");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }

    /// Past the cap the start and the end are kept, the middle only counted.
    #[test]
    fn capped_output_keeps_its_start_and_its_end() {
        let limits = Limits {
            input: b"",
            time: Duration::from_secs(20),
            cap: 1000,
        };
        let script = "seq 1 100000; echo the-last-line";
        let done = run(Command::new("sh").args(["-c", script]), limits).expect("sh runs");
        let out = &done.stdout;
        assert_eq!(out.kept.len(), 1000);
        assert!(out.total > 500_000, "{}", out.total);
        assert!(out.last().len() >= 1000 && out.last().len() <= 2000);
        assert!(out.last().ends_with(b"99999\n100000\nthe-last-line\n"));
        let small = run(Command::new("echo").arg("hi"), limits).expect("echo runs");
        assert_eq!(small.stdout.last(), b"hi\n");
    }
}
