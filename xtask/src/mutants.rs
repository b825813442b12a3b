//! `cargo xtask mutants [N]`: cargo-mutants on each chapter's reference
//! answer, with that chapter's self-check as the test. A mutant the
//! self-check doesn't catch is a wrong answer a learner could hand in and be
//! told it passes.
//!
//! cargo-mutants mutates the files it finds through the crate's module tree,
//! and the answer is swapped in through `#[cfg_attr(feature = "solution",
//! path = ...)]`, which it may not follow. So the run works on a scratch copy
//! of the course in which each reference answer is copied over the learner's
//! file; there the plain build is the solution, and cargo-mutants mutates
//! `chapters/NN-slug/src/answer.rs` in place. The mutants that are truly
//! equivalent (no test could tell them apart) are listed, each with its
//! reason, in `.cargo/mutants.toml`, which a plain `cargo mutants` reads too.

use crate::chores::read_course;
use crate::run::show;
use dialtone_kit::course::Chapter;
use dialtone_testkit::{copy_course, copy_tree};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The chapter to test; every chapter without it
    chapter: Option<u32>,
}

/// How one chapter's mutants fared.
#[derive(Default)]
struct Score {
    caught: u64,
    missed: u64,
    unviable: u64,
    timeout: u64,
    seconds: u64,
    /// The missed mutants, as cargo-mutants names them.
    missed_list: Vec<String>,
}

pub fn run(root: &Path, args: &Args) -> Result<(), String> {
    let course = read_course(root)?;
    let chapters: Vec<&Chapter> = match args.chapter {
        Some(n) => vec![course
            .chapter(n)
            .ok_or_else(|| format!("course.toml has no chapter {n}"))?],
        None => course.chapters.iter().collect(),
    };
    let scratch = root.join("target/xtask-mutants");
    prepare(root, &scratch, &chapters)?;
    let mut scores = Vec::new();
    for ch in &chapters {
        let score = mutate(root, &scratch, ch)?;
        println!(
            "chapter {}: {} caught, {} missed, {} unviable, {} timeout ({} s)",
            ch.number, score.caught, score.missed, score.unviable, score.timeout, score.seconds
        );
        scores.push((ch.number, score));
    }
    print_scores(&scores);
    let weak: Vec<String> = scores
        .iter()
        .filter(|(_, s)| s.missed + s.timeout > 0)
        .map(|(n, _)| n.to_string())
        .collect();
    if weak.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the self-checks of chapter(s) {} let a mutant of the reference answer pass; strengthen the check, or list a truly equivalent mutant in .cargo/mutants.toml with its reason",
            weak.join(", ")
        ))
    }
}

/// A fresh scratch copy of the course (with its `.cargo` settings, which
/// hold the list of equivalent mutants) in which each chapter's reference
/// answer is the learner's file.
fn prepare(root: &Path, scratch: &Path, chapters: &[&Chapter]) -> Result<(), String> {
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    if scratch.exists() {
        fs::remove_dir_all(scratch).map_err(|e| io("clearing the scratch copy", e))?;
    }
    copy_course(root, scratch).map_err(|e| io("copying the course", e))?;
    copy_tree(&root.join(".cargo"), &scratch.join(".cargo")).map_err(|e| io(".cargo", e))?;
    for ch in chapters {
        fs::copy(
            root.join(ch.solution_path()),
            scratch.join(ch.learner_path()),
        )
        .map_err(|e| io(&ch.solution_path().display().to_string(), e))?;
    }
    Ok(())
}

/// Runs cargo-mutants on one chapter's answer in the scratch copy. The build
/// shares the course's own target folder (or the CARGO_TARGET_DIR you set),
/// so the dependencies are built once.
fn mutate(root: &Path, scratch: &Path, ch: &Chapter) -> Result<Score, String> {
    let out = scratch.join(format!("mutants-ch{:02}", ch.number));
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(scratch)
        .env(
            "CARGO_TARGET_DIR",
            std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| root.join("target").into()),
        )
        .args(["mutants", "--in-place", "--no-shuffle", "--package"])
        .arg(ch.crate_name())
        .arg("--file")
        .arg(ch.learner_path())
        // The self-check is the test: no doc tests, no other target.
        .args(["--cargo-test-arg=--test", "--cargo-test-arg=self_check"])
        .arg("--output")
        .arg(&out);
    println!("$ {}", show(&command));
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|e| format!("couldn't run cargo-mutants ({e}); install it with `cargo install --locked cargo-mutants`"))?;
    // 0: all caught; 2: some missed; 3: some timed out. Anything else means
    // the run itself failed (the baseline didn't pass, a bad option).
    if !matches!(status.code(), Some(0 | 2 | 3)) {
        return Err(format!(
            "cargo-mutants on chapter {} failed ({status}); see its log under {}",
            ch.number,
            out.display()
        ));
    }
    let mut score = read_outcomes(&out.join("mutants.out"))?;
    score.seconds = started.elapsed().as_secs();
    Ok(score)
}

/// The counts from cargo-mutants' `outcomes.json`, and its `missed.txt`.
fn read_outcomes(dir: &Path) -> Result<Score, String> {
    let path: PathBuf = dir.join("outcomes.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let count = |key: &str| {
        json.get(key)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let missed_list = fs::read_to_string(dir.join("missed.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    Ok(Score {
        caught: count("caught"),
        missed: count("missed"),
        unviable: count("unviable"),
        timeout: count("timeout"),
        seconds: 0,
        missed_list,
    })
}

fn print_scores(scores: &[(u32, Score)]) {
    println!("\nchapter  caught  missed  unviable  timeout  seconds");
    for (n, s) in scores {
        println!(
            "{n:>7}  {:>6}  {:>6}  {:>8}  {:>7}  {:>7}",
            s.caught, s.missed, s.unviable, s.timeout, s.seconds
        );
    }
    for (n, s) in scores.iter().filter(|(_, s)| !s.missed_list.is_empty()) {
        println!("\nchapter {n}, missed:");
        for m in &s.missed_list {
            println!("  {m}");
        }
    }
}
