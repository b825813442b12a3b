//! Fixture workspaces and runs of the real `dialtone` binary for the
//! operator's end-to-end tests.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the snapshots must not depend on: fixture paths, descriptors, pids,
/// ports, timings and colour.
pub fn redactions(root: &Path) -> Vec<(String, String)> {
    vec![
        (regex_escape(&root.display().to_string()), "[ROOT]".into()),
        (r"\bfd \d+".into(), "fd [FD]".into()),
        (r"\bpid \d+".into(), "pid [PID]".into()),
        (
            r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):[1-9]\d*".into(),
            "$1:[PORT]".into(),
        ),
        (r"\b\d+ ms\b".into(), "[MS] ms".into()),
        (r"\d+ more (lines|bytes)".into(), "[N] more $1".into()),
        (r"\x1b\[[0-9;]*m".into(), "".into()),
    ]
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Snapshots under tests/operator/snapshots, redacted for fixture `$fx`.
#[macro_export]
macro_rules! assert_operator {
    ($name:expr, $text:expr) => {{
        let filters = $crate::support::redactions(&$crate::support::fixtures_dir());
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        insta::with_settings!({
            filters => filters,
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "operator/snapshots",
        }, {
            insta::assert_snapshot!($name, $text);
        })
    }};
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("operator")
}

fn source_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixtures' own cargo target folder, shared so builds stay warm.
fn target_dir() -> PathBuf {
    fixtures_dir().join("target")
}

/// A second target folder for the few tests whose cargo builds a fixture's
/// own crates: cargo names a path crate's build the same whatever folder it
/// lives in, so two fixtures building in one target folder would rebuild each
/// other's libraries in place. These tests take turns (the guard) and share
/// this folder, which keeps the registry crates built once.
pub fn own_build_target() -> (std::sync::MutexGuard<'static, ()>, String) {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let dir = fixtures_dir().join("target-own-build");
    (
        guard,
        dir.to_str().expect("the scratch path is UTF-8").to_string(),
    )
}

/// A copy of this workspace (its course, not its build or state), prepared
/// once: the chapters are built so each fixture's checks take milliseconds.
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = fixtures_dir().join("base");
        let _ = fs::remove_dir_all(&base);
        let src = source_root();
        dialtone_testkit::copy_course(&src, &base).expect("copying the course");
        // Don't snapshot our own snapshots' pending files into fixtures.
        let _ = fs::remove_dir_all(base.join("tests/operator/snapshots"));
        let warm = run_in(&base, &["check", "1"], &[]);
        assert!(
            warm.stdout.contains("Chapter 1"),
            "preparing the base fixture failed:\n{}\n{}",
            warm.stdout,
            warm.stderr
        );
        // Fixtures start with no verdicts: only the built libraries and the
        // starter copies (as a learner who ran the operator once has).
        let _ = fs::remove_file(base.join(".dialtone/progress.toml"));
        let _ = fs::remove_dir_all(base.join(".dialtone/build"));
        base
    })
}

pub struct Fixture {
    pub root: PathBuf,
}

pub struct ChapterFiles {
    pub learner: String,
    pub solution: String,
}

impl Fixture {
    pub fn new(name: &str) -> Fixture {
        let base = base();
        let root = fixtures_dir().join(name);
        let _ = fs::remove_dir_all(&root);
        dialtone_testkit::copy_tree(base, &root).expect("copying the base fixture");
        Fixture { root }
    }

    pub fn write(&self, rel: &str, text: &str) {
        fs::write(self.root.join(rel), text).expect("writing a fixture file");
    }

    pub fn copy(&self, from: &str, to: &str) {
        let text = fs::read(self.root.join(from)).expect("reading a fixture file");
        // Write in place (like an editor's plain save), so watchers see it.
        fs::write(self.root.join(to), text).expect("writing a fixture file");
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).expect("reading a fixture file")
    }

    fn course(&self) -> dialtone_kit::course::Course {
        dialtone_kit::course::Course::parse(&self.read("course.toml"))
            .expect("the fixture's course.toml parses")
    }

    pub fn course_hints(&self, n: u32) -> Vec<String> {
        self.course()
            .chapter(n)
            .expect("chapter exists")
            .hints
            .clone()
    }

    pub fn chapters(&self) -> Vec<ChapterFiles> {
        self.course()
            .chapters
            .iter()
            .map(|c| ChapterFiles {
                learner: c.learner_path().display().to_string(),
                solution: c.solution_path().display().to_string(),
            })
            .collect()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run_in(&self.root, args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_in(&self.root, args, env)
    }

    /// Runs the operator from `cwd` (as a teacher would, from their own
    /// copy) with `--root` naming this fixture.
    pub fn run_from(&self, cwd: &Path, args: &[&str]) -> Run {
        let start = Instant::now();
        let mut cmd = command(&self.root, args, &[]);
        cmd.current_dir(cwd);
        let out = dialtone_kit::child::run_limited(&mut cmd, b"", RUN_LIMIT)
            .unwrap_or_else(|why| panic!("the operator didn't give a verdict: {why}"));
        Run {
            code: out.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }

    /// No pending insta snapshots in the learner's tree, no check process
    /// left running, no scratch folder left behind.
    pub fn assert_clean(&self) {
        let mut pending = Vec::new();
        find_pending(&self.root, &mut pending);
        assert!(pending.is_empty(), "pending snapshots written: {pending:?}");
        let binary = self.root.join(".dialtone/build");
        for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Ok(exe) = fs::read_link(entry.path().join("exe")) {
                assert!(
                    !exe.starts_with(&binary),
                    "a check is still running: {}",
                    exe.display()
                );
            }
        }
    }

    pub fn spawn(&self, args: &[&str]) -> Spawned {
        self.spawn_env(args, &[])
    }

    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> Spawned {
        self.spawn_with(args, env, Stdio::piped())
    }

    /// The operator with its stdin on a terminal (its stdout still read line
    /// by line); the terminal's other end types into it.
    pub fn spawn_on_terminal(&self, args: &[&str]) -> (Spawned, Terminal) {
        let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
        let spawned = self.spawn_with(args, &[], Stdio::from(pty.slave));
        (spawned, Terminal(fs::File::from(pty.master)))
    }

    /// The operator with stdin, stdout and stderr all on a terminal, as a
    /// learner runs it, for at most `limit`: its exit code (`None` if it had
    /// to be killed, e.g. waiting for an answer) and all it wrote.
    pub fn run_on_terminal(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        limit: Duration,
    ) -> (Option<i32>, String) {
        let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
        let slave = fs::File::from(pty.slave);
        let mut cmd = command(&self.root, args, env);
        let io = |f: &fs::File| Stdio::from(f.try_clone().expect("dup the terminal"));
        cmd.stdin(io(&slave)).stdout(io(&slave)).stderr(io(&slave));
        let child = cmd.spawn().expect("the operator starts");
        drop(cmd);
        drop(slave);
        let mut master = fs::File::from(pty.master);
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            // Linux answers EIO once the last terminal user is gone: the end.
            let _ = std::io::Read::read_to_end(&mut master, &mut all);
            String::from_utf8_lossy(&all).into_owned()
        });
        let code = wait_or_kill(child, limit);
        (
            code,
            reader.join().expect("the reader ends with the terminal"),
        )
    }

    fn spawn_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Stdio) -> Spawned {
        let mut cmd = command(&self.root, args, env);
        cmd.stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("the operator starts");
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("stdout was piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Spawned {
            child: Some(child),
            stdin,
            lines: rx,
            seen: String::new(),
        }
    }
}

fn find_pending(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            find_pending(&p, found);
        } else if p.to_string_lossy().ends_with(".snap.new")
            || p.to_string_lossy().ends_with(".pending-snap")
        {
            found.push(p);
        }
    }
}

/// The other end of the operator's terminal: what is written here, the
/// operator reads as typed keys.
pub struct Terminal(pub fs::File);

impl Terminal {
    pub fn press(&mut self, keys: &str) {
        self.0
            .write_all(keys.as_bytes())
            .expect("the terminal takes keys");
    }

    /// Whether the terminal reads by line again (line editing on), as the
    /// operator must leave it.
    pub fn reads_lines(&self) -> bool {
        use nix::sys::termios::{tcgetattr, LocalFlags};
        let t = tcgetattr(&self.0).expect("the terminal's settings");
        t.local_flags
            .contains(LocalFlags::ICANON | LocalFlags::ECHO)
    }
}

/// Waits for `child` at most `limit` (on a thread that owns it, so it is
/// killed by pid only while unreaped); its exit code, `None` if killed.
fn wait_or_kill(child: Child, limit: Duration) -> Option<i32> {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut child = child;
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(limit) {
        Ok(status) => status.expect("waiting for the operator").code(),
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = rx.recv();
            None
        }
    }
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn expect_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Runs the operator with `args` only (no `--root`), from the scratch folder.
pub fn run_elsewhere(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1")
        .env_remove("DIALTONE_ROOT")
        .stdin(Stdio::null())
        .output()
        .expect("the operator runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
    }
}

fn command(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dialtone"));
    // Run inside the copy, as its learner would.
    cmd.current_dir(root)
        .arg("--root")
        .arg(root)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("NO_COLOR", "1")
        .env_remove("DIALTONE_ROOT")
        .env_remove("DIALTONE_SLOW")
        .env_remove("DIALTONE_WATCH")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Generous: the base fixture's first check builds every chapter once.
const RUN_LIMIT: Duration = Duration::from_secs(600);

fn run_in(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let start = Instant::now();
    let out = dialtone_kit::child::run_limited(&mut command(root, args, env), b"", RUN_LIMIT)
        .unwrap_or_else(|why| panic!("the operator didn't give a verdict: {why}"));
    Run {
        code: out.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// A running `dialtone watch`.
pub struct Spawned {
    /// Taken by `finish`, which waits for it on a thread of its own.
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: String,
}

impl Spawned {
    /// Waits (at most 60 s: the first check may build) for a line containing `text`.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(_) => {
                    if let Some(child) = self.child.as_mut() {
                        let _ = child.kill();
                    }
                    panic!("watch never printed {text:?}; it printed:\n{}", self.seen);
                }
            }
        }
    }

    pub fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin was piped");
        stdin
            .write_all(text.as_bytes())
            .expect("watch reads its input");
        stdin.flush().expect("watch reads its input");
    }

    /// Closes stdin and waits (at most 20 s) for the operator to end; returns
    /// what it printed after the last `wait_for`.
    pub fn finish(mut self) -> String {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut rest = String::new();
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            rest.push_str(&line);
            rest.push('\n');
        }
        // The child's output has ended; wait for the child itself on a thread
        // that owns it, so it is killed by pid only while still unreaped.
        let child = self.child.take().expect("finish runs once");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut child = child;
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(status) => {
                let status = status.expect("waiting for watch");
                assert!(
                    status.success(),
                    "watch ended with {status}:\n{}{rest}",
                    self.seen
                );
                rest
            }
            Err(_) => {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                let _ = rx.recv();
                panic!("watch didn't end; it printed:\n{}{rest}", self.seen);
            }
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
