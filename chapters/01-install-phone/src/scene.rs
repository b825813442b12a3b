//! The scene of chapter 1, narrated line by line.
//!
//! You install a phone with the learner's `install_phone()`, then ask the
//! kernel about it (its type, its family, its flags, its number) and hang it
//! up. There is no second party yet: a phone without a number can't be
//! called (chapter 2).

use crate::check::Answer;
use dialtone_kit::scene::{sys, Scene, SceneError, SceneResult, Who};
use dialtone_kit::{args, kernel, learner_call, names};
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{AddressFamily, SockType};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

pub fn play(s: &mut Scene, answer: &Answer, args: &[String]) -> SceneResult {
    args::none(s.chapter, args)?;
    s.title(
        "You have just moved in. Before anyone can ring you, you need a telephone on the wall.",
    )?;
    let phone = install(s, answer)?;
    kind_and_family(s, &phone)?;
    flags(s, &phone)?;
    inherited(s, &phone)?;
    number(s, &phone)?;
    s.pause()?;
    hang_up(s, phone)?;
    s.pause()?;
    s.moral()?;
    Ok(())
}

/// The learner's `install_phone()`, and what `/proc` says the descriptor is.
fn install(s: &mut Scene, answer: &Answer) -> Result<OwnedFd, SceneError> {
    // ANCHOR: install
    let phone = learner_call!(s.chapter, answer.install_phone())?.map_err(sys(
        "install_phone()",
        "Check the arguments you pass to socket().",
    ))?;
    let fd = phone.as_raw_fd();
    // ANCHOR_END: install
    // Only the descriptor is known here: what kind of phone it is, the kernel
    // says next. The transcript never claims more than it has read back.
    s.step(
        Who::You,
        "install a phone",
        &format!("install_phone() = fd {fd}"),
    )?;
    s.note("a socket is a file descriptor: the same kind of small number open() gives for a file")?;
    if let Some(target) = kernel::fd_target(fd) {
        s.note(&format!("/proc/self/fd/{fd} -> {target}"))?;
    }
    s.hold("The phone is on the wall, with no number yet")?;
    Ok(phone)
}

/// `SO_TYPE` and the family: a stream, on the IPv4 network.
fn kind_and_family(s: &mut Scene, phone: &OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    // ANCHOR: ask
    let kind = kernel::line_kind(phone).map_err(sys("getsockopt(SO_TYPE)", "Is it a socket?"))?;
    let family = kernel::network(phone).map_err(sys("getsockname", "Is it a socket?"))?;
    // ANCHOR_END: ask
    s.step(
        Who::You,
        "ask the exchange what kind of line this is",
        &format!(
            "getsockopt(fd {fd}, SOL_SOCKET, SO_TYPE) = {}",
            names::sock_type(kind)
        ),
    )?;
    if kind != SockType::Stream {
        return Err(not_this_phone(match kind {
            SockType::Datagram => "SO_TYPE says SOCK_DGRAM: a postcard box, not the phone this chapter asks for (a SOCK_STREAM line)",
            _ => "SO_TYPE says this is another kind of line, not the phone this chapter asks for (a SOCK_STREAM line)",
        }));
    }
    s.note("a stream: a two-way conversation, bytes arrive in order or not at all")?;
    s.step(
        Who::You,
        "ask which network the phone is on",
        &format!(
            "getsockname(fd {fd}).sa_family = {}",
            family.map(names::family).unwrap_or("none")
        ),
    )?;
    if family != Some(AddressFamily::Inet) {
        return Err(not_this_phone(match family {
            Some(AddressFamily::Inet6) => "The family is AF_INET6: an IPv6 phone, not the IPv4 phone (AF_INET) this chapter asks for",
            Some(AddressFamily::Unix) => "The family is AF_UNIX: the in-building intercom, not the IPv4 phone (AF_INET) this chapter asks for",
            _ => "The phone is on another network, not the IPv4 one (AF_INET) this chapter asks for",
        }));
    }
    s.note("IPv4. On Linux, C can also ask getsockopt(SO_DOMAIN); the answer is the same")?;
    Ok(())
}

/// The descriptor's flags: does a call on it wait, and does it survive exec?
fn flags(s: &mut Scene, phone: &OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    // ANCHOR: flags
    let status = fcntl(phone, FcntlArg::F_GETFL).map_err(sys("fcntl(F_GETFL)", "Is it open?"))?;
    let status = OFlag::from_bits_truncate(status);
    let fd_flags = fcntl(phone, FcntlArg::F_GETFD).map_err(sys("fcntl(F_GETFD)", "Is it open?"))?;
    let cloexec = FdFlag::from_bits_truncate(fd_flags).contains(FdFlag::FD_CLOEXEC);
    // ANCHOR_END: flags
    let nonblocking = status.contains(OFlag::O_NONBLOCK);
    s.step(
        Who::You,
        "ask whether calls on this phone wait for an answer",
        &format!(
            "fcntl(fd {fd}, F_GETFL) = O_RDWR{}",
            if nonblocking { "|O_NONBLOCK" } else { "" }
        ),
    )?;
    if nonblocking {
        return Err(not_this_phone("F_GETFL says O_NONBLOCK: a phone that never waits, not the plain phone (no flags) this chapter asks for"));
    }
    s.note("no O_NONBLOCK: accept(), connect() and read() on this phone wait until the other side answers")?;
    s.step(
        Who::You,
        "ask whether the phone stays behind when this program starts another",
        &format!(
            "fcntl(fd {fd}, F_GETFD) = {}",
            if cloexec { "FD_CLOEXEC" } else { "0" }
        ),
    )?;
    s.note(if cloexec {
        "close-on-exec is on (SOCK_CLOEXEC): a program you start with exec() won't inherit this phone"
    } else {
        "close-on-exec is off: nix's socket() adds nothing you don't ask for, so a program you start with exec() inherits this phone; std::net always asks for SOCK_CLOEXEC"
    })?;
    Ok(())
}

/// Close-on-exec, shown rather than told: a program this one starts
/// (`readlink`, from coreutils) looks at the same descriptor number in its
/// own table. Without `FD_CLOEXEC` it finds the very same socket.
fn inherited(s: &mut Scene, phone: &OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    // std's Command waits for the child (`output()`), so none is left over;
    // stdin is closed so the child can't take the terminal.
    let child = Command::new("readlink")
        .arg(format!("/proc/self/fd/{fd}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let seen = match &child {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(_) => "nothing there".to_string(),
        Err(_) => return Ok(()), // no readlink on this machine: nothing to show
    };
    let ours = kernel::fd_target(fd);
    s.step(
        Who::You,
        "start another program and ask what it holds at that descriptor",
        &format!(
            "execve(readlink /proc/self/fd/{fd}) in a child: {seen}{}",
            if ours.as_deref() == Some(seen.as_str()) {
                ", the same socket as ours"
            } else {
                ""
            }
        ),
    )?;
    s.note(if ours.as_deref() == Some(seen.as_str()) {
        "the same phone: a program you start holds it too, and the call can't end until that program exits. SOCK_CLOEXEC (accept4(.., SOCK_CLOEXEC) for a line) prevents it"
    } else {
        "close-on-exec closed it in the new program: only this one holds the phone"
    })?;
    Ok(())
}

/// `getsockname`: an IPv4 phone's number, which a new phone doesn't have.
fn number(s: &mut Scene, phone: &OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    let number = kernel::own_number(phone).map_err(sys("getsockname", "Is it a socket?"))?;
    s.step(
        Who::You,
        "ask what your number is",
        &format!("getsockname(fd {fd}) = {}", names::addr(&number)),
    )?;
    if number.port() == 0 && number.ip().is_unspecified() {
        s.note("no number yet: 0.0.0.0 port 0 is how Linux answers for an unbound socket (POSIX leaves it unspecified), so nobody can ring this phone")?;
    } else {
        s.note("this phone already has a number: install_phone() should only install (chapter 2 numbers it)")?;
    }
    Ok(())
}

/// Dropping the `OwnedFd` closes it; `/proc/self/fd` shows the line is gone.
fn hang_up(s: &mut Scene, phone: OwnedFd) -> SceneResult {
    let fd = phone.as_raw_fd();
    let target = kernel::fd_target(fd);
    // ANCHOR: hangup
    drop(phone); // OwnedFd's Drop calls close(fd): the phone comes off the wall.
                 // ANCHOR_END: hangup
    s.step(
        Who::You,
        "take the phone off the wall",
        &format!("close(fd {fd}), when the OwnedFd is dropped"),
    )?;
    // Compare with what the descriptor was: another thread may already have
    // reused the number for something else, but never for our socket.
    let gone = kernel::fd_target(fd) != target;
    s.step(
        Who::Exchange,
        "that line no longer exists",
        &format!(
            "/proc/self/fd/{fd}: {}",
            if gone {
                "no longer our socket"
            } else {
                "STILL OPEN (a leak!)"
            }
        ),
    )?;
    Ok(())
}

/// The kernel says this is not the phone the chapter asks for: say so in one
/// line and stop, rather than narrate on as if it were. The self-check names
/// the mistake and the fix.
fn not_this_phone(what: &str) -> SceneError {
    SceneError::Unexpected(format!(
        "{what}. `cargo run -- check 1` explains what to change."
    ))
}
