//! Running another program under a time limit: the one way the test suites
//! start a chapter binary, `nc`, `socat` or `python3`, so none of them can
//! hang a run or leave a process behind.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// What a program that finished in time left behind.
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

/// Runs `command` with `input` on its stdin (then closed), collecting stdout
/// and stderr. After `limit` it is killed (SIGKILL) and reaped, and the error
/// says so. No polling: one thread owns the child and waits for it, so its
/// pid can't be reused before the kill lands.
pub fn run_limited(command: &mut Command, input: &[u8], limit: Duration) -> Result<Ran, String> {
    let what = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pids fit in an i32"));
    // Fed on a thread of its own, so a child that doesn't read its input
    // (or reads it slowly while writing) can't stall us on a full pipe.
    let mut stdin = child.stdin.take().expect("stdin was piped just above");
    let input = input.to_vec();
    let feeding = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let finished = match rx.recv_timeout(limit) {
        Ok(output) => output,
        Err(_) => {
            // Unreaped until the waiting thread returns, so the pid is still ours.
            let _ = kill(pid, Signal::SIGKILL);
            let _ = rx.recv();
            let _ = feeding.join();
            return Err(format!("{what} did not finish within {limit:?}"));
        }
    };
    let _ = feeding.join();
    let out = finished.map_err(|e| format!("waiting for {what}: {e}"))?;
    Ok(Ran {
        status: out.status,
        stdout: out.stdout,
        stderr: out.stderr,
    })
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
}
