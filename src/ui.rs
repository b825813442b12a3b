//! How the operator speaks: verdicts, in the same words the chapter's check
//! chose, with colour only for a terminal that wants it.
//!
//! Colour goes through `anstream`, which drops it when stdout isn't a
//! terminal or `NO_COLOR` is set; prompts are only ever shown when both stdin
//! and stdout are terminals and `NO_COLOR` isn't set. Prose wraps to the
//! screen through `dialtone_kit::text`.

use crate::state::{Outcome, Record};
use crate::workspace::Workspace;
use anstyle::{AnsiColor, Style};
use dialtone_kit::check::Tone;
use dialtone_kit::course::Chapter;
use dialtone_kit::text;
use std::io::IsTerminal;

pub const GOOD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)))
    .bold();
pub const BAD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const WARN: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();
pub const CMD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));

/// Whether the operator may ask a question and wait for the answer: never
/// with `NO_COLOR` set (the README promises no prompts then), nor when
/// stdin or stdout isn't a terminal.
pub fn interactive() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// How the learner types a command: `cargo run -- check 2`.
pub fn cmd(args: &str) -> String {
    if args.is_empty() {
        "cargo run".to_string()
    } else {
        format!("cargo run -- {args}")
    }
}

/// Lines of learner output shown under a verdict; the rest is counted.
const OUTPUT_LINES: usize = 20;

/// Paints a part of a verdict for the terminal (`anstream` drops the colour
/// again when stdout isn't one or `NO_COLOR` is set).
pub fn paint(tone: Tone, text: &str) -> String {
    let style = match tone {
        Tone::Good => GOOD,
        Tone::Bad => BAD,
        Tone::Strong => BOLD,
        Tone::Quiet => DIM,
    };
    format!("{style}{text}{style:#}")
}

/// Prints `text` wrapped to the screen: the first line after `indent`, the
/// rest after `hanging`.
pub fn say(text: &str, indent: &str, hanging: &str) {
    anstream::println!("{}", text::wrap(text, text::width(), indent, hanging));
}

/// A short line for an outcome, the same on the board and in `verify`: its
/// first clause, at most 60 characters (`check N` shows the whole verdict).
pub fn summary(outcome: &Outcome) -> String {
    let long = match outcome {
        o if o.passed() => "passed".into(),
        Outcome::Judged { verdict } => verdict
            .failure()
            .map_or_else(|| "not yet".into(), |d| d.headline.clone()),
        Outcome::CompileError { .. } => "doesn't compile".into(),
        Outcome::Stopped { secs } => format!("didn't finish within {secs} s"),
        Outcome::Crashed { .. } => "crashed".into(),
        Outcome::Report { .. } => "not yet".into(),
        Outcome::NoCheck => "no self-check yet".into(),
    };
    let clause = long.split(": ").next().unwrap_or(&long);
    let short: String = clause.chars().take(60).collect();
    if short.len() < clause.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Prints a verdict in full, as `check` shows it.
pub fn print_verdict(ch: &Chapter, v: &Record, unchanged: bool) {
    let title = format!("Chapter {} ({})", ch.number, ch.title);
    let file = ch.learner_path().display().to_string();
    // Every line but the compiler's own (whose layout is its meaning) wraps.
    let fail = |what: &str| say(&format!("{BAD}✗ {title}: {what}{BAD:#}"), "", "  ");
    let aside = |what: &str| say(what, "  ", "  ");
    match &v.outcome {
        Outcome::Judged { verdict } => {
            anstream::print!("{}", verdict.render(&title, text::width(), &paint));
            crate::check::trace("verdict printed");
        }
        Outcome::CompileError { text } => {
            fail(&format!("{file} doesn't compile yet."));
            print_compiler_says(text);
        }
        Outcome::Stopped { secs } => {
            let names: Vec<String> = ch
                .tasks
                .iter()
                .map(|t| format!("{}()", t.function))
                .collect();
            fail(&format!(
                "the self-check didn't finish within {secs} s, so it was stopped."
            ));
            aside(&format!(
                "Your code in {file} ({}) kept running outside the calls the check times.",
                names.join(", ")
            ));
            aside("Look for a loop that never ends, or a blocking call (accept, read, connect) waiting on a peer that isn't there.");
        }
        Outcome::Crashed { how } => {
            fail(&format!("your code stopped the whole self-check: {how}."));
            aside("A learner function should return its Result, never end the program.");
        }
        Outcome::Report { passed: true, text } => {
            say(
                &format!("{GOOD}✓ {title}: your answer passes the self-check.{GOOD:#}"),
                "",
                "  ",
            );
            print_indented(text);
        }
        Outcome::Report { text, .. } => {
            fail("not yet.");
            print_indented(text);
        }
        Outcome::NoCheck => {
            let words =
                format!("· {title} has no self-check yet: the chapter is still being written.");
            say(&format!("{WARN}{words}{WARN:#}"), "", "  ");
        }
    }
    print_learner_output(&v.output);
    if unchanged {
        let again = cmd(&format!("check {} --fresh", ch.number));
        anstream::println!();
        say(
            &format!("{DIM}(unchanged since the last check; `{again}` runs it again){DIM:#}"),
            "  ",
            "  ",
        );
    }
}

/// The compiler's errors, as it laid them out, at most 60 lines.
fn print_compiler_says(text: &str) {
    anstream::println!("  The compiler says:\n");
    for line in text.lines().take(60) {
        anstream::println!("    {line}");
    }
    if text.lines().count() > 60 {
        anstream::println!("    {DIM}[... more errors; fix these first]{DIM:#}");
    }
}

fn print_indented(text: &str) {
    for line in text.lines() {
        anstream::println!("  {line}");
    }
}

/// What the learner's code printed, its first lines (and how many more).
fn print_learner_output(output: &str) {
    let out = output.trim_end();
    if out.is_empty() {
        return;
    }
    let (out, dropped) = match out.rsplit_once("\n[... ") {
        Some((kept, note)) => (kept, Some(format!("[... {note}"))),
        None => (out, None),
    };
    let lines: Vec<&str> = out.lines().collect();
    anstream::println!("\n  {DIM}Your code printed:{DIM:#}");
    for line in lines.iter().take(OUTPUT_LINES) {
        let line: String = line.chars().take(200).collect();
        anstream::println!("  {DIM}│{DIM:#} {line}");
    }
    if lines.len() > OUTPUT_LINES {
        let more = lines.len() - OUTPUT_LINES;
        anstream::println!("  {DIM}│ [... {more} more lines]{DIM:#}");
    }
    if let Some(note) = dropped {
        anstream::println!("  {DIM}│ {note}{DIM:#}");
    }
}

/// What to do next after a verdict on chapter `ch`.
pub fn print_next_after(ws: &Workspace, ch: &Chapter, v: &Record) {
    if v.outcome.passed() {
        match ws.course.chapters.iter().find(|c| c.number > ch.number) {
            Some(next) => {
                anstream::println!();
                say(
                    &format!(
                        "Next: chapter {}, {}. Read {}, then `{CMD}{}{CMD:#}`.",
                        next.number,
                        next.title,
                        next.book_page().display(),
                        cmd(&format!("check {}", next.number))
                    ),
                    "",
                    "",
                );
            }
            None => anstream::println!(
                "\nThat was the last chapter. `{CMD}{}{CMD:#}` shows the whole board.",
                cmd("")
            ),
        }
    } else if v.outcome != crate::state::Outcome::NoCheck {
        anstream::println!();
        say(
            &format!(
                "Edit {}, then `{CMD}{}{CMD:#}` (or `{CMD}{}{CMD:#}` to check on every save). Stuck? `{CMD}{}{CMD:#}`.",
                ch.learner_path().display(),
                cmd(&format!("check {}", ch.number)),
                cmd("watch"),
                cmd(&format!("hint {}", ch.number))
            ),
            "",
            "",
        );
    }
}
