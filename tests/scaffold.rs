//! `cargo xtask new-chapter` really starts a chapter: on a scratch copy of
//! the course, `cargo xtask new-chapter demo --title Demo --part N` (the
//! last part, after the course's last chapter) writes
//! only new files and the entries it promises; then the new chapter's
//! integrity tests pass, the course and book checks accept it, its untouched
//! starter fails its self-check with its own hint, and its solution passes.
//!
//! Each cargo run builds in a scratch copy, so this is the slowest test in
//! the suite. The copy builds in a target folder of its own, kept between
//! runs (only the first run builds the dependencies). It must not share the
//! suite's: cargo names a workspace crate's build by its path inside the
//! workspace, so the copy's `dialtone-kit` would overwrite the suite's, and
//! the next `cargo test` would use it unrebuilt, with `env!("CARGO_MANIFEST_DIR")`
//! (where every crate finds `course.toml`) pointing into the scratch copy.
#![forbid(unsafe_code)]

use dialtone_kit::child::{run_limited, Ran};
use dialtone_testkit::{copy_course, copy_tree};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A cold build of every dependency on a busy 2-core machine fits in this.
const LIMIT: Duration = Duration::from_secs(1500);

fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scaffold")
}

/// The scratch copy's own target folder, beside the copy (see the top).
fn target_dir() -> PathBuf {
    scratch().join("target")
}

/// The course this test was built from: the root package is this test's
/// own, so its manifest folder is the course (not whatever course the kit
/// library was last built for).
fn this_course() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program args` in `dir` under the limit; the output, both streams.
fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> (Ran, String) {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("INSTA_UPDATE")
        .env("CI", "true")
        .envs(env.iter().copied());
    let ran = run_limited(&mut command, b"", LIMIT).unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    (ran, text)
}

fn cargo(dir: &Path, args: &[&str]) -> (Ran, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(dir, &cargo, args, &[])
}

fn git(dir: &Path, args: &[&str]) -> String {
    let identity = [
        "-c",
        "user.name=scaffold",
        "-c",
        "user.email=scaffold@localhost",
    ];
    let all: Vec<&str> = identity.iter().chain(args).copied().collect();
    let (ran, text) = run(dir, "git", &all, &[]);
    assert_eq!(ran.code(), Some(0), "git {args:?}:\n{text}");
    String::from_utf8_lossy(&ran.stdout).into_owned()
}

/// A fresh copy of the course with its cargo settings (the `xtask` alias),
/// committed to a git repository of its own so `git status` shows exactly
/// what the tool did.
fn fresh_course() -> PathBuf {
    let course = scratch().join("course");
    if course.exists() {
        std::fs::remove_dir_all(&course).expect("the last run's copy can be removed");
    }
    copy_course(&this_course(), &course).expect("copying the course");
    for hidden in [".cargo", ".gitignore"] {
        copy_tree(&this_course().join(hidden), &course.join(hidden))
            .unwrap_or_else(|e| panic!("copying {hidden}: {e}"));
    }
    git(&course, &["init", "-q"]);
    git(&course, &["add", "-A"]);
    git(&course, &["commit", "-q", "-m", "the course as shipped"]);
    course
}

/// What the tool may change in files that were there before it ran.
const ENTRIES: &[&str] = &[
    "Cargo.toml",
    "README.md",
    "Cargo.lock",
    "course.toml",
    "tests/chapters.rs",
    "book/src/SUMMARY.md",
    "book/src/README.md",
    "book/src/teachers.md",
];

/// The chapter the tool starts: the next number after course.toml's last
/// chapter, in the course's last part (Part III has an opening page, so the
/// sidebar, the README's table and the teachers' page are edited under a
/// part that starts with a page that isn't a chapter).
struct Demo {
    /// `12`: what `--snapshots chapter` and the module filter use.
    nn: String,
    part: String,
}

fn demo() -> Demo {
    let course = dialtone_kit::course::Course::parse(
        &std::fs::read_to_string(this_course().join("course.toml")).expect("course.toml"),
    )
    .expect("course.toml parses");
    Demo {
        nn: format!("{:02}", course.chapters.len() + 1),
        part: course.parts.last().expect("a part").number.to_string(),
    }
}

/// The new files the tool must write (folders count as their files).
fn new_files(d: &Demo) -> Vec<String> {
    let nn = &d.nn;
    vec![
        format!("chapters/{nn}-demo/"),
        format!("solutions/{nn}-demo/"),
        format!("tests/chapters/ch{nn}.rs"),
        format!("tests/chapters/snapshots/ch{nn}-starter.snap"),
        format!("tests/chapters/snapshots/ch{nn}-transcript.snap"),
        format!("book/src/{nn}-demo.md"),
        format!("book/src/images/sequence-{nn}.svg"),
    ]
}

#[test]
fn new_chapter_passes_at_once_with_its_starter_failing() {
    let course = fresh_course();
    let d = demo();
    refuses_bad_input_in_one_line(&course);
    let (ran, text) = cargo(
        &course,
        &[
            "xtask",
            "new-chapter",
            "demo",
            "--title",
            "Demo",
            "--part",
            &d.part,
            "--snapshots",
            "chapter",
        ],
    );
    assert_eq!(ran.code(), Some(0), "cargo xtask new-chapter:\n{text}");
    only_new_files_and_the_entries(&course, &d);
    its_tests_and_the_course_checks_pass(&course, &d);
    its_starter_fails_and_its_solution_passes(&course, &d);
    std::fs::remove_dir_all(&course).expect("the scratch copy can be removed");
}

/// `git status` shows the new files and the entries, and nothing else.
fn only_new_files_and_the_entries(course: &Path, d: &Demo) {
    let new = new_files(d);
    let status = git(course, &["status", "--porcelain", "--untracked-files=all"]);
    for line in status.lines() {
        let (state, path) = line.split_at(3);
        let allowed = match state.trim() {
            "M" => ENTRIES.contains(&path),
            "??" => new
                .iter()
                .any(|n| path == *n || (n.ends_with('/') && path.starts_with(n))),
            _ => false,
        };
        assert!(
            allowed,
            "the tool touched {path} ({state}); git status:\n{status}"
        );
    }
    for file in &new {
        assert!(
            status.contains(file.as_str()),
            "{file} was not written; git status:\n{status}"
        );
    }
    for entry in [
        "Cargo.toml",
        "README.md",
        "course.toml",
        "tests/chapters.rs",
        "book/src/SUMMARY.md",
    ] {
        assert!(
            status.contains(&format!(" M {entry}\n")),
            "no entry in {entry}:\n{status}"
        );
    }
}

/// The new chapter's integrity tests, with CI's rules (a missing or changed
/// snapshot fails; a wrong answer must get its own verdict), the course's
/// and the book's checks, and `cargo fmt --check`.
fn its_tests_and_the_course_checks_pass(course: &Path, d: &Demo) {
    let module = format!("ch{}::", d.nn);
    let (ran, text) = cargo(course, &["test", "--test", "chapters", "--", &module]);
    assert_eq!(
        ran.code(),
        Some(0),
        "the new chapter's integrity tests:\n{text}"
    );
    assert!(text.contains("test result: ok. 7 passed"), "{text}");
    let (ran, text) = cargo(course, &["test", "--test", "course", "--test", "book"]);
    assert_eq!(ran.code(), Some(0), "the course and book checks:\n{text}");
    let (ran, text) = cargo(course, &["fmt", "--all", "--check"]);
    assert_eq!(ran.code(), Some(0), "the new files are formatted:\n{text}");
}

/// The learner's view: `cargo test -p chNN-demo` fails on the untouched
/// starter with its function and its hint, and passes with the solution.
fn its_starter_fails_and_its_solution_passes(course: &Path, d: &Demo) {
    let package = format!("ch{}-demo", d.nn);
    let (ran, text) = cargo(course, &["test", "-p", &package]);
    assert_ne!(ran.code(), Some(0), "the untouched starter passed:\n{text}");
    assert!(
        text.contains("get_a_phone") && text.contains("call nix's socket() with the IPv4 family"),
        "the starter's failure should name its function and carry its hint:\n{text}"
    );
    let (ran, text) = cargo(course, &["test", "-p", &package, "--features", "solution"]);
    assert_eq!(ran.code(), Some(0), "the solution's self-check:\n{text}");
    assert!(
        text.contains("test your_phone_is_an_ipv4_stream_socket ... ok"),
        "{text}"
    );
}

/// The tool refuses, in one line, a slug it can't use, a slug taken and a
/// part that doesn't exist; `git status` afterwards proves it wrote nothing.
fn refuses_bad_input_in_one_line(course: &Path) {
    // A part course.toml doesn't have yet.
    let new_part = (demo().part.parse::<u32>().expect("a part number") + 1).to_string();
    for (args, says) in [
        (
            vec!["Demo!", "--title", "Demo", "--part", "1"],
            "is not a slug",
        ),
        (
            vec!["install-phone", "--title", "Again", "--part", "1"],
            "already has the slug",
        ),
        (
            vec!["unheard-of", "--title", "Unheard of", "--part", &new_part],
            "--part-title",
        ),
    ] {
        let mut all = vec!["xtask", "new-chapter"];
        all.extend(args.iter().copied());
        let (ran, text) = cargo(course, &all);
        let stderr = String::from_utf8_lossy(&ran.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert_eq!(ran.code(), Some(1), "{args:?}:\n{text}");
        assert!(
            last.starts_with("cargo xtask: ") && last.contains(says),
            "{args:?}: {last}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
    let status = git(course, &["status", "--porcelain", "--untracked-files=all"]);
    assert!(status.is_empty(), "a refusal wrote something:\n{status}");
}
