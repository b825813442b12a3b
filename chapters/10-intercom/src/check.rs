//! The self-check for chapter 10: the learner's intercom, asked of the
//! kernel and the filesystem, never read from the source.
//!
//! Each scenario gets a private folder of its own ([`Folder`]), removed with
//! every socket file in it when the scenario ends, whatever the learner's
//! code did. The scenarios, in order:
//!
//! 1. a free name: `open_intercom` must give an `AF_UNIX` stream socket,
//!    listening, named by the path, blocking, held once;
//! 2. a path too long for `sun_path`: `Err(ENAMETOOLONG)`, not a panic;
//! 3. a stale socket file (a crashed server's): it must be replaced;
//! 4. a live server at the path: `Err(EADDRINUSE)`, and its file untouched;
//! 5. a call from another process, as another user when the check runs as
//!    root: `answer_with_caller_id` must return that call and its caller's
//!    pid, uid and gid;
//! 6. `close_intercom`: the intercom switched off and its file gone.

use crate::caller::{self, Caller, Outcome};
use crate::chapter;
use crate::folder::Folder;
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::learner::{LearnerError, Trouble};
use dialtone_kit::party::{self, Kind};
use dialtone_kit::patience::{ALREADY_IN_THE_KERNEL, PEER_REPLY, SHOULD_RETURN_AT_ONCE};
use dialtone_kit::{kernel, learner_call, names, wire};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{
    accept, bind, getsockopt, listen, sockopt, AddressFamily, Backlog, SockType, UnixAddr,
    UnixCredentials,
};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

/// The learner's functions for this chapter, passed in so the integrity suite
/// can check the solution and deliberately wrong answers the same way.
#[derive(Clone, Copy)]
pub struct Answer {
    pub open_intercom: fn(&str) -> nix::Result<OwnedFd>,
    pub answer_with_caller_id: fn(&OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)>,
    pub close_intercom: fn(OwnedFd, &str) -> nix::Result<()>,
}

/// The intercom's kind: a Unix stream socket.
const INTERCOM: Kind = Kind::new(AddressFamily::Unix, SockType::Stream);
/// `sizeof(sun_path)` on Linux (`man 7 unix`); nix keeps the last byte for
/// C's closing NUL, so a path must be shorter than this.
pub const SUN_PATH: usize = 108;

pub fn run(answer: &Answer) -> Result<Passed, Failure> {
    let mut passed = Passed::default();
    passed.saw(check_free_name(answer)?);
    passed.saw(check_too_long(answer)?);
    passed.saw(check_stale_file(answer)?);
    passed.saw(check_live_server(answer)?);
    passed.saw(check_caller_id(answer)?);
    passed.saw(check_close(answer)?);
    Ok(passed)
}

// ------------------------------------------------------------ open_intercom

/// A name nobody has: the intercom the learner returns is asked, question by
/// question, what it is, and then dialled.
fn check_free_name(answer: &Answer) -> Result<String, Failure> {
    let folder = private_folder()?;
    let path = folder.name("intercom");
    let intercom = open(answer, &path)?.map_err(|e| open_refused(e, &path, "no file at all"))?;
    is_an_intercom_at(&intercom, &path)?;
    Ok(format!(
        "open_intercom() on a free name: an AF_UNIX stream socket bound to its path, listening, blocking, held once, and a caller got through (fd {})",
        intercom.as_raw_fd()
    ))
}

/// Everything `open_intercom` must have made, asked of the kernel.
fn is_an_intercom_at(intercom: &OwnedFd, path: &str) -> Result<(), Failure> {
    let family = kernel::network(intercom).map_err(|e| unreadable("its family", e))?;
    if family != Some(AddressFamily::Unix) {
        return Err(wrong_family(&format!(
            "Ok(fd) of family {}",
            family.map_or("(none)", names::family)
        )));
    }
    let kind = kernel::line_kind(intercom).map_err(|e| unreadable("SO_TYPE", e))?;
    if kind != SockType::Stream {
        return Err(wrong_type(kind));
    }
    if !kernel::switched_on(intercom).map_err(|e| unreadable("SO_ACCEPTCONN", e))? {
        return Err(not_listening(intercom, path));
    }
    let named = kernel::number_of(intercom).map_err(|e| unreadable("its name", e))?;
    if names::number(&named) != path {
        return Err(wrong_name(&names::number(&named), path));
    }
    let flags = fcntl(intercom, FcntlArg::F_GETFL).map_err(|e| unreadable("F_GETFL", e))?;
    if OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK) {
        return Err(nonblocking());
    }
    let held = wire::handsets_on(intercom);
    if held > 1 {
        return Err(extra_handsets(held));
    }
    gets_calls(intercom, path)
}

/// A caller dials `path` and the call rings on `intercom`.
fn gets_calls(intercom: &OwnedFd, path: &str) -> Result<(), Failure> {
    let name = UnixAddr::new(path).map_err(setup("UnixAddr::new"))?;
    let _caller = party::dial_within(&name, ALREADY_IN_THE_KERNEL)
        .map_err(|e| Failure::new("ch10.no-answer", "a caller dialling the path didn't get through")
            .expected(format!("connect({path}) = 0"))
            .got(format!("connect() failed: {}", names::errno(e)))
            .phone("the intercom is on the wall, but ringing its name doesn't reach it.")
            .syscall("bind() the socket you return to the path you were given, then listen() on that same socket."))?;
    if party::ready(intercom, ALREADY_IN_THE_KERNEL).unwrap_or(false) {
        // Picked up and dropped at once: the check's caller has nothing to say.
        let _ = accept(intercom);
        return Ok(());
    }
    Err(Failure::new("ch10.no-answer", "a call to the path rang somewhere else")
        .expected("the call waiting on the intercom you returned")
        .got(format!("connect({path}) = 0, but nothing rings on the intercom you returned"))
        .phone("the name on the door leads to another phone than the one you handed over.")
        .syscall("return the very socket you bound and listened on, not the probe you dialled with or a new one."))
}

/// A path of 108 bytes, one too long for nix's `UnixAddr::new`.
fn check_too_long(answer: &Answer) -> Result<String, Failure> {
    let folder = private_folder()?;
    let path = path_of_length(&folder, SUN_PATH);
    let got = match open(answer, &path) {
        Ok(Err(Errno::ENAMETOOLONG)) => {
            return Ok(format!(
                "open_intercom() refused a path of {SUN_PATH} bytes with Err(ENAMETOOLONG)"
            ))
        }
        Ok(Ok(fd)) => {
            let named = kernel::number_of(&fd).map(|n| names::number(&n));
            format!(
                "Ok(fd {}), named {}",
                fd.as_raw_fd(),
                named.map_or_else(names::errno, |n| format!("{n:?}"))
            )
        }
        Ok(Err(e)) => format!("Err({})", names::errno(e)),
        Err(LearnerError {
            trouble: Trouble::Panicked(message),
            ..
        }) => format!("a panic: {message}"),
        Err(e) => return Err(e.into()),
    };
    Err(Failure::new("ch10.path-too-long", "open_intercom() didn't report a path too long for sun_path")
        .expected(format!("Err(ENAMETOOLONG) for a path of {SUN_PATH} bytes"))
        .got(got)
        .phone("the name doesn't fit on the door plate (108 bytes, C's closing NUL included): say so, don't tear up the plate or write half a name.")
        .syscall("UnixAddr::new(path)? returns Err(ENAMETOOLONG) for you: pass it up with `?`, no unwrap(), and never shorten the path."))
}

/// `FOLDER/xxx...` exactly `len` bytes long.
fn path_of_length(folder: &Folder, len: usize) -> String {
    let start = folder.name("");
    let fill = len.saturating_sub(start.len());
    format!("{start}{}", "x".repeat(fill))
}

/// A crashed server's socket file: bound, then closed without removing it.
fn check_stale_file(answer: &Answer) -> Result<String, Failure> {
    let folder = private_folder()?;
    let path = folder.name("intercom");
    leave_a_stale_file(&path).map_err(setup("a stale socket file"))?;
    let intercom = match open(answer, &path)? {
        Ok(fd) => fd,
        Err(Errno::EADDRINUSE) => return Err(Failure::new("ch10.stale-file-left", "open_intercom() gave up on a crashed server's leftover file")
            .expected("Ok(fd): nobody answers at the file, so it is stale: remove it, then bind()")
            .got("Err(EADDRINUSE (Address already in use)); dialling the path is refused (ECONNREFUSED): nobody is there")
            .phone("yesterday's intercom was torn off the wall, but its name plate is still on the door: nobody answers it, so take it down and put yours up.")
            .syscall("bind() fails while any file is at the path. Dial first: Err(ECONNREFUSED) means stale, so std::fs::remove_file(path), then bind() and listen().")),
        Err(e) => return Err(open_refused(e, &path, "a stale socket file nobody answers")),
    };
    is_an_intercom_at(&intercom, &path)?;
    Ok("open_intercom() over a stale socket file: nobody answered, so it replaced the file and listens there".into())
}

/// Binds a socket to `path` and closes it: the file stays, nobody answers.
pub fn leave_a_stale_file(path: &str) -> nix::Result<()> {
    let crashed = party::phone(INTERCOM)?;
    bind(crashed.as_raw_fd(), &UnixAddr::new(path)?)?;
    listen(&crashed, Backlog::new(1)?)?;
    drop(crashed);
    Ok(())
}

/// A server is running at the path: it must keep its name and its file.
fn check_live_server(answer: &Answer) -> Result<String, Failure> {
    let folder = private_folder()?;
    let path = folder.name("intercom");
    let server = switched_on_at(&path).map_err(setup("a live server"))?;
    let before = inode(&path);
    let result = open(answer, &path)?;
    // What the learner's probe call left ringing is not the question.
    while party::ready(&server, std::time::Duration::ZERO).unwrap_or(false) {
        let _ = accept(&server);
    }
    let after = inode(&path);
    let still_reached = after == before && rings_at(&server, &path);
    match result {
        Err(Errno::EADDRINUSE) if still_reached => Ok(
            "open_intercom() where a server is running: Err(EADDRINUSE), and the server's file still reaches the server".into(),
        ),
        Ok(fd) => Err(took_the_line(format!(
            "Ok(fd {}): the file at the path is {}",
            fd.as_raw_fd(),
            if still_reached { "still the server's" } else { "a new one: the server can no longer be called" }
        ))),
        Err(e) if !still_reached => Err(took_the_line(format!(
            "Err({}), and the server's file {}",
            names::errno(e),
            if after.is_none() { "is gone" } else { "was replaced" }
        ))),
        Err(e) => Err(Failure::new("ch10.wrong-error", "open_intercom() found a running server but said something else")
            .expected("Err(EADDRINUSE): the name is in use by a live server")
            .got(format!("Err({})", names::errno(e)))
            .phone("somebody answered, so the name is taken: say \"in use\", the words everyone (and bind()) uses for it.")
            .syscall("when the probe's connect() succeeds, return Err(Errno::EADDRINUSE) and leave the file alone.")),
    }
}

fn took_the_line(got: String) -> Failure {
    Failure::new("ch10.took-the-line", "open_intercom() removed a running server's socket file")
        .expected("Err(EADDRINUSE), with the server's file left where it was")
        .got(got)
        .phone("you took a working intercom's name plate off the door: it still listens, but nobody can ever reach it again.")
        .syscall("never remove_file() blindly: dial first, and remove the file only if connect() says ECONNREFUSED. If it connects, someone is there: return Err(EADDRINUSE).")
}

/// A listening intercom bound at `path`, as a server would have it.
fn switched_on_at(path: &str) -> nix::Result<OwnedFd> {
    let server = party::phone(INTERCOM)?;
    bind(server.as_raw_fd(), &UnixAddr::new(path)?)?;
    listen(&server, Backlog::new(8)?)?;
    Ok(server)
}

/// The inode of the file at `path` (not following a link), if any.
fn inode(path: &str) -> Option<u64> {
    std::fs::symlink_metadata(path).ok().map(|m| m.ino())
}

/// Does dialling `path` ring on `server`?
fn rings_at(server: &OwnedFd, path: &str) -> bool {
    let Ok(name) = UnixAddr::new(path) else {
        return false;
    };
    let Ok(_caller) = party::dial_within(&name, ALREADY_IN_THE_KERNEL) else {
        return false;
    };
    let rang = party::ready(server, ALREADY_IN_THE_KERNEL).unwrap_or(false);
    if rang {
        let _ = accept(server);
    }
    rang
}

// ----------------------------------------------------- answer_with_caller_id

/// Another process (another user, if we are root) calls; the learner picks
/// up and says who it is.
fn check_caller_id(answer: &Answer) -> Result<String, Failure> {
    let folder = private_folder()?;
    folder
        .open_to_others()
        .map_err(|e| io_setup("chmod 0711", e))?;
    let path = folder.name("intercom");
    let intercom = switched_on_at(&path).map_err(setup("the check's intercom"))?;
    // Write permission on the socket file is what lets someone call.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| io_setup("chmod 0666", e))?;
    let stranger = stranger_on_the_line(&path)?;
    // Root whose caller had to be root too (nobody can't run the operator's
    // check program): the file then goes to nobody, so a uid read off the
    // file's owner still differs from the caller's.
    let told_apart = stranger.is_a_stranger()
        || (caller::my_uid() == 0
            && std::os::unix::fs::chown(&path, Some(caller::STRANGER), Some(caller::STRANGER))
                .is_ok());
    let switched_on_by = getsockopt(&intercom, sockopt::PeerCredentials).ok();
    // The intercom comes back from the learner's thread, to stay open
    // until the verdict.
    let (_intercom, picked_up) = learner_call!(
        chapter(),
        answer.answer_with_caller_id,
        move |f| {
            let picked_up = f(&intercom);
            (intercom, picked_up)
        },
        within = SHOULD_RETURN_AT_ONCE
    )?;
    let (line, id) = picked_up.map_err(caller_id_error)?;
    is_the_call(&line, &stranger)?;
    let expected = (stranger.pid, stranger.uid, stranger.gid);
    let got = (id.pid() as u32, id.uid(), id.gid());
    if got == expected {
        return Ok(format!(
            "answer_with_caller_id() picked up a call from another process{} and named its caller: pid {}, uid {}, gid {}",
            if stranger.is_a_stranger() {
                ", another user,"
            } else if told_apart {
                " (running as you, the socket file owned by nobody)"
            } else {
                " (running as you: the check can't be someone else here, so it can't tell your uid from the file owner's)"
            },
            got.0, got.1, got.2
        ));
    }
    Err(wrong_id(got, expected, switched_on_by, &path))
}

/// A caller from another process, connected: as `nobody` when we are root,
/// or as ourselves when `nobody` can't run this program (then the check
/// can't tell the caller's uid from the file owner's, and says so).
fn stranger_on_the_line(path: &str) -> Result<Caller, Failure> {
    let start =
        |stranger| Caller::dial_as(path, stranger).map_err(|e| io_setup("starting a caller", e));
    let mut caller = start(true)?;
    let mut outcome = caller.outcome(PEER_REPLY);
    if outcome == Outcome::Silent && caller.is_a_stranger() && caller.gave_up() {
        caller = start(false)?;
        outcome = caller.outcome(PEER_REPLY);
    }
    match outcome {
        Outcome::Connected(_) => Ok(caller),
        other => Err(caller_setup(&caller, other)),
    }
}

/// The line returned must be the call: the kernel's own caller ID of it is
/// the caller's process.
fn is_the_call(line: &OwnedFd, stranger: &Caller) -> Result<(), Failure> {
    if kernel::switched_on(line).unwrap_or(false) {
        return Err(Failure::new("ch10.returned-the-intercom", "answer_with_caller_id() returned the intercom, not the call")
            .expected("the line accept() returned")
            .got("a listening socket (SO_ACCEPTCONN = 1): the intercom itself, or a copy of it")
            .phone("you handed back the phone on the wall, not the receiver with the caller on it.")
            .syscall("let call = accept(intercom)?; return (call, ...). A dup or try_clone of the intercom is still the intercom."));
    }
    match getsockopt(line, sockopt::PeerCredentials) {
        Ok(c) if c.pid() as u32 == stranger.pid => Ok(()),
        other => Err(Failure::new(
            "ch10.not-the-call",
            "answer_with_caller_id() returned a line that isn't the caller's",
        )
        .expected(format!("the call from pid {}", stranger.pid))
        .got(match other {
            Ok(c) => format!("a line whose other end is pid {}", c.pid()),
            Err(e) => format!("SO_PEERCRED failed: {}", names::errno(e)),
        })
        .phone(
            "you picked up, but handed over another receiver than the one with the caller on it.",
        )
        .syscall("return the OwnedFd accept() gave you for this call.")),
    }
}

fn wrong_id(
    got: (u32, u32, u32),
    expected: (u32, u32, u32),
    switched_on_by: Option<UnixCredentials>,
    path: &str,
) -> Failure {
    let show = |(pid, uid, gid): (u32, u32, u32)| format!("pid {pid}, uid {uid}, gid {gid}");
    let ours = [
        switched_on_by.map(|c| c.pid() as u32),
        Some(std::process::id()),
        dialtone_kit::judge::host_program().map(|(pid, _)| pid.as_raw() as u32),
    ];
    if ours.contains(&Some(got.0)) {
        return Failure::new("ch10.listener-id", "answer_with_caller_id() named the intercom's side, not the caller")
            .expected(format!("the caller: {}", show(expected)))
            .got(format!("{}: the process that switched the intercom on (or yours), not the caller", show(got)))
            .phone("you read the name on your own badge, not the caller ID of the call.")
            .syscall("ask SO_PEERCRED of the line accept() returned: getsockopt(&call, sockopt::PeerCredentials). On the listening socket it names whoever called listen().");
    }
    let owner = std::fs::metadata(path).ok().map(|m| (m.uid(), m.gid()));
    if got.0 == expected.0 && owner == Some((got.1, got.2)) {
        return Failure::new("ch10.file-owner", "answer_with_caller_id() took the uid and gid from the socket file")
            .expected(format!("the caller: {}", show(expected)))
            .got(format!("{}: the pid is right, but the uid and gid are the file's owner's", show(got)))
            .phone("you read the name on the door plate, which is yours, not the caller's: and anybody could have put it there.")
            .syscall("the uid and gid come with the pid in SO_PEERCRED (creds.uid(), creds.gid()), taken by the kernel at connect(). A file's owner says who made the file, nothing about who calls.");
    }
    Failure::new("ch10.wrong-id", "answer_with_caller_id() named someone other than the caller")
        .expected(format!("the caller: {}", show(expected)))
        .got(show(got))
        .phone("the caller ID you read out isn't the one the exchange showed.")
        .syscall("return getsockopt(&call, sockopt::PeerCredentials)? as it is: don't build a UnixCredentials yourself.")
}

fn caller_id_error(e: Errno) -> Failure {
    Failure::new("ch10.caller-id-error", "answer_with_caller_id() returned an error")
        .expected("Ok((call, caller ID)): a call is waiting on the intercom")
        .got(format!("Err({})", names::errno(e)))
        .phone(format!("picking up failed: {}.", names::errno_phone_on(e, INTERCOM)))
        .syscall("accept(intercom)? gives the call; getsockopt(&call, sockopt::PeerCredentials)? its caller ID. Ask neither of anything else.")
}

// ------------------------------------------------------------ close_intercom

/// The check's intercom, handed to `close_intercom`: afterwards no file, and
/// no descriptor of it anywhere.
fn check_close(answer: &Answer) -> Result<String, Failure> {
    let folder = private_folder()?;
    let path = folder.name("intercom");
    let intercom = switched_on_at(&path).map_err(setup("the check's intercom"))?;
    let target = kernel::fd_target(intercom.as_raw_fd());
    let given = path.clone();
    learner_call!(
        chapter(),
        answer.close_intercom(intercom, &given),
        within = SHOULD_RETURN_AT_ONCE
    )?
    .map_err(|e| Failure::new("ch10.close-error", "close_intercom() returned an error")
        .expected("Ok(()): the intercom switched off and its file removed")
        .got(format!("Err({})", names::errno(e)))
        .phone("taking the intercom off the wall failed.")
        .syscall("drop the OwnedFd, then std::fs::remove_file(path): that's all; turn an io::Error into its errno."))?;
    if let Ok(meta) = std::fs::symlink_metadata(&path) {
        return Err(Failure::new("ch10.file-left-behind", "close_intercom() left the socket file behind")
            .expected(format!("no file at {path}"))
            .got(format!("{} is still there (a {})", path, if meta.file_type().is_socket() { "socket file" } else { "file" }))
            .phone("you took the intercom off the wall but left its name plate on the door: the next one can't be put up there.")
            .syscall("the kernel never removes a socket file, not even when the last descriptor closes: std::fs::remove_file(path) is yours to do."));
    }
    let held = target.as_deref().map_or(0, wire::handsets_for);
    if held > 0 {
        return Err(Failure::new("ch10.still-switched-on", "close_intercom() removed the file but kept the intercom open")
            .expected("the intercom closed: no descriptor of it left")
            .got(format!("{held} descriptor(s) of it still open"))
            .phone("the name plate is gone, but the intercom is still on the wall: nobody can ever call it, and it takes up room.")
            .syscall("the OwnedFd is yours: let it drop (or drop(intercom)). Don't mem::forget() it or into_raw_fd() it."));
    }
    Ok("close_intercom() switched the intercom off and removed its socket file".into())
}

// ----------------------------------------------------------------- verdicts

fn open(answer: &Answer, path: &str) -> Result<nix::Result<OwnedFd>, LearnerError> {
    let path = path.to_string();
    learner_call!(
        chapter(),
        answer.open_intercom(&path),
        within = SHOULD_RETURN_AT_ONCE
    )
}

/// `open_intercom` said no where the name was free to take (`situation`).
fn open_refused(e: Errno, path: &str, situation: &str) -> Failure {
    if matches!(e, Errno::EAFNOSUPPORT | Errno::EINVAL) {
        return wrong_family(&format!("Err({})", names::errno(e)));
    }
    if e == Errno::EPROTOTYPE {
        return Failure::new(
            "ch10.wrong-type",
            "open_intercom() dialled with another type of socket",
        )
        .expected("a stream socket (SOCK_STREAM) for the probe call and for the intercom")
        .got(format!("Err({})", names::errno(e)))
        .phone("your test call used another kind of line than the one on the wall.")
        .syscall("use SockType::Stream for both sockets.");
    }
    Failure::new("ch10.open-error", "open_intercom() refused a name it could have had")
        .expected(format!("Ok(fd): {situation} at {path}"))
        .got(format!("Err({})", names::errno(e)))
        .phone(format!("{}.", names::errno_phone_on(e, INTERCOM)))
        .syscall("socket(AddressFamily::Unix, SockType::Stream, ..), bind() to UnixAddr::new(path)?, listen(); ENOENT from the probe's connect() just means there's no file yet.")
}

fn wrong_family(got: &str) -> Failure {
    Failure::new("ch10.wrong-family", "open_intercom() made a phone of another family")
        .expected("an AF_UNIX socket: its number is a path")
        .got(got.to_string())
        .phone("that's a phone for the street outside (the network); an intercom is wired only inside this building.")
        .syscall("socket(AddressFamily::Unix, SockType::Stream, SockFlag::empty(), None): a UnixAddr fits only an AF_UNIX socket (an AF_INET one answers EAFNOSUPPORT or EINVAL).")
}

fn wrong_type(kind: SockType) -> Failure {
    Failure::new("ch10.wrong-type", "open_intercom() installed the wrong kind of line")
        .expected("SO_TYPE = SOCK_STREAM")
        .got(format!("SO_TYPE = {}", names::sock_type(kind)))
        .phone(if kind == SockType::SeqPacket {
            "a line that keeps each message whole is fine, but this intercom's callers (socat, nc -U, Python's default) ring a stream, and are refused by any other kind (EPROTOTYPE)."
        } else {
            "this intercom carries a conversation (a stream), not postcards."
        })
        .syscall("pass SockType::Stream to socket(); SOCK_SEQPACKET and SOCK_DGRAM callers and servers only meet their own kind.")
}

fn not_listening(intercom: &OwnedFd, path: &str) -> Failure {
    let named = kernel::number_of(intercom)
        .map(|n| names::number(&n))
        .unwrap_or_default();
    Failure::new(
        "ch10.not-listening",
        "open_intercom() returned an intercom that isn't switched on",
    )
    .expected("SO_ACCEPTCONN = 1 (listening)")
    .got(format!(
        "SO_ACCEPTCONN = 0 on a socket named {named:?}; dialling {path} is refused (ECONNREFUSED)"
    ))
    .phone(
        "the intercom has its name plate, but it isn't switched on: every caller is turned away.",
    )
    .syscall("call listen(&intercom, Backlog::new(16)?) after bind(), as chapter 3 did.")
}

fn wrong_name(named: &str, path: &str) -> Failure {
    Failure::new("ch10.wrong-name", "open_intercom() put the intercom at another name")
        .expected(format!("getsockname() = {path}"))
        .got(format!("getsockname() = {named}"))
        .phone("the intercom is on the wall under another name than the one on the order.")
        .syscall("bind() to UnixAddr::new(path): the very path you were given, not an abstract name (@...) or a name of your own.")
}

fn nonblocking() -> Failure {
    Failure::new("ch10.nonblocking", "open_intercom() made the intercom non-blocking")
        .expected("F_GETFL without O_NONBLOCK: accept() waits for a caller")
        .got("F_GETFL has O_NONBLOCK: accept() fails with EAGAIN whenever nobody is ringing yet")
        .phone("your intercom says \"nobody's there\" the moment nobody is, instead of waiting for a ring.")
        .syscall("SockFlag::empty() in socket(), no SOCK_NONBLOCK, no fcntl(F_SETFL, O_NONBLOCK); waiting on many sockets is Part IV's poll().")
}

fn extra_handsets(held: usize) -> Failure {
    Failure::new("ch10.extra-handset", "open_intercom() kept a second descriptor of the intercom")
        .expected("one descriptor of the intercom: the one you returned")
        .got(format!("{held} descriptors of the same socket"))
        .phone("you put up the intercom and kept a spare receiver of it in your pocket: closing the one you handed over won't switch it off.")
        .syscall("return the socket itself; don't dup()/try_clone() it and forget the original (or keep either).")
}

fn unreadable(what: &str, e: Errno) -> Failure {
    dialtone_kit::task::unreadable(chapter(), what, "your intercom", e)
}

/// The folder every scenario works in.
fn private_folder() -> Result<Folder, Failure> {
    Folder::new().map_err(|e| io_setup("a private folder", e))
}

fn caller_setup(stranger: &Caller, outcome: Outcome) -> Failure {
    Failure::new("ch10.setup", "the self-check's caller couldn't call")
        .expected(format!("a caller (uid {}) to get through to the check's own intercom", stranger.uid))
        .got(match outcome {
            Outcome::Refused(e) => format!("connect() failed: {}", names::errno(e)),
            _ => format!("no word from the caller's process within {} s", PEER_REPLY.as_secs()),
        })
        .phone("the check's own test caller couldn't reach the check's own intercom: not your code.")
        .syscall(format!(
            "the caller is this program started again as user {}: the folders up to it must be open to that user (e.g. not under /root), and /tmp writable.",
            caller::STRANGER
        ))
}

/// The check's own setup failed: not the learner's fault, but say so plainly.
fn setup(what: &'static str) -> impl Fn(Errno) -> Failure {
    move |e| io_setup(what, std::io::Error::from(e))
}

fn io_setup(what: &str, e: std::io::Error) -> Failure {
    Failure::new("ch10.setup", format!("the self-check couldn't set up its own intercom ({what})"))
        .expected(format!("{what} to work"))
        .got(e.to_string())
        .phone("the building's wiring is out of order on this machine, not in your code.")
        .syscall("check that the temp folder (TMPDIR or /tmp) is writable and ulimit -n isn't tiny, then run the check again.")
}
