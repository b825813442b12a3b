//! Running a child (the compiler, cargo, a compiled self-check) so that the
//! learner's code can't take the operator down with it.
//!
//! Each child runs in its own process group with stdin closed, under a hard
//! time limit; on timeout (or Ctrl-C) the whole group is killed, so nothing the
//! learner's code started outlives the check. Output is read on threads and
//! capped, so an answer that prints megabytes costs memory for the cap only.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

/// How much of each output stream is kept.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// Process groups running right now, for Ctrl-C to kill.
static RUNNING: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Scratch folders in use, for Ctrl-C to remove.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Time since the operator started (for `runner::trace`).
pub fn since_start() -> Duration {
    START.get_or_init(std::time::Instant::now).elapsed()
}
static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// What a child did.
pub struct Finished {
    /// `None` when it was killed for running too long.
    pub status: Option<ExitStatus>,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// The first `OUTPUT_CAP` bytes of a stream, its last `OUTPUT_CAP` bytes
/// (where a check program's verdict line is, however much was printed
/// before it) and how many there were in all.
#[derive(Default)]
pub struct Captured {
    pub kept: Vec<u8>,
    pub tail: Vec<u8>,
    pub total: usize,
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }
}

/// A stream being read on a thread of its own.
struct Capturing {
    kept: std::sync::Arc<Mutex<Captured>>,
    done: mpsc::Receiver<()>,
}

/// How long to wait for a stream's end once its child is gone: a process
/// the child left in another group may hold the pipe open, and must not hold
/// the check.
const DRAIN: Duration = Duration::from_secs(1);

fn capture(mut stream: impl Read + Send + 'static) -> Capturing {
    let kept = std::sync::Arc::new(Mutex::new(Captured::default()));
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
            let mut c = lock(&shared);
            let room = OUTPUT_CAP.saturating_sub(c.kept.len());
            c.kept.extend_from_slice(&buf[..n.min(room)]);
            c.tail.extend_from_slice(&buf[..n]);
            let tail = c.tail.len();
            if tail > 2 * OUTPUT_CAP {
                c.tail.drain(..tail - OUTPUT_CAP);
            }
            c.total += n;
        }
        let _ = tx.send(());
    });
    Capturing { kept, done }
}

impl Capturing {
    /// What was read by the stream's end, or by `DRAIN` if it doesn't end.
    fn finish(self) -> Captured {
        let _ = self.done.recv_timeout(DRAIN);
        std::mem::take(&mut *lock(&self.kept))
    }
}

/// Runs `cmd` with `input` on its stdin (then closed) for at most `limit`;
/// kills its whole process group after that.
pub fn run_limited(cmd: &mut Command, input: &[u8], limit: Duration) -> std::io::Result<Finished> {
    cmd.process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_unblocked(cmd)?;
    let pgid = child.id() as i32;
    lock(&RUNNING).push(pgid);
    // Fed on a thread of its own, so a child that doesn't read its input
    // can't stall us on a full pipe; dropping the pipe closes its stdin.
    let mut stdin = child.stdin.take().expect("stdin was piped just above");
    let input = input.to_vec();
    thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let out = capture(child.stdout.take().expect("stdout was piped just above"));
    let err = capture(child.stderr.take().expect("stderr was piped just above"));
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(limit) {
        Ok(status) => Some(status?),
        Err(_) => {
            kill_group(pgid);
            // The wait returns as soon as the kill lands.
            let _ = rx.recv();
            None
        }
    };
    let _ = waiter.join();
    // Whatever the child started and left behind (a forked helper, a thread
    // group) goes with it: no orphans.
    kill_group(pgid);
    lock(&RUNNING).retain(|p| *p != pgid);
    let stdout = out.finish();
    let stderr = err.finish();
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// The signals the operator blocks for its Ctrl-C thread.
fn interrupts() -> nix::sys::signal::SigSet {
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set
}

/// Starts `cmd` from a short-lived thread that has the operator's blocked
/// signals unblocked. A child inherits the signal mask of the thread that
/// starts it (the standard library does not reset it), and a check whose
/// SIGTERM is blocked can't be asked to stop. Only this thread unblocks
/// them, and only while it spawns, so Ctrl-C still reaches the operator's
/// own handler everywhere else.
fn spawn_unblocked(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    thread::scope(|s| {
        s.spawn(|| {
            let _ = interrupts().thread_unblock();
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

/// Kills every running child group and removes scratch folders: Ctrl-C's
/// clean-up, also used by watch's `q`.
pub fn abort_all() {
    for pgid in lock(&RUNNING).drain(..) {
        kill_group(pgid);
    }
    for dir in lock(&SCRATCH).drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A private temporary folder for one check run: the child's working folder
/// and `TMPDIR`, so any socket file or scratch file it leaves is removed with it.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> std::io::Result<Scratch> {
        use std::sync::atomic::AtomicU32;
        static N: AtomicU32 = AtomicU32::new(0);
        // Short and under the system temp folder: Unix socket paths are
        // limited to about 100 bytes.
        let dir = std::env::temp_dir().join(format!(
            "dialtone-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        lock(&SCRATCH).push(dir.clone());
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        lock(&SCRATCH).retain(|d| *d != self.0);
    }
}

/// Blocks Ctrl-C, `kill` and a closed terminal in every thread and handles
/// them on one thread: kill the running checks, tidy up, leave. State files
/// are written atomically, so leaving at any moment keeps progress intact.
/// Call first thing in `main`, before any thread starts: threads inherit the
/// mask, and so would children, which is why [`run_limited`] starts them
/// from a thread that has unblocked it.
pub fn handle_interrupts(on_exit: fn()) {
    since_start();
    let set = interrupts();
    if set.thread_block().is_err() {
        return;
    }
    thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            abort_all();
            on_exit();
            std::process::exit(128 + sig as i32);
        }
    });
}
