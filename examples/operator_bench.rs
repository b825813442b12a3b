//! The operator's speed, measured on a scratch copy of this workspace, side by
//! side with rustlings when it is installed:
//!
//! ```text
//! cargo run --example operator_bench [-- --runs 15]
//! ```
//!
//! It measures, each as the median of `--runs` tries:
//! - `check` after a one-line edit (the binary alone, and through `cargo run`),
//!   for a right answer and for an unfinished one;
//! - `watch`: the time from saving the file to the verdict line;
//! - a hanging answer's time to its verdict;
//! - `verify` of every chapter, fresh (nothing cached) and cached;
//! - with `rustlings` on PATH, in a scratch `rustlings init` project: `rustlings
//!   run` after a one-line edit (a plain exercise and one with tests) and its
//!   watch mode's save-to-verdict time (driven in tmux, since it needs a
//!   terminal).
//!
//! A benchmark, not a test: timings depend on the machine, so nothing here
//! asserts on them. The first run builds the scratch copy's chapters once.
//! The copy's learner files are the committed starters (from git), so the
//! answers in the working copy don't matter.
#![forbid(unsafe_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const LEARNER_1: &str = "chapters/01-install-phone/src/answer.rs";
const SOLUTION_1: &str = "solutions/01-install-phone/answer.rs";

fn main() {
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(11usize);
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bench = source.join("target/bench");
    let ws = bench.join("ws");
    let target = bench.join("target");
    let operator = build_operator(&source);
    fresh_copy(&source, &ws);
    println!("scratch workspace: {}", ws.display());
    println!("runs per figure:   {runs}\n");

    let op = |args: &[&str]| {
        let mut c = Command::new(&operator);
        c.arg("--root")
            .arg(&ws)
            .args(args)
            .env("CARGO_TARGET_DIR", &target)
            .env("NO_COLOR", "1");
        c
    };
    let cargo_op = |args: &[&str]| {
        let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        c.current_dir(&source)
            .args(["run", "-q", "--bin", "dialtone", "--"])
            .arg("--root")
            .arg(&ws)
            .args(args)
            .env("NO_COLOR", "1");
        c
    };
    // Warm up: the first check builds the chapter libraries.
    let warm = Instant::now();
    quiet(&mut op(&["check", "1"]));
    println!(
        "first check in the copy (builds the chapters unless an earlier run did): {:>7.0} ms",
        ms(warm.elapsed())
    );

    let solution = fs::read_to_string(ws.join(SOLUTION_1)).expect("the solution exists");
    let starter = fs::read_to_string(ws.join(LEARNER_1)).expect("the starter exists");
    let learner = ws.join(LEARNER_1);
    let mut edit = 0u32;
    let mut write_edit = |base: &str| {
        edit += 1;
        // A one-line edit: a new comment, so the content (and hash) is new.
        fs::write(&learner, format!("{base}// edit {edit}\n")).expect("writing the learner file");
    };

    let mut table: Vec<(String, f64)> = Vec::new();
    let measure =
        |name: &str, table: &mut Vec<(String, f64)>, mut f: Box<dyn FnMut() -> Duration + '_>| {
            let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
            times.sort();
            let median = ms(times[times.len() / 2]);
            println!(
                "{name:<58} median {median:>7.0} ms  (min {:.0}, max {:.0})",
                ms(times[0]),
                ms(times[times.len() - 1])
            );
            table.push((name.to_string(), median));
        };

    measure(
        "dialtone check, right answer, after a one-line edit",
        &mut table,
        Box::new(|| {
            write_edit(&solution);
            timed(&mut op(&["check", "1"]))
        }),
    );
    measure(
        "dialtone check, unfinished answer, after a one-line edit",
        &mut table,
        Box::new(|| {
            write_edit(&starter);
            timed(&mut op(&["check", "1"]))
        }),
    );
    // Through cargo, as a learner types it (cargo's own start-up included).
    measure(
        "cargo run -- check, right answer, after a one-line edit",
        &mut table,
        Box::new(|| {
            write_edit(&solution);
            timed(&mut cargo_op(&["check", "1"]))
        }),
    );
    measure(
        "dialtone check, unchanged file (cached verdict)",
        &mut table,
        Box::new(|| timed(&mut op(&["check", "1"]))),
    );
    measure(
        "dialtone (the board)",
        &mut table,
        Box::new(|| timed(&mut op(&[]))),
    );
    measure(
        "dialtone watch: save -> verdict, right answer",
        &mut table,
        Box::new(|| {
            write_edit(&starter);
            let mut w = Watch::start(&operator, &ws, &target);
            w.wait_for("(mistake: unfinished)");
            let saved = Instant::now();
            write_edit(&solution);
            let at = w.wait_for("passes the self-check");
            at - saved
        }),
    );
    measure(
        "dialtone watch: save -> verdict, still-wrong answer",
        &mut table,
        Box::new(|| {
            write_edit(&starter);
            let mut w = Watch::start(&operator, &ws, &target);
            w.wait_for("(mistake: unfinished)");
            let saved = Instant::now();
            write_edit(&starter);
            let at = w.wait_for("(mistake: unfinished)");
            at - saved
        }),
    );
    let hang_runs = runs.min(3);
    let mut hangs: Vec<Duration> = (0..hang_runs)
        .map(|_| {
            write_edit("pub fn install_phone() -> nix::Result<std::os::fd::OwnedFd> {\n    loop {\n        std::hint::spin_loop();\n    }\n}\n");
            timed(&mut op(&["check", "1"]))
        })
        .collect();
    hangs.sort();
    let timeout = course(&ws).chapter(1).map_or(0, |c| c.timeout_secs);
    println!(
        "{:<58} median {:>7.0} ms  ({hang_runs} runs; the chapter's timeout is {timeout} s)",
        "dialtone check, hanging answer: time to verdict",
        ms(hangs[hang_runs / 2])
    );
    write_edit(&solution);
    measure(
        "dialtone verify (every chapter checked again)",
        &mut table,
        Box::new(|| timed(&mut op(&["verify"]))),
    );
    // A teacher's first verify of a handed-in workspace: libraries built,
    // but no driver compiled and no verdict cached.
    measure(
        "dialtone verify, nothing compiled or cached yet",
        &mut table,
        Box::new(|| {
            let _ = fs::remove_dir_all(ws.join(".dialtone/build"));
            let _ = fs::remove_file(ws.join(".dialtone/progress.toml"));
            timed(&mut op(&["verify"]))
        }),
    );
    measure(
        "dialtone verify --cached (cached verdicts)",
        &mut table,
        Box::new(|| timed(&mut op(&["verify", "--cached"]))),
    );
    fs::write(&learner, &starter).expect("restoring the starter");

    if which("rustlings") {
        println!();
        let version = Command::new("rustlings")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        println!("{version}, in a scratch `rustlings init` project:");
        // Outside this workspace: `rustlings init` adds itself to the members
        // of any Cargo workspace it finds above it.
        let rl =
            std::env::temp_dir().join(format!("dialtone-bench-rustlings-{}", std::process::id()));
        let _ = fs::remove_dir_all(&rl);
        fs::create_dir_all(&rl).expect("scratch folder");
        quiet(Command::new("rustlings").arg("init").current_dir(&rl));
        let project = rl.join("rustlings");
        let intro1 = project.join("exercises/00_intro/intro1.rs");
        let if1 = project.join("exercises/03_if/if1.rs");
        let intro_src = fs::read_to_string(&intro1).expect("rustlings made intro1");
        let if1_src = fs::read_to_string(&if1)
            .expect("rustlings made if1")
            .replace(
                "fn bigger(a: i32, b: i32) -> i32 {",
                "fn bigger(a: i32, b: i32) -> i32 {\n    if a > b { a } else { b }",
            );
        let mut n = 0;
        let mut rl_run = |file: &Path, src: &str, name: &str| {
            n += 1;
            fs::write(file, format!("{src}// edit {n}\n")).expect("writing the exercise");
            timed(
                Command::new("rustlings")
                    .args(["run", name])
                    .current_dir(&project),
            )
        };
        // Warm up; `rustlings run intro1` also makes intro2 the current
        // exercise, the one watch mode shows (running if1 would make if2
        // current, so watch is measured first).
        rl_run(&intro1, &intro_src, "intro1");
        if which("tmux") {
            // intro2's starter doesn't compile; the fix is one line.
            let intro2 = project.join("exercises/00_intro/intro2.rs");
            let broken = fs::read_to_string(&intro2).expect("rustlings made intro2");
            let mut k = 0;
            measure(
                "rustlings watch: save -> verdict, right answer (intro2, tmux)",
                &mut table,
                Box::new(|| {
                    k += 1;
                    rustlings_watch_once(&project, &intro2, &broken, k)
                }),
            );
        }
        rl_run(&if1, &if1_src, "if1");
        measure(
            "rustlings run, plain exercise (intro1), after a one-line edit",
            &mut table,
            Box::new(|| rl_run(&intro1, &intro_src, "intro1")),
        );
        measure(
            "rustlings run, exercise with tests (if1), after a one-line edit",
            &mut table,
            Box::new(|| rl_run(&if1, &if1_src, "if1")),
        );
        let _ = fs::remove_dir_all(&rl);
    } else {
        println!("\nrustlings isn't on PATH: no side-by-side figures (cargo install --locked rustlings@6.5.0).");
    }

    println!("\nRatios (rustlings / dialtone; above 1 means dialtone is faster):");
    let get = |name: &str| {
        table
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .map(|(_, v)| *v)
    };
    for (ours, theirs, label) in [
        (
            "dialtone check, right answer",
            "rustlings run, exercise with tests",
            "check vs run (with tests)",
        ),
        (
            "dialtone check, right answer",
            "rustlings run, plain exercise",
            "check vs run (plain)",
        ),
        (
            "cargo run -- check",
            "rustlings run, exercise with tests",
            "cargo run -- check vs run (with tests)",
        ),
        (
            "dialtone watch: save -> verdict, right",
            "rustlings watch",
            "watch save -> verdict",
        ),
    ] {
        if let (Some(a), Some(b)) = (get(ours), get(theirs)) {
            println!("  {label:<42} {b:>6.0} / {a:>4.0} ms = {:.1}x", b / a);
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    quiet(cmd);
    start.elapsed()
}

fn quiet(cmd: &mut Command) {
    let _ = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn which(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn build_operator(source: &Path) -> PathBuf {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(source)
        .args(["build", "--bin", "dialtone", "--message-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo builds the operator");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|m| {
            m["executable"]
                .as_str()
                .filter(|e| e.ends_with("/dialtone"))
                .map(PathBuf::from)
        })
        .expect("cargo reports the operator's executable")
}

fn course(ws: &Path) -> dialtone_kit::course::Course {
    let text = fs::read_to_string(ws.join("course.toml")).expect("the copy has a course.toml");
    dialtone_kit::course::Course::parse(&text).expect("the course.toml parses")
}

/// A fresh copy of the course (not its build, state or git history), with
/// every learner file the committed starter: the figures are for a learner
/// starting out, whatever the working copy's answers are.
fn fresh_copy(source: &Path, ws: &Path) {
    let keep = ws.join(".dialtone/artifacts.toml");
    let saved = fs::read(&keep).ok();
    let _ = fs::remove_dir_all(ws);
    dialtone_testkit::copy_course(source, ws).expect("copying the course");
    for ch in &course(ws).chapters {
        let file = ch.learner_path();
        let starter = Command::new("git")
            .current_dir(source)
            .arg("show")
            .arg(format!("HEAD:./{}", file.display()))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .unwrap_or_else(|| panic!("git has no committed starter for {}", file.display()));
        fs::write(ws.join(&file), starter.stdout).expect("writing the starter");
    }
    // Keep the built-libraries record across bench runs (it's keyed by content).
    if let Some(saved) = saved {
        fs::create_dir_all(keep.parent().expect("has a parent")).expect("state folder");
        fs::write(&keep, saved).expect("restoring the record");
    }
}

struct Watch {
    child: std::process::Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Watch {
    fn start(operator: &Path, ws: &Path, target: &Path) -> Watch {
        let mut child = Command::new(operator)
            .arg("--root")
            .arg(ws)
            .arg("watch")
            .env("CARGO_TARGET_DIR", target)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("watch starts");
        let out = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines: rx }
    }

    fn wait_for(&mut self, text: &str) -> Instant {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok((at, line)) if line.contains(text) => return at,
                Ok(_) => continue,
                Err(_) => panic!("watch never printed {text:?}"),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One save in rustlings' watch mode, in a tmux pane: start it on the broken
/// exercise, wait for its verdict, save the one-line fix, and time until the
/// pane shows the fixed program's output and "Exercise done".
fn rustlings_watch_once(project: &Path, file: &Path, broken: &str, k: u32) -> Duration {
    let session = format!("dialtone-bench-{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().expect("tmux runs");
    let _ = tmux(&["kill-session", "-t", &session]);
    fs::write(file, broken).expect("writing the exercise");
    let project_s = project.display().to_string();
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "60",
        "-c",
        &project_s,
        "rustlings",
    ]);
    let pane = |s: &str| {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", s]).stdout).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pane(&session).contains("could not compile") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let marker = format!("bench mark {k}");
    let fixed = broken.replacen(
        "printline!(\"Hello world!\");",
        &format!("println!(\"Hello world! {marker}\");"),
        1,
    );
    let saved = Instant::now();
    fs::write(file, fixed).expect("writing the exercise");
    let took = loop {
        let p = pane(&session);
        if p.contains(&marker) && p.contains("Exercise done") {
            break saved.elapsed();
        }
        if saved.elapsed() > Duration::from_secs(30) {
            break saved.elapsed();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = tmux(&["kill-session", "-t", &session]);
    fs::write(file, broken).expect("restoring the exercise");
    took
}
