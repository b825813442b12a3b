//! Helpers shared by the chapter modules of the integrity suite.

use dialtone_kit::check::{Failure, Passed};
use dialtone_kit::course::Chapter;
use dialtone_kit::scene::{Scene, SceneResult};

/// A played scene's text, as the chapter binary prints it (wrapped to the
/// page's width). Searching it with [`Transcript::contains`] reads wrapped
/// lines joined again, so a test's needle doesn't depend on where a line
/// happened to break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript(String);

impl Transcript {
    /// The text with every wrapped line joined to the one it continues: a
    /// continuation starts at the words' column (13 spaces) with a word.
    pub fn unwrapped(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        for line in self.0.split('\n') {
            let continues = line.len() > 13
                && line.as_bytes()[..13].iter().all(|b| *b == b' ')
                && line.as_bytes()[13] != b' ';
            if continues && !out.is_empty() {
                out.push(' ');
                out.push_str(&line[13..]);
            } else {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(line);
            }
        }
        out
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.unwrapped().contains(needle)
    }

    /// The same transcript with `from` written as `to` (a chapter's own
    /// redaction, e.g. a scratch folder's name).
    #[allow(dead_code)]
    pub fn replace(&self, from: &str, to: &str) -> Transcript {
        Transcript(self.0.replace(from, to))
    }
}

impl std::ops::Deref for Transcript {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Plays a scene into a string, as the chapter binary would print it.
pub fn play(
    chapter: &'static Chapter,
    play: impl FnOnce(&mut Scene) -> SceneResult,
) -> (Transcript, SceneResult) {
    let mut out = Vec::new();
    let result = {
        let mut scene = Scene::new(&mut out, chapter);
        play(&mut scene)
    };
    (
        Transcript(String::from_utf8(out).expect("transcripts are UTF-8")),
        result,
    )
}

/// The one redaction helper for every snapshot: replaces what differs from run
/// to run (ports, descriptors, socket inodes, pids) and nothing else.
pub fn redactions() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):[1-9]\d*",
            "$1:[PORT]",
        ),
        (r"\bport [1-9]\d*", "port [PORT]"),
        (r"\bfd \d+", "fd [FD]"),
        (r"/proc/self/fd/\d+", "/proc/self/fd/[FD]"),
        (r"socket:\[\d+\]", "socket:[INODE]"),
        (r"\bpid \d+", "pid [PID]"),
        (r"\x1b\[[0-9;]*m", ""),
    ]
}

/// Asserts `text` against `tests/chapters/snapshots/<name>.snap`, redacted.
/// Under CI a missing or changed snapshot fails; locally insta writes a
/// `.snap.new` for review (`cargo insta review`), never the `.snap` itself.
#[macro_export]
macro_rules! assert_transcript {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            filters => $crate::support::redactions(),
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "snapshots",
        }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

/// The check must pass; on failure, show the verdict as the learner would see it.
pub fn expect_pass(result: Result<Passed, Failure>) -> Passed {
    result.unwrap_or_else(|f| panic!("the reference answer should pass, but:\n{f}"))
}

/// The check must fail with the mistake `id`; returns the failure to inspect.
pub fn expect_mistake(result: Result<Passed, Failure>, id: &str) -> Failure {
    match result {
        Ok(passed) => panic!(
            "expected failure {id:?}, but the check passed: {:?}",
            passed.0
        ),
        Err(f) => {
            assert_eq!(f.id, id, "wrong verdict for this mistake:\n{f}");
            for (part, text) in [
                ("expected", &f.expected),
                ("got", &f.got),
                ("phone hint", &f.phone),
                ("syscall hint", &f.syscall),
            ] {
                assert!(
                    !text.trim().is_empty(),
                    "failure {id} has an empty {part}:\n{f}"
                );
            }
            f
        }
    }
}

/// The untouched starter must stop at its first task with that task's hint.
pub fn expect_unfinished(result: Result<Passed, Failure>, chapter: &Chapter) {
    let learner_note = format!(
        "\n(This suite checks the course as shipped, with {} untouched. If you are a learner who \
         has filled it in, that's why: check your own work with `cargo test -p {}` or `cargo run -- check {}`.)",
        chapter.learner_path().display(),
        chapter.crate_name(),
        chapter.number
    );
    let f = match result {
        Err(f) if f.id == "unfinished" => f,
        Err(f) => {
            panic!("the starter should stop at its todo!(), but the check said:\n{f}{learner_note}")
        }
        Ok(_) => panic!("the starter passed its self-check{learner_note}"),
    };
    let first = &chapter.tasks[0];
    assert!(f.headline.contains(&first.function), "{f}");
    assert!(
        f.headline
            .contains(&chapter.learner_path().display().to_string()),
        "{f}"
    );
    assert!(
        f.syscall.contains(&first.hint),
        "the starter's failure should carry the hint from course.toml:\n{f}"
    );
}
