//! The scene of chapter 10, narrated line by line; or, with `--listen`, the
//! intercom for real callers ([`crate::service`]).
//!
//! Everything happens in a fresh private folder, written `$DIR` in the
//! transcript (its real name differs from run to run), removed with every
//! socket file in it when the scene ends. In order: a crashed server's
//! stale file, the learner's `open_intercom` replacing it, a second server
//! turned away, what a blind `rm` does to a running one, the file's
//! permissions and the caller ID of a caller in another process, the
//! learner's `close_intercom`, then three things with no file at all: the
//! abstract namespace, `socketpair` and `SOCK_SEQPACKET`.

use crate::caller::{Caller, Outcome};
use crate::check::{Answer, SUN_PATH};
use crate::folder::Folder;
use crate::{chapter, service};
use dialtone_kit::learner_call;
use dialtone_kit::party::{self, Kind};
use dialtone_kit::patience::{PEER_REPLY, SCENE_SETTLES};
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{kernel, names};
use nix::errno::Errno;
use nix::sys::socket::{
    accept, bind, connect, getsockopt, listen, recv, socketpair, sockopt, AddressFamily, Backlog,
    MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::unistd::write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

const STREAM: Kind = Kind::new(AddressFamily::Unix, SockType::Stream);

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    match parse(args)? {
        None => scene(s, answer),
        Some(path) => listen_for_real(s, answer, path),
    }
}

/// The arguments: none for the scene; `--listen` alone (a fresh private
/// folder) or `--listen PATH` for real callers.
pub fn parse(args: &[String]) -> Result<Option<Option<String>>, SceneError> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Err(SceneError::Help(help()));
    }
    let args: Vec<&String> = args
        .iter()
        .filter(|a| *a != dialtone_kit::args::HOLD)
        .collect();
    let usage = |why: String| {
        SceneError::Usage(format!(
            "{why}: chapter 10 takes no arguments for the scene, or --listen [PATH] for real callers. \
             Usage: cargo run -p {} [-- --listen [PATH]] (--help says more).",
            chapter().crate_name()
        ))
    };
    match args.as_slice() {
        [] => Ok(None),
        [flag] if *flag == LISTEN => Ok(Some(None)),
        [flag, path] if *flag == LISTEN && !path.starts_with('-') => {
            Ok(Some(Some(path.to_string())))
        }
        [flag, _, extra, ..] if *flag == LISTEN => Err(usage(format!(
            "unexpected argument {}",
            dialtone_kit::args::quoted(extra)
        ))),
        [other, ..] => Err(usage(format!(
            "unexpected argument {}",
            dialtone_kit::args::quoted(other)
        ))),
    }
}

/// The one flag: put the intercom up for real callers.
pub const LISTEN: &str = "--listen";

/// `--help`: the kit's text for every binary, with this chapter's flag.
fn help() -> String {
    let run = format!("cargo run -p {}", chapter().crate_name());
    let text = dialtone_kit::args::help(chapter(), None);
    let mut listen = format!(
        "  {run} -- --listen [PATH]\n{}",
        dialtone_kit::text::wrap(
            "put the intercom up at PATH (alone: in a fresh private folder) for real callers (socat, nc -U, python3), until Ctrl-C; the socket file is removed when it stops",
            80,
            "      ",
            "      ",
        )
    );
    if !listen.ends_with('\n') {
        listen.push('\n');
    }
    let hold = format!("  {run} -- --hold\n");
    text.replacen(&hold, &format!("{listen}{hold}"), 1)
}

/// The intercom for real callers, until Ctrl-C.
fn listen_for_real(s: &mut Scene, answer: &Answer, path: Option<String>) -> SceneResult {
    // ANCHOR: listen
    let (folder, path) = match path {
        Some(path) => (None, path),
        None => service::default_place().map(|(f, p)| (Some(f), p))?,
    };
    let (intercom, tidy) = service::open(answer, &path, folder)?;
    // Even a SIGKILL leaves no file: a watcher process tidies up after us.
    let _watcher = tidy.watched();
    // Ctrl-C, kill and a closed terminal all remove the socket file first.
    service::tidy_on_signals(Arc::new(Mutex::new(tidy)))?;
    // ANCHOR_END: listen
    s.title(&format!(
        "Your intercom is on the wall at {path}. Call it from another terminal:"
    ))?;
    for command in service::try_it(&path) {
        s.note(&command)?;
    }
    s.note("each call gets one line in the log (on stderr); Ctrl-C takes the intercom down and removes its socket file")?;
    service::serve(answer, intercom, usize::MAX, |line| {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    })
}

/// `$DIR/name`, for a path inside the scene's folder.
struct Names<'f> {
    folder: &'f Folder,
}

impl Names<'_> {
    fn show(&self, path: &str) -> String {
        let dir = self.folder.path().display().to_string();
        match path.strip_prefix(&dir) {
            Some(rest) => format!("$DIR{rest}"),
            None => path.to_string(),
        }
    }
}

fn scene(s: &mut Scene, answer: &Answer) -> SceneResult {
    s.title("An intercom rings only inside the building: its number is a name in the filesystem.")?;
    let folder = Folder::new().map_err(|e| {
        SceneError::Unexpected(format!(
            "could not make a private folder ({e}): set TMPDIR to a folder you may write in."
        ))
    })?;
    let names = Names { folder: &folder };
    s.note("$DIR is a fresh private folder (mode 0700) under the temp folder: the scene removes it, with every socket file in it, when it ends")?;
    let path = folder.name("intercom");
    stale_file(s, &names, &path)?;
    let intercom = opened(s, answer, &names, &path)?;
    too_long(s, answer, &folder)?;
    s.pause()?;
    let intercom = second_server(s, answer, &names, &path, intercom)?;
    s.pause()?;
    let intercom = caller_id(s, answer, &names, &folder, &path, intercom)?;
    s.pause()?;
    closed(s, answer, &names, &path, intercom)?;
    s.pause()?;
    abstract_name(s)?;
    s.pause()?;
    pairs(s)?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// Yesterday's server crashed: its file stays, and nobody answers it.
fn stale_file(s: &mut Scene, names: &Names, path: &str) -> SceneResult {
    let at = names.show(path);
    let crashed = party::phone(STREAM).map_err(sys("socket(AF_UNIX)", "Check ulimit -n."))?;
    let name = UnixAddr::new(path).map_err(sys("UnixAddr::new", "Use a shorter path."))?;
    let fd = crashed.as_raw_fd();
    bind(fd, &name).map_err(sys(format!("bind({at})"), "Is the temp folder writable?"))?;
    s.step(
        Who::Callee,
        "yesterday's intercom goes up at $DIR/intercom",
        &format!("socket(AF_UNIX, SOCK_STREAM, 0) = fd {fd}; bind(fd {fd}, {at}) = 0"),
    )?;
    listen(
        &crashed,
        Backlog::new(1).map_err(sys("listen", "1 is a backlog."))?,
    )
    .map_err(sys("listen", "Is it bound?"))?;
    drop(crashed);
    s.step(
        Who::Callee,
        "then its program crashes: no time to remove the file",
        &format!("listen(fd {fd}, 1) = 0; close(fd {fd}), and no unlink()"),
    )?;
    let kind = std::fs::symlink_metadata(path).map(|m| {
        use std::os::unix::fs::FileTypeExt;
        if m.file_type().is_socket() {
            "a socket file (S_IFSOCK)"
        } else {
            "not a socket"
        }
    });
    s.step(
        Who::Exchange,
        "its name plate is still on the door",
        &format!(
            "statx({at}) = {}",
            kind.map_err(
                |e| sys(format!("statx({at})"), "Is the temp folder there?")(io_errno(&e))
            )?
        ),
    )?;
    s.note("the kernel never removes a socket file: closing the last descriptor switches the intercom off and leaves the file")?;
    // ANCHOR: stale
    let late = party::phone(STREAM).map_err(sys("socket(AF_UNIX)", "Check ulimit -n."))?;
    let name = UnixAddr::new(path).map_err(sys("UnixAddr::new", "Use a shorter path."))?;
    let taken = bind(late.as_raw_fd(), &name);
    // ANCHOR_END: stale
    s.step(
        Who::You,
        "today's intercom can't have the name",
        &format!("bind(fd {}, {at}) = {}", late.as_raw_fd(), result(taken)),
    )?;
    drop(late);
    let probe = party::dial_within(&name, PEER_REPLY);
    s.step(
        Who::Caller,
        "is anybody there?",
        &format!("connect({at}) = {}", result(probe.map(drop))),
    )?;
    s.note("refused: a file with nobody behind it. That refusal is what makes it safe to remove")?;
    Ok(())
}

/// The learner's `open_intercom` over the stale file.
fn opened(
    s: &mut Scene,
    answer: &Answer,
    names: &Names,
    path: &str,
) -> Result<OwnedFd, SceneError> {
    let at = names.show(path);
    let given = path.to_string();
    // ANCHOR: open
    let intercom = learner_call!(s.chapter, answer.open_intercom(&given))?.map_err(sys(
        format!("open_intercom({at})"),
        "`cargo test -p ch10-intercom` says why.",
    ))?;
    // ANCHOR_END: open
    let fd = intercom.as_raw_fd();
    s.step(
        Who::You,
        "put up today's intercom, safely",
        &format!("open_intercom({at}) = fd {fd}: your code"),
    )?;
    let named = kernel::number_of(&intercom).map(|n| names.show(&names::number(&n)));
    let on = kernel::switched_on(&intercom);
    s.step(
        Who::Exchange,
        "it has the name, and it is switched on",
        &format!(
            "getsockname(fd {fd}) = {}; getsockopt(fd {fd}, SO_ACCEPTCONN) = {}",
            named.unwrap_or_else(names::errno),
            on.map_or_else(names::errno, |b| u8::from(b).to_string())
        ),
    )?;
    Ok(intercom)
}

/// A path of 108 bytes: refused before any system call.
fn too_long(s: &mut Scene, answer: &Answer, folder: &Folder) -> SceneResult {
    let start = folder.name("");
    let long = format!(
        "{start}{}",
        "x".repeat(SUN_PATH.saturating_sub(start.len()))
    );
    let given = long.clone();
    let refused = learner_call!(s.chapter, answer.open_intercom(&given))?;
    s.step(
        Who::You,
        &format!(
            "a name of {} bytes doesn't fit on the door plate",
            long.len()
        ),
        &format!("open_intercom($DIR/xxx...) = {}", result(refused.map(drop))),
    )?;
    s.note("sun_path holds 108 bytes, C's closing NUL included: nix's UnixAddr::new() refuses 108 or more before any system call (ENAMETOOLONG)")?;
    Ok(())
}

/// A second server is turned away; then a blind `rm` takes the line.
fn second_server(
    s: &mut Scene,
    answer: &Answer,
    names: &Names,
    path: &str,
    intercom: OwnedFd,
) -> Result<OwnedFd, SceneError> {
    let at = names.show(path);
    let given = path.to_string();
    let again = learner_call!(s.chapter, answer.open_intercom(&given))?;
    s.step(
        Who::Callee,
        "a second program tries to put up an intercom at the same name",
        &format!("open_intercom({at}) = {}", result(again.map(drop))),
    )?;
    s.note("its probe call got through, so somebody is there: it leaves the file alone")?;
    let reached = rings(&intercom, path).map(drop);
    s.step(
        Who::Caller,
        "a caller still reaches the first intercom",
        &format!(
            "connect({at}) = 0; accept(fd {}) = {}",
            intercom.as_raw_fd(),
            match reached {
                Ok(()) => "a call".into(),
                Err(e) => names::errno(e),
            }
        ),
    )?;
    std::fs::remove_file(path)
        .map_err(|e| sys(format!("unlink({at})"), "Is the folder there?")(io_errno(&e)))?;
    s.step(
        Who::Callee,
        "what a blind \"rm the stale file\" would do",
        &format!("unlink({at}) = 0"),
    )?;
    let name = UnixAddr::new(path).map_err(sys("UnixAddr::new", "Use a shorter path."))?;
    let lost = party::dial_within(&name, PEER_REPLY);
    s.step(
        Who::Caller,
        "nobody can reach the running intercom now",
        &format!("connect({at}) = {}", result(lost.map(drop))),
    )?;
    let on = kernel::switched_on(&intercom).unwrap_or(false);
    s.step(
        Who::Exchange,
        "though it is still switched on",
        &format!(
            "getsockopt(fd {}, SO_ACCEPTCONN) = {}",
            intercom.as_raw_fd(),
            u8::from(on)
        ),
    )?;
    s.note("it still listens, but its name is gone, and a second server could now take the name: that's why open_intercom() dials first")?;
    let lost_fd = intercom.as_raw_fd();
    drop(intercom);
    let given = path.to_string();
    let intercom = learner_call!(s.chapter, answer.open_intercom(&given))?.map_err(sys(
        format!("open_intercom({at})"),
        "`cargo test -p ch10-intercom` says why.",
    ))?;
    s.step(
        Who::You,
        "take the lost intercom down and put it up again",
        &format!(
            "close(fd {lost_fd}); open_intercom({at}) = fd {}",
            intercom.as_raw_fd()
        ),
    )?;
    Ok(intercom)
}

/// Permissions decide who may call; the kernel says who called.
fn caller_id(
    s: &mut Scene,
    answer: &Answer,
    names: &Names,
    folder: &Folder,
    path: &str,
    intercom: OwnedFd,
) -> Result<OwnedFd, SceneError> {
    let at = names.show(path);
    folder
        .open_to_others()
        .map_err(|e| sys("chmod($DIR, 0711)", "Is the folder yours?")(io_errno(&e)))?;
    chmod(path, 0o600)?;
    s.step(
        Who::You,
        "only you may call: the file's write permission is the lock",
        &format!("chmod($DIR, 0711) = 0; chmod({at}, 0600) = 0"),
    )?;
    let first = Caller::dial(path)
        .map_err(|e| SceneError::Unexpected(format!("could not start a caller ({e}).")))?;
    let who = if first.is_a_stranger() {
        format!("user nobody (uid {}, gid {})", first.uid, first.gid)
    } else {
        format!(
            "you again (uid {}: only root can start a process as another user)",
            first.uid
        )
    };
    let heard = first.outcome(SCENE_SETTLES);
    s.step(
        Who::Caller,
        &format!("a caller in another process, as {who}, rings"),
        &format!("connect({at}) = {}", outcome(heard)),
    )?;
    drop_a_call(&intercom, heard);
    drop(first);
    s.note("connect() needs write permission on the socket file and search permission on each folder above it (unix(7)); root needs neither (CAP_DAC_OVERRIDE): as root, any file lets it call")?;
    chmod(path, 0o666)?;
    let second = Caller::dial(path)
        .map_err(|e| SceneError::Unexpected(format!("could not start a caller ({e}).")))?;
    let heard = second.outcome(SCENE_SETTLES);
    s.step(
        Who::You,
        "let anyone in the building call",
        &format!("chmod({at}, 0666) = 0"),
    )?;
    s.step(
        Who::Caller,
        "the caller rings again",
        &format!("connect({at}) = {} (pid {})", outcome(heard), second.pid),
    )?;
    // ANCHOR: caller_id
    let (on_the_wall, picked_up) =
        learner_call!(s.chapter, answer.answer_with_caller_id, move |f| {
            let picked_up = f(&intercom);
            (intercom, picked_up)
        })?;
    let (call, id) = picked_up.map_err(sys(
        "answer_with_caller_id()",
        "`cargo test -p ch10-intercom` says why.",
    ))?;
    // ANCHOR_END: caller_id
    s.step(
        Who::You,
        "pick up and read the caller ID",
        &format!(
            "answer_with_caller_id(fd {}) = fd {}: your code",
            on_the_wall.as_raw_fd(),
            call.as_raw_fd()
        ),
    )?;
    let matches = id.pid() as u32 == second.pid && id.uid() == second.uid && id.gid() == second.gid;
    s.step(
        Who::Exchange,
        if matches {
            "the process that dialled, as the kernel noted it"
        } else {
            "NOT the process that dialled"
        },
        &format!(
            "SO_PEERCRED(fd {}) = pid {}, uid {}, gid {}",
            call.as_raw_fd(),
            id.pid(),
            id.uid(),
            id.gid()
        ),
    )?;
    s.note("the kernel wrote them down at connect(): nothing the caller sends can change them, and a file's owner says nothing about who calls")?;
    drop(call);
    drop(second);
    Ok(on_the_wall)
}

/// The learner's `close_intercom`: no file left.
fn closed(
    s: &mut Scene,
    answer: &Answer,
    names: &Names,
    path: &str,
    intercom: OwnedFd,
) -> SceneResult {
    let at = names.show(path);
    let fd = intercom.as_raw_fd();
    let given = path.to_string();
    learner_call!(s.chapter, answer.close_intercom(intercom, &given))?.map_err(sys(
        format!("close_intercom({at})"),
        "`cargo test -p ch10-intercom` says why.",
    ))?;
    s.step(
        Who::You,
        "take the intercom off the wall",
        &format!("close_intercom(fd {fd}, {at}) = Ok(()): your code"),
    )?;
    let left = std::fs::symlink_metadata(path)
        .map(drop)
        .map_err(|e| io_errno(&e));
    s.step(
        Who::Exchange,
        "nothing is left on the door",
        &format!("statx({at}) = {}", result(left)),
    )?;
    Ok(())
}

/// A name in the abstract namespace: no file at all (Linux only).
fn abstract_name(s: &mut Scene) -> SceneResult {
    let label = format!("dialtone-intercom-{}", std::process::id());
    // ANCHOR: abstract
    let name = UnixAddr::new_abstract(label.as_bytes())
        .map_err(sys("UnixAddr::new_abstract", "Use a shorter name."))?;
    let intercom = party::phone(STREAM).map_err(sys("socket(AF_UNIX)", "Check ulimit -n."))?;
    bind(intercom.as_raw_fd(), &name)
        .map_err(sys(format!("bind(@{label})"), "Is another scene running?"))?;
    listen(
        &intercom,
        Backlog::new(1).map_err(sys("listen", "Backlog 1 is valid."))?,
    )
    .map_err(sys("listen", "Is it bound?"))?;
    // ANCHOR_END: abstract
    let fd = intercom.as_raw_fd();
    s.step(
        Who::You,
        "an intercom named in the abstract namespace (Linux only)",
        &format!("socket(AF_UNIX, SOCK_STREAM, 0) = fd {fd}; bind(fd {fd}, @{label}) = 0"),
    )?;
    let caller = party::dial_within(&name, PEER_REPLY).map(|c| (c, accept(&intercom)));
    s.step(
        Who::Caller,
        "switch it on; a caller rings it by name",
        &format!(
            "listen(fd {fd}, 1) = 0; connect(@{label}) = {}",
            result(caller.as_ref().map(drop).map_err(|e| *e))
        ),
    )?;
    s.note("\"@\" stands for a leading zero byte in sun_path: the name lives in the kernel, not in a folder, so there is no file to remove, and no permissions to lock it: anyone on the machine (in the same network namespace) may call, so check SO_PEERCRED")?;
    drop(caller);
    drop(intercom);
    Ok(())
}

/// `socketpair`, then a stream and a seqpacket line with the same three writes.
fn pairs(s: &mut Scene) -> SceneResult {
    // ANCHOR: socketpair
    let (mine, yours) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::empty(),
    )
    .map_err(sys("socketpair", "Check ulimit -n."))?;
    // ANCHOR_END: socketpair
    let (a, b) = (mine.as_raw_fd(), yours.as_raw_fd());
    s.step(
        Who::You,
        "a line with both ends in one hand",
        &format!("socketpair(AF_UNIX, SOCK_STREAM, 0) = [fd {a}, fd {b}]"),
    )?;
    let named = kernel::number_of(&mine)
        .map(|n| names::number(&n))
        .unwrap_or_else(names::errno);
    let id = getsockopt(&yours, sockopt::PeerCredentials);
    let me = id.is_ok_and(|c| c.pid() as u32 == std::process::id());
    s.step(
        Who::Exchange,
        "no name, no file, no listen, no accept",
        &format!(
            "getsockname(fd {a}) = {named}; SO_PEERCRED(fd {b}) = {}",
            if me {
                "this very process"
            } else {
                "someone else?"
            }
        ),
    )?;
    s.note("hand one end to a thread or a child process and the two can talk: this course's own self-check talks to your code that way")?;
    let stream = three_writes(&mine, &yours)?;
    s.step(
        Who::You,
        "on this stream, three writes: \"one\", \"two\", \"three\"",
        &format!("read(fd {b}) = {stream}"),
    )?;
    let (one, other) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::empty(),
    )
    .map_err(sys("socketpair(SOCK_SEQPACKET)", "Check ulimit -n."))?;
    s.step(
        Who::You,
        "the same three writes on a SOCK_SEQPACKET pair",
        &format!(
            "socketpair(AF_UNIX, SOCK_SEQPACKET, 0) = [fd {}, fd {}]",
            one.as_raw_fd(),
            other.as_raw_fd()
        ),
    )?;
    let packets = three_writes(&one, &other)?;
    s.step(
        Who::You,
        "three reads, one message each",
        &format!("read(fd {}) = {packets}", other.as_raw_fd()),
    )?;
    s.note("a stream is bytes with no boundaries (chapter 6); SOCK_SEQPACKET is a call, with accept() and an end of file, that keeps each message whole and in order")?;
    Ok(())
}

/// Writes "one", "two", "three" on `from`, then reads `to` until it is
/// empty: what each read brought.
fn three_writes(from: &OwnedFd, to: &OwnedFd) -> Result<String, SceneError> {
    for word in [&b"one"[..], b"two", b"three"] {
        write(from, word).map_err(sys("write", "Is the pair open?"))?;
    }
    let mut reads = Vec::new();
    let mut buf = [0u8; 64];
    // Everything is already queued (a socketpair is local): read without
    // waiting until nothing is left.
    while let Ok(n @ 1..) = recv(to.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
        reads.push(format!("{n} {}", names::show(&buf[..n])));
    }
    Ok(reads.join(", then "))
}

// ----------------------------------------------------------------- plumbing

fn chmod(path: &str, mode: u32) -> SceneResult {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| sys(format!("chmod({mode:o})"), "Is the file yours?")(io_errno(&e)))
}

/// Dials `path` and picks the call up on `intercom`.
fn rings(intercom: &OwnedFd, path: &str) -> nix::Result<OwnedFd> {
    let name = UnixAddr::new(path)?;
    let caller = party::phone(STREAM)?;
    connect(caller.as_raw_fd(), &name)?;
    accept(intercom)
}

/// A call that got through to the intercom is picked up and dropped.
fn drop_a_call(intercom: &OwnedFd, outcome: Outcome) {
    if matches!(outcome, Outcome::Connected(_))
        && party::ready(intercom, PEER_REPLY).unwrap_or(false)
    {
        let _ = accept(intercom);
    }
}

fn outcome(o: Outcome) -> String {
    match o {
        Outcome::Connected(_) => "0".into(),
        Outcome::Refused(e) => names::errno(e),
        Outcome::Silent => "no word from the caller".into(),
    }
}

/// `0` or the errno, the way strace shows a call's result.
fn result(r: nix::Result<()>) -> String {
    match r {
        Ok(()) => "0".into(),
        Err(e) => names::errno(e),
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(Errno::EIO as i32))
}
