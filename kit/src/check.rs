//! Self-check verdicts: what was expected, what happened, and a hint in
//! telephone words and in syscall words.
//!
//! A chapter's check returns `Result<Passed, Failure>`. Each [`Failure`] carries
//! a stable `id` naming the mistake (e.g. `ch01.datagram`), so the integrity
//! suite can prove that a given wrong answer gets the message meant for it.

use crate::learner::{LearnerError, Trouble};
use std::fmt;

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

#[derive(Debug, Clone, PartialEq, Eq)]
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "✗ {}", self.headline)?;
        writeln!(f, "  expected: {}", self.expected)?;
        writeln!(f, "  got:      {}", self.got)?;
        writeln!(f, "  ☎ hint:   {}", self.phone)?;
        write!(f, "  ⚙ hint:   {}  [{}]", self.syscall, self.id)
    }
}

impl std::error::Error for Failure {}

/// A failed self-check as a test's `Err`: its `Debug` is the readable verdict,
/// so `cargo test` prints the message and no panic backtrace.
pub struct Verdict(String);

impl fmt::Debug for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// For a chapter's `tests/self_check.rs`: print what passed, or return the
/// verdict as the test's error.
pub fn verdict(chapter_title: &str, result: Result<Passed, Failure>) -> Result<(), Verdict> {
    match result {
        Ok(passed) => {
            println!("✓ {chapter_title}: your answer passes the self-check.");
            for p in passed.0 {
                println!("  ✓ {p}");
            }
            Ok(())
        }
        Err(failure) => Err(Verdict(format!(
            "{chapter_title}: the self-check found a problem.\n{failure}\n"
        ))),
    }
}
