//! Running a chapter's self-check on the learner's file, fast.
//!
//! The slow way is `cargo test -p chNN-slug`: cargo's own start-up, then the
//! chapter library (which includes the learner's file), the test binary and a
//! link. But a chapter's check takes the learner's functions as fn pointers
//! (`check::Answer`), so the compiled check doesn't depend on the learner's
//! code at all. The fast path builds every chapter library once, with the
//! reference answer in it (`--features solution`), and then, per edit, asks
//! `rustc` for one tiny driver:
//!
//! ```text
//! #[path = "<learner file>"] mod answer;
//! fn main() { chNN::host_if_asked(&Answer { f: answer::f }); judge::driver(chNN::self_check) }
//! ```
//!
//! linked against those prebuilt libraries: one small compilation per edit,
//! no cargo. The `Answer` literal comes from the chapter's tasks in
//! `course.toml` (one field per function), so no chapter needs code here.
//! Anything the fast path can't handle falls back to `cargo test`.

use crate::process::{run_limited, Finished, Scratch};
use crate::state::{write_atomic, Outcome, State, Verdict};
use crate::workspace::{hash_bytes, hash_file, hash_tree, Hasher, Workspace};
use dialtone_kit::check;
use dialtone_kit::course::Chapter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Bump when the driver's compiler flags change, so old binaries are rebuilt.
const DRIVER_FLAGS: &str = "v2: debuginfo=0 strip=debuginfo prefer-dynamic";

/// Extra time past the chapter's own timeout before the operator stops a
/// check itself (the check reports a hung call at the chapter's timeout;
/// this limit is for code that hangs outside any learner call).
const GRACE: Duration = Duration::from_secs(3);
/// Building the chapter libraries the first time can take a while.
const BUILD_LIMIT: Duration = Duration::from_secs(600);
const COMPILE_LIMIT: Duration = Duration::from_secs(60);

/// The prebuilt libraries the fast path links against.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Artifacts {
    key: String,
    rustc: String,
    /// Where the toolchain keeps the standard library as a shared object,
    /// when it does: linking against it makes each check's link faster.
    #[serde(default)]
    std_dylib_dir: Option<String>,
    deps_dir: String,
    /// `nix`, `dialtone_kit`: what a learner file and a driver may use.
    externs: BTreeMap<String, String>,
    /// Chapter crate name -> its library built with the reference answer.
    chapters: BTreeMap<String, ChapterLib>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChapterLib {
    rlib: String,
    edition: String,
}

/// How a check was run, for `--verbose` and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path_ {
    Cached,
    Fast,
    Cargo,
    NoCheck,
}

pub struct Checked {
    pub verdict: Verdict,
    pub how: Path_,
}

pub struct Runner<'w> {
    ws: &'w Workspace,
    artifacts: std::sync::Mutex<Option<Artifacts>>,
    /// Called with a line to show while preparing (the first build is slow).
    pub note: fn(&str),
}

impl<'w> Runner<'w> {
    pub fn new(ws: &'w Workspace, note: fn(&str)) -> Self {
        Runner {
            ws,
            artifacts: std::sync::Mutex::new(None),
            note,
        }
    }

    /// Checks chapter `ch` as its learner file is now. Cached by content hash
    /// unless `fresh`.
    pub fn check(&self, ch: &Chapter, fresh: bool) -> Result<Checked, String> {
        let ws = self.ws;
        let path = ws.learner_file(ch);
        let learner = fs::read(&path).map_err(|e| {
            format!(
                "can't read {} ({e}); `cargo run -- reset {}` brings back the starter",
                ws.rel(&path),
                ch.number
            )
        })?;
        let learner_hash = hash_bytes(&learner);
        let check_hash = ws.check_fingerprint(ch);
        let state = State::new(ws);
        if !fresh {
            if let Some(verdict) = state.cached(ch, &learner_hash, &check_hash) {
                return Ok(Checked {
                    verdict,
                    how: Path_::Cached,
                });
            }
        }
        let (verdict, how) = if !ws.has_check(ch) {
            (
                Verdict {
                    outcome: Outcome::NoCheck,
                    output: String::new(),
                },
                Path_::NoCheck,
            )
        } else {
            match self.fast(ch, &learner_hash) {
                Some(v) => (v, Path_::Fast),
                None => (self.slow(ch)?, Path_::Cargo),
            }
        };
        state.remember(ch, &learner_hash, &check_hash, &verdict);
        Ok(Checked { verdict, how })
    }

    /// The cached verdict for the learner file as it is now, if any.
    pub fn check_cached_only(&self, ch: &Chapter) -> Option<Verdict> {
        let learner = self.ws.read_learner(ch)?;
        State::new(self.ws).cached(ch, &hash_bytes(&learner), &self.ws.check_fingerprint(ch))
    }

    /// The fast path, or `None` when it can't be used (then cargo decides).
    fn fast(&self, ch: &Chapter, learner_hash: &str) -> Option<Verdict> {
        if std::env::var_os("DIALTONE_SLOW").is_some() {
            return None;
        }
        for attempt in 0..2 {
            let arts = self.artifacts(attempt > 0)?;
            match self.fast_with(&arts, ch, learner_hash) {
                Fast::Verdict(v) => return Some(v),
                Fast::Unavailable => return None,
                // Libraries built by another toolchain or since removed:
                // rebuild them once and try again.
                Fast::Stale => continue,
            }
        }
        None
    }

    fn artifacts(&self, rebuild: bool) -> Option<Artifacts> {
        let mut slot = self.artifacts.lock().unwrap_or_else(|p| p.into_inner());
        if rebuild || slot.is_none() {
            *slot = prepare(self.ws, rebuild, self.note);
        }
        slot.clone()
    }

    fn fast_with(&self, arts: &Artifacts, ch: &Chapter, learner_hash: &str) -> Fast {
        let ws = self.ws;
        let krate = ch.crate_name();
        let Some(lib) = arts.chapters.get(&krate) else {
            return Fast::Unavailable;
        };
        let build = ws.state_dir().join("build").join(ch.id());
        let driver = driver_source(ws, ch);
        let stamp =
            hash_bytes(format!("{DRIVER_FLAGS}{}{driver}{learner_hash}", arts.key).as_bytes());
        let binary = build.join("check");
        let stamp_path = build.join("built");
        let up_to_date =
            fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) && binary.is_file();
        if !up_to_date {
            if fs::create_dir_all(&build).is_err()
                || write_atomic(&build.join("check.rs"), driver.as_bytes()).is_err()
            {
                return Fast::Unavailable;
            }
            let _ = fs::remove_file(&stamp_path);
            let rel_driver = Path::new(".dialtone/build").join(ch.id()).join("check.rs");
            let mut cmd = Command::new(&arts.rustc);
            cmd.current_dir(&ws.root)
                .args([
                    "--edition",
                    &lib.edition,
                    "--crate-type",
                    "bin",
                    "--crate-name",
                    "dialtone_check",
                ])
                .args([
                    "-C",
                    "debuginfo=0",
                    "-C",
                    "opt-level=0",
                    "-C",
                    "strip=debuginfo",
                ])
                .args(["--color", "never"])
                .arg(format!("--remap-path-prefix={}/=", ws.root.display()))
                .arg("-L")
                .arg(format!("dependency={}", arts.deps_dir))
                .arg("--extern")
                .arg(format!("{}={}", krate.replace('-', "_"), lib.rlib));
            if let Some(dir) = &arts.std_dylib_dir {
                // The standard library as a shared object: a much smaller
                // link. The rpath lets the binary find it without setup.
                cmd.args(["-C", "prefer-dynamic", "-C"])
                    .arg(format!("link-arg=-Wl,-rpath,{dir}"));
            }
            for (name, path) in &arts.externs {
                cmd.arg("--extern").arg(format!("{name}={path}"));
            }
            // Build under a private name and rename into place, so a second
            // operator (watch in one terminal, check in another) never runs
            // a half-written binary.
            let fresh = build.join(format!("check.tmp-{}", std::process::id()));
            cmd.arg("-o").arg(&fresh).arg(&rel_driver);
            trace("compile: start");
            let compiled = run_limited(&mut cmd, b"", COMPILE_LIMIT);
            trace("compile: end");
            let Ok(done) = compiled else {
                return Fast::Unavailable;
            };
            if !done.status.is_some_and(|s| s.success()) {
                let text = done.stderr.text();
                let learner = ch.learner_path().display().to_string();
                if text.contains(&learner) {
                    return Fast::Verdict(Verdict {
                        outcome: Outcome::CompileError {
                            text: tidy_compiler_text(&text),
                        },
                        output: String::new(),
                    });
                }
                if ["E0514", "E0460", "E0463", "E0786"]
                    .iter()
                    .any(|c| text.contains(c))
                {
                    return Fast::Stale;
                }
                return Fast::Unavailable;
            }
            if fs::rename(&fresh, &binary).is_err() {
                return Fast::Unavailable;
            }
            let _ = write_atomic(&stamp_path, stamp.as_bytes());
        }
        let ran = run_check_binary(ch, &binary);
        trace("check binary: end");
        match ran {
            Some(v) => Fast::Verdict(v),
            None => Fast::Unavailable,
        }
    }

    /// The slow path: `cargo test -p chNN-slug`, read back as a report.
    fn slow(&self, ch: &Chapter) -> Result<Verdict, String> {
        let ws = self.ws;
        (self.note)(&format!(
            "checking with `cargo test -p {}` (the fast path isn't available for this chapter)",
            ch.crate_name()
        ));
        let mut cmd = cargo(ws);
        cmd.args([
            "test",
            "-p",
            &ch.crate_name(),
            "--no-run",
            "--message-format=json-diagnostic-rendered-ansi",
        ]);
        let done =
            run_limited(&mut cmd, b"", BUILD_LIMIT).map_err(|e| format!("can't run cargo: {e}"))?;
        let mut errors = Vec::new();
        let mut tests = Vec::new();
        for line in done.stdout.text().lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            match msg["reason"].as_str() {
                Some("compiler-message") if msg["message"]["level"] == "error" => {
                    if let Some(r) = msg["message"]["rendered"].as_str() {
                        errors.push(strip_ansi(r));
                    }
                }
                Some("compiler-artifact") if msg["profile"]["test"] == true => {
                    if let Some(exe) = msg["executable"].as_str() {
                        tests.push(PathBuf::from(exe));
                    }
                }
                _ => {}
            }
        }
        if !done.status.is_some_and(|s| s.success()) {
            let text = if errors.is_empty() {
                done.stderr.text()
            } else {
                errors.join("\n")
            };
            let root = format!("{}/", ws.root.display());
            return Ok(Verdict {
                outcome: Outcome::CompileError {
                    text: tidy_compiler_text(&text.replace(&root, "")),
                },
                output: String::new(),
            });
        }
        let mut report = String::new();
        let mut passed = true;
        let mut ran_any = false;
        for exe in tests {
            let scratch =
                Scratch::new().map_err(|e| format!("can't make a scratch folder: {e}"))?;
            let mut cmd = Command::new(&exe);
            cmd.args(["--test-threads=1", "--color", "never", "-q"]);
            child_env(&mut cmd, &scratch.0);
            let run = run_limited(&mut cmd, b"", ch.timeout() + GRACE)
                .map_err(|e| format!("can't run {}: {e}", exe.display()))?;
            let out = run.stdout.text();
            ran_any |= !out.contains("running 0 tests");
            match run.status {
                // A run that ends without libtest's result line did not
                // finish its tests, whatever its exit status says.
                Some(s) if s.success() && out.contains("test result: ok") => {}
                Some(_) => passed = false,
                None => {
                    return Ok(Verdict {
                        outcome: Outcome::Stopped {
                            secs: (ch.timeout() + GRACE).as_secs(),
                        },
                        output: out,
                    })
                }
            }
            report.push_str(&out);
        }
        let outcome = if ran_any {
            Outcome::Report {
                passed,
                text: report.trim().to_string(),
            }
        } else {
            Outcome::NoCheck
        };
        Ok(Verdict {
            outcome,
            output: String::new(),
        })
    }
}

/// With `DIALTONE_TRACE` set, prints when each stage of a check ends (on
/// stderr, in ms since the operator started): for the benchmark and for
/// finding where time goes.
pub fn trace(stage: &str) {
    use std::sync::OnceLock;
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("DIALTONE_TRACE").is_some()) {
        eprintln!(
            "[trace {:>6.1} ms] {stage}",
            crate::process::since_start().as_secs_f64() * 1000.0
        );
    }
}

enum Fast {
    Verdict(Verdict),
    Unavailable,
    Stale,
}

fn cargo(ws: &Workspace) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&ws.root)
        .env("CARGO_TERM_COLOR", "never")
        // Self-checks never write insta's pending snapshots into the learner's tree.
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS");
    cmd
}

fn child_env(cmd: &mut Command, scratch: &Path) {
    cmd.current_dir(scratch)
        .env("TMPDIR", scratch)
        .env("RUST_BACKTRACE", "0")
        .env("INSTA_UPDATE", "no");
}

/// The generated driver: the learner's file as a module and an `Answer` built
/// from `course.toml`'s task list. Run by the operator it is the judge; the
/// judge runs it again as the host of the learner's code (kit's `judge` and
/// `host`), so the process that writes the verdict never runs learner code.
fn driver_source(ws: &Workspace, ch: &Chapter) -> String {
    let krate = ch.crate_name().replace('-', "_");
    let learner = ws.learner_file(ch).display().to_string();
    let fields: String = ch
        .tasks
        .iter()
        .map(|t| format!("        {0}: answer::{0},\n", t.function))
        .collect();
    format!(
        r#"//! Generated by the operator (`cargo run -- check {n}`): runs chapter {n}'s
//! self-check on the learner's file. Safe to delete; it is rebuilt on demand.
#![forbid(unsafe_code)]

#[allow(dead_code)]
#[path = {learner:?}]
mod answer;

fn main() {{
    let answer = {krate}::check::Answer {{
{fields}    }};
    // Started again by the judge below: run the learner's functions for it.
    {krate}::host_if_asked(&answer);
    // The judge: the check, with this same program as the learner's host.
    dialtone_kit::judge::driver({krate}::self_check)
}}
"#,
        n = ch.number
    )
}

/// Runs a compiled driver under the chapter's limits and reads its verdict:
/// the JSON line on its stdout that carries this run's nonce.
fn run_check_binary(ch: &Chapter, binary: &Path) -> Option<Verdict> {
    let scratch = Scratch::new().ok()?;
    let nonce = nonce()?;
    let mut cmd = Command::new(binary);
    child_env(&mut cmd, &scratch.0);
    let limit = ch.timeout() + GRACE;
    let done = run_limited(&mut cmd, format!("{nonce}\n").as_bytes(), limit).ok()?;
    let tail = String::from_utf8_lossy(&done.stdout.tail);
    let outcome = match check::Verdict::find_in(&tail, &nonce) {
        Some(verdict) if done.status.is_some_and(|s| s.success()) => Outcome::Judged { verdict },
        _ if done.status.is_none() => Outcome::Stopped {
            secs: limit.as_secs(),
        },
        _ => Outcome::Crashed {
            how: describe_crash(&done),
        },
    };
    let output = learner_output(&done, &nonce);
    Some(Verdict { outcome, output })
}

/// A fresh random token per check run: only the operator and the check
/// program it starts know it.
fn nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the learner's code printed: both streams, without the verdict line.
fn learner_output(done: &Finished, nonce: &str) -> String {
    let mut s: String = done
        .stdout
        .text()
        .split_inclusive('\n')
        .filter(|l| check::Verdict::from_json_line(l, nonce).is_none())
        .collect();
    s.push_str(&done.stderr.text());
    let total = done.stdout.total + done.stderr.total;
    let kept = done.stdout.kept.len() + done.stderr.kept.len();
    if total > kept {
        s.push_str(&format!("\n[... {} more bytes not kept]", total - kept));
    }
    s
}

fn describe_crash(done: &Finished) -> String {
    use std::os::unix::process::ExitStatusExt;
    let err = done.stderr.text();
    let Some(status) = done.status else {
        return "it was stopped".into();
    };
    if err.contains("has overflowed its stack") {
        return "its stack overflowed: a function that calls itself without end (infinite recursion)".into();
    }
    if let Some(sig) = status.signal() {
        let name = nix::sys::signal::Signal::try_from(sig)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| format!("signal {sig}"));
        return format!("it was killed by {name} before the check could finish");
    }
    format!(
        "it exited (status {}) before the check could finish: does your code call std::process::exit() or abort()?",
        status.code().unwrap_or(-1)
    )
}

/// The compiler's errors without its closing boilerplate, and with
/// dependency sources named by crate (`nix-0.32.0/src/...`) rather than by
/// where this machine's package cache happens to keep them.
fn tidy_compiler_text(text: &str) -> String {
    let kept: Vec<String> = text.lines().map(shorten_registry_path).collect();
    let kept: Vec<&str> = kept
        .iter()
        .map(String::as_str)
        .filter(|l| {
            !l.starts_with("error: aborting due to")
                && !l.starts_with("For more information about")
                && !l.starts_with("Some errors have detailed explanations")
                && !l.contains("could not compile")
        })
        .collect();
    kept.join("\n").trim_end().to_string()
}

fn shorten_registry_path(line: &str) -> String {
    const MARK: &str = "/registry/src/";
    let Some(at) = line.find(MARK) else {
        return line.to_string();
    };
    let start = line[..at].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let after = at + MARK.len();
    match line[after..].find('/') {
        Some(slash) => format!("{}{}", &line[..start], &line[after + slash + 1..]),
        None => line.to_string(),
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The inputs of the prebuilt libraries: if none changed, they're still good.
fn artifacts_key(ws: &Workspace, chapters: &[&Chapter]) -> String {
    let mut h = Hasher::new();
    h.write(DRIVER_FLAGS.as_bytes());
    ws.hash_shared(&mut h);
    for ch in chapters {
        h.write(ch.crate_name().as_bytes());
        let dir = ws.root.join(ch.dir());
        hash_tree(&mut h, &dir.join("src"), Some(&ws.learner_file(ch)));
        hash_file(&mut h, &dir.join("Cargo.toml"));
        hash_file(&mut h, &ws.root.join(ch.solution_path()));
    }
    h.hex()
}

/// Finds (or builds, once) the chapter libraries with the reference answer in
/// them. Cached in `.dialtone/artifacts.toml`, keyed by their inputs.
fn prepare(ws: &Workspace, rebuild: bool, note: fn(&str)) -> Option<Artifacts> {
    let chapters: Vec<&Chapter> = ws
        .course
        .chapters
        .iter()
        .filter(|c| ws.has_check(c))
        .collect();
    let key = artifacts_key(ws, &chapters);
    let cache = ws.state_dir().join("artifacts.toml");
    if !rebuild {
        let cached: Option<Artifacts> = fs::read_to_string(&cache)
            .ok()
            .and_then(|s| toml::from_str(&s).ok());
        if let Some(a) = cached.filter(|a| a.key == key && a.all_exist()) {
            return Some(a);
        }
    }
    if chapters.is_empty() {
        return None;
    }
    note("preparing the checker: building the chapters once (later checks take a fraction of a second)...");
    let mut cmd = cargo(ws);
    cmd.args(["build", "--lib", "--keep-going", "--message-format=json"]);
    let mut features = Vec::new();
    for ch in &chapters {
        cmd.args(["-p", &ch.crate_name()]);
        features.push(format!("{}/solution", ch.crate_name()));
    }
    cmd.arg("--features").arg(features.join(","));
    let done = run_limited(&mut cmd, b"", BUILD_LIMIT).ok()?;
    let rustc = find_rustc();
    let mut arts = Artifacts {
        key,
        std_dylib_dir: std_dylib_dir(&rustc),
        rustc,
        ..Artifacts::default()
    };
    for line in done.stdout.text().lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // The hashed copy under deps/, not the one cargo copies up a level: a
        // learner's own `cargo test -p` overwrites that one with their answer.
        let rlib = msg["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".rmeta"))
            .map(|f| f.trim_end_matches(".rmeta").to_string() + ".rlib")
            .filter(|f| Path::new(f).is_file());
        let Some(rlib) = rlib else { continue };
        if arts.deps_dir.is_empty() {
            if let Some(dir) = Path::new(&rlib).parent() {
                arts.deps_dir = dir.display().to_string();
            }
        }
        if name == "nix" || name == "dialtone_kit" {
            arts.externs.insert(name, rlib);
        } else if let Some(ch) = chapters
            .iter()
            .find(|c| c.crate_name().replace('-', "_") == name)
        {
            let edition = msg["target"]["edition"]
                .as_str()
                .unwrap_or("2021")
                .to_string();
            arts.chapters
                .insert(ch.crate_name(), ChapterLib { rlib, edition });
        }
    }
    if arts.externs.len() < 2 {
        return None;
    }
    let text = toml::to_string(&arts).ok()?;
    let _ = write_atomic(&cache, text.as_bytes());
    Some(arts)
}

impl Artifacts {
    fn all_exist(&self) -> bool {
        (Path::new(&self.rustc).exists() || !self.rustc.contains('/'))
            && self.externs.values().all(|p| Path::new(p).is_file())
            && self.chapters.values().all(|c| Path::new(&c.rlib).is_file())
    }
}

/// The folder holding `libstd-*.so` for the host, if the toolchain has one.
fn std_dylib_dir(rustc: &str) -> Option<String> {
    let out = Command::new(rustc)
        .args(["--print", "target-libdir"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let has_std = fs::read_dir(&dir).ok()?.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with("libstd-") && name.ends_with(".so")
    });
    has_std.then_some(dir)
}

/// The real compiler behind the toolchain proxy: calling it directly saves
/// the proxy's start-up on every check.
fn find_rustc() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(root) = sysroot {
        let direct = Path::new(&root).join("bin/rustc");
        if direct.is_file() {
            return direct.display().to_string();
        }
    }
    rustc
}
