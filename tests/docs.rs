//! The docs run: every command README.md, CONTRIBUTING.md and the book's
//! pages tell a reader to type is run, against the reference answers, and
//! what the page says it prints is checked.
//!
//! How a page says what to run and what it prints (CONTRIBUTING.md's rules
//! say the same, shorter):
//!
//! - A shell block is one whose info string is `console`, `sh`, `bash` or
//!   `shell`. If any of its lines starts with `$ `, those are the commands
//!   and the lines under each are output the page shows (each must appear in
//!   what the command prints, in order); otherwise every line that is not
//!   blank or a `# comment` is a command. A trailing `# comment` is for the
//!   reader: bash ignores it.
//! - `# prints: TEXT` at the end of a command promises that its output
//!   (stdout and stderr together) contains TEXT. `# exits: N` promises exit
//!   code N; without it a command must succeed.
//! - A ```` ```text ```` block right after a shell block of one command is
//!   that command's whole standard output, line for line; `[PORT]`, `[FD]`,
//!   `[PID]` and `[INODE]` stand for any number (the snapshots' redactions),
//!   and its `{{#include ...}}`s are expanded as mdBook would.
//! - Two terminals in one block: a command ending in `&` holds the line in
//!   the background (a server, a listening `nc`) and the block's next lines
//!   talk to it. `PORT` in a later line is the number it printed (after
//!   `127.0.0.1:`, `localhost ` or `port `), which the reader reads off the
//!   screen and the test waits for. Background commands are ended when their
//!   block ends; a `# prints:` on one is waited for before that.
//! - ```` ```console,interactive ```` marks a block a person must take part
//!   in (`watch`, a browser, a path only the reader knows). It is not run,
//!   only counted; keep them few.
//! - A few commands are never run here, each for the reason in
//!   [`NOT_HERE`]: the suite itself (`cargo test` would run this test
//!   again), and what installs from the network. CI runs those anyway.
//!
//! Where it runs: a scratch copy of the course under cargo's scratch folder,
//! with every reference answer copied over its learner file, so each
//! chapter's commands behave as they do for a reader who has finished it
//! (`--features solution` works there too). The copy is refreshed file by
//! file (unchanged files keep their times) and every command shares one
//! target folder, so a second run builds almost nothing. Every command runs
//! under a time limit in a process group of its own, and every group is
//! ended when its block ends, even when the test fails.
//!
//! A failure names the page, the line, the command, what went wrong and the
//! command's output; every command is tried, and all failures are listed
//! together. The last line says how many commands ran and how many blocks
//! are marked interactive.
#![forbid(unsafe_code)]

#[path = "docs/blocks.rs"]
mod blocks;
#[path = "book/include.rs"]
mod include;
#[path = "docs/run.rs"]
mod run;

use blocks::{Block, Cmd};
use dialtone_kit::course::{course, workspace_root};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One command may build what the warm-up didn't (chapter 8's page runs a
/// release build): generous, for a cold build on a busy machine.
const COMMAND_LIMIT: Duration = Duration::from_secs(600);
/// The first builds of the course, before any command runs.
const BUILD_LIMIT: Duration = Duration::from_secs(1200);
/// How long a background command has to print its number.
const LISTEN_LIMIT: Duration = Duration::from_secs(120);

/// Commands this test does not run, by how they start, and why.
const NOT_HERE: &[(&str, &str)] = &[
    (
        "cargo test --workspace",
        "the whole suite; CI runs it (here it would run this test again)",
    ),
    (
        "cargo install",
        "installs from the network; CI installs what it needs",
    ),
    (
        "bash .ci/run",
        "CI itself: it installs packages and runs all of this",
    ),
    (
        "cargo run -p book-browser",
        "needs Chromium and a minute; CI runs it",
    ),
    (
        "cargo xtask browser",
        "the browser test (needs Chromium and a minute); CI runs it",
    ),
    (
        "cargo xtask new-chapter",
        "writes a whole chapter and builds it; tests/scaffold.rs runs it on a scratch copy",
    ),
    (
        "cargo xtask mutants",
        "minutes of mutation testing; CI runs it as its own step",
    ),
    (
        "cargo xtask bench",
        "a benchmark of minutes, with timings that vary; run it by hand",
    ),
    (
        "cargo run --release -p ch08-answering-service --features solution --example echo-bench",
        "a release build and a benchmark; `cargo xtask bench` runs it",
    ),
    (
        "cargo run --release -p ch09-postcards --features solution --example postcard-bench",
        "a release build and a benchmark; `cargo xtask bench` runs it",
    ),
];

/// Why `cmd` is not run here, if it isn't.
fn not_here(cmd: &str) -> Option<&'static str> {
    let code = blocks::split_comment(cmd).0.trim();
    // `cargo test` on its own (or with only flags) is the integrity suite;
    // `cargo test -p chNN-...` is one chapter's self-check, which runs.
    let suite = code == "cargo test"
        || (code.starts_with("cargo test ")
            && !code.contains(" -p ")
            && !code.contains(" --package ")
            && !code.contains(" --test "));
    if suite {
        return Some(NOT_HERE[0].1);
    }
    if code.contains("--test docs") {
        return Some("this very test: it would run itself again");
    }
    NOT_HERE
        .iter()
        .find(|(start, _)| code.starts_with(start))
        .map(|(_, why)| *why)
}

/// The pages the test reads, relative to the workspace.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("README.md"), PathBuf::from("CONTRIBUTING.md")];
    let src = workspace_root().join("book/src");
    // SUMMARY.md's order: the introduction, the chapters, then the rest.
    let summary = fs::read_to_string(src.join("SUMMARY.md")).expect("book/src/SUMMARY.md");
    for link in summary.split("](").skip(1) {
        let page = link.split(')').next().unwrap_or_default();
        if page.ends_with(".md") {
            out.push(Path::new("book/src").join(page));
        }
    }
    let mut rest: Vec<PathBuf> = fs::read_dir(&src)
        .expect("book/src")
        .flatten()
        .map(|e| Path::new("book/src").join(e.file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !out.contains(p))
        .filter(|p| !p.ends_with("SUMMARY.md"))
        .collect();
    rest.sort();
    out.extend(rest);
    out
}

/// The scratch course: made (or refreshed) once per run.
struct Scratch {
    root: PathBuf,
    env: Vec<(String, String)>,
    /// Each command's time limit.
    limit: Duration,
}

fn scratch() -> Scratch {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs");
    let root = base.join("course");
    let target = base.join("target");
    let tmp = base.join("tmp");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).expect("the scratch tmp folder");
    // The operator's state starts empty, as on a fresh clone.
    let _ = fs::remove_dir_all(root.join(".dialtone"));
    sync(&workspace_root(), &root).expect("copying the course");
    // The pages name built programs by their path in a clone
    // (`target/debug/ch01-install-phone`): the copy's `target` is the folder
    // its commands build into.
    let link = root.join("target");
    if fs::symlink_metadata(&link).is_err() {
        fs::create_dir_all(&target).expect("the scratch target folder");
        std::os::unix::fs::symlink(&target, &link).expect("linking the copy's target folder");
    }
    let env = vec![
        ("CARGO_TARGET_DIR".into(), path_str(&target)),
        ("CARGO_TERM_COLOR".into(), "never".into()),
        ("NO_COLOR".into(), "1".into()),
        ("TMPDIR".into(), path_str(&tmp)),
        // Nothing a command runs writes pending snapshots into the copy.
        ("INSTA_UPDATE".into(), "no".into()),
    ];
    // A clone, as a reader has one: the starters committed (the operator's
    // `reset` falls back on git's copy), then the reader's finished work.
    let commit = "git init -q . 2>/dev/null; git add -A && \
                  (git diff --cached --quiet || git -c user.name=docs -c user.email=docs@localhost \
                  commit -q -m 'the course as cloned')";
    let mut git = run::start(commit, &root, &env).expect("bash starts");
    let done = git.finish(Duration::from_secs(60));
    assert!(
        done.is_some_and(|s| s.success()),
        "committing the scratch course: {}",
        git.output()
    );
    for ch in &course().chapters {
        let answer = fs::read(workspace_root().join(ch.solution_path())).expect("a solution");
        write_if_changed(&root.join(ch.learner_path()), &answer).expect("a learner file");
    }
    Scratch {
        root,
        env,
        limit: COMMAND_LIMIT,
    }
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("the scratch path is UTF-8").to_string()
}

/// Makes `to` a copy of the course in `from` (as `copy_course` does: no
/// `target`, nothing hidden but `.cargo` and `.gitignore`), writing only
/// files that differ and removing files the course no longer has.
fn sync(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    let mut keep = Vec::new();
    for entry in fs::read_dir(from)? {
        let name = entry?.file_name();
        let text = name.to_string_lossy();
        if (text.starts_with('.') && text != ".cargo" && text != ".gitignore") || name == "target" {
            continue;
        }
        keep.push(name.clone());
        sync_tree(&from.join(&name), &to.join(&name))?;
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        let name = entry.file_name();
        if !keep.contains(&name) && !name.to_string_lossy().starts_with('.') {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

fn sync_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if !fs::symlink_metadata(from)?.is_dir() {
        return write_if_changed(to, &fs::read(from)?);
    }
    if to.is_file() {
        fs::remove_file(to)?;
    }
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        sync_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    for entry in fs::read_dir(to)? {
        let entry = entry?;
        if !from.join(entry.file_name()).exists() {
            remove(&entry.path())?;
        }
    }
    Ok(())
}

fn remove(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Writes `bytes` to `path` unless it already holds them, so cargo sees
/// unchanged files as unchanged.
fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if path.is_dir() {
        fs::remove_dir_all(path)?;
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, bytes)
}

/// Builds what the pages' commands will run, so each command's own limit
/// measures the command, not a cold build.
fn warm(s: &Scratch) {
    let mut solution = vec!["cargo build --quiet --workspace --bins".to_string()];
    let mut features = Vec::new();
    for ch in &course().chapters {
        solution.push(format!("-p {}", ch.crate_name()));
        features.push(format!("{}/solution", ch.crate_name()));
    }
    let chapters: Vec<String> = course()
        .chapters
        .iter()
        .map(|c| format!("-p {}", c.crate_name()))
        .collect();
    let steps = [
        "cargo build --quiet --workspace".to_string(),
        format!(
            "cargo build --quiet --bins {} --features {}",
            chapters.join(" "),
            features.join(",")
        ),
        format!("cargo test --quiet --no-run {}", chapters.join(" ")),
    ];
    for step in steps {
        let mut run = run::start(&step, &s.root, &s.env).expect("bash starts");
        let status = run.finish(BUILD_LIMIT);
        assert!(
            status.is_some_and(|s| s.success()),
            "preparing the scratch course: `{step}` {}:\n{}",
            status.map_or("did not finish in time".into(), |s| format!("failed ({s})")),
            tail(&run.output(), 40)
        );
    }
}

/// The last `n` lines of `text`, indented for a failure message.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    let mut out = String::new();
    if from > 0 {
        out.push_str(&format!("    ... ({from} lines before)\n"));
    }
    for l in &lines[from..] {
        out.push_str("    | ");
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// What the run found.
#[derive(Default)]
struct Tally {
    ran: usize,
    interactive: usize,
    not_here: Vec<String>,
    failures: Vec<String>,
}

#[test]
fn every_command_in_the_docs_works_as_written() {
    let s = scratch();
    warm(&s);
    let mut tally = Tally::default();
    for page in pages() {
        let path = workspace_root().join(&page);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for block in blocks::blocks(&text) {
            if block.interactive {
                tally.interactive += 1;
                continue;
            }
            run_block(&s, &page, &block, &mut tally);
        }
    }
    let summary = format!(
        "docs: {} commands run, {} blocks marked interactive, {} commands not run here",
        tally.ran,
        tally.interactive,
        tally.not_here.len()
    );
    println!("{summary}");
    for line in &tally.not_here {
        println!("  not run: {line}");
    }
    assert!(
        tally.failures.is_empty(),
        "{} of the docs' commands don't work as written:\n\n{}\n{summary}\n\
         (tests/docs.rs explains the conventions: `# prints:`, a ```text block, \
         `&` and PORT, ```console,interactive)",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    assert!(
        tally.ran >= 2 * course().chapters.len(),
        "{summary}: too few for a course of {} chapters; is the block reader broken?",
        course().chapters.len()
    );
}

/// Runs one block's commands in order; background ones end with the block.
fn run_block(s: &Scratch, page: &Path, block: &Block, tally: &mut Tally) {
    let mut background: Vec<(Cmd, run::Running)> = Vec::new();
    let mut port: Option<u16> = None;
    let single = block.commands.len() == 1;
    for (i, cmd) in block.commands.iter().enumerate() {
        let at = format!("{}:{}: `{}`", page.display(), cmd.line, cmd.text);
        if let Some(why) = not_here(&cmd.text) {
            tally.not_here.push(format!("{at}: {why}"));
            continue;
        }
        let mut line = cmd.text.clone();
        if blocks::split_comment(&line).0.contains("PORT") {
            let Some(p) = port else {
                tally.failures.push(format!(
                    "{at}\n  uses PORT, but no command before it in the block (ending in `&`) printed a port\n"
                ));
                continue;
            };
            line = line.replace("PORT", &p.to_string());
        }
        tally.ran += 1;
        let mut running = match run::start(&line, &s.root, &s.env) {
            Ok(r) => r,
            Err(e) => {
                tally.failures.push(format!("{at}\n  {e}\n"));
                continue;
            }
        };
        if cmd.background {
            let later_uses_port = block.commands[i + 1..]
                .iter()
                .any(|c| blocks::split_comment(&c.text).0.contains("PORT"));
            let ready = if later_uses_port {
                running.wait_for(LISTEN_LIMIT, |out| blocks::printed_port(out).is_some())
            } else {
                running.wait_for(LISTEN_LIMIT, |out| !out.is_empty())
            };
            if !ready {
                tally.failures.push(format!(
                    "{at}\n  a background command should print {} within {LISTEN_LIMIT:?}; it printed:\n{}",
                    if later_uses_port { "the port it listens on" } else { "something" },
                    tail(&running.output(), 20)
                ));
                running.end();
                continue;
            }
            if later_uses_port {
                port = blocks::printed_port(&running.output());
            }
            background.push((cmd.clone(), running));
            continue;
        }
        let started = std::time::Instant::now();
        let status = running.finish(s.limit);
        println!(
            "docs: {at}: {} ({:.1} s)",
            status.map_or("still running".into(), |st| st.to_string()),
            started.elapsed().as_secs_f64()
        );
        let text_after = if single {
            block.text_after.as_deref()
        } else {
            None
        };
        let problems = judge(page, cmd, status, s.limit, &running, text_after);
        if !problems.is_empty() {
            tally.failures.push(format!(
                "{at}\n  {}\n  its output:\n{}",
                problems.join("\n  "),
                tail(&running.output(), 25)
            ));
        }
    }
    // A background command's promise is waited for; then the line is hung up.
    for (cmd, mut running) in background {
        if let Some(want) = &cmd.prints {
            if !running.wait_for(Duration::from_secs(20), |out| out.contains(want.as_str())) {
                tally.failures.push(format!(
                    "{}:{}: `{}`\n  should print {want:?} (its `# prints:`), but printed:\n{}",
                    page.display(),
                    cmd.line,
                    cmd.text,
                    tail(&running.output(), 20)
                ));
            }
        }
        running.end();
    }
}

/// What is wrong with a finished command, given what the page promised.
fn judge(
    page: &Path,
    cmd: &Cmd,
    status: Option<std::process::ExitStatus>,
    limit: Duration,
    running: &run::Running,
    text_after: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    match status {
        None => problems.push(format!(
            "did not finish within {limit:?} (a command that holds the line belongs \
             in the background with `&`, or in a ```console,interactive block)"
        )),
        Some(st) if st.code() == Some(127) && cmd.exits != 127 => problems.push(
            "a program it runs is not installed (bash says \"command not found\"); the docs \
             use nc (netcat-openbsd), socat and python3: `apt-get install netcat-openbsd socat \
             python3`, as .ci/run does"
                .into(),
        ),
        Some(st) if st.code() != Some(cmd.exits) => problems.push(format!(
            "exited with {st}, the page expects exit code {}{}",
            cmd.exits,
            if cmd.exits == 0 {
                ""
            } else {
                " (its `# exits:`)"
            }
        )),
        Some(_) => {}
    }
    let out = running.output();
    if let Some(want) = &cmd.prints {
        if !out.contains(want.as_str()) {
            problems.push(format!("should print {want:?} (its `# prints:`)"));
        }
    }
    let mut rest = out.lines();
    for want in &cmd.shown {
        if !rest.any(|got| blocks::line_matches(want, got)) {
            problems.push(format!(
                "the page shows {want:?} under it, in order; not printed"
            ));
            break;
        }
    }
    if let Some(text) = text_after {
        let dir = workspace_root()
            .join(page)
            .parent()
            .expect("a page has a folder")
            .to_path_buf();
        match include::expand(&dir, text) {
            Err(e) => problems.push(format!("the ```text block after it: {e}")),
            Ok(want) => {
                if let Some(diff) = first_difference(&want, &running.stdout()) {
                    problems.push(format!(
                        "its output differs from the ```text block after it: {diff}"
                    ));
                }
            }
        }
    }
    problems
}

/// Where `got` first differs from `want` (line by line, holes allowed).
fn first_difference(want: &str, got: &str) -> Option<String> {
    let want: Vec<&str> = want.trim_end().lines().collect();
    let got: Vec<&str> = got.trim_end().lines().collect();
    for (n, w) in want.iter().enumerate() {
        match got.get(n) {
            None => return Some(format!("line {} {w:?} is missing", n + 1)),
            Some(g) if !blocks::line_matches(w, g) => {
                return Some(format!(
                    "line {}: the page says {w:?}, the command printed {g:?}",
                    n + 1
                ))
            }
            Some(_) => {}
        }
    }
    (got.len() > want.len()).then(|| {
        format!(
            "it printed {} more lines, from {:?}",
            got.len() - want.len(),
            got[want.len()]
        )
    })
}

/// The block reader: prompts, comments, promises, markers and the text
/// block after.
#[test]
fn block_reader_reads_the_conventions() {
    let page = "intro\n\n```console\n$ cargo run -p x   # prints: hello\nhello there\n$ false  # exits: 1\n```\n\n```text\nthe output\n```\n\n```sh\n# a comment\nnc -l 127.0.0.1 0 &   # waits\necho 'a # not a comment' | nc 127.0.0.1 PORT\n```\n```console,interactive\ncargo run -- watch\n```\n```rust\nfn main() {}\n```\n";
    let found = blocks::blocks(page);
    assert_eq!(found.len(), 3, "{found:#?}");
    let first = &found[0];
    assert_eq!(first.line, 3);
    assert_eq!(first.commands.len(), 2);
    assert_eq!(first.commands[0].line, 4);
    assert_eq!(first.commands[0].prints.as_deref(), Some("hello"));
    assert_eq!(first.commands[0].shown, vec!["hello there"]);
    assert_eq!(first.commands[1].exits, 1);
    assert_eq!(first.text_after.as_deref(), Some("the output"));
    let second = &found[1];
    assert_eq!(second.commands.len(), 2);
    assert!(second.commands[0].background);
    assert!(!second.commands[1].background);
    assert_eq!(
        blocks::split_comment(&second.commands[1].text).1,
        None,
        "a # inside quotes is not a comment"
    );
    assert!(second.text_after.is_none());
    assert!(found[2].interactive);
    let listed = blocks::blocks("- nc:\n\n  ```console\n  $ nc -N 127.0.0.1 PORT\n  ```\n");
    assert_eq!(
        listed[0].commands[0].text, "nc -N 127.0.0.1 PORT",
        "{listed:#?}"
    );
    assert_eq!(not_here("cargo test"), Some(NOT_HERE[0].1));
    assert_eq!(not_here("cargo test   # the suite"), Some(NOT_HERE[0].1));
    assert_eq!(not_here("cargo test -p ch01-install-phone"), None);
    assert!(not_here("cargo test --test docs").is_some());
    assert_eq!(not_here("cargo test --test book figures"), None);
    assert!(not_here("cargo install --locked mdbook@0.5.4").is_some());
}

/// The output matcher: holes take any number and nothing else; a missing,
/// changed or extra line is named.
#[test]
fn output_check_catches_a_wrong_transcript() {
    assert!(blocks::line_matches(
        "fd [FD] on 127.0.0.1:[PORT]",
        "fd 3 on 127.0.0.1:40123"
    ));
    assert!(!blocks::line_matches("fd [FD]", "fd three"));
    assert!(!blocks::line_matches("fd [FD] ok", "fd 3 no"));
    assert!(blocks::line_matches(
        "-> socket:[INODE]",
        "-> socket:[4711]"
    ));
    assert!(!blocks::line_matches("-> socket:[INODE]", "-> socket:4711"));
    assert_eq!(first_difference("a\nb [PID]\n", "a\nb 77\n"), None);
    assert!(first_difference("a\nb\n", "a\n")
        .unwrap()
        .contains("line 2"));
    assert!(first_difference("a\nb\n", "a\nc\n")
        .unwrap()
        .contains("\"c\""));
    assert!(first_difference("a\n", "a\nmore\n")
        .unwrap()
        .contains("1 more"));
    assert_eq!(
        blocks::printed_port("Listening on localhost 40143\n"),
        Some(40143)
    );
    assert_eq!(
        blocks::printed_port("bind(127.0.0.1:0) then 127.0.0.1:5001"),
        Some(5001)
    );
    assert_eq!(blocks::printed_port("nothing"), None);
}

/// The runner on broken commands: a failing command, a broken promise, a
/// PORT nobody printed, and a hang, ended at its limit with what it started
/// in the background; a background server whose PORT the next line uses
/// works, and is gone when its block ends.
#[test]
fn runner_catches_broken_commands_and_cleans_up() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs-runner");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("a scratch folder");
    let s = Scratch {
        root: dir.clone(),
        env: Vec::new(),
        limit: Duration::from_secs(3),
    };
    let server = "python3 -c \"import os, socket; s = socket.create_server(('127.0.0.1', 0)); \
                  open('server.pid', 'w').write(str(os.getpid())); \
                  print('port', s.getsockname()[1], flush=True); s.accept()[0].recv(1)\"";
    let page = format!(
        "```console\nfalse\necho hi   # prints: bye\necho fine   # prints: fine\n```\n\n\
         ```sh\n{server} &\necho '' | nc -N 127.0.0.1 PORT && echo called   # prints: called\n```\n\n\
         ```sh\necho PORT\n```\n\n```sh\nsleep 60 & echo $! > sleeper.pid; wait\n```\n"
    );
    let mut tally = Tally::default();
    for block in blocks::blocks(&page) {
        run_block(&s, Path::new("fixture.md"), &block, &mut tally);
    }
    let f = &tally.failures;
    assert_eq!(tally.ran, 6, "{f:#?}");
    assert_eq!(f.len(), 4, "{f:#?}");
    assert!(f[0].starts_with("fixture.md:2: `false`"), "{}", f[0]);
    assert!(f[0].contains("exited with"), "{}", f[0]);
    assert!(f[1].contains("should print \"bye\""), "{}", f[1]);
    assert!(f[2].contains("no command before it"), "{}", f[2]);
    assert!(f[3].contains("did not finish within 3s"), "{}", f[3]);
    for file in ["server.pid", "sleeper.pid"] {
        let pid = fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        // Gone, or dead and waiting for whoever adopted it to reap it.
        let stat = fs::read_to_string(Path::new("/proc").join(pid.trim()).join("stat"));
        let state = stat
            .as_deref()
            .ok()
            .and_then(|s| s.rsplit_once(')'))
            .and_then(|(_, rest)| rest.split_whitespace().next());
        assert!(
            matches!(state, None | Some("Z" | "X")),
            "{file}: process {} outlived its block (state {state:?})",
            pid.trim()
        );
    }
}
