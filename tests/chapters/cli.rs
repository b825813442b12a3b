//! The chapter binaries' command lines, run for real: `--help` on every one,
//! and every bad input a learner is likely to type.
//!
//! The binaries are built once, with the reference answers (`--features
//! solution`: the starters would stop at their `todo!()`), into a target
//! folder of their own under this suite's scratch space, so the build never
//! waits on (or rebuilds) the suite's own. Every run is killed and reaped if
//! it outlives its limit.

use dialtone_kit::child::run_limited;
use dialtone_kit::course::{self, Chapter};
use nix::sys::socket::{bind, listen, Backlog, SockaddrIn};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Long enough for a cold build of nix, the kit and eight chapters.
const BUILD_LIMIT: Duration = Duration::from_secs(900);
/// A bad argument is refused before any socket: this is generous.
const RUN_LIMIT: Duration = Duration::from_secs(20);

/// What a finished run left behind.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `command` with an empty stdin, under `limit` (killed and reaped after).
fn run(command: &mut Command, limit: Duration) -> Result<Run, String> {
    let out = run_limited(command.env_remove("RUST_BACKTRACE"), b"", limit)?;
    Ok(Run {
        code: out.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The folder holding the eight chapter binaries, built with their solutions.
fn binaries() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-target");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("build")
            .arg("--quiet")
            .arg("--target-dir")
            .arg(&target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        for c in &course::course().chapters {
            let name = c.crate_name();
            build.args(["-p", &name, "--features", &format!("{name}/solution")]);
        }
        let built = run(&mut build, BUILD_LIMIT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            built.code,
            Some(0),
            "building the chapter binaries failed:\n{}",
            built.stderr
        );
        target.join("debug")
    })
}

/// Runs chapter `number`'s binary (reference answer) with `args`.
fn chapter_bin(number: u32, args: &[&str]) -> Run {
    let chapter = chapter(number);
    let path = binaries().join(chapter.crate_name());
    run(Command::new(&path).args(args), RUN_LIMIT).unwrap_or_else(|e| panic!("{e}"))
}

fn chapter(number: u32) -> &'static Chapter {
    course::course()
        .chapter(number)
        .unwrap_or_else(|| panic!("course.toml has no chapter {number}"))
}

/// The flag chapter `number`'s binary takes, if any, from the chapter itself.
fn flag(number: u32) -> Option<&'static str> {
    match number {
        4 => Some(ch04_dial::scene::TO.name),
        5 => Some(ch05_pick_up::scene::LISTEN.name),
        8 => Some(ch08_answering_service::scene::LISTEN.name),
        9 => Some(ch09_postcards::scene::LISTEN.name),
        _ => None,
    }
}

/// Neither stream may show a panic or its backtrace advice.
fn no_panic(run: &Run, what: &str) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "{what}: {name} shows a panic:\n{text}"
        );
    }
}

/// The run failed with `code`, nothing on stdout, and exactly one line on
/// stderr that contains every one of `says` (what happened, what to do).
fn one_line(run: &Run, code: i32, says: &[&str], what: &str) {
    no_panic(run, what);
    let shown = format!(
        "{what}\n--- exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    assert_eq!(run.code, Some(code), "exit status: {shown}");
    assert!(run.stdout.is_empty(), "nothing belongs on stdout: {shown}");
    assert!(
        run.stderr.ends_with('\n') && run.stderr.lines().count() == 1,
        "stderr must be exactly one line: {shown}"
    );
    assert!(
        !run.stderr.trim().is_empty(),
        "the line must say something: {shown}"
    );
    for words in says {
        assert!(run.stderr.contains(words), "expected {words:?}: {shown}");
    }
}

/// A socket with a kernel-chosen number on 127.0.0.1 (port 0, then
/// getsockname); switched on if `listening`. Keep it alive to keep the number.
fn numbered_phone(listening: bool) -> (OwnedFd, u16) {
    let phone = dialtone_kit::party::new_phone().expect("a socket for the test");
    bind(phone.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).expect("port 0 is always free");
    if listening {
        listen(&phone, Backlog::new(1).expect("1 is a valid backlog")).expect("listen");
    }
    let number = dialtone_kit::kernel::own_number(&phone).expect("getsockname on our socket");
    (phone, number.port())
}

/// `--help` and `-h` print the same usage on stdout and exit 0, on every
/// binary; all eight are one snapshot.
#[test]
fn help_on_every_binary() {
    let mut all = String::new();
    for c in &course::course().chapters {
        let help = chapter_bin(c.number, &["--help"]);
        let what = format!("{} --help", c.crate_name());
        no_panic(&help, &what);
        assert_eq!(help.code, Some(0), "{what}: {}", help.stderr);
        assert!(help.stderr.is_empty(), "{what}: {}", help.stderr);
        assert!(
            help.stdout
                .contains(&format!("cargo run -p {}", c.crate_name())),
            "{what}: {}",
            help.stdout
        );
        if let Some(flag) = flag(c.number) {
            assert!(help.stdout.contains(&format!("{flag} HOST:PORT")), "{what}");
        }
        for line in help.stdout.lines() {
            let columns = line.chars().count();
            assert!(columns <= 80, "{what}: {columns} columns: {line}");
        }
        let short = chapter_bin(c.number, &["-h"]);
        assert_eq!(
            short.code,
            Some(0),
            "{} -h: {}",
            c.crate_name(),
            short.stderr
        );
        assert_eq!(short.stdout, help.stdout, "-h and --help must agree");
        all.push_str(&format!("$ {} --help\n{}\n", c.crate_name(), help.stdout));
    }
    insta::with_settings!({
        omit_expression => true,
        prepend_module_to_snapshot => false,
        snapshot_path => "snapshots",
    }, {
        insta::assert_snapshot!("cli-help", all);
    });
}

/// An unknown flag: one line, exit 2 (a usage error), pointing at --help.
#[test]
fn an_unknown_flag_is_one_usage_line_on_every_binary() {
    for c in &course::course().chapters {
        let what = format!("{} --bogus", c.crate_name());
        let run = chapter_bin(c.number, &["--bogus"]);
        one_line(&run, 2, &["\"--bogus\"", "Usage: ", "--help"], &what);
        if flag(c.number).is_none() {
            one_line(&run, 2, &["takes no arguments", "cargo run -p"], &what);
        }
    }
}

/// An argument that isn't even UTF-8 is still one usage line, not a panic.
#[test]
fn a_non_utf8_argument_is_one_usage_line() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let garbage = OsStr::from_bytes(b"--to\xff");
    for number in [1, 4] {
        let bin = binaries().join(chapter(number).crate_name());
        let run = run(Command::new(&bin).arg(garbage), RUN_LIMIT).unwrap_or_else(|e| panic!("{e}"));
        one_line(
            &run,
            2,
            &["Usage: ", "--help"],
            &format!("{bin:?} --to\\xff"),
        );
    }
}

/// A value that isn't HOST:PORT, a port past 65535, a flag without its
/// value, one argument too many: each a usage line naming the flag's form.
#[test]
fn malformed_addresses_are_one_usage_line() {
    for number in [4, 5, 8, 9] {
        let flag = flag(number).expect("chapters 4, 5 and 8 take a flag");
        let form = format!("{flag} HOST:PORT");
        let bin = chapter(number).crate_name();
        let mut cases = vec![
            (vec![flag, "nonsense"], "a colon before the port"),
            (vec![flag, "127.0.0.1:99999"], "not a port number"),
            (vec![flag, "127.0.0.1:0", "extra"], "\"extra\""),
            (vec![flag, "999.0.0.1:5000"], "not an IPv4 number"),
        ];
        // Chapters 8 and 9 take a bare --listen (127.0.0.1, any port) and
        // would start serving; the others need the value.
        if number != 8 && number != 9 {
            cases.push((vec![flag], "needs a HOST:PORT"));
        }
        for (args, says) in cases {
            let what = format!("{bin} {}", args.join(" "));
            one_line(&chapter_bin(number, &args), 2, &[says, &form], &what);
        }
    }
}

/// `--to` a number whose phone is not switched on: the exchange refuses,
/// and the one line says to start a listener first.
#[test]
fn dialling_a_number_nobody_answers_is_one_line() {
    // Bound but not listening: the number is ours, and the kernel refuses calls to it.
    let (_held, port) = numbered_phone(false);
    let to = format!("127.0.0.1:{port}");
    let run = chapter_bin(4, &["--to", &to]);
    one_line(
        &run,
        1,
        &["ECONNREFUSED", "start the listener first", &to],
        &format!("ch04-dial --to {to}"),
    );
}

/// `--listen` on a number another phone already has: EADDRINUSE, and what to do.
#[test]
fn listening_on_a_taken_number_is_one_line() {
    let (_held, port) = numbered_phone(true);
    let at = format!("127.0.0.1:{port}");
    for number in [5, 8] {
        let run = chapter_bin(number, &["--listen", &at]);
        let what = format!("{} --listen {at}", chapter(number).crate_name());
        one_line(&run, 1, &["EADDRINUSE", "pick another port", &at], &what);
    }
}

/// `--listen` on an address that isn't this machine's: EADDRNOTAVAIL, and
/// the line says to use 127.0.0.1.
#[test]
fn listening_on_someone_elses_address_is_one_line() {
    const ELSEWHERE: &str = "10.255.255.1:0";
    let probe = dialtone_kit::party::new_phone().expect("a socket for the test");
    if bind(probe.as_raw_fd(), &SockaddrIn::new(10, 255, 255, 1, 0)).is_ok() {
        eprintln!("note: this machine owns 10.255.255.1, so the EADDRNOTAVAIL test is skipped");
        return;
    }
    for number in [5, 8] {
        let run = chapter_bin(number, &["--listen", ELSEWHERE]);
        let what = format!("{} --listen {ELSEWHERE}", chapter(number).crate_name());
        one_line(
            &run,
            1,
            &[
                "EADDRNOTAVAIL",
                "isn't one of this machine's",
                "use 127.0.0.1",
            ],
            &what,
        );
    }
}

/// A pasted 100 kB argument is quoted back cut to a readable length, with
/// how much was left out, whichever binary and whichever place it is in.
#[test]
fn a_huge_argument_is_cut_in_the_line() {
    let huge = "x".repeat(100_000);
    let with_colon = format!("{huge}:1");
    for (number, args) in [
        (1, vec![huge.as_str()]),
        (4, vec!["--to", huge.as_str()]),
        (4, vec!["--to", "127.0.0.1:1", huge.as_str()]),
        (5, vec!["--listen", with_colon.as_str()]),
    ] {
        let what = format!("chapter {number} with a 100 kB argument");
        let run = chapter_bin(number, &args);
        one_line(&run, 2, &["more bytes)", "Usage: "], &what);
        assert!(run.stderr.len() < 400, "{what}: {} bytes", run.stderr.len());
    }
}

/// A port is digits only: `+80` is not port 80.
#[test]
fn a_port_with_a_sign_is_refused() {
    for (number, flag) in [(4, "--to"), (5, "--listen"), (8, "--listen")] {
        let run = chapter_bin(number, &[flag, "127.0.0.1:+80"]);
        let what = format!("chapter {number} {flag} 127.0.0.1:+80");
        one_line(&run, 2, &["\"+80\" is not a port number"], &what);
    }
}

/// One rule for every `--listen`: a port alone means 127.0.0.1:PORT. (The
/// number is taken, so the binary gets as far as bind() and says so.)
#[test]
fn a_bare_port_means_loopback_on_every_listener() {
    let (_held, port) = numbered_phone(true);
    for number in [5, 8] {
        let run = chapter_bin(number, &["--listen", &port.to_string()]);
        let what = format!("{} --listen {port}", chapter(number).crate_name());
        let at = format!("127.0.0.1:{port}");
        one_line(&run, 1, &["EADDRINUSE", &at], &what);
    }
}

/// `--listen` beyond loopback warns, the same words from every binary. The
/// number is already taken on 127.0.0.1, so bind() fails and nothing ever
/// listens beyond loopback: the warning comes first, then the refusal.
#[test]
fn listening_beyond_loopback_warns_on_every_listener() {
    let (_held, port) = numbered_phone(true);
    let everywhere = format!("0.0.0.0:{port}");
    for number in [5, 8] {
        let run = chapter_bin(number, &["--listen", &everywhere]);
        let what = format!("{} --listen {everywhere}", chapter(number).crate_name());
        no_panic(&run, &what);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(run.code, Some(1), "{what}: {}", run.stderr);
        assert_eq!(
            lines.len(),
            2,
            "{what}: a warning, then the refusal:\n{}",
            run.stderr
        );
        assert!(
            lines[0].starts_with("warning: listening on 0.0.0.0")
                && lines[0].contains("anyone who can reach this machine there can call"),
            "{what}: {}",
            lines[0]
        );
        assert!(lines[1].contains("EADDRINUSE"), "{what}: {}", lines[1]);
    }
}

/// Every binary takes `--hold`; with the end of input on stdin each hold
/// goes on at once, so the scene plays to its end.
#[test]
fn hold_is_taken_by_every_binary() {
    for c in &course::course().chapters {
        let run = chapter_bin(c.number, &["--hold"]);
        let what = format!("{} --hold", c.crate_name());
        no_panic(&run, &what);
        assert_eq!(run.code, Some(0), "{what}: {}", run.stderr);
        let heading = format!("Chapter {}: ", c.number);
        assert!(run.stdout.starts_with(&heading), "{what}: {}", run.stdout);
        assert!(
            run.stdout.contains("Lesson: "),
            "{what} stopped early: {}",
            run.stdout
        );
    }
}
