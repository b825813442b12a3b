//! Chapter 10 (The intercom): solution, starter, wrong answers, transcript,
//! the `--listen` service, and callers nobody here wrote (`socat`, `nc -U`,
//! Python).
//!
//! Every check here is followed by the same question: is every private
//! folder the check made gone, with its socket files? (`run` below.)

use ch10_intercom::folder::{self, Folder};
use ch10_intercom::{chapter, check, scene, service};
use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::child::run_limited;
use dialtone_kit::scene::SceneError;
use nix::errno::Errno;
use nix::sys::socket::{
    accept, bind, connect, getsockname, getsockopt, listen, socket, sockopt, AddressFamily,
    Backlog, SockFlag, SockType, UnixAddr, UnixCredentials,
};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::support::{expect_mistake, expect_pass, expect_unfinished, play};

#[path = "../../solutions/10-intercom/answer.rs"]
mod solution;
#[path = "../../chapters/10-intercom/src/answer.rs"]
mod starter;

const SOLUTION: check::Answer = check::Answer {
    open_intercom: solution::open_intercom,
    answer_with_caller_id: solution::answer_with_caller_id,
    close_intercom: solution::close_intercom,
};

/// Not a test of the course: the caller that checks and scenes start in a
/// process of their own (as user nobody) runs this test alone
/// (`caller::TEST_NAME`). Run with the rest, it returns at once.
#[test]
fn the_callers_role() {
    ch10_intercom::caller::act_if_asked();
}

/// Not a test of the course: the `--listen` service's watcher, started by
/// `the_watcher_tidies_up_after_a_sigkill`, runs this test alone. Run with
/// the rest, it returns at once.
#[test]
fn the_watchers_role() {
    service::watch_if_asked();
}

/// The check, then the question every check must answer yes: is every
/// private folder it made gone, socket files and all?
fn run(answer: &check::Answer) -> Result<Passed, Failure> {
    let result = check::run(answer);
    let made = folder::made_on_this_thread();
    assert!(!made.is_empty(), "the check made no private folder");
    for dir in made {
        assert!(!dir.exists(), "{} was left behind", dir.display());
    }
    result
}

fn with_open(open_intercom: fn(&str) -> nix::Result<OwnedFd>) -> check::Answer {
    check::Answer {
        open_intercom,
        ..SOLUTION
    }
}

fn with_id(
    answer_with_caller_id: fn(&OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)>,
) -> check::Answer {
    check::Answer {
        answer_with_caller_id,
        ..SOLUTION
    }
}

fn with_close(close_intercom: fn(OwnedFd, &str) -> nix::Result<()>) -> check::Answer {
    check::Answer {
        close_intercom,
        ..SOLUTION
    }
}

/// Descriptors a wrong answer keeps (a leak, on purpose), held here so the
/// test process closes them at the end of the test that made them.
static KEPT: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

fn keep(fd: OwnedFd) {
    KEPT.lock().unwrap_or_else(|p| p.into_inner()).push(fd);
}

fn unix(kind: SockType, flags: SockFlag) -> nix::Result<OwnedFd> {
    socket(AddressFamily::Unix, kind, flags, None)
}

/// bind + listen at `name` on a new socket of `kind` and `flags`.
fn up(name: &UnixAddr, kind: SockType, flags: SockFlag) -> nix::Result<OwnedFd> {
    let fd = unix(kind, flags)?;
    bind(fd.as_raw_fd(), name)?;
    listen(&fd, Backlog::new(16)?)?;
    Ok(fd)
}

fn io(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(Errno::EIO as i32))
}

/// The reference answer passes every step of the self-check.
#[test]
fn solution_passes() {
    let passed = expect_pass(run(&SOLUTION));
    assert_eq!(passed.0.len(), 6, "{:?}", passed.0);
    // As root (as here and in CI) the caller is user nobody.
    if ch10_intercom::caller::my_uid() == 0 {
        assert!(passed.0[4].contains("uid 65534"), "{:?}", passed.0);
    }
}

/// Any correct answer passes: std's UnixListener, which does the same
/// calls (with close-on-exec), after the same ring-first test.
#[test]
fn an_answer_with_std_passes() {
    fn with_std(path: &str) -> nix::Result<OwnedFd> {
        use std::os::unix::net::{UnixListener, UnixStream};
        // std says a path too long for sun_path with InvalidInput, no errno.
        if path.len() >= check::SUN_PATH {
            return Err(Errno::ENAMETOOLONG);
        }
        match UnixStream::connect(path) {
            Ok(_) => return Err(Errno::EADDRINUSE),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                std::fs::remove_file(path).map_err(io)?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        Ok(UnixListener::bind(path).map_err(io)?.into())
    }
    expect_pass(run(&with_open(with_std)));
}

/// The starter, untouched, fails by pointing at its first todo!() and its hint.
#[test]
fn starter_fails_with_its_hint() {
    let starter = check::Answer {
        open_intercom: starter::open_intercom,
        answer_with_caller_id: starter::answer_with_caller_id,
        close_intercom: starter::close_intercom,
    };
    expect_unfinished(run(&starter), chapter());
}

// ------------------------------------------------------------ open_intercom

/// Mistake: removing whatever is at the path, then binding.
#[test]
fn removing_the_file_blindly_is_caught() {
    fn blind(path: &str) -> nix::Result<OwnedFd> {
        let _ = std::fs::remove_file(path); // "clear out any stale file"
        up(&UnixAddr::new(path)?, SockType::Stream, SockFlag::empty())
    }
    let f = expect_mistake(run(&with_open(blind)), "ch10.took-the-line");
    assert!(f.got.contains("can no longer be called"), "{f}");
}

/// Mistake: binding without a thought for a stale file.
#[test]
fn leaving_a_stale_file_is_caught() {
    fn plain(path: &str) -> nix::Result<OwnedFd> {
        up(&UnixAddr::new(path)?, SockType::Stream, SockFlag::empty())
    }
    let f = expect_mistake(run(&with_open(plain)), "ch10.stale-file-left");
    assert!(f.got.contains("EADDRINUSE"), "{f}");
}

/// Mistake: unwrap() on the address, so a long path panics.
#[test]
fn panicking_on_a_long_path_is_caught() {
    fn unwraps(path: &str) -> nix::Result<OwnedFd> {
        let name = UnixAddr::new(path).expect("paths are short");
        solution::open_intercom(&name.path().expect("a path").display().to_string())
    }
    let f = expect_mistake(run(&with_open(unwraps)), "ch10.path-too-long");
    assert!(f.got.contains("a panic"), "{f}");
}

/// Mistake: cutting a long path down to size, which names another file.
#[test]
fn shortening_a_long_path_is_caught() {
    fn shortens(path: &str) -> nix::Result<OwnedFd> {
        solution::open_intercom(&path[..path.len().min(100)])
    }
    let f = expect_mistake(run(&with_open(shortens)), "ch10.path-too-long");
    assert!(f.got.starts_with("Ok(fd"), "{f}");
}

/// Mistake: bind() and no listen().
#[test]
fn not_listening_is_caught() {
    fn unlistened(path: &str) -> nix::Result<OwnedFd> {
        let fd = unix(SockType::Stream, SockFlag::empty())?;
        bind(fd.as_raw_fd(), &UnixAddr::new(path)?)?;
        Ok(fd)
    }
    expect_mistake(run(&with_open(unlistened)), "ch10.not-listening");
}

/// Mistake: a stream socket of the Internet family for a path.
#[test]
fn an_inet_socket_is_caught() {
    fn inet(path: &str) -> nix::Result<OwnedFd> {
        let probe = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )?;
        connect(probe.as_raw_fd(), &UnixAddr::new(path)?)?;
        Err(Errno::EADDRINUSE)
    }
    let f = expect_mistake(run(&with_open(inet)), "ch10.wrong-family");
    assert!(
        f.got.contains("EAFNOSUPPORT") || f.got.contains("EINVAL"),
        "{f}"
    );
}

/// Mistake: SOCK_SEQPACKET where the task says a stream.
#[test]
fn a_seqpacket_intercom_is_caught() {
    fn packets(path: &str) -> nix::Result<OwnedFd> {
        up(
            &UnixAddr::new(path)?,
            SockType::SeqPacket,
            SockFlag::empty(),
        )
    }
    let f = expect_mistake(run(&with_open(packets)), "ch10.wrong-type");
    assert!(f.got.contains("SOCK_SEQPACKET"), "{f}");
}

/// Mistake: a non-blocking intercom (SOCK_NONBLOCK).
#[test]
fn a_nonblocking_intercom_is_caught() {
    fn nonblocking(path: &str) -> nix::Result<OwnedFd> {
        up(
            &UnixAddr::new(path)?,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK,
        )
    }
    expect_mistake(run(&with_open(nonblocking)), "ch10.nonblocking");
}

/// Mistake: returning a dup of the intercom and keeping the original.
#[test]
fn a_second_descriptor_is_caught() {
    fn dups(path: &str) -> nix::Result<OwnedFd> {
        let fd = solution::open_intercom(path)?;
        let copy = fd.try_clone().map_err(io)?;
        keep(fd);
        Ok(copy)
    }
    let f = expect_mistake(run(&with_open(dups)), "ch10.extra-handset");
    assert!(f.got.starts_with("2 descriptors"), "{f}");
}

/// Mistake: an abstract name made of the path, instead of the path.
#[test]
fn an_abstract_name_for_a_path_is_caught() {
    fn abstract_name(path: &str) -> nix::Result<OwnedFd> {
        up(
            &UnixAddr::new_abstract(path.as_bytes())?,
            SockType::Stream,
            SockFlag::empty(),
        )
    }
    let f = expect_mistake(run(&with_open(abstract_name)), "ch10.wrong-name");
    assert!(f.got.contains("= @"), "{f}");
}

/// Mistake: an intercom put up twice, the first one returned: its name
/// is right but its file leads to the second.
#[test]
fn the_wrong_one_of_two_is_caught() {
    fn twice(path: &str) -> nix::Result<OwnedFd> {
        let first = solution::open_intercom(path)?;
        std::fs::remove_file(path).map_err(io)?;
        keep(solution::open_intercom(path)?);
        Ok(first)
    }
    expect_mistake(run(&with_open(twice)), "ch10.no-answer");
}

/// Mistake: a live server reported with another error than EADDRINUSE.
#[test]
fn the_wrong_error_for_a_live_server_is_caught() {
    fn exists(path: &str) -> nix::Result<OwnedFd> {
        match solution::open_intercom(path) {
            Err(Errno::EADDRINUSE) => Err(Errno::EEXIST),
            other => other,
        }
    }
    let f = expect_mistake(run(&with_open(exists)), "ch10.wrong-error");
    assert!(f.got.contains("EEXIST"), "{f}");
}

// ----------------------------------------------------- answer_with_caller_id

/// Mistake: SO_PEERCRED asked of the intercom, not of the call.
#[test]
fn caller_id_of_the_intercom_is_caught() {
    fn of_the_intercom(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)> {
        let call = accept(intercom)?;
        let id = getsockopt(intercom, sockopt::PeerCredentials)?;
        Ok((call, id))
    }
    let f = expect_mistake(run(&with_id(of_the_intercom)), "ch10.listener-id");
    assert!(f.expected.contains("uid 65534"), "{f}");
}

/// Mistake: your own ID (UnixCredentials::new() is the calling process's).
#[test]
fn your_own_id_is_caught() {
    fn mine(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)> {
        Ok((accept(intercom)?, UnixCredentials::new()))
    }
    expect_mistake(run(&with_id(mine)), "ch10.listener-id");
}

/// Mistake: the uid and gid read off the socket file's owner.
#[test]
fn the_file_owner_as_caller_id_is_caught() {
    fn owner(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)> {
        let call = accept(intercom)?;
        let pid = getsockopt(&call, sockopt::PeerCredentials)?.pid();
        let name: UnixAddr = getsockname(intercom.as_raw_fd())?;
        let file = std::fs::metadata(name.path().ok_or(Errno::EINVAL)?).map_err(io)?;
        let id = nix::libc::ucred {
            pid,
            uid: file.uid(),
            gid: file.gid(),
        };
        Ok((call, id.into()))
    }
    let f = expect_mistake(run(&with_id(owner)), "ch10.file-owner");
    assert!(f.got.contains("uid 0, gid 0"), "{f}");
}

/// Mistake: the intercom handed back in place of the call.
#[test]
fn returning_the_intercom_is_caught() {
    fn wall(intercom: &OwnedFd) -> nix::Result<(OwnedFd, UnixCredentials)> {
        let call = accept(intercom)?;
        let id = getsockopt(&call, sockopt::PeerCredentials)?;
        Ok((intercom.try_clone().map_err(io)?, id))
    }
    expect_mistake(run(&with_id(wall)), "ch10.returned-the-intercom");
}

// ------------------------------------------------------------ close_intercom

/// Mistake: closing, and leaving the socket file for the next one to trip on.
#[test]
fn leaving_the_file_behind_is_caught() {
    fn closes(intercom: OwnedFd, _path: &str) -> nix::Result<()> {
        drop(intercom);
        Ok(())
    }
    expect_mistake(run(&with_close(closes)), "ch10.file-left-behind");
}

/// Mistake: removing the file and keeping the intercom open.
#[test]
fn keeping_the_intercom_open_is_caught() {
    fn removes(intercom: OwnedFd, path: &str) -> nix::Result<()> {
        std::fs::remove_file(path).map_err(io)?;
        keep(intercom);
        Ok(())
    }
    expect_mistake(run(&with_close(removes)), "ch10.still-switched-on");
}

// ------------------------------------------------------------ the scene

/// The scene with the folder's name, and this process's abstract name,
/// as the snapshot (and the page) write them.
fn played(answer: &check::Answer) -> (crate::support::Transcript, Result<(), SceneError>) {
    let (text, result) = play(chapter(), |s| scene::play(s, answer, &[]));
    let pid = std::process::id();
    let text = text.replace(
        &format!("dialtone-intercom-{pid}"),
        "dialtone-intercom-[PID]",
    );
    (text, result)
}

/// The scene, played with the reference answer: the book shows this snapshot.
#[test]
fn transcript() {
    let (text, result) = played(&SOLUTION);
    result.expect("the scene plays to the end with the reference answer");
    for needle in [
        "$DIR/intercom) = EADDRINUSE (Address already in use)",
        "connect($DIR/intercom) = ECONNREFUSED",
        "= ENAMETOOLONG",
        "connect($DIR/intercom) = ENOENT",
        "connect($DIR/intercom) = EACCES",
        "uid 65534, gid 65534",
        "the process that dialled, as the kernel noted it",
        "statx($DIR/intercom) = ENOENT",
        "\"onetwothree\"",
        "3 \"one\", then 3 \"two\", then 5 \"three\"",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(
        !text.contains("/tmp"),
        "the folder's real name leaked:\n{text}"
    );
    crate::assert_transcript!("ch10-transcript", text);
}

/// The scene with the starter stops at open_intercom() with one friendly paragraph.
#[test]
fn starter_scene_stops_with_a_friendly_paragraph() {
    let starter = check::Answer {
        open_intercom: starter::open_intercom,
        answer_with_caller_id: starter::answer_with_caller_id,
        close_intercom: starter::close_intercom,
    };
    let (text, result) = played(&starter);
    let err = result.expect_err("the starter can't finish the scene");
    assert!(!text.contains("open_intercom($DIR/intercom) ="), "{text}");
    crate::assert_transcript!("ch10-starter", err.as_printed(80));
}

// ------------------------------------------------ --listen: the real service

/// Bad arguments get one usage line naming the flag's form.
#[test]
fn nonsense_arguments_get_a_usage_line() {
    for bad in [&["--lisen"][..], &["--listen", "a", "b"], &["x"]] {
        let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        match scene::parse(&args) {
            Err(SceneError::Usage(line)) => assert!(
                line.contains("--listen [PATH]") && !line.contains('\n'),
                "{line}"
            ),
            other => panic!("{bad:?}: expected a usage line, got {other:?}"),
        }
    }
    let parsed = |v: &[&str]| scene::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert!(matches!(parsed(&[]), Ok(None)));
    assert!(matches!(parsed(&["--listen"]), Ok(Some(None))));
    assert!(matches!(parsed(&["--listen", "x.sock"]), Ok(Some(Some(p))) if p == "x.sock"));
}

/// A path where a server answers, a path too long, a folder that isn't
/// there: each is one line saying what to do, and nothing is removed.
#[test]
fn a_refused_path_is_one_line() {
    let dir = Folder::new().expect("a private folder");
    let busy = dir.name("busy");
    let _server = up(
        &UnixAddr::new(busy.as_str()).unwrap(),
        SockType::Stream,
        SockFlag::empty(),
    )
    .unwrap();
    let long = format!("{}/{}", dir.path().display(), "y".repeat(120));
    let missing = dir.name("no/such/folder");
    for (path, says) in [
        (busy.as_str(), "A running server answers"),
        (long.as_str(), "use a shorter PATH"),
        (missing.as_str(), "make it first"),
    ] {
        let err = service::open(&SOLUTION, path, None).expect_err("refused");
        let line = err.to_string();
        assert!(line.contains(says) && !line.contains('\n'), "{line}");
    }
    assert!(
        std::path::Path::new(&busy).exists(),
        "the server's file stays"
    );
}

/// A bare --listen's folder, and its socket file, go when the service
/// stops; a file someone else put in its place is left alone.
#[test]
fn the_service_tidies_up_only_its_own() {
    let (folder, path) = service::default_place().expect("a private folder");
    let dir = folder.path().to_path_buf();
    let (intercom, tidy) = service::open(&SOLUTION, &path, Some(folder)).expect("a free name");
    assert!(std::path::Path::new(&path).exists());
    drop(intercom);
    drop(tidy);
    assert!(!dir.exists(), "{} was left behind", dir.display());

    let mine = Folder::new().expect("a private folder");
    let path = mine.name("intercom");
    let (intercom, mut tidy) = service::open(&SOLUTION, &path, None).expect("a free name");
    drop(intercom);
    std::fs::remove_file(&path).unwrap();
    let theirs = up(
        &UnixAddr::new(path.as_str()).unwrap(),
        SockType::Stream,
        SockFlag::empty(),
    )
    .unwrap();
    tidy.now();
    assert!(
        std::path::Path::new(&path).exists(),
        "someone else's file stays"
    );
    drop(theirs);
}

/// A service killed with SIGKILL runs no code: its watcher, in a process of
/// its own, sees the pipe close and removes the socket file.
#[test]
fn the_watcher_tidies_up_after_a_sigkill() {
    let mine = Folder::new().expect("a private folder");
    let path = mine.name("intercom");
    let (intercom, tidy) = service::open(&SOLUTION, &path, None).expect("a free name");
    let watcher = tidy.watched().expect("the watcher starts");
    // As if SIGKILLed: the service's own tidying never runs.
    std::mem::forget(tidy);
    drop(intercom);
    assert!(std::path::Path::new(&path).exists());
    let status = watcher.finish().expect("the watcher ends");
    assert!(status.success(), "{status}");
    assert!(
        !std::path::Path::new(&path).exists(),
        "the socket file stays"
    );
}

/// The service, up in this process for `calls` callers at a fresh path.
struct Running {
    path: String,
    log: std::sync::mpsc::Receiver<String>,
    _folder: Folder,
    done: std::thread::JoinHandle<Result<(), SceneError>>,
}

fn start_service(calls: usize) -> Running {
    let folder = Folder::new().expect("a private folder");
    let path = folder.name("intercom");
    let (intercom, tidy) = service::open(&SOLUTION, &path, None).expect("a free name");
    let (tx, log) = std::sync::mpsc::channel();
    let done = std::thread::spawn(move || {
        let _tidy = tidy;
        service::serve(&SOLUTION, intercom, calls, move |line| {
            let _ = tx.send(line);
        })
    });
    Running {
        path,
        log,
        _folder: folder,
        done,
    }
}

impl Running {
    fn finish(self) -> Vec<String> {
        let lines: Vec<String> = self.log.iter().collect();
        self.done
            .join()
            .expect("the service thread doesn't panic")
            .expect("the service ends after its callers");
        assert!(
            !std::path::Path::new(&self.path).exists(),
            "the socket file stays"
        );
        lines
    }
}

/// What a caller hears first: the greeting, with uid 0 (the tests run as root).
fn greeted(heard: &[u8]) -> bool {
    let text = String::from_utf8_lossy(heard);
    text.starts_with("Intercom: the kernel says you are pid ")
        && text.lines().next().is_some_and(|l| l.contains(", uid "))
}

/// Finds `name` on PATH. Missing: a failure under CI (which installs it), a
/// note otherwise.
fn tool(name: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let advice = format!("install the Debian package {package} (apt-get install {package})");
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed: CI must run this real-world test; {advice}"
        );
        eprintln!("note: {name} is not installed, so this real-world test is skipped; {advice}");
    }
    found
}

const TOOL_LIMIT: Duration = Duration::from_secs(20);

fn heard_from(command: &mut Command, input: &[u8]) -> Vec<u8> {
    let ran = run_limited(command, input, TOOL_LIMIT).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        ran.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    ran.stdout
}

/// socat, exactly as the service prints it: greeted, then every byte back.
#[test]
fn socat_is_answered() {
    let Some(socat) = tool("socat", "socat") else {
        return;
    };
    let service = start_service(1);
    let garbage: Vec<u8> = (0..1024u32).map(|i| (255 - i % 256) as u8).collect();
    let heard = heard_from(
        Command::new(socat).args(["-t", "5", "-", &format!("UNIX-CONNECT:{}", service.path)]),
        &garbage,
    );
    assert!(greeted(&heard), "{}", String::from_utf8_lossy(&heard));
    assert!(heard.ends_with(&garbage));
    let log = service.finish();
    assert!(
        log[0].ends_with("echoed 1024 bytes; the caller hung up"),
        "{log:?}"
    );
}

/// OpenBSD's nc with -U (a Unix path) and -N (say "that's all" at the end).
#[test]
fn nc_is_answered() {
    let Some(nc) = tool("nc", "netcat-openbsd") else {
        return;
    };
    let service = start_service(1);
    let heard = heard_from(
        Command::new(nc).args(["-U", "-N", &service.path]),
        b"hello from nc\n",
    );
    assert!(greeted(&heard), "{}", String::from_utf8_lossy(&heard));
    assert!(heard.ends_with(b"\nhello from nc\n"));
    let log = service.finish();
    assert!(
        log[0].ends_with("echoed 14 bytes; the caller hung up"),
        "{log:?}"
    );
}

/// Python: the one-liner the service prints, and one that reads its own
/// SO_PEERCRED from the other side (the service's pid is this process).
#[test]
fn python_is_answered() {
    let Some(python) = tool("python3", "python3") else {
        return;
    };
    let service = start_service(2);
    let one_liner = service::try_it(&service.path)[2].clone();
    let script = one_liner
        .strip_prefix("python3 -c \"")
        .and_then(|s| s.strip_suffix('"'))
        .expect("the one-liner is python3 -c \"...\"");
    let heard = heard_from(Command::new(&python).args(["-c", script]), b"");
    assert!(greeted(&heard), "{}", String::from_utf8_lossy(&heard));
    assert!(heard.ends_with(b"\nhello\n"));
    let peer = format!(
        "import socket, struct\n\
         s = socket.socket(socket.AF_UNIX); s.connect('{}')\n\
         pid, uid, gid = struct.unpack('3i', s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))\n\
         print(pid)\n",
        service.path
    );
    let heard = heard_from(Command::new(&python).args(["-c", &peer]), b"");
    assert_eq!(
        String::from_utf8_lossy(&heard).trim(),
        std::process::id().to_string(),
        "the service's SO_PEERCRED, seen from Python, is this process"
    );
    let log = service.finish();
    assert_eq!(log.len(), 2, "{log:?}");
}
