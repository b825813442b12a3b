//! Self-check verdicts: what was expected, what happened, and a hint in
//! telephone words and in syscall words.
//!
//! A chapter's check returns `Result<Passed, Failure>`. Each [`Failure`] carries
//! a stable `id` naming the mistake (e.g. `ch01.datagram`), so the integrity
//! suite can prove that a given wrong answer gets the message meant for it.
//!
//! That result becomes a [`Verdict`], the one shape a verdict has from the
//! check to the screen: `cargo test -p chNN-...` prints it with
//! [`Verdict::render`], and the operator receives it as one JSON line
//! ([`Verdict::to_json_line`]), keeps it in its cache and prints it with the
//! same [`Verdict::render`], so both read alike.

use crate::learner::{LearnerError, Trouble};
use crate::text;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{Read, Write};

/// The things a passing check verified, in the order it checked them.
#[derive(Debug, Default)]
pub struct Passed(pub Vec<String>);

impl Passed {
    pub fn saw(&mut self, what: impl Into<String>) {
        self.0.push(what.into());
    }
}

/// A failed check. Boxed so `Result<_, Failure>` stays small on the happy path;
/// read its fields through `Deref` (`failure.id`, `failure.hint`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(Box<Details>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// Stable name of the mistake: `unfinished`, `panicked`, `hung`, or `chNN.something`.
    pub id: String,
    /// One line: what went wrong, in plain words.
    pub headline: String,
    pub expected: String,
    pub got: String,
    /// The hint in telephone words.
    pub phone: String,
    /// The hint in syscall words.
    pub syscall: String,
}

impl std::ops::Deref for Failure {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

impl Failure {
    pub fn new(id: impl Into<String>, headline: impl Into<String>) -> Self {
        Failure(Box::new(Details {
            id: id.into(),
            headline: headline.into(),
            expected: String::new(),
            got: String::new(),
            phone: String::new(),
            syscall: String::new(),
        }))
    }
    pub fn expected(mut self, s: impl Into<String>) -> Self {
        self.0.expected = s.into();
        self
    }
    pub fn got(mut self, s: impl Into<String>) -> Self {
        self.0.got = s.into();
        self
    }
    pub fn phone(mut self, s: impl Into<String>) -> Self {
        self.0.phone = s.into();
        self
    }
    pub fn syscall(mut self, s: impl Into<String>) -> Self {
        self.0.syscall = s.into();
        self
    }
}

/// A learner call that didn't finish becomes a failure with its own id.
impl From<LearnerError> for Failure {
    fn from(e: LearnerError) -> Self {
        let (id, expected, got, phone, syscall) = match &e.trouble {
            Trouble::Unfinished => (
                "unfinished",
                format!("{}() to do its job", e.function),
                "todo!() - the function isn't written yet".to_string(),
                "this step of the call isn't written yet: there's nothing to test.".to_string(),
                task_hint(&e),
            ),
            Trouble::Panicked(msg) => (
                "panicked",
                format!("{}() to return Ok(..) or the kernel's Err(..)", e.function),
                format!("a panic: {msg}"),
                "the handset fell off the wall mid-call.".to_string(),
                "return the nix::Result instead of unwrap()/expect(); use `?` to pass errors up."
                    .to_string(),
            ),
            Trouble::Hung(t) => (
                "hung",
                format!("{}() to return within {} s", e.function, t.as_secs()),
                "it was still running (blocked or looping) when the check gave up".to_string(),
                "you're waiting by the telephone for a call or words that never come.".to_string(),
                "a blocking call (accept, read, connect) is waiting on a peer that isn't there, or a loop never ends."
                    .to_string(),
            ),
        };
        Failure::new(
            id,
            e.to_string().lines().next().unwrap_or_default().to_string(),
        )
        .expected(expected)
        .got(got)
        .phone(phone)
        .syscall(syscall)
    }
}

fn task_hint(e: &LearnerError) -> String {
    e.chapter
        .task(&e.function)
        .map(|t| format!("{}.", t.hint))
        .unwrap_or_else(|| "fill in the todo!().".to_string())
}

impl fmt::Display for Failure {
    /// The failure as the verdict shows it, without a chapter title.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&failure_lines(self, text::width(), &plain))
    }
}

impl std::error::Error for Failure {}

/// A self-check's verdict: passed, with what it saw, or failed, with the
/// mistake's id and its words. Serialised as JSON with a `kind` tag.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Verdict {
    /// The check passed; these are the things it saw, in order.
    Passed { saw: Vec<String> },
    /// The check failed with one of the chapter's mistakes.
    Failed(Box<Details>),
}

/// The JSON line a check program prints: the verdict and the nonce the
/// operator gave it, so that a line merely printed by the code under test
/// (which cannot know this run's nonce) is not taken for the verdict.
#[derive(Serialize, Deserialize)]
struct Line {
    nonce: String,
    verdict: Verdict,
}

/// What a part of a verdict is, for whoever colours it (the operator paints
/// for a terminal; a test prints plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A pass.
    Good,
    /// A failure's title.
    Bad,
    /// The one line that says what went wrong.
    Strong,
    /// Asides: the mistake's id.
    Quiet,
}

/// Paints `text` in a [`Tone`]; [`plain`] paints nothing.
pub type Paint<'a> = &'a dyn Fn(Tone, &str) -> String;

/// No colour: for tests, pipes and `NO_COLOR`.
pub fn plain(_: Tone, text: &str) -> String {
    text.to_string()
}

impl From<Result<Passed, Failure>> for Verdict {
    fn from(result: Result<Passed, Failure>) -> Self {
        Verdict::from_result(result)
    }
}

impl Verdict {
    pub fn from_result(result: Result<Passed, Failure>) -> Verdict {
        match result {
            Ok(passed) => Verdict::Passed { saw: passed.0 },
            Err(failure) => Verdict::Failed(failure.0),
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed { .. })
    }

    /// The failure's details; `None` for a pass.
    pub fn failure(&self) -> Option<&Details> {
        match self {
            Verdict::Failed(d) => Some(d),
            Verdict::Passed { .. } => None,
        }
    }

    /// One line of JSON (no newline inside: strings are escaped) carrying
    /// this verdict and `nonce`.
    pub fn to_json_line(&self, nonce: &str) -> String {
        let line = Line {
            nonce: nonce.to_string(),
            verdict: self.clone(),
        };
        serde_json::to_string(&line).expect("a verdict is strings and lists: it always serialises")
    }

    /// The verdict in `line`, if `line` is a verdict line carrying `nonce`.
    pub fn from_json_line(line: &str, nonce: &str) -> Option<Verdict> {
        let line: Line = serde_json::from_str(line.trim()).ok()?;
        (!nonce.is_empty() && line.nonce == nonce).then_some(line.verdict)
    }

    /// The verdict in a check program's output: the last line that parses
    /// and carries `nonce` (the code under test may print lines of its own,
    /// before and after).
    pub fn find_in(output: &str, nonce: &str) -> Option<Verdict> {
        // A line the code under test left unfinished (`print!` without a
        // newline) runs into the verdict's: read from where the JSON starts.
        output.lines().rev().find_map(|l| {
            let start = l.rfind("{\"nonce\":").unwrap_or(0);
            Verdict::from_json_line(&l[start..], nonce)
        })
    }

    /// The verdict as the learner reads it, wrapped to `width` columns:
    /// `title` (e.g. "Chapter 1 (Install a phone)") passes or not, then what
    /// was seen, or expected / got / the two hints and the mistake's id.
    pub fn render(&self, title: &str, width: usize, paint: Paint) -> String {
        let mut out = String::new();
        match self {
            Verdict::Passed { saw } => {
                let head = format!("✓ {title}: your answer passes the self-check.");
                push(
                    &mut out,
                    text::wrap(&paint(Tone::Good, &head), width, "", "  "),
                );
                for s in saw {
                    let mark = paint(Tone::Good, "✓");
                    push(
                        &mut out,
                        text::wrap(s, width, &format!("  {mark} "), "    "),
                    );
                }
            }
            Verdict::Failed(d) => {
                let head = format!("✗ {title}: not yet.");
                push(
                    &mut out,
                    text::wrap(&paint(Tone::Bad, &head), width, "", "  "),
                );
                out.push_str(&failure_lines(d, width, paint));
            }
        }
        out
    }
}

impl fmt::Debug for Verdict {
    /// Short, for a test's `Error:` line: [`verdict`] has printed the whole
    /// verdict just above it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Passed { saw } => write!(f, "passed ({} things seen)", saw.len()),
            Verdict::Failed(d) => write!(
                f,
                "the self-check found a problem (mistake: {}); the verdict is above",
                d.id
            ),
        }
    }
}

fn push(out: &mut String, text: String) {
    out.push_str(&text);
    out.push('\n');
}

/// A failure's lines under the title: the headline, then each labelled part
/// with its continuation lines under the text, not under the label.
fn failure_lines(d: &Details, width: usize, paint: Paint) -> String {
    const LABELS: [&str; 4] = ["expected:", "got:", "☎ phone:", "⚙ syscall:"];
    let hang = " ".repeat(2 + 11);
    let mut out = String::new();
    push(
        &mut out,
        text::wrap(&paint(Tone::Strong, &d.headline), width, "  ", "  "),
    );
    for (label, value) in LABELS
        .iter()
        .zip([&d.expected, &d.got, &d.phone, &d.syscall])
    {
        // Labels padded by display width: the ☎ and ⚙ take one column each.
        let pad = " ".repeat(11 - text::columns(label));
        let first = format!("  {label}{pad}");
        push(&mut out, text::wrap(value, width, &first, &hang));
    }
    let id = paint(Tone::Quiet, &format!("(mistake: {})", d.id));
    push(&mut out, format!("  {id}"));
    out
}

/// For a chapter's `tests/self_check.rs`: prints the verdict (what passed,
/// or what went wrong and the hints) and fails the test when it isn't a
/// pass. The test's `Err` is only a pointer to the verdict printed above it,
/// so `cargo test` shows no panic backtrace.
pub fn verdict(chapter_title: &str, result: Result<Passed, Failure>) -> Result<(), Verdict> {
    let v = Verdict::from_result(result);
    print!("{}", v.render(chapter_title, text::width(), &plain));
    if v.passed() {
        Ok(())
    } else {
        Err(v)
    }
}

/// For the operator's check program: reads this run's nonce from standard
/// input (the operator writes it and closes the pipe), prints the verdict as
/// one JSON line on standard output, and ends the process at once: a learner
/// call that hung is parked on a thread of its own and must not keep the
/// process alive. Exits 3 if the verdict can't be written.
pub fn report(result: Result<Passed, Failure>) -> ! {
    let mut nonce = String::new();
    // Bounded: a nonce is a short line; anything longer is not one.
    let _ = std::io::stdin().take(256).read_to_string(&mut nonce);
    let line = Verdict::from_result(result).to_json_line(nonce.trim());
    let mut out = std::io::stdout().lock();
    // On a line of its own, whatever the code under test printed last.
    let written = writeln!(out, "\n{line}").and_then(|()| out.flush());
    std::process::exit(if written.is_ok() { 0 } else { 3 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Verdict {
        Verdict::from_result(Err(Failure::new("ch01.datagram", "a datagram socket")
            .expected("SOCK_STREAM")
            .got("SOCK_DGRAM\nsecond line")
            .phone("a walkie-talkie is not a telephone")
            .syscall("ask socket() for SockType::Stream")))
    }

    #[test]
    fn json_round_trip_needs_the_nonce() {
        let passed = Verdict::from_result(Ok(Passed(vec!["a stream socket".into()])));
        for v in [failed(), passed] {
            let line = v.to_json_line("n0nce");
            assert!(!line.contains('\n'), "{line}");
            assert_eq!(Verdict::from_json_line(&line, "n0nce"), Some(v.clone()));
            assert_eq!(Verdict::from_json_line(&line, "other"), None);
            assert_eq!(Verdict::from_json_line(&line, ""), None);
        }
    }

    /// A forged line without this run's nonce, or garbage after the real
    /// line, doesn't replace the verdict; the last real line wins.
    #[test]
    fn the_last_line_with_the_nonce_is_the_verdict() {
        let forged = Verdict::Passed { saw: vec![] }.to_json_line("guess");
        let real = failed().to_json_line("n0nce");
        let out = format!("hello\n{forged}\n{real}\n{forged}\nnot json {{\n");
        assert_eq!(Verdict::find_in(&out, "n0nce"), Some(failed()));
        assert_eq!(Verdict::find_in("hello\n", "n0nce"), None);
        let unfinished = format!("no newline here{real}\n");
        assert_eq!(Verdict::find_in(&unfinished, "n0nce"), Some(failed()));
    }

    #[test]
    fn render_labels_hints_and_keeps_the_hanging_indent() {
        let text = failed().render("Chapter 1 (Install a phone)", 80, &plain);
        assert_eq!(
            text,
            "✗ Chapter 1 (Install a phone): not yet.\n  a datagram socket\n  \
             expected:  SOCK_STREAM\n  got:       SOCK_DGRAM\n             second line\n  \
             ☎ phone:   a walkie-talkie is not a telephone\n  \
             ⚙ syscall: ask socket() for SockType::Stream\n  (mistake: ch01.datagram)\n"
        );
        let narrow = failed().render("Chapter 1 (Install a phone)", 30, &plain);
        assert!(
            narrow.contains("\n             SockType::Stream\n"),
            "{narrow}"
        );
        assert!(narrow.lines().all(|l| text::columns(l) <= 30), "{narrow}");
    }

    #[test]
    fn paint_is_applied_by_tone() {
        let loud = |t: Tone, s: &str| format!("<{t:?}>{s}</>");
        let text = failed().render("Ch", 80, &loud);
        assert!(
            text.starts_with("<Bad>✗ Ch: not yet.</>\n  <Strong>a datagram"),
            "{text}"
        );
        assert!(
            text.contains("<Quiet>(mistake: ch01.datagram)</>"),
            "{text}"
        );
    }
}
