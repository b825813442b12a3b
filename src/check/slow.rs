//! The slow path: `cargo test -p chNN-slug`, as a learner would type it,
//! for a chapter the fast path can't check (or with `DIALTONE_SLOW=1`).
//!
//! Cargo's report is trusted only as far as it goes: a pass needs every test
//! program to exit 0 *and* to print its `test result: ok. N passed` line,
//! with at least one test passed. A learner function that ends the process
//! (`std::process::exit(0)`) stops the program before that line, so it is a
//! crash, never a pass.

use super::driver::{describe_crash, scratch_env, GRACE};
use super::{cargo, compiler_output};
use crate::process::Scratch;
use crate::state::{Outcome, Record};
use crate::workspace::Workspace;
use dialtone_kit::child;
use dialtone_kit::course::Chapter;
use std::path::PathBuf;
use std::process::Command;

pub fn check(ws: &Workspace, ch: &Chapter, note: fn(&str)) -> Result<Record, String> {
    note(&format!(
        "checking with `cargo test -p {}` (the fast path isn't available for this chapter)",
        ch.crate_name()
    ));
    let programs = match build_tests(ws, ch)? {
        Ok(programs) => programs,
        Err(text) => return Ok(Record::new(Outcome::CompileError { text })),
    };
    let mut report = String::new();
    let mut tally = Tally::default();
    for exe in programs {
        let scratch = Scratch::new().map_err(|e| format!("can't make a scratch folder: {e}"))?;
        let mut cmd = Command::new(&exe);
        cmd.args(["--test-threads=1", "--color", "never", "-q"]);
        scratch_env(&mut cmd, &scratch.0);
        let limits = child::Limits {
            input: b"",
            time: ch.timeout() + GRACE,
            cap: child::OUTPUT_CAP,
        };
        let run = child::run(&mut cmd, limits)
            .map_err(|e| format!("can't run {}: {e}", exe.display()))?;
        let out = run.stdout.text();
        if run.status.is_none() {
            let secs = limits.time.as_secs();
            return Ok(Record::with_output(Outcome::Stopped { secs }, out));
        }
        if let Err(how) = tally.add(&out, &run) {
            return Ok(Record::with_output(Outcome::Crashed { how }, out));
        }
        report.push_str(&out);
    }
    let outcome = match tally {
        Tally {
            passed: 0,
            failed: 0,
        } => Outcome::NoCheck,
        Tally { passed, failed } => Outcome::Report {
            passed: passed > 0 && failed == 0,
            text: report.trim().to_string(),
        },
    };
    Ok(Record::new(outcome))
}

/// `cargo test --no-run`: the test programs, or the compiler's errors.
fn build_tests(ws: &Workspace, ch: &Chapter) -> Result<Result<Vec<PathBuf>, String>, String> {
    let mut cmd = cargo::command(ws);
    cmd.args(["test", "-p", &ch.crate_name(), "--no-run"])
        .arg("--message-format=json-diagnostic-rendered-ansi");
    let limits = child::Limits {
        input: b"",
        time: super::artifacts::BUILD_LIMIT,
        cap: usize::MAX,
    };
    let done = child::run(&mut cmd, limits).map_err(|e| format!("can't run cargo: {e}"))?;
    let messages: Vec<_> = cargo::messages(&done.stdout.text()).collect();
    if !done.status.is_some_and(|s| s.success()) {
        let errors = cargo::errors(&messages);
        let text = if errors.is_empty() {
            done.stderr.text()
        } else {
            errors.join("\n")
        };
        let root = format!("{}/", ws.root.display());
        return Ok(Err(compiler_output::tidy(&text.replace(&root, ""))));
    }
    let programs = messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
        .filter_map(|m| m["executable"].as_str())
        .map(PathBuf::from)
        .collect();
    Ok(Ok(programs))
}

/// Tests passed and failed, by the result lines the test programs printed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    /// Counts one test program's result line; an error (how it ended) when
    /// it ran tests but ended without one.
    fn add(&mut self, out: &str, run: &child::Finished) -> Result<(), String> {
        let planned = out.lines().find_map(|l| {
            let n = l.strip_prefix("running ")?.split(' ').next()?;
            n.parse::<u32>().ok()
        });
        let result = out.lines().find_map(result_line);
        match (planned, result) {
            (Some(0), _) => Ok(()),
            (_, Some((passed, failed))) => {
                let ok = run.status.is_some_and(|s| s.success());
                self.passed += passed;
                // A program that exits non-zero after an "ok" line failed.
                self.failed += failed + u32::from(!ok && failed == 0);
                Ok(())
            }
            _ => Err(format!(
                "{}, so `cargo test` never printed its result",
                describe_crash(run)
            )),
        }
    }
}

/// `test result: ok. 1 passed; 0 failed; ...` -> (1, 0).
fn result_line(line: &str) -> Option<(u32, u32)> {
    let rest = line.strip_prefix("test result: ")?;
    let (_, counts) = rest.split_once(". ")?;
    let mut fields = counts.split("; ");
    let count = |field: Option<&str>, name: &str| -> Option<u32> {
        field?.strip_suffix(name)?.trim().parse().ok()
    };
    let passed = count(fields.next(), "passed")?;
    let failed = count(fields.next(), "failed")?;
    Some((passed, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_are_read() {
        let ok = "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(result_line(ok), Some((1, 0)));
        let bad = "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured";
        assert_eq!(result_line(bad), Some((0, 1)));
        assert_eq!(result_line("running 1 test"), None);
    }
}
