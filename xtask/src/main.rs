//! `cargo xtask`: the course's chores, one command each.
//!
//! `cargo xtask` is an alias (`.cargo/config.toml`) for running this crate,
//! so nothing needs installing. Every chore works on the course in the
//! current folder (or the nearest one above it holding `course.toml`), so it
//! works as well on a scratch copy of the course as on this one.
#![forbid(unsafe_code)]

mod chores;
mod edit;
mod mutants;
mod new_chapter;
mod run;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    about = "The Dial Tone course's chores",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a chapter: its files and every entry the tests need
    NewChapter(new_chapter::Args),
    /// Redraw the book's figures (book/src/images/sequence*.svg)
    Figures,
    /// The operator's benchmark, then chapter 8's echo benchmark
    Bench {
        /// Passed on to the operator's benchmark (e.g. --runs 5)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the book and check it in headless Chromium
    Browser,
    /// Run the tests writing snapshots; list those that changed
    Snapshots {
        /// Only the integrity tests matching this (e.g. ch06)
        filter: Option<String>,
    },
    /// cargo-mutants on chapter N (or every) solution vs its check
    Mutants(mutants::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match course_root() {
        Ok(root) => root,
        Err(e) => return fail(&e),
    };
    let done = match cli.command {
        Command::NewChapter(args) => new_chapter::run(&root, &args),
        Command::Figures => chores::figures(&root).map(|_| ()),
        Command::Bench { args } => chores::bench(&root, &args),
        Command::Browser => chores::browser(&root),
        Command::Snapshots { filter } => chores::snapshots(&root, filter.as_deref()),
        Command::Mutants(args) => mutants::run(&root, &args),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// One line on stderr and a non-zero exit, never a backtrace.
fn fail(message: &str) -> ExitCode {
    eprintln!("cargo xtask: {message}");
    ExitCode::FAILURE
}

/// The course to work on: the current folder or the nearest one above it
/// with a `course.toml` beside a `Cargo.toml`.
fn course_root() -> Result<PathBuf, String> {
    let here =
        std::env::current_dir().map_err(|e| format!("can't read the current folder: {e}"))?;
    here.ancestors()
        .find(|d| d.join("course.toml").is_file() && d.join("Cargo.toml").is_file())
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "{} is not inside a Dial Tone course (no course.toml here or above); run this in the course's folder",
                here.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask bench --runs 5` hands `--runs 5` to the benchmark.
    #[test]
    fn bench_passes_its_arguments_on() {
        let cli = Cli::try_parse_from(["cargo xtask", "bench", "--runs", "5"]).unwrap();
        assert!(matches!(cli.command, Command::Bench { args } if args == ["--runs", "5"]));
        let cli = Cli::try_parse_from(["cargo xtask", "mutants", "6"]).unwrap();
        assert!(matches!(cli.command, Command::Mutants(_)));
        assert!(Cli::try_parse_from(["cargo xtask", "mutants", "six"]).is_err());
    }
}
