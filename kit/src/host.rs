//! The host: the process that runs the learner's functions for a judge.
//!
//! A chapter binary (and the operator's per-edit driver) becomes a host when
//! the judge starts it with [`ROLE`] set: before any learner code runs it
//! puts limits on itself (memory, descriptors, no core dumps), then serves
//! calls until the judge hangs up. Each call comes on a line of its own,
//! runs on a thread of its own (so a check can dial while `accept` waits),
//! and a panic or `todo!()` goes back as its message, never as a backtrace.

use crate::rpc::{self, Broken, Caller, In, Out};
use nix::sys::resource::{setrlimit, Resource};
use std::any::Any;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

/// The environment variable that makes a binary a host. Hidden: learners
/// never type it; the judge sets it on the one process it starts.
pub const ROLE: &str = "DIALTONE_HOST";

/// Address space the learner's process may use. Room for the code, the
/// standard library, a thread stack per call and two malloc arenas (chapter
/// 8's reference answer peaks at about 135 MiB), far below what would hurt
/// the machine; small enough that a memory hog reaches it (and stops with
/// "memory allocation ... failed") well within a chapter's timeout.
pub const MEMORY: u64 = 256 << 20;
/// Descriptors the learner's process may hold at once.
pub const DESCRIPTORS: u64 = 256;

/// The host's table: runs the task `name` with the arguments in `inp` and
/// returns the reply, or `None` for a name it doesn't know.
pub type Dispatch<A> = fn(&A, &str, &mut In, &Caller) -> Option<Result<Out, Broken>>;

/// If this process was started as a host, serves the judge and exits;
/// otherwise returns at once. Call first thing in `main`.
pub fn serve_if_asked<A: Copy + Send + 'static>(answer: A, dispatch: Dispatch<A>) {
    if std::env::var_os(ROLE).is_none() {
        return;
    }
    // Not passed on: a program the learner starts is not a host.
    std::env::remove_var(ROLE);
    let control = match take_control_line() {
        Ok(line) => line,
        Err(e) => {
            eprintln!("this program serves a self-check and needs one to talk to ({e})");
            std::process::exit(2);
        }
    };
    limit_myself();
    quiet_panics();
    serve(&control, answer, dispatch);
    // The judge hung up: its verdict is written.
    std::process::exit(0)
}

/// The judge's line arrives as stdin (a safe way to inherit a socket). It is
/// moved to a close-on-exec descriptor and stdin becomes /dev/null, so the
/// learner's code reads nothing from it and its children don't inherit it.
fn take_control_line() -> std::io::Result<OwnedFd> {
    let stdin = std::io::stdin();
    let line = stdin.as_fd().try_clone_to_owned()?;
    nix::sys::socket::getsockname::<nix::sys::socket::UnixAddr>(std::os::fd::AsRawFd::as_raw_fd(
        &line,
    ))
    .map_err(|_| std::io::Error::other("stdin is not the judge's line"))?;
    let null = std::fs::File::open("/dev/null")?;
    nix::unistd::dup2_stdin(&null)?;
    Ok(line)
}

/// The limits sit on the learner's process, set before its first call.
fn limit_myself() {
    // Each may fail only if a lower hard limit is already set: keep that one.
    let _ = setrlimit(Resource::RLIMIT_AS, MEMORY, MEMORY);
    let _ = setrlimit(Resource::RLIMIT_NOFILE, DESCRIPTORS, DESCRIPTORS);
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    // If the judge itself is killed, the host goes too.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    // Writes only to scratch space (see sandbox.rs). Where the kernel has no
    // Landlock the other limits still hold; the teachers' page says so.
    let _ = crate::sandbox::confine_writes();
}

fn serve<A: Copy + Send + 'static>(control: &OwnedFd, answer: A, dispatch: Dispatch<A>) {
    while let Ok(Some((rpc::LINE, mut inp))) = rpc::recv(control) {
        let Ok(line) = inp.fd() else { return };
        let spawned = thread::Builder::new()
            .name("learner:host".into())
            .spawn(move || one_call(Arc::new(line), answer, dispatch));
        if spawned.is_err() {
            // Out of threads or memory: the judge sees this call's line
            // close and says so.
            continue;
        }
    }
}

fn one_call<A>(line: Arc<OwnedFd>, answer: A, dispatch: Dispatch<A>) {
    let Ok(Some((rpc::CALL, mut inp))) = rpc::recv(&*line) else {
        return;
    };
    let Ok(name) = inp.text() else { return };
    let caller = Caller(line.clone());
    let ran = panic::catch_unwind(AssertUnwindSafe(|| {
        dispatch(&answer, &name, &mut inp, &caller)
    }));
    let (kind, out) = match ran {
        Ok(Some(Ok(out))) => (rpc::REPLY, out),
        Ok(Some(Err(Broken(what)))) => (rpc::PANIC, text(format!("bad call: {what}"))),
        Ok(None) => (rpc::PANIC, text(format!("no task named {name}"))),
        Err(payload) => (rpc::PANIC, text(message(payload.as_ref()))),
    };
    // What the learner's code printed without a newline is still in std's
    // buffer; the host is killed at the verdict, which would lose it.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let _ = rpc::send(&*line, kind, out);
}

fn text(s: String) -> Out {
    let mut out = Out::new();
    out.bytes(s.as_bytes());
    out
}

/// A panic's message, as `std` would print it.
pub fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_string())
}

/// Panics in the host are reported to the judge, which words them; a
/// backtrace on the host's stderr would only be noise in the verdict.
fn quiet_panics() {
    panic::set_hook(Box::new(|_| {}));
}
