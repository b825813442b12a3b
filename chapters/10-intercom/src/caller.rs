//! A caller in a process of its own, running as another user when it can:
//! the caller whose ID (`SO_PEERCRED`) the self-check and the scene read,
//! and who is turned away by a socket file's permissions.
//!
//! The uid a Unix socket reports is the one the *calling process* had when
//! it called `connect()`, so the caller must be another process: a thread
//! can't have a uid of its own. It is this same program started again with
//! [`ROLE`] set (a chapter binary, the operator's check program, or the
//! integrity suite's test binary, which runs only [`TEST_NAME`]), and with
//! `uid()`/`gid()` from `CommandExt` set to `nobody` (65534) when we are
//! root. Root may call any socket whatever its permissions, so a root caller
//! would prove nothing; a normal user can't start a process as someone else,
//! so for them the caller is themselves, and the scene and the check say so.

use nix::errno::Errno;
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set (to the path to dial) in the environment of the caller's process.
pub const ROLE: &str = "DIALTONE_INTERCOM_CALLER";
/// The integrity suite's test that plays the caller when its binary is
/// started with [`ROLE`] (libtest runs only the test named on its command
/// line). A chapter binary ignores these arguments: it acts before it reads
/// any.
pub const TEST_NAME: &str = "ch10::the_callers_role";
/// Whom the caller runs as when we are root: `nobody`/`nogroup`.
pub const STRANGER: u32 = 65534;
/// The caller hangs up by itself after this long, if nobody hangs up first.
const STAY_ON_THE_LINE: Duration = Duration::from_secs(5);
/// What starts each line the caller reports on stdout.
const MARK: &str = "intercom-caller: ";

/// If this process was started as the caller: dial, report, wait for the
/// other side to hang up, and exit. Otherwise return at once. Call first
/// thing in `main`.
pub fn act_if_asked() {
    let Some(path) = std::env::var_os(ROLE) else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    let report = match dial(&path) {
        Ok(line) => {
            say(&format!("connected {}", std::process::id()));
            // Stay on the line until the other side hangs up (read() = 0)
            // or the limit passes; whatever we hear is not our business.
            let _ = dialtone_kit::party::be_patient(&line, STAY_ON_THE_LINE);
            let mut buf = [0u8; 256];
            while let Ok(1..) = nix::unistd::read(&line, &mut buf) {}
            0
        }
        Err(e) => {
            say(&format!("refused {e:?}"));
            1
        }
    };
    std::process::exit(report)
}

fn dial(path: &str) -> nix::Result<std::os::fd::OwnedFd> {
    let name = match path.strip_prefix('@') {
        Some(abstract_name) => UnixAddr::new_abstract(abstract_name.as_bytes())?,
        None => UnixAddr::new(path)?,
    };
    let phone = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )?;
    connect(phone.as_raw_fd(), &name)?;
    Ok(phone)
}

fn say(line: &str) {
    // Straight to the descriptor, not print!: a test binary captures print!.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{MARK}{line}").and_then(|()| out.flush());
}

/// The uid this process runs as (the owner of `/proc/self`).
pub fn my_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// A caller's process, killed and reaped when dropped.
pub struct Caller {
    child: Child,
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    lines: mpsc::Receiver<String>,
}

/// How a caller's call went: through (their pid), or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Connected(u32),
    Refused(Errno),
    /// Nothing reported within the limit (or the caller couldn't start).
    Silent,
}

impl Caller {
    /// Starts a caller who dials `path` (`@name` for an abstract name):
    /// as `nobody` if we are root, else as ourselves.
    pub fn dial(path: &str) -> std::io::Result<Caller> {
        Caller::dial_as(path, my_uid() == 0)
    }

    /// Like [`Caller::dial`], as `nobody` only if `stranger` (and we are
    /// root): as ourselves otherwise.
    pub fn dial_as(path: &str, stranger: bool) -> std::io::Result<Caller> {
        let root = stranger && my_uid() == 0;
        let (exe, args) = program()?;
        // `nobody` must be able to reach the program: a course checked out
        // under a private folder (`mktemp -d` makes one 0700) isn't, so the
        // stranger runs it through a link in a world-readable scratch folder,
        // removed as soon as the program has started.
        let reachable = if root {
            Reachable::new(&exe).ok()
        } else {
            None
        };
        let exe = reachable.as_ref().map_or(exe, |r| r.path.clone());
        let mut command = Command::new(exe);
        command
            .args(args)
            .env(ROLE, path)
            .env_remove(dialtone_kit::host::ROLE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // A group of its own: Ctrl-C at the terminal is for us, and we
            // end the caller ourselves.
            .process_group(0);
        let (uid, gid) = if root {
            command.uid(STRANGER).gid(STRANGER);
            (STRANGER, STRANGER)
        } else {
            use std::os::unix::fs::MetadataExt;
            let me = std::fs::metadata("/proc/self")?;
            (me.uid(), me.gid())
        };
        // spawn() returns once the program is running (exec has happened),
        // so the link can go now.
        let spawned = command.spawn();
        drop(reachable);
        let mut child = spawned?;
        let pid = child.id();
        let out = child.stdout.take().expect("stdout was piped above");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(report) = line.strip_prefix(MARK) {
                    let _ = tx.send(report.to_string());
                }
            }
            // End of file: the process is gone (or closed its stdout). An
            // empty report says so at once, rather than at the time limit.
            let _ = tx.send(String::new());
        });
        Ok(Caller {
            child,
            pid,
            uid,
            gid,
            lines,
        })
    }

    /// Did the caller's process end without a word? (`nobody` may be
    /// unable to run this program at all: a program linked to a standard
    /// library under /root, like the operator's check program, exits 127
    /// before `main`.)
    pub fn gave_up(&mut self) -> bool {
        // Its stdout closed as it ended; being reaped may take a moment more.
        let deadline = std::time::Instant::now() + Duration::from_millis(500);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return true,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return false,
            }
        }
    }

    /// Does this caller run as another user than we do?
    pub fn is_a_stranger(&self) -> bool {
        self.uid != my_uid()
    }

    /// What the caller reports within `within`.
    pub fn outcome(&self, within: Duration) -> Outcome {
        match self.lines.recv_timeout(within) {
            Ok(line) => match line.split_once(' ') {
                Some(("connected", pid)) => Outcome::Connected(pid.parse().unwrap_or(0)),
                Some(("refused", name)) => Outcome::Refused(errno_named(name)),
                _ => Outcome::Silent,
            },
            Err(_) => Outcome::Silent,
        }
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A link to a program in a scratch folder anyone may enter; both go when
/// this is dropped.
struct Reachable {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl Reachable {
    fn new(exe: &std::path::Path) -> std::io::Result<Reachable> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = crate::folder::reachable_temp_dir()
            .join(format!("dialtone-caller-{}-{n}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o755).create(&dir)?;
        let path = dir.join("caller");
        let made = std::fs::hard_link(exe, &path).or_else(|_| {
            // Another filesystem: a copy, readable and runnable by anyone.
            std::fs::copy(exe, &path)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        });
        let reachable = Reachable { dir, path };
        made.map(|()| reachable)
    }
}

impl Drop for Reachable {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The program to start as the caller, and its arguments: the learner's
/// program the judge is running, or this very program.
fn program() -> std::io::Result<(std::path::PathBuf, Vec<&'static str>)> {
    if let Some((_, exe)) = dialtone_kit::judge::host_program() {
        return Ok((exe, vec![]));
    }
    let exe = std::env::current_exe()?;
    Ok((exe, vec![TEST_NAME, "--exact", "--nocapture", "--quiet"]))
}

/// The errno whose `Debug` name is `name` (what [`act_if_asked`] reports).
fn errno_named(name: &str) -> Errno {
    [
        Errno::EACCES,
        Errno::ECONNREFUSED,
        Errno::ENOENT,
        Errno::EPROTOTYPE,
        Errno::EPERM,
        Errno::ENAMETOOLONG,
        Errno::EAGAIN,
    ]
    .into_iter()
    .find(|e| format!("{e:?}") == name)
    .unwrap_or(Errno::UnknownErrno)
}
