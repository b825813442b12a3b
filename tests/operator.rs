//! The operator, end to end: the real binary run against fixture learner
//! workspaces (untouched, solved, hanging, panicking, not compiling, all
//! done), its words snapshot-tested so every verdict's wording is reviewed.
//!
//! Fixtures are copies of this workspace under cargo's scratch folder with
//! learner files swapped. They share one target folder of their own (a nested
//! cargo can't use this one: the running `cargo test` holds its lock), and one
//! prepared base, so only the first test pays for building the chapters.
#![forbid(unsafe_code)]

#[path = "operator/support.rs"]
mod support;

use std::time::Duration;
use support::{run_elsewhere, Fixture, Run};

/// How many chapters the course has (a chapter added with `cargo xtask
/// new-chapter` changes the operator's counts, not these tests).
fn chapter_count() -> usize {
    dialtone_kit::course::course().chapters.len()
}

const SOLUTION_1: &str = "solutions/01-install-phone/answer.rs";
const LEARNER_1: &str = "chapters/01-install-phone/src/answer.rs";

#[test]
fn untouched_workspace_board_and_check() {
    let fx = Fixture::new("untouched");
    let board = fx.run(&[]);
    board.expect_code(0);
    assert_operator!("untouched-board", board.stdout);

    let check = fx.run(&["check", "1"]);
    check.expect_code(1);
    assert_operator!("untouched-check", check.stdout);
    // The current chapter is the default.
    assert_eq!(
        fx.run(&["check"]).stdout.lines().next(),
        check.stdout.lines().next()
    );
    fx.assert_clean();
}

#[test]
fn hints_come_one_at_a_time() {
    let fx = Fixture::new("hints");
    let first = fx.run(&["hint", "1"]);
    first.expect_code(0);
    let second = fx.run(&["hint"]);
    assert_operator!("hint-first", first.stdout);
    assert_operator!("hint-second", second.stdout);
    // Hints wrap to the screen: compare the words.
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let hints: Vec<String> = fx.course_hints(1).iter().map(|h| flat(h)).collect();
    let (first_text, second_text) = (flat(&first.stdout), flat(&second.stdout));
    assert!(first_text.contains(&hints[0]) && !first_text.contains(&hints[1]));
    assert!(second_text.contains(&hints[1]));
    // Past the last one, the last one stays.
    for _ in 0..hints.len() + 1 {
        fx.run(&["hint", "1"]);
    }
    let last = fx.run(&["hint", "1"]);
    assert!(flat(&last.stdout).contains(hints.last().expect("chapters have hints")));
    assert!(last.stdout.contains("solution 1"), "{}", last.stdout);
}

#[test]
fn solved_chapter_passes_and_the_board_moves_on() {
    let fx = Fixture::new("solved");
    fx.copy(SOLUTION_1, LEARNER_1);
    let check = fx.run(&["check", "1"]);
    check.expect_code(0);
    assert_operator!("solved-check", check.stdout);
    let again = fx.run(&["check", "1"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("unchanged since the last check"),
        "{}",
        again.stdout
    );
    let board = fx.run(&[]);
    assert_operator!("solved-board", board.stdout);
    assert!(board.stdout.contains("1. Install a phone          done"));

    // Now that it passes, the answer shows without asking.
    let solution = fx.run(&["solution", "1"]);
    solution.expect_code(0);
    assert!(
        solution.stdout.contains("same as the reference answer"),
        "{}",
        solution.stdout
    );
    fx.assert_clean();
}

#[test]
fn solution_stays_folded_until_asked() {
    let fx = Fixture::new("peek");
    let folded = fx.run(&["solution", "1"]);
    folded.expect_code(1);
    assert_operator!("solution-folded", folded.stderr);
    let peek = fx.run(&["solution", "1", "--peek"]);
    peek.expect_code(0);
    assert_operator!("solution-peek", peek.stdout);
}

#[test]
fn hanging_answer_gets_a_verdict_in_time_and_leaves_nothing_behind() {
    let fx = Fixture::new("hanging");
    fx.write(
        LEARNER_1,
        "pub fn install_phone() -> nix::Result<std::os::fd::OwnedFd> {\n    loop {\n        std::hint::spin_loop();\n    }\n}\n",
    );
    let check = fx.run(&["check", "1"]);
    check.expect_code(1);
    assert!(check.elapsed.as_secs() < 10, "took {:?}", check.elapsed);
    assert_operator!("hanging-check", check.stdout);
    assert!(check.stdout.contains("install_phone()"), "names the call");
    fx.assert_clean();
}

#[test]
fn answer_that_ends_the_process() {
    let fx = Fixture::new("exits");
    fx.write(
        LEARNER_1,
        "pub fn install_phone() -> nix::Result<std::os::fd::OwnedFd> {\n    println!(\"bye\");\n    std::process::exit(7)\n}\n",
    );
    let check = fx.run(&["check", "1"]);
    check.expect_code(1);
    assert_operator!("exiting-check", check.stdout);
    fx.assert_clean();
}

/// Output the answer leaves without a newline runs into the verdict's line:
/// the verdict is still read, and the output still shown.
#[test]
fn output_without_a_newline_keeps_the_verdict() {
    let fx = Fixture::new("no-newline");
    let head = "pub fn install_phone() -> nix::Result<OwnedFd> {";
    let solved = fx.read(SOLUTION_1);
    assert!(solved.contains(head), "the solution's signature changed");
    fx.write(
        LEARNER_1,
        &solved.replacen(head, &format!("{head}\n    print!(\"ring\");"), 1),
    );
    let check = fx.run(&["check", "1"]);
    check.expect_code(0);
    assert!(
        check.stdout.contains("passes the self-check"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("│ ring"), "{}", check.stdout);
    assert!(!check.stdout.contains("nonce"), "{}", check.stdout);
}

#[test]
fn panicking_answer_that_prints_a_lot() {
    let fx = Fixture::new("panicking");
    fx.write(
        LEARNER_1,
        "pub fn install_phone() -> nix::Result<std::os::fd::OwnedFd> {\n    for i in 0..200_000 {\n        println!(\"ring {i}\");\n    }\n    let none: Option<std::os::fd::OwnedFd> = None;\n    Ok(none.unwrap())\n}\n",
    );
    let check = fx.run(&["check", "1"]);
    check.expect_code(1);
    assert!(check.stdout.len() < 10_000, "output is capped");
    assert_operator!("panicking-check", check.stdout);
    fx.assert_clean();
}

#[test]
fn answer_that_does_not_compile() {
    let fx = Fixture::new("broken");
    fx.write(
        LEARNER_1,
        "use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};\nuse std::os::fd::OwnedFd;\n\npub fn install_phone() -> nix::Result<OwnedFd> {\n    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty())\n}\n",
    );
    let check = fx.run(&["check", "1"]);
    check.expect_code(1);
    assert_operator!("broken-check", check.stdout);
    let board = fx.run(&[]);
    assert!(
        board
            .stdout
            .contains("in progress (last check: doesn't compile)"),
        "{}",
        board.stdout
    );
    fx.assert_clean();
}

#[test]
fn all_done_workspace_verifies() {
    let fx = Fixture::new("all-done");
    for ch in fx.chapters() {
        fx.copy(&ch.solution, &ch.learner);
    }
    let verify = fx.run(&["verify"]);
    assert_operator!("all-done-verify", verify.stdout);
    let board = fx.run(&[]);
    assert_operator!("all-done-board", board.stdout);
    // Every chapter whose self-check exists passes with its reference answer.
    verify.expect_code(0);
}

#[test]
fn verify_reports_each_chapter() {
    let fx = Fixture::new("verify-mixed");
    let verify = fx.run(&["verify"]);
    verify.expect_code(1);
    assert_operator!("untouched-verify", verify.stdout);
}

/// A teacher's `verify --root` of a student's copy leaves the copy as it found it:
/// no `.dialtone/` is written there, and its scratch folder is gone after.
#[test]
fn verify_writes_nothing_into_the_copy() {
    let fx = Fixture::new("verify-read-only");
    fx.copy(&fx.chapters()[0].solution, &fx.chapters()[0].learner);
    let state = fx.root.join(".dialtone");
    let _ = std::fs::remove_dir_all(&state);
    // From outside the copy, as a teacher runs it from their own.
    let verify = fx.run_from(&std::env::temp_dir(), &["verify"]);
    verify.expect_code(1);
    assert!(
        verify.stdout.contains(&format!(
            "1 of {} chapters with a self-check pass.",
            chapter_count()
        )),
        "{}",
        verify.stdout
    );
    assert!(
        !state.exists(),
        "verify wrote {} into the copy it graded",
        state.display()
    );
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("dialtone-verify-")
        })
        .map(|e| e.path())
        .collect();
    // Other tests may be verifying right now; only a folder whose process is
    // gone is one left behind.
    let orphans: Vec<_> = left
        .iter()
        .filter(|p| {
            let pid = p
                .to_string_lossy()
                .rsplit('-')
                .next()
                .unwrap_or("")
                .to_string();
            !std::path::Path::new("/proc").join(pid).exists()
        })
        .collect();
    assert!(
        orphans.is_empty(),
        "scratch folders left behind: {orphans:?}"
    );
}

/// A student who edits the operator's cache can fool their own board, not a
/// teacher's `verify`: it checks every chapter again.
#[test]
fn verify_does_not_trust_the_cache() {
    let fx = Fixture::new("verify-tampered");
    // Started (the file differs from the starter) but still unfinished.
    let started = fx.read(LEARNER_1) + "// my notes\n";
    fx.write(LEARNER_1, &started);
    fx.run(&["check", "1"]).expect_code(1);
    let progress = fx.read(".dialtone/progress.toml");
    let outcome = "[chapter.01-install-phone.verdict.outcome]\n";
    let (kept, _failed) = progress.split_once(outcome).expect("a cached verdict");
    let forged = format!(
        "{kept}{outcome}kind = \"judged\"\n\n\
         [chapter.01-install-phone.verdict.outcome.verdict]\n\
         kind = \"passed\"\nsaw = [\"trust me\"]\n"
    );
    fx.write(".dialtone/progress.toml", &forged);
    let board = fx.run(&[]);
    assert!(
        board
            .stdout
            .contains(&format!("1 of {} chapters done", chapter_count())),
        "the tampered cache is read: {}",
        board.stdout
    );
    let cached = fx.run(&["verify", "--cached"]);
    assert!(
        cached.stdout.contains(&format!(
            "1 of {} chapters with a self-check pass.",
            chapter_count()
        )),
        "--cached reads the cache, as documented: {}",
        cached.stdout
    );
    let verify = fx.run(&["verify"]);
    verify.expect_code(1);
    assert!(
        verify.stdout.contains(&format!(
            "0 of {} chapters with a self-check pass.",
            chapter_count()
        )),
        "{}",
        verify.stdout
    );
}

#[test]
fn reset_keeps_a_backup_that_undo_brings_back() {
    let fx = Fixture::new("reset");
    let starter = fx.read(LEARNER_1);
    fx.copy(SOLUTION_1, LEARNER_1);
    let mine = fx.read(LEARNER_1);
    let reset = fx.run(&["reset", "1"]);
    reset.expect_code(0);
    assert_operator!("reset", reset.stdout);
    assert_eq!(fx.read(LEARNER_1), starter);
    let undo = fx.run(&["reset", "1", "--undo"]);
    undo.expect_code(0);
    assert_eq!(fx.read(LEARNER_1), mine);
    // Nothing left to undo.
    fx.run(&["reset", "1", "--undo"]).expect_code(1);

    // `reset --undo` without a number (as the README writes it) undoes the
    // last reset, not the current chapter's (chapter 2 here).
    let learner_3 = "chapters/03-turn-on/src/answer.rs";
    let tried = fx.read(learner_3) + "// my first try\n";
    fx.write(learner_3, &tried);
    fx.run(&["reset", "3"]).expect_code(0);
    assert_ne!(fx.read(learner_3), tried);
    let undo = fx.run(&["reset", "--undo"]);
    undo.expect_code(0);
    assert_eq!(fx.read(learner_3), tried, "{}{}", undo.stdout, undo.stderr);
}

/// `help` is a command, as learners type it, and says what `--help` says.
#[test]
fn help_is_a_command_too() {
    let help = run_elsewhere(&["help"]);
    help.expect_code(0);
    assert!(help.stdout.contains("Usage: dialtone"), "{}", help.stdout);
    assert_eq!(help.stdout, run_elsewhere(&["--help"]).stdout);
}

/// With NO_COLOR set, `solution` never asks, even in a terminal. Without it,
/// in the same terminal, it does ask: the terminal is a real one.
#[test]
fn no_color_means_no_prompt_even_in_a_terminal() {
    let fx = Fixture::new("no-prompt");
    let limit = Duration::from_secs(20);
    let (code, out) = fx.run_on_terminal(&["solution", "3"], &[], limit);
    assert_eq!(code, Some(1), "it waited for an answer:\n{out}");
    assert!(
        !out.contains("[y/N]") && out.contains("stays folded"),
        "{out}"
    );
    let asks = [("NO_COLOR", "")];
    let (code, out) = fx.run_on_terminal(&["solution", "3"], &asks, Duration::from_secs(5));
    assert!(
        out.contains("[y/N]"),
        "a terminal without NO_COLOR asks: {code:?} {out}"
    );
}

/// In a terminal, watch's keys act when pressed, without Enter; after a hint
/// it says to press h again; and it leaves the terminal as it found it.
#[test]
fn watch_keys_act_without_enter_in_a_terminal() {
    let fx = Fixture::new("watch-keys");
    let (mut watch, mut terminal) = fx.spawn_on_terminal(&["watch"]);
    watch.wait_for("h: next hint");
    watch.wait_for("(mistake: unfinished)");
    terminal.press("h");
    watch.wait_for("Hint 1 of");
    watch.wait_for("Press h again for the next one.");
    terminal.press("q");
    let rest = watch.finish();
    assert!(rest.contains("Bye"), "{rest}");
    assert!(
        terminal.reads_lines(),
        "watch left the terminal reading one key at a time"
    );
    fx.assert_clean();
}

#[test]
fn bad_arguments_exit_2_with_one_line_and_the_usage() {
    let fx = Fixture::new("args");
    let mut all = String::new();
    for args in [
        &["check", "99"][..],
        &["check", "one"],
        &["chek"],
        &["hint", "1", "2"],
        &["watch", "--poll", "--manual"],
        &["--frobnicate"],
    ] {
        let r = fx.run(args);
        r.expect_code(2);
        assert_eq!(r.stderr.lines().count(), 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        all.push_str(&format!("$ dialtone {}\n{}\n", args.join(" "), r.stderr));
    }
    let r = run_elsewhere(&["--root", "/nonexistent/course"]);
    r.expect_code(2);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    all.push_str(&format!(
        "$ dialtone --root /nonexistent/course\n{}\n",
        r.stderr
    ));
    assert_operator!("bad-arguments", all);
    for cmd in ["check", "watch", "hint", "solution", "reset", "verify"] {
        let help = fx.run(&[cmd, "--help"]);
        help.expect_code(0);
        assert!(
            help.stdout.contains("Usage: dialtone"),
            "{cmd}: {}",
            help.stdout
        );
    }
}

#[test]
fn the_slow_path_agrees_with_the_fast_one() {
    let fx = Fixture::new("slow");
    fx.copy(SOLUTION_1, LEARNER_1);
    // Cargo builds this fixture's own crates: not in the shared target folder.
    let (_turn, target) = support::own_build_target();
    let env = [
        ("DIALTONE_SLOW", "1"),
        ("CARGO_TARGET_DIR", target.as_str()),
    ];
    let slow: Run = fx.run_env(&["check", "1"], &env);
    slow.expect_code(0);
    assert!(
        slow.stdout.contains("passes the self-check"),
        "{}",
        slow.stdout
    );
    fx.write(LEARNER_1, "pub fn install_phone() -> nix::Result<std::os::fd::OwnedFd> {\n    todo!(\"install_phone\")\n}\n");
    let slow = fx.run_env(&["check", "1"], &env);
    slow.expect_code(1);
    assert!(
        slow.stdout.contains("(mistake: unfinished)"),
        "{}",
        slow.stdout
    );
    // An answer that ends its program with exit(0) is never a pass: the
    // judge (the test process) sees the learner's host end inside the call.
    fx.write(LEARNER_1, "pub fn install_phone() -> nix::Result<std::os::fd::OwnedFd> {\n    std::process::exit(0)\n}\n");
    let slow = fx.run_env(&["check", "1"], &env);
    slow.expect_code(1);
    assert!(
        !slow.stdout.contains("passes") && slow.stdout.contains("(mistake: judge.exited)"),
        "{}",
        slow.stdout
    );
    fx.assert_clean();
}

#[test]
fn watch_checks_on_save_and_moves_on() {
    let fx = Fixture::new("watch");
    let mut watch = fx.spawn(&["watch"]);
    watch.wait_for("(mistake: unfinished)");
    fx.copy(SOLUTION_1, LEARNER_1);
    watch.wait_for("your answer passes the self-check");
    // It moves on to chapter 2 by itself and checks the starter there.
    watch.wait_for("Chapter 2, Get a number");
    watch.wait_for("get_a_number() in chapters/02-get-number/src/answer.rs is still");
    watch.send("q\n");
    let rest = watch.finish();
    assert!(rest.contains("Bye"), "{rest}");
    fx.assert_clean();
}

#[test]
fn watch_manual_mode_checks_on_enter() {
    let fx = Fixture::new("watch-manual");
    let mut watch = fx.spawn(&["watch", "--manual"]);
    watch.wait_for("(mistake: unfinished)");
    fx.copy(SOLUTION_1, LEARNER_1);
    watch.send("\n");
    watch.wait_for("your answer passes the self-check");
    watch.finish();
}

/// A chapter added through course.toml and its files alone (here: chapter 2
/// rebuilt as a copy of chapter 1) is checked, shown on the board and
/// reached by watch, with no change to the operator.
#[test]
fn a_new_chapter_needs_no_change_in_the_tool() {
    let fx = Fixture::new("new-chapter");
    let ch1 = "chapters/01-install-phone";
    let ch2 = "chapters/02-get-number";
    fx.copy(
        &format!("{ch1}/src/check.rs"),
        &format!("{ch2}/src/check.rs"),
    );
    fx.copy(LEARNER_1, &format!("{ch2}/src/answer.rs"));
    fx.copy(SOLUTION_1, "solutions/02-get-number/answer.rs");
    let lib = fx
        .read(&format!("{ch1}/src/lib.rs"))
        .replace("01-install-phone", "02-get-number")
        .replace("pub mod scene;\n", "");
    fx.write(&format!("{ch2}/src/lib.rs"), &lib);
    let course = fx.read("course.toml").replace(
        "function = \"get_a_number\"",
        "function = \"install_phone\"",
    );
    fx.write("course.toml", &course);
    // Its chapters differ from the base's: not in the shared target folder.
    let (_turn, target) = support::own_build_target();
    let env = [("CARGO_TARGET_DIR", target.as_str())];

    let board = fx.run_env(&[], &env);
    assert!(
        board
            .stdout
            .contains(" 2. Get a number             not started"),
        "{}",
        board.stdout
    );
    let check = fx.run_env(&["check", "2", "--verbose"], &env);
    check.expect_code(1);
    assert!(
        check.stdout.contains("Chapter 2 (Get a number): not yet."),
        "{}",
        check.stdout
    );
    assert!(
        check.stderr.contains("[Fast path"),
        "the fast path handles it: {}",
        check.stderr
    );

    let mut watch = fx.spawn_env(&["watch"], &env);
    watch.wait_for("(mistake: unfinished)");
    fx.copy(SOLUTION_1, LEARNER_1);
    watch.wait_for("Chapter 1 (Install a phone): your answer passes the self-check.");
    watch.wait_for("Chapter 2, Get a number");
    watch.wait_for("(mistake: unfinished)");
    fx.copy(SOLUTION_1, &format!("{ch2}/src/answer.rs"));
    watch.wait_for("Chapter 2 (Get a number): your answer passes the self-check.");
    watch.wait_for("Chapter 3, Turn the phone on");
    watch.wait_for("(mistake: unfinished)");
    watch.send("q\n");
    watch.finish();
    // Chapters 3 onwards are still starters, so verify reports them as not yet.
    let verify = fx.run_env(&["verify"], &env);
    verify.expect_code(1);
    for line in [
        " 2. Get a number             ✓ passed".to_string(),
        format!("2 of {} chapters with a self-check pass.", chapter_count()),
    ] {
        assert!(
            verify.stdout.contains(&line),
            "{line:?} in:\n{}",
            verify.stdout
        );
    }
    fx.assert_clean();
}
