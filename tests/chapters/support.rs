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

/// Set in the process [`judged`] starts: it runs the judge, not the test.
const JUDGE_HERE: &str = "DIALTONE_TEST_JUDGE";

/// Runs a chapter's self-check on a wrong answer the way a learner's `cargo
/// test -p` runs it: the answer in a host process of its own, under the
/// judge's limits (memory, processes, time), so a mistake whose evidence is
/// what it does to its own process (dies asking for 4 GiB) is seen as the
/// learner would see it.
///
/// `test` is the calling test's full name (`ch06::some_test`), and the test
/// must call its chapter's `host_if_asked(&answer)` first thing. This test
/// binary is started twice more: once as the judge (in a process of its own,
/// so every process under it is the learner's and nothing else this suite
/// runs), which starts it once again as the host, running `test` up to its
/// `host_if_asked`.
pub fn judged(
    test: &str,
    self_check: fn(std::process::Command) -> Result<Passed, Failure>,
) -> Result<Passed, Failure> {
    use dialtone_kit::check::Verdict;
    let me = std::env::current_exe().expect("a test binary knows its own path");
    let again = |cmd: &mut std::process::Command| {
        cmd.args([test, "--exact", "--test-threads=1", "--nocapture", "-q"]);
    };
    if let Some(nonce) = std::env::var_os(JUDGE_HERE) {
        let mut host = std::process::Command::new(&me);
        again(&mut host);
        host.env_remove(JUDGE_HERE);
        let line = Verdict::from_result(self_check(host)).to_json_line(&nonce.to_string_lossy());
        println!("{line}");
        std::process::exit(0);
    }
    let nonce = format!("{}-{test}", std::process::id());
    let mut judge = std::process::Command::new(&me);
    again(&mut judge);
    judge.env(JUDGE_HERE, &nonce);
    let ran = dialtone_kit::child::run_limited(&mut judge, b"", std::time::Duration::from_secs(60))
        .unwrap_or_else(|why| panic!("the judge gave no verdict: {why}"));
    let out = String::from_utf8_lossy(&ran.stdout);
    match Verdict::find_in(&out, &nonce) {
        Some(Verdict::Passed { saw }) => Ok(Passed(saw)),
        Some(Verdict::Failed(d)) => Err(Failure::new(d.id, d.headline)
            .expected(d.expected)
            .got(d.got)
            .phone(d.phone)
            .syscall(d.syscall)),
        None => panic!(
            "no verdict from the judge:\n{out}\n{}",
            String::from_utf8_lossy(&ran.stderr)
        ),
    }
}
