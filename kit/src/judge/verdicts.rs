//! The judge's own verdicts: what the learner's process did to itself.
//! Each names the call it happened in, in telephone and in syscall words.

use super::processes::Process;
use super::Calls;
use crate::check::Failure;
use crate::course::Chapter;
use crate::host;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

pub struct Evidence<'a> {
    pub chapter: &'static Chapter,
    pub calls: &'a Calls,
    /// What the learner's process printed (stdout, then stderr).
    pub output: &'a str,
    pub limit: Duration,
}

impl Evidence<'_> {
    /// "in install_phone()", "after dial() returned", "before any call".
    fn when(&self) -> String {
        if let Some(name) = self.calls.cut.as_ref().or(self.calls.running.first()) {
            format!("inside {name}()")
        } else if let Some(name) = &self.calls.last {
            format!("after {name}() had returned")
        } else {
            "before any of your functions was called".to_string()
        }
    }

    fn file(&self) -> String {
        self.chapter.learner_path().display().to_string()
    }
}

pub fn no_host(e: &std::io::Error) -> Failure {
    Failure::new(
        "judge.no-host",
        "the self-check could not start the program that runs your code",
    )
    .expected("a program of its own for your functions")
    .got(format!("starting it failed: {e}"))
    .phone("the exchange could not put a line through to your phone: this is not your code.")
    .syscall("fork/exec of the chapter's program failed; run `cargo build` and try again.")
}

pub fn overtime(ev: &Evidence) -> Failure {
    let secs = ev.limit.as_secs_f32();
    Failure::new(
        "judge.overtime",
        format!("the self-check was still waiting on your code after {secs} s"),
    )
    .expected(format!("the whole check over within {secs} s"))
    .got(format!(
        "your program was still busy {}, so the check stopped it (SIGKILL)",
        ev.when()
    ))
    .phone("the line stayed busy long after every call should have ended.")
    .syscall(
        "something blocks (accept, read, connect) or loops without end; every call should return.",
    )
}

/// The host ended on its own: an exit, a signal, or memory running out.
pub fn ended(ev: &Evidence, status: ExitStatus) -> Failure {
    let when = ev.when();
    if let Some(line) = ev
        .output
        .lines()
        .find(|l| l.starts_with("memory allocation of"))
    {
        return memory(ev, line, &when);
    }
    if ev
        .output
        .contains("IO Safety violation: owned file descriptor already closed")
    {
        // The standard library aborts when the descriptor an OwnedFd owns
        // turns out to be closed already: someone closed a number that
        // wasn't theirs (here, one of the check's own lines).
        return cut_by(
            ev,
            format!(
                "the program aborted {when}: a descriptor it owned had been closed by a close() that wasn't its owner's"
            ),
        );
    }
    if let Some(code) = status.code() {
        return Failure::new(
            "judge.exited",
            format!("your program ended itself (exit status {code}) {when}"),
        )
        .expected("each function to return its answer to the caller")
        .got(format!(
            "the process exited with status {code} {when}, so the check never heard an answer"
        ))
        .phone("you hung up the whole exchange, not just your phone: nobody was left to hear the answer.")
        .syscall(format!(
            "std::process::exit() (exit_group) ends every thread at once; return Ok(..) or Err(..) from your function in {} instead.",
            ev.file()
        ));
    }
    let signal = status.signal().unwrap_or(0);
    let name = nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"));
    let cause = if ev.output.contains("has overflowed its stack") {
        "its stack overflowed: a function that calls itself without end"
    } else if signal == nix::sys::signal::Signal::SIGABRT as i32 {
        "it aborted (std::process::abort(), or a panic while panicking)"
    } else {
        "a signal ended it"
    };
    Failure::new(
        "judge.killed",
        format!("your program was killed by {name} {when}"),
    )
    .expected("each function to return its answer to the caller")
    .got(format!("{name} {when}: {cause}"))
    .phone("the phone was ripped off the wall mid-call: nobody was left to hear the answer.")
    .syscall(format!(
        "the process died by {name}; a kill(), abort() or runaway recursion in {} ends the program, not just the call.",
        ev.file()
    ))
}

fn memory(ev: &Evidence, line: &str, when: &str) -> Failure {
    let mib = host::MEMORY >> 20;
    Failure::new(
        "judge.memory",
        format!("your program ran out of memory {when}"),
    )
    .expected(format!(
        "what a phone call needs: a few kilobytes, far below the {mib} MiB a check allows"
    ))
    .got(format!("\"{}\", then the program aborted", line.trim()))
    .phone("the line is jammed with more than any call could say: something keeps growing.")
    .syscall(format!(
        "the address-space limit (RLIMIT_AS, {mib} MiB) refused more memory; look in {} for a Vec or String filled in a loop that never ends.",
        ev.file()
    ))
}

/// A call ran out of time while the learner's process was at the memory
/// limit: the hog had not died of it yet (a loaded machine fills memory
/// slowly), but the evidence is the same.
pub fn still_growing(ev: &Evidence, peak: u64) -> Failure {
    let mib = host::MEMORY >> 20;
    Failure::new(
        "judge.memory",
        format!("your program ran out of memory {}", ev.when()),
    )
    .expected(format!(
        "what a phone call needs: a few kilobytes, far below the {mib} MiB a check allows"
    ))
    .got(format!(
        "{} MiB of memory in use (RLIMIT_AS allows {mib} MiB), and still busy when the call's time ran out",
        peak >> 20
    ))
    .phone("the line is jammed with more than any call could say: something keeps growing.")
    .syscall(format!(
        "the address-space limit (RLIMIT_AS, {mib} MiB) stops a program that keeps asking for memory; look in {} for a Vec or String filled in a loop that never ends.",
        ev.file()
    ))
}

/// The host is alive, but a call's line went dead or spoke nonsense.
pub fn cut(ev: &Evidence) -> Failure {
    let when = ev.when();
    cut_by(
        ev,
        format!("the check's own connection to your program was closed or written to {when}"),
    )
}

fn cut_by(ev: &Evidence, got: String) -> Failure {
    let when = ev.when();
    Failure::new(
        "judge.line-cut",
        format!("the line to your program went dead {when}"),
    )
    .expected("your functions to use only the descriptors they are given or create")
    .got(got)
    .phone("you cut a wire in the exchange that wasn't yours.")
    .syscall(
        "close() or write() on a descriptor number your code didn't get from socket(), accept() \
         or its arguments hits someone else's file.",
    )
}

pub fn stray(ev: &Evidence, first: &Process, count: usize) -> Failure {
    let others = match count {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Failure::new(
        "judge.stray-process",
        format!(
            "your code left a program running after it returned: {}",
            first.name
        ),
    )
    .expected("no program of yours still running once your functions have returned")
    .got(format!(
        "`{}` (pid {}){others} still running {}; the check stopped it (SIGKILL)",
        first.name,
        first.pid,
        ev.when()
    ))
    .phone("someone is still on the line after you hung up: send home every helper you call in.")
    .syscall(
        "a child from Command::spawn() or fork() outlives your function unless you wait() for it \
         (Child::wait) or kill it first; a new process group doesn't hide it.",
    )
}

/// The learner's code started more processes than a check allows (a fork
/// in a loop, a process per caller never waited for): `counted` processes
/// seen by the judge's own count, or `refused` forks the kernel turned down
/// at the pids cgroup's limit.
pub fn too_many(ev: &Evidence, counted: usize, refused: u64) -> Failure {
    let max = super::processes::MAX_PROCESSES;
    let tasks = super::processes::MAX_TASKS;
    let got = if refused > 0 {
        format!(
            "the kernel refused {refused} fork() or thread start(s) {}: your program and its children reached the {tasks} tasks (processes and threads) a check allows",
            ev.when()
        )
    } else {
        format!(
            "{counted} processes of yours running at once {}, past the {max} a check allows; the check stopped them all (SIGKILL)",
            ev.when()
        )
    };
    Failure::new(
        "judge.too-many-processes",
        format!("your code started too many processes {}", ev.when()),
    )
    .expected("no new process at all (or a few, each waited for)")
    .got(got)
    .phone("you kept calling in more and more helpers until the exchange had no lines left.")
    .syscall(format!(
        "fork() or Command::spawn() in a loop (or a thread per try) in {}: nothing in this course needs a process of its own.",
        ev.file()
    ))
}
