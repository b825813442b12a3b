//! Compiling a chapter's check program (the [`driver`](super::driver)) for
//! the learner's file: one `rustc` run against the prebuilt libraries,
//! skipped when the same program was built before.

use super::artifacts::{Artifacts, ChapterLib, DRIVER_FLAGS};
use super::cache::Key;
use super::{compiler_output, driver, trace};
use crate::state::write_atomic;
use crate::workspace::{hash_bytes, Workspace};
use dialtone_kit::child;
use dialtone_kit::course::Chapter;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const COMPILE_LIMIT: Duration = Duration::from_secs(60);

/// What building the check program came to.
pub enum Built {
    /// The program, ready to run.
    Program(PathBuf),
    /// The learner's file doesn't compile: the compiler's words.
    CompileError(String),
    /// The prebuilt libraries are from another toolchain, or gone.
    Stale,
    /// The fast path can't build this one: cargo's turn.
    Unavailable,
}

/// The check program for `ch` with the learner's file as it is (`key`).
pub fn driver(ws: &Workspace, arts: &Artifacts, ch: &Chapter, key: &Key) -> Built {
    let Some(lib) = arts.chapters.get(&ch.crate_name()) else {
        return Built::Unavailable;
    };
    let dir = ws.state_dir().join("build").join(ch.id());
    let source = driver::source(ws, ch);
    let stamp = format!("{DRIVER_FLAGS}{}{source}{}", arts.key, key.learner_hash);
    let stamp = hash_bytes(stamp.as_bytes());
    let program = dir.join("check");
    let stamp_path = dir.join("built");
    if fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) && program.is_file() {
        return Built::Program(program);
    }
    if fs::create_dir_all(&dir).is_err()
        || write_atomic(&dir.join("check.rs"), source.as_bytes()).is_err()
    {
        return Built::Unavailable;
    }
    let _ = fs::remove_file(&stamp_path);
    // Build under a private name and rename into place, so a second operator
    // (watch in one terminal, check in another) never runs a half-written
    // program.
    let fresh = dir.join(format!("check.tmp-{}", std::process::id()));
    let built = compile(ws, arts, ch, lib, &fresh);
    if matches!(built, Built::Program(_)) {
        if fs::rename(&fresh, &program).is_err() {
            return Built::Unavailable;
        }
        let _ = write_atomic(&stamp_path, stamp.as_bytes());
        return Built::Program(program);
    }
    built
}

/// Runs `rustc` on the driver source already written for `ch`.
fn compile(ws: &Workspace, arts: &Artifacts, ch: &Chapter, lib: &ChapterLib, out: &Path) -> Built {
    // Relative to the workspace (rustc runs there) when the state is in it,
    // so compiler messages name paths as the learner sees them.
    let source = ws.state_dir().join("build").join(ch.id()).join("check.rs");
    let source = source.strip_prefix(&ws.root).unwrap_or(&source);
    let mut cmd = rustc(ws, arts, ch, lib);
    cmd.arg("-o").arg(out).arg(source);
    trace("compile: start");
    let limits = child::Limits {
        input: b"",
        time: COMPILE_LIMIT,
        cap: child::OUTPUT_CAP,
    };
    let compiled = child::run(&mut cmd, limits);
    trace("compile: end");
    let Ok(done) = compiled else {
        return Built::Unavailable;
    };
    if done.status.is_some_and(|s| s.success()) {
        return Built::Program(out.to_path_buf());
    }
    let text = done.stderr.text();
    if text.contains(&ch.learner_path().display().to_string()) {
        return Built::CompileError(compiler_output::tidy(&text));
    }
    // "compiled by an incompatible version", "can't find crate": stale libraries.
    if ["E0514", "E0460", "E0463", "E0786"]
        .iter()
        .any(|c| text.contains(c))
    {
        return Built::Stale;
    }
    Built::Unavailable
}

/// rustc's command line for a driver: the chapter's library and the crates
/// a learner may use as externs, no debug info, the standard library linked
/// dynamically where the toolchain has it as a shared object.
fn rustc(ws: &Workspace, arts: &Artifacts, ch: &Chapter, lib: &ChapterLib) -> Command {
    let krate = ch.crate_name().replace('-', "_");
    let mut cmd = Command::new(&arts.rustc);
    cmd.current_dir(&ws.root)
        .args(["--edition", &lib.edition, "--crate-type", "bin"])
        .args(["--crate-name", "dialtone_check", "--color", "never"])
        .args([
            "-C",
            "debuginfo=0",
            "-C",
            "opt-level=0",
            "-C",
            "strip=debuginfo",
        ])
        .arg(format!("--remap-path-prefix={}/=", ws.root.display()))
        .arg("-L")
        .arg(format!("dependency={}", arts.deps_dir))
        .arg("--extern")
        .arg(format!("{krate}={}", lib.rlib));
    if let Some(dir) = &arts.std_dylib_dir {
        // The standard library as a shared object: a much smaller link. The
        // rpath lets the program find it without setup.
        cmd.args(["-C", "prefer-dynamic", "-C"])
            .arg(format!("link-arg=-Wl,-rpath,{dir}"));
    }
    for (name, path) in &arts.externs {
        cmd.arg("--extern").arg(format!("{name}={path}"));
    }
    cmd
}
