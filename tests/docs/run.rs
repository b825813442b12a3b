//! Running a page's command the way a reader's shell would (`bash -c`),
//! each in a process group of its own, so that everything it starts can be
//! ended with it: at its time limit, at the end of its block, or when the
//! test fails.

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Which stream a piece of output came on.
#[derive(Clone, Copy, PartialEq)]
pub enum Stream {
    Out,
    Err,
}

/// A running command.
pub struct Running {
    child: Child,
    group: Pid,
    chunks: Receiver<(Stream, Vec<u8>)>,
    pub stdout: Vec<u8>,
    pub both: Vec<u8>,
    status: Option<ExitStatus>,
}

/// Starts `line` with `bash -c` in `dir` with `env`, stdin empty.
pub fn start(line: &str, dir: &Path, env: &[(String, String)]) -> Result<Running, String> {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(line)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: one killpg ends bash, cargo and the program cargo ran.
        .process_group(0);
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "DIALTONE_ROOT",
        "RUST_BACKTRACE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| format!("can't start bash: {e}"))?;
    let group = Pid::from_raw(i32::try_from(child.id()).expect("pids fit in an i32"));
    let (tx, chunks) = mpsc::channel();
    let pipes: [(Stream, Box<dyn Read + Send>); 2] = [
        (Stream::Out, Box::new(child.stdout.take().expect("piped"))),
        (Stream::Err, Box::new(child.stderr.take().expect("piped"))),
    ];
    for (stream, mut pipe) in pipes {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends at end of file: when every process holding the pipe is gone.
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 || tx.send((stream, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
    }
    Ok(Running {
        child,
        group,
        chunks,
        stdout: Vec::new(),
        both: Vec::new(),
        status: None,
    })
}

impl Running {
    /// Takes whatever output has arrived, waiting at most `within` for some.
    /// False once both pipes are closed.
    fn take(&mut self, within: Duration) -> bool {
        match self.chunks.recv_timeout(within) {
            Ok((stream, bytes)) => {
                if stream == Stream::Out {
                    self.stdout.extend_from_slice(&bytes);
                }
                self.both.extend_from_slice(&bytes);
                true
            }
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    /// Waits (at most `limit`) until `found` says yes about the output so
    /// far; false if the command closed its output or the time ran out.
    pub fn wait_for(&mut self, limit: Duration, found: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if found(&String::from_utf8_lossy(&self.both)) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.take(left) {
                return found(&String::from_utf8_lossy(&self.both));
            }
        }
    }

    /// Waits (at most `limit`) for the command to end and its output to
    /// close; then ends its whole group. `None` if the time ran out.
    pub fn finish(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        // Output closes when bash and everything it started have exited
        // (or closed their output): the reader threads see end of file.
        let closed = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            if !self.take(left) {
                break true;
            }
        };
        // Whatever the command left running goes now; bash itself is reaped.
        self.end();
        self.status.filter(|_| closed)
    }

    /// Ends the whole group (politely, then not) and reaps bash.
    pub fn end(&mut self) {
        if self.status.is_some() {
            return;
        }
        let _ = killpg(self.group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut exited = None;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                break;
            }
            // Drain output meanwhile, so nothing blocks on a full pipe.
            self.take(Duration::from_millis(20));
        }
        let _ = killpg(self.group, Signal::SIGKILL);
        let status = match exited {
            Some(s) => s,
            None => self.child.wait().expect("bash is our child"),
        };
        // The rest of the output, now that its writers are gone.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && self.take(Duration::from_millis(100)) {}
        self.status = Some(status);
    }

    /// The combined output, as text.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.both).into_owned()
    }

    /// Standard output alone, as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Even when the test fails half-way: nothing outlives it.
        self.end();
    }
}
