//! The operator: the learner's companion through the course (`cargo run`).
//!
//! With no argument it shows the board (every chapter: done, in progress or
//! not started, and the exact next command). `check`, `watch`, `hint`,
//! `solution`, `reset` and `verify` do the rest; `--help` explains each.
//! Everything about the chapters comes from the workspace's `course.toml`, so
//! a new chapter needs no change here.
#![forbid(unsafe_code)]

mod check;
mod commands;
mod process;
mod state;
mod ui;
mod watch;
mod workspace;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use workspace::Workspace;

/// The operator: your companion through Dial Tone.
///
/// With no command it shows the board: every chapter, where you are, and the
/// exact next command to type.
#[derive(Parser)]
#[command(name = "dialtone", version)]
struct Cli {
    /// The course folder to work on (default: $DIALTONE_ROOT, else the one you're in).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Also print how each check ran and how long it took (on stderr).
    #[arg(long, global = true, hide = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a chapter's self-check and show the verdict.
    ///
    /// Exits 0 when your answer passes, 1 when it doesn't yet.
    Check {
        /// The chapter (default: the first one not done).
        #[arg(value_name = "N")]
        chapter: Option<u32>,
        /// Run the check even if the file hasn't changed since the last one.
        #[arg(long)]
        fresh: bool,
    },
    /// Check the current chapter every time you save it; move on when it passes.
    Watch {
        /// Poll the file instead of waiting for change notifications (for
        /// network drives and WSL, where notifications don't arrive).
        #[arg(long, conflicts_with = "manual")]
        poll: bool,
        /// Don't watch the file: press Enter to check.
        #[arg(long)]
        manual: bool,
    },
    /// Show the next hint for a chapter (one more each time).
    Hint {
        /// The chapter (default: the first one not done).
        #[arg(value_name = "N")]
        chapter: Option<u32>,
    },
    /// Show the reference answer and how your file differs from it.
    ///
    /// Only after the chapter passes, unless you confirm (or pass --peek).
    Solution {
        /// The chapter (default: the first one not done).
        #[arg(value_name = "N")]
        chapter: Option<u32>,
        /// Show it even though the chapter hasn't passed yet.
        #[arg(long)]
        peek: bool,
    },
    /// Put a chapter's starter file back (your version is kept for --undo).
    Reset {
        /// The chapter (default: the first one not done; with --undo, the
        /// chapter reset last).
        #[arg(value_name = "N")]
        chapter: Option<u32>,
        /// Bring back the version the last reset replaced.
        #[arg(long)]
        undo: bool,
    },
    /// Run every chapter's self-check and summarise (for grading a workspace).
    ///
    /// Every check runs again: a verdict cached in the workspace's own
    /// `.dialtone/` folder is the student's file, not evidence.
    ///
    /// Exits 0 when every chapter that has a self-check passes.
    Verify {
        /// Trust verdicts cached in .dialtone/ for unchanged files (faster;
        /// not for grading someone else's work).
        #[arg(long)]
        cached: bool,
    },
}

fn main() {
    // First, before any thread exists: Ctrl-C is handled on one thread that
    // kills running checks and leaves cleanly.
    process::handle_interrupts(reset_terminal);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => bad_arguments(e),
    };
    let mut ws = match Workspace::find(cli.root.clone()) {
        Ok(ws) => ws,
        // A --root that isn't a course is a bad argument.
        Err(e) if cli.root.is_some() => usage_error("", &e),
        Err(e) => {
            anstream::eprintln!("{}error:{} {e}", ui::BAD, ui::BAD.render_reset());
            std::process::exit(1)
        }
    };
    // A fresh `verify` of a copy you are not working in (`--root PATH` from
    // your own copy) is a teacher grading it: it writes nothing into that
    // copy (its verdicts and compiled checks go to a scratch folder that is
    // removed afterwards). Run inside the learner's own copy, verify's
    // verdicts update their board as usual.
    let inside = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .is_ok_and(|d| d.starts_with(&ws.root));
    let grading = !inside;
    let scratch = (grading && matches!(cli.command, Some(Command::Verify { cached: false })))
        .then(|| std::env::temp_dir().join(format!("dialtone-verify-{}", std::process::id())));
    if let Some(dir) = &scratch {
        ws.keep_state_in(dir.clone());
    }
    let ws = ws;
    let checker = check::Checker::new(&ws, |line| {
        anstream::eprintln!("{}{line}{}", ui::DIM, ui::DIM.render_reset())
    });
    let code = match cli.command {
        None => commands::board(&ws),
        Some(Command::Check { chapter, fresh }) => {
            let ch = pick(&ws, chapter, "check");
            commands::check(&ws, &checker, ch, fresh, cli.verbose)
        }
        Some(Command::Watch { poll, manual }) => {
            let mode = if manual {
                watch::Mode::Manual
            } else if poll {
                watch::Mode::Poll
            } else {
                watch::Mode::Auto
            };
            let code = watch::watch(&ws, &checker, mode);
            watch::restore_keys();
            code
        }
        Some(Command::Hint { chapter }) => {
            commands::hint(&ws, pick(&ws, chapter, "hint"), commands::Asked::Command)
        }
        Some(Command::Solution { chapter, peek }) => {
            commands::solution(&ws, &checker, pick(&ws, chapter, "solution"), peek)
        }
        Some(Command::Reset { chapter, undo }) => {
            // `reset --undo` alone undoes the last reset, whichever chapter.
            let last = || state::State::new(&ws).last_reset();
            let chapter = chapter.or_else(|| last().filter(|_| undo));
            commands::reset(&ws, pick(&ws, chapter, "reset"), undo)
        }
        Some(Command::Verify { cached }) => commands::verify(&ws, &checker, !cached),
    };
    if let Some(dir) = scratch {
        // Best effort: a folder in the temporary directory, nothing of the
        // student's; failing to remove it doesn't change the verdict.
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(code)
}

/// The chapter a command acts on: the one named, or the current one.
fn pick<'w>(
    ws: &'w Workspace,
    number: Option<u32>,
    command: &str,
) -> &'w dialtone_kit::course::Chapter {
    match number {
        Some(n) => ws.chapter(n).unwrap_or_else(|| {
            let last = ws.course.chapters.last().map(|c| c.number).unwrap_or(0);
            usage_error(
                command,
                &format!("there is no chapter {n}; the course has chapters 1 to {last}"),
            )
        }),
        None => {
            let state = state::State::new(ws);
            commands::current(ws, &state)
                .or_else(|| ws.course.chapters.last())
                .unwrap_or_else(|| usage_error(command, "course.toml lists no chapters"))
        }
    }
}

/// Bad arguments: one line saying what's wrong, then the usage; exit 2.
fn bad_arguments(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit()
    }
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("error: bad arguments");
    eprintln!("{first}");
    // The usage of the command that was meant (clap's own error shows a
    // usage narrowed to the arguments given, which reads oddly here).
    let mut cli = Cli::command();
    let sub = std::env::args()
        .skip(1)
        .find(|a| cli.find_subcommand(a).is_some());
    let usage = match sub.and_then(|s| cli.find_subcommand_mut(&s).map(|c| c.render_usage())) {
        Some(u) => u.to_string().replace("Usage: ", "Usage: dialtone "),
        None => cli.render_usage().to_string(),
    };
    eprintln!("{usage}");
    std::process::exit(2)
}

fn usage_error(command: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    let usage = match cli.find_subcommand_mut(command) {
        Some(c) => c
            .render_usage()
            .to_string()
            .replace("Usage: ", "Usage: dialtone "),
        None => cli.render_usage().to_string(),
    };
    eprintln!("error: {message}");
    eprintln!("{usage}");
    std::process::exit(2)
}

/// Leaves the terminal as it was found: keys read by line again (watch reads
/// them one at a time), and no colour a print was in the middle of when
/// Ctrl-C arrived.
fn reset_terminal() {
    use std::io::{IsTerminal, Write};
    watch::restore_keys();
    if std::io::stdout().is_terminal() {
        let mut out = std::io::stdout();
        let _ = out.write_all(b"\x1b[0m");
        let _ = out.flush();
    }
}
