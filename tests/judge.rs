//! The judge runs apart from the judged: answers that attack the check
//! itself (exit early, forge a pass, leave a process running, hog memory,
//! panic) each get their own verdict, the same from the learner's `cargo
//! test -p ch01-install-phone` and from the operator's `check 1`, and leave
//! no process of theirs behind.
//!
//! Each case writes a learner file into a scratch copy of the course (the
//! operator suite's fixtures) and runs both paths for real.
#![forbid(unsafe_code)]

#[path = "operator/support.rs"]
#[allow(dead_code)]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::Fixture;

const LEARNER_1: &str = "chapters/01-install-phone/src/answer.rs";
const SOLUTION_1: &str = "solutions/01-install-phone/answer.rs";
/// A `sleep` the learner's code starts sleeps this long: a number nothing
/// else on the machine is likely to sleep for, so /proc shows whether it's
/// still there.
const STRAY_SECS: &str = "3517";

/// A learner file for chapter 1 whose `install_phone` has `body`.
fn answer(body: &str) -> String {
    format!(
        "#![allow(unused_imports)]\n\
         use nix::sys::socket::{{socket, AddressFamily, SockFlag, SockType}};\n\
         use std::os::fd::OwnedFd;\n\
         use std::os::unix::process::CommandExt;\n\n\
         pub fn install_phone() -> nix::Result<OwnedFd> {{\n{body}\n}}\n"
    )
}

/// What a verdict from one path said.
struct Seen {
    code: Option<i32>,
    text: String,
    /// How long the check itself took (the operator: from the end of the
    /// compile to the verdict; cargo: the test binary's own figure).
    check_time: Duration,
    /// The learner's processes still running right after.
    left: Vec<String>,
}

/// `check 1` through the operator (its fast path: a generated driver).
fn by_operator(fx: &Fixture, ch: &Ch) -> Seen {
    let run = fx.run_env(&["check", ch.number], &[("DIALTONE_TRACE", "1")]);
    let at = |stage: &str| {
        run.stderr
            .lines()
            .rev()
            .filter(|l| l.ends_with(stage))
            .find_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
    };
    let check_time = match (at("compile: end"), at("check binary: end")) {
        (Some(a), Some(b)) => Duration::from_secs_f64((b - a).max(0.0) / 1000.0),
        _ => run.elapsed,
    };
    Seen {
        code: run.code,
        text: run.stdout,
        check_time,
        left: learner_processes(fx, false),
    }
}

/// `cargo test -p chNN-...` in the fixture, as a learner types it.
fn by_cargo_test(fx: &Fixture, ch: &Ch) -> Seen {
    let (_turn, target) = support::own_build_target();
    // Cargo knows a fixture's crates by their place in the workspace, not by
    // the fixture's folder, and rebuilds by modification time: save the
    // learner file again (as an editor would) so this fixture's answer is
    // newer than whatever the shared target folder built last.
    let learner = fx.read(ch.learner);
    fx.write(ch.learner, &learner);
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&fx.root)
        .args(["test", "-q", "-p", ch.krate, "--test", "self_check"])
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let ran = dialtone_kit::child::run_limited(&mut cmd, b"", Duration::from_secs(600))
        .unwrap_or_else(|why| panic!("cargo test gave no result: {why}"));
    let text =
        String::from_utf8_lossy(&ran.stdout).into_owned() + &String::from_utf8_lossy(&ran.stderr);
    // libtest's own figure: "finished in 0.04s".
    let check_time = text
        .split("finished in ")
        .nth(1)
        .and_then(|t| t.split('s').next()?.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::MAX);
    Seen {
        code: ran.code(),
        text,
        check_time,
        // Looked for while it's still our turn: the next fixture's host
        // would be the same program.
        left: learner_processes(fx, true),
    }
}

/// Processes of the learner's still running: the chapter binary as a host,
/// the operator's driver, or the `sleep` a case started.
/// With `cargo`, programs in the shared cargo target folder count too
/// (look only while it's our turn with it).
fn learner_processes(fx: &Fixture, cargo: bool) -> Vec<String> {
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let exe = std::fs::read_link(entry.path().join("exe")).unwrap_or_default();
        let ours = args.iter().any(|a| a == STRAY_SECS)
            || exe.starts_with(fx.root.join(".dialtone"))
            || (cargo && exe.starts_with(support::fixtures_dir().join("target-own-build/debug")));
        if ours {
            left.push(format!("{}: {}", entry.path().display(), args.join(" ")));
        }
    }
    left
}

/// The chapter a case is about.
struct Ch {
    number: &'static str,
    krate: &'static str,
    learner: &'static str,
}

const CH01: Ch = Ch {
    number: "1",
    krate: "ch01-install-phone",
    learner: LEARNER_1,
};

/// Runs `body` as the learner's `install_phone` both ways and checks that
/// each gave `verdict` (or passed, for "passes") within `within`.
fn judged(case: &str, body: &str, verdict: &str, within: Duration) {
    judged_file(&CH01, case, &answer(body), verdict, within);
}

/// One case at a time: each looks for leftover learner processes on the whole
/// machine, and the stray case's `sleep` is meant to be seen only by its own.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn judged_file(ch: &Ch, case: &str, learner: &str, verdict: &str, within: Duration) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let fx = Fixture::new(&format!("judge-{case}"));
    fx.write(ch.learner, learner);
    for (path, seen) in [
        (
            format!("cargo run -- check {}", ch.number),
            by_operator(&fx, ch),
        ),
        (
            format!("cargo test -p {}", ch.krate),
            by_cargo_test(&fx, ch),
        ),
    ] {
        let passed = verdict == "passes";
        assert_eq!(
            seen.code == Some(0),
            passed,
            "{case}: {path} exit code {:?}\n{}",
            seen.code,
            seen.text
        );
        let shown = match (passed, path.starts_with("cargo test")) {
            (true, true) => "test result: ok. 1 passed".to_string(),
            (true, false) => "passes the self-check".to_string(),
            (false, _) => verdict.to_string(),
        };
        // Verdicts wrap to the terminal's width: compare words, not lines.
        let words = seen.text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains(&shown),
            "{case}: {path} should say {shown:?}:\n{}",
            seen.text
        );
        if path.starts_with("cargo test") {
            let result = if passed {
                "test result: ok"
            } else {
                "test result: FAILED"
            };
            assert!(seen.text.contains(result), "{case}: {}", seen.text);
        }
        // Shown with --nocapture: the figures for the report.
        println!("{case}: {path}: check took {:?}", seen.check_time);
        assert!(
            seen.check_time <= within,
            "{case}: {path} took {:?} (allowed {within:?})",
            seen.check_time
        );
        assert!(seen.left.is_empty(), "{case}: {path} left {:?}", seen.left);
    }
    fx.assert_clean();
    assert_nothing_of_the_learners_left(&fx, case);
}

/// No socket file in the learner's tree, and no process anywhere holding a
/// descriptor on a file in it (the learner's process and everything it
/// started are gone, so are their descriptors).
fn assert_nothing_of_the_learners_left(fx: &Fixture, case: &str) {
    use std::os::unix::fs::FileTypeExt;
    fn sockets(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_socket() {
                found.push(entry.path());
            } else if kind.is_dir() && entry.file_name() != "target" {
                sockets(&entry.path(), found);
            }
        }
    }
    let mut found = Vec::new();
    sockets(&fx.root, &mut found);
    assert!(found.is_empty(), "{case}: socket files left: {found:?}");
    let mut held = Vec::new();
    for proc in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        for fd in std::fs::read_dir(proc.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if std::fs::read_link(fd.path()).is_ok_and(|p| p.starts_with(&fx.root)) {
                held.push(fd.path());
            }
        }
    }
    assert!(held.is_empty(), "{case}: descriptors still open: {held:?}");
}

/// The chapter's promise: any verdict within its timeout (4 s), plus the
/// start and stop of the learner's process.
fn in_time() -> Duration {
    Duration::from_secs(5)
}

#[test]
fn the_reference_answer_passes_through_the_judge() {
    let solution =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SOLUTION_1))
            .expect("the reference answer is there");
    judged_file(&CH01, "solution", &solution, "passes", in_time());
}

#[test]
fn exit_zero_is_not_a_pass() {
    judged(
        "exit0",
        "    std::process::exit(0)",
        "judge.exited",
        in_time(),
    );
}

#[test]
fn exit_three_names_the_call_and_the_status() {
    judged(
        "exit3",
        "    std::process::exit(3)",
        "(exit status 3) inside install_phone()",
        in_time(),
    );
}

/// Everything an answer could think of to write "passed" where the operator
/// or libtest would read it: stdout (libtest's lines, the verdict formats),
/// every descriptor of itself, its parent and grandparent, every path in
/// their command lines. Then it leaves before the check can look.
#[test]
fn a_forged_verdict_is_not_a_pass() {
    let body = r##"
    let forged = "passed\t\nsaw\tforged\n";
    let json = r#"{"outcome":"passed","saw":["forged"]}"#;
    println!("test your_phone_is_an_unnumbered_ipv4_stream_socket ... ok");
    println!("test result: ok. 1 passed; 0 failed; 0 ignored");
    println!("{json}");
    println!("✓ Chapter 1 (Install a phone): your answer passes the self-check.");
    let mut pids = vec![std::process::id(), std::os::unix::process::parent_id()];
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pids[1])).unwrap_or_default();
    if let Some(ppid) = stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)) {
        pids.extend(ppid.parse::<u32>().ok());
    }
    for pid in pids {
        for fd in 0..32 {
            let _ = std::fs::write(format!("/proc/{pid}/fd/{fd}"), json);
            let _ = std::fs::write(format!("/proc/{pid}/fd/{fd}"), forged);
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        for arg in cmdline.split(|b| *b == 0) {
            let arg = String::from_utf8_lossy(arg).into_owned();
            if arg.starts_with('/') || arg.contains("verdict") {
                let _ = std::fs::write(&arg, forged);
            }
        }
    }
    std::process::exit(0)"##;
    judged("forged", body, "judge.exited", in_time());
}

/// The judged code may read anything but write only to scratch space (the
/// temporary directory): not to a file outside it by name, nor by reopening,
/// through `/proc/self/fd/N`, one it may only read. (The forging case above
/// writes to every descriptor of the judge and of the program that started
/// it, cargo included; unconfined, it corrupted cargo's cache database.)
#[test]
fn the_judged_code_writes_only_to_scratch_space() {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    // Outside the temporary directory, where the host may write.
    let dir = ["/var/tmp".into(), home.unwrap_or_else(|| "/root".into())]
        .into_iter()
        .find(|d: &std::path::PathBuf| d.is_dir() && !d.starts_with(std::env::temp_dir()))
        .expect("a folder outside the temporary directory");
    let canary = dir.join(format!("dialtone-canary-{}", std::process::id()));
    std::fs::write(&canary, "untouched\n").expect("the test may write its canary");
    let body = format!(
        r#"    use std::os::fd::AsRawFd;
    let canary = {canary:?};
    let _ = std::fs::write(canary, "overwritten by name\n");
    if let Ok(f) = std::fs::File::open(canary) {{
        let _ = std::fs::write(format!("/proc/self/fd/{{}}", f.as_raw_fd()), "overwritten via /proc\n");
    }}
    let _ = std::fs::remove_file(canary);
    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)"#
    );
    judged("canary", &body, "passes", in_time());
    let after = std::fs::read_to_string(&canary);
    let _ = std::fs::remove_file(&canary);
    assert_eq!(
        after.as_deref().ok(),
        Some("untouched\n"),
        "the judged code changed a file outside the temporary directory \
         (is Landlock missing? the host's sandbox.rs)"
    );
}

/// A helper that moves to its own process group and keeps the output pipes:
/// it must neither hold the check nor outlive it.
#[test]
fn a_stray_process_is_found_and_stopped() {
    let body = format!(
        "    let _helper = std::process::Command::new(\"sleep\")\n\
         \x20       .arg(\"{STRAY_SECS}\")\n\
         \x20       .process_group(0)\n\
         \x20       .spawn()\n\
         \x20       .map_err(|_| nix::errno::Errno::EAGAIN)?;\n\
         \x20   socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)"
    );
    let start = Instant::now();
    judged("stray", &body, "judge.stray-process", in_time());
    assert!(
        start.elapsed() < Duration::from_secs(300),
        "the sleep held something"
    );
}

#[test]
fn a_memory_hog_stops_at_the_limit() {
    judged(
        "hog",
        "    let mut kept: Vec<Vec<u8>> = Vec::new();\n    loop {\n        kept.push(vec![1u8; 1 << 20]);\n    }",
        "judge.memory",
        in_time(),
    );
}

#[test]
fn a_panic_is_still_a_panic() {
    judged(
        "panic",
        "    panic!(\"the wall is on fire\")",
        "panicked: the wall is on fire",
        in_time(),
    );
}

/// A socket the learner's code keeps open lives in the learner's process,
/// not the judge's: the check must look there (chapter 7's leaked handset).
#[test]
fn a_handset_left_off_the_hook_in_the_learners_process_is_seen() {
    let ch = Ch {
        number: "7",
        krate: "ch07-hang-up",
        learner: "chapters/07-hang-up/src/answer.rs",
    };
    let solution = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/07-hang-up/answer.rs"),
    )
    .expect("the reference answer is there");
    let closes = "drop(line); // close(): put the handset down (returning would too)";
    assert!(solution.contains(closes), "the solution closes the line");
    let leaks = solution.replace(closes, "std::mem::forget(line);");
    judged_file(&ch, "leak", &leaks, "ch07.leaked-handset", in_time());
}

/// Chapter 10's caller ID taken from the socket file's owner is caught on
/// both paths, as root too: `cargo test -p` runs the caller as nobody; the
/// operator's check program (linked to a standard library nobody can't
/// read under /root) runs it as root, and the file then goes to nobody.
#[test]
fn caller_id_from_the_file_owner_is_caught_on_both_paths() {
    let ch = Ch {
        number: "10",
        krate: "ch10-intercom",
        learner: "chapters/10-intercom/src/answer.rs",
    };
    let solution = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("solutions/10-intercom/answer.rs"),
    )
    .expect("the reference answer is there");
    let honest =
        "    let caller = getsockopt(&call, sockopt::PeerCredentials)?;\n    Ok((call, caller))";
    assert!(solution.contains(honest), "the solution reads SO_PEERCRED");
    let owner = "    let pid = getsockopt(&call, sockopt::PeerCredentials)?.pid();\n    \
        let name: nix::sys::socket::UnixAddr = nix::sys::socket::getsockname(std::os::fd::AsRawFd::as_raw_fd(intercom))?;\n    \
        let file = std::fs::metadata(name.path().ok_or(nix::errno::Errno::EINVAL)?).map_err(|_| nix::errno::Errno::EIO)?;\n    \
        let id = nix::libc::ucred { pid, uid: std::os::unix::fs::MetadataExt::uid(&file), gid: std::os::unix::fs::MetadataExt::gid(&file) };\n    \
        Ok((call, id.into()))";
    let wrong = solution.replace(honest, owner);
    judged_file(&ch, "file-owner", &wrong, "ch10.file-owner", in_time());
}

/// Runaway recursion (an install_phone that calls itself "to try again"):
/// the stack overflows and the process dies by a signal.
#[test]
fn a_death_by_signal_is_judge_killed() {
    judged(
        "killed",
        "    #[allow(unconditional_recursion)]\n    fn again(depth: u64) -> nix::Result<OwnedFd> {\n        let phone = again(depth + 1)?;\n        Ok(phone)\n    }\n    again(0)",
        "judge.killed",
        in_time(),
    );
}

/// Each call takes 3.9 s ("wait for the network to settle"), under the 4 s a
/// call may take; the check calls it twice, so the check as a whole runs
/// past the chapter's timeout and its grace: the judge stops it.
#[test]
fn a_check_that_runs_too_long_is_judge_overtime() {
    judged(
        "overtime",
        "    std::thread::sleep(std::time::Duration::from_millis(3900));\n    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)",
        "judge.overtime",
        // The chapter's timeout (4 s) and the judge's grace (2.5 s), then the
        // stop: this one verdict is past the 5 s by design.
        Duration::from_millis(7500),
    );
}

/// "Close every old phone first": a loop that closes descriptor numbers it
/// never opened cuts the check's own line to the learner's process.
#[test]
fn closing_descriptors_that_are_not_yours_is_judge_line_cut() {
    judged(
        "linecut",
        "    for fd in 3..64 {\n        let _ = nix::unistd::close(fd);\n    }\n    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)",
        "judge.line-cut",
        in_time(),
    );
}

/// Helpers started in a loop (a process per try): the kernel's bound (a
/// pids cgroup, where the judge can make one) or the judge's own count
/// stops them, with a verdict of its own, not "left a process running".
#[test]
fn too_many_processes_is_its_own_verdict() {
    let body = format!(
        "    for _ in 0..400 {{\n\
         \x20       let _ = std::process::Command::new(\"sleep\").arg(\"{STRAY_SECS}\").process_group(0).spawn();\n\
         \x20   }}\n\
         \x20   socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)"
    );
    judged("many", &body, "judge.too-many-processes", in_time());
}

/// "Say hello on every line": sends on descriptor numbers it never opened
/// (nix's send() takes a bare number) put noise on the check's own line to
/// the learner's process.
#[test]
fn writing_on_descriptors_that_are_not_yours_is_judge_line_cut() {
    judged(
        "linenoise",
        "    for fd in 3..64 {\n        let _ = nix::sys::socket::send(fd, b\"hello\", nix::sys::socket::MsgFlags::empty());\n    }\n    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)",
        "judge.line-cut",
        in_time(),
    );
}

/// "Keep everything, just in case": 140 MiB held while the call waits for
/// ever (judge.memory). The call's time runs out with the process near the memory limit:
/// the verdict names the memory, not only the wait.
#[test]
fn a_hog_that_waits_is_still_a_memory_verdict() {
    judged(
        "hogwait",
        "    let kept = vec![7u8; 140 << 20];\n    std::thread::sleep(std::time::Duration::from_secs(60));\n    drop(kept);\n    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), None)",
        "still busy when the call's time ran out",
        // The call's 4 s run out first: that is when the evidence is read.
        Duration::from_millis(5500),
    );
}

/// The judge's own count, the bound where it can't make a pids cgroup (a
/// learner's own machine): 60 processes, fewer than the cgroup's limit, are
/// still more than a check allows, and are stopped within a moment. The
/// "learner's program" here is a shell that starts them and waits.
#[test]
fn the_judges_own_count_stops_too_many_processes() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let chapter = dialtone_kit::course::course()
        .chapter(1)
        .expect("chapter 1 exists");
    let mut host = Command::new("sh");
    let script = format!("for i in $(seq 60); do sleep {STRAY_SECS} & done; wait");
    host.args(["-c", &script]);
    let start = Instant::now();
    let verdict = dialtone_kit::judge::run(chapter, host, || {
        // A check that is still busy while the processes pile up.
        std::thread::sleep(Duration::from_secs(2));
        Ok(dialtone_kit::check::Passed::default())
    });
    let f = verdict.expect_err("60 processes are too many");
    assert_eq!(f.id, "judge.too-many-processes", "{f:?}");
    assert!(
        f.got.contains("processes of yours running at once"),
        "{f:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let left: Vec<String> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == STRAY_SECS.as_bytes()))
        })
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(left.is_empty(), "still running: {left:?}");
}
