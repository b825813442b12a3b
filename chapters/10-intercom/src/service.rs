//! The intercom for real callers (`--listen [PATH]`): `socat`, `nc -U` and
//! Python ring it; it tells each caller who the kernel says they are, then
//! says back what they say until they hang up.
//!
//! The intercom is put up with the learner's `open_intercom` and each call
//! answered with their `answer_with_caller_id`. The service removes its
//! socket file when it stops: at Ctrl-C (SIGINT), `kill` (SIGTERM) or a
//! closed terminal (SIGHUP), which it waits for on a thread of its own with
//! `sigwait` (no signal handler, so no `unsafe`). SIGKILL can't be caught:
//! after `kill -9` the service itself can do nothing. A watcher process of
//! its own, which outlives it, removes the file once the service's process
//! is gone, SIGKILL or not ([`Tidy::watched`]); were the watcher killed
//! too, the file would stay, and the next `open_intercom` would find it
//! stale (nobody answers) and replace it, which is the chapter's point.

use crate::chapter;
use crate::check::Answer;
use crate::folder::Folder;
use dialtone_kit::scene::{sys, SceneError};
use dialtone_kit::{learner_call, names, party};
use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::socket::UnixCredentials;
use nix::unistd::{read, write};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A caller silent this long is hung up on: one at a time, a silent caller
/// would hold everyone behind them (chapter 8's idle limit).
pub const IDLE: Duration = Duration::from_secs(30);

/// What the service removes when it stops: its socket file, only if it is
/// still the one it bound (the same inode, made at the same moment: someone
/// may have replaced it since), and the private folder it made for a bare
/// `--listen`.
#[derive(Debug)]
pub struct Tidy {
    path: String,
    made: Option<Made>,
    folder: Option<Folder>,
}

/// Which file it is: a removed file's inode number is soon given to the
/// next file made, so the moment it was made goes with it.
type Made = (u64, u64, i64, i64);

fn made(path: &str) -> Option<Made> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.ctime(), m.ctime_nsec()))
}

impl Tidy {
    pub fn now(&mut self) {
        if self.made.is_some() && made(&self.path) == self.made {
            let _ = std::fs::remove_file(&self.path);
        }
        self.made = None;
        // Dropping the folder removes it, and anything left in it.
        self.folder = None;
    }
}

impl Drop for Tidy {
    fn drop(&mut self) {
        self.now();
    }
}

/// Set in the environment of the watcher ([`Tidy::watched`]): the file's
/// identity, as `dev:ino:ctime:nsec`.
pub const WATCHER: &str = "DIALTONE_INTERCOM_WATCHER";
/// The socket file's path, for the watcher.
const WATCHED_PATH: &str = "DIALTONE_INTERCOM_WATCHED_PATH";
/// The private folder of a bare `--listen`, for the watcher.
const WATCHED_FOLDER: &str = "DIALTONE_INTERCOM_WATCHED_FOLDER";

/// The watcher, while the service runs. Its end of the pipe closes when
/// this process ends, however it ends.
pub struct Watcher {
    child: std::process::Child,
}

impl Watcher {
    /// Closes the pipe, as this process's end would, and waits for the
    /// watcher to finish its tidying.
    pub fn finish(mut self) -> std::io::Result<std::process::ExitStatus> {
        drop(self.child.stdin.take());
        self.child.wait()
    }
}

/// The integrity suite's test that plays the watcher when its binary is
/// started as one (as [`crate::caller::TEST_NAME`] plays the caller).
pub const WATCHER_TEST: &str = "ch10::the_watchers_role";

impl Tidy {
    /// Starts a watcher: this program again, in a process group of its own
    /// (so a `kill` of the service's group, or a SIGKILL of the service, is
    /// not for it), waiting for end of file on a pipe from the service.
    /// That comes when the service's process ends, even by SIGKILL, which
    /// no handler sees; the watcher then removes the socket file if it is
    /// still the one the service bound, and the folder of a bare
    /// `--listen`, and exits.
    pub fn watched(&self) -> std::io::Result<Watcher> {
        use std::os::unix::process::CommandExt;
        use std::process::{Command, Stdio};
        let Some((dev, ino, secs, nanos)) = self.made else {
            return Err(std::io::ErrorKind::NotFound.into());
        };
        let mut watcher = Command::new(std::env::current_exe()?);
        watcher
            // For a test binary: run only the watcher's test. A chapter
            // binary never reads them: it watches before it parses.
            .args([WATCHER_TEST, "--exact", "--nocapture", "--quiet"])
            .env(WATCHER, format!("{dev}:{ino}:{secs}:{nanos}"))
            .env(WATCHED_PATH, &self.path)
            .env_remove(dialtone_kit::host::ROLE)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(folder) = &self.folder {
            watcher.env(WATCHED_FOLDER, folder.path());
        }
        Ok(Watcher {
            child: watcher.spawn()?,
        })
    }
}

/// If this process was started as a watcher: wait for the service to end,
/// tidy up after it, and exit. Otherwise return at once.
pub fn watch_if_asked() {
    use std::io::Read;
    let Some(identity) = std::env::var_os(WATCHER) else {
        return;
    };
    let numbers: Vec<i64> = identity
        .to_string_lossy()
        .split(':')
        .filter_map(|n| n.parse().ok())
        .collect();
    // Nothing is ever written: read() returns 0 when the service is gone.
    let mut nothing = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut nothing);
    if let (Some(path), [dev, ino, secs, nanos]) = (std::env::var_os(WATCHED_PATH), &numbers[..]) {
        let mut tidy = Tidy {
            path: path.to_string_lossy().into_owned(),
            made: Some((*dev as u64, *ino as u64, *secs, *nanos)),
            folder: None,
        };
        tidy.now();
    }
    // Only a folder this chapter made ([`Folder::new`]'s name), and only
    // once its socket file is gone (it may be empty, or hold strays).
    if let Some(folder) = std::env::var_os(WATCHED_FOLDER).map(std::path::PathBuf::from) {
        let ours = folder
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("dialtone-intercom-"));
        if ours {
            let _ = std::fs::remove_dir_all(&folder);
        }
    }
    std::process::exit(0)
}

/// The path a bare `--listen` uses: `intercom` in a fresh private folder.
pub fn default_place() -> Result<(Folder, String), SceneError> {
    let folder = Folder::new().map_err(|e| {
        SceneError::Unexpected(format!(
            "could not make a private folder under {} ({e}): set TMPDIR to a folder you may write in, or give --listen a PATH.",
            std::env::temp_dir().display()
        ))
    })?;
    let path = folder.name("intercom");
    Ok((folder, path))
}

/// Puts the intercom up at `path` with the learner's `open_intercom`; the
/// returned [`Tidy`] removes what it made.
pub fn open(
    answer: &Answer,
    path: &str,
    folder: Option<Folder>,
) -> Result<(OwnedFd, Tidy), SceneError> {
    let given = path.to_string();
    let intercom = learner_call!(chapter(), answer.open_intercom(&given))?.map_err(|errno| {
        sys(
            format!("open_intercom({path})"),
            refusal_advice(errno, path),
        )(errno)
    })?;
    let made = made(path);
    Ok((
        intercom,
        Tidy {
            path: path.to_string(),
            made,
            folder,
        },
    ))
}

/// What to do when `open_intercom` refuses a path.
pub fn refusal_advice(errno: Errno, path: &str) -> String {
    match errno {
        Errno::EADDRINUSE => format!("A running server answers at {path}: stop it, or give --listen another PATH."),
        Errno::ENAMETOOLONG => format!(
            "The path is {} bytes; sun_path holds {} with C's closing NUL: use a shorter PATH (or --listen alone).",
            path.len(),
            crate::check::SUN_PATH
        ),
        Errno::ENOENT => "The folder for the PATH doesn't exist: make it first, or use --listen alone.".into(),
        Errno::EACCES => "You may not write in that folder: pick a PATH in one you own, or use --listen alone.".into(),
        _ => "Try --listen alone: a fresh private folder always works.".into(),
    }
}

/// From now on SIGINT, SIGTERM and SIGHUP wait for one thread, which runs
/// `tidy` and exits. Call before any other thread starts (threads inherit
/// the blocked set, so the signal can only reach the waiting thread).
pub fn tidy_on_signals(tidy: Arc<Mutex<Tidy>>) -> Result<(), SceneError> {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(signal);
    }
    set.thread_block()
        .map_err(sys("sigprocmask", "Signals can't be blocked here."))?;
    std::thread::spawn(move || {
        let signal = set.wait();
        tidy.lock().unwrap_or_else(|p| p.into_inner()).now();
        let said = signal.map_or("a signal".into(), |s| format!("{s:?}"));
        let _ = writeln!(
            std::io::stderr(),
            "{said}: the intercom is off the wall and its socket file removed."
        );
        std::process::exit(0)
    });
    Ok(())
}

/// Answers `calls` callers, one at a time, logging each on `log`.
pub fn serve(
    answer: &Answer,
    intercom: OwnedFd,
    calls: usize,
    mut log: impl FnMut(String),
) -> Result<(), SceneError> {
    let intercom = Arc::new(intercom);
    for number in 1..=calls {
        let answer = *answer;
        let on_the_wall = Arc::clone(&intercom);
        // Waiting for a caller is waiting on a person: no limit but Ctrl-C.
        let forever = Duration::from_secs(100 * 365 * 24 * 60 * 60);
        let (line, id) = learner_call!(
            chapter(),
            answer.answer_with_caller_id,
            move |f| f(&on_the_wall),
            within = forever
        )?
        .map_err(sys(
            "answer_with_caller_id()",
            "`cargo test -p ch10-intercom` says why.",
        ))?;
        log(match talk(&line, &id) {
            Ok(n) => format!(
                "call {number}: {}; echoed {n} bytes; the caller hung up",
                who(&id)
            ),
            Err(e) => format!(
                "call {number}: {}; ended with {}",
                who(&id),
                names::errno(e)
            ),
        });
    }
    Ok(())
}

/// The greeting a caller hears first.
pub fn greeting(id: &UnixCredentials) -> String {
    format!(
        "Intercom: the kernel says you are {}. Say anything; I'll say it back.\n",
        who(id)
    )
}

fn who(id: &UnixCredentials) -> String {
    format!("pid {}, uid {}, gid {}", id.pid(), id.uid(), id.gid())
}

/// Greets, then echoes until end of file (or the idle limit).
fn talk(line: &OwnedFd, id: &UnixCredentials) -> nix::Result<u64> {
    party::be_patient(line, IDLE)?;
    dialtone_kit::wire::say_all(line, greeting(id).as_bytes())?;
    let mut chunk = [0u8; 4096];
    let mut echoed = 0;
    loop {
        let n = match read(line, &mut chunk) {
            Ok(0) => return Ok(echoed),
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        };
        let mut left = &chunk[..n];
        while !left.is_empty() {
            left = &left[write(line, left)?..];
        }
        echoed += n as u64;
    }
}

/// The commands that call the intercom at `path`: socat, nc and Python.
pub fn try_it(path: &str) -> Vec<String> {
    vec![
        format!("socat - UNIX-CONNECT:{path}"),
        format!("nc -U -N {path}"),
        format!(
            "python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('{path}'); \
             s.sendall(b'hello\\n'); s.shutdown(socket.SHUT_WR); \
             print(b''.join(iter(lambda: s.recv(4096), b'')).decode(), end='')\""
        ),
    ]
}
