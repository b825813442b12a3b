//! The prebuilt chapter libraries the fast path links against: built once
//! with the reference answers in them, found again through
//! `.dialtone/artifacts.toml`, keyed by their inputs.

use super::cargo;
use crate::state::write_atomic;
use crate::workspace::{hash_file, hash_tree, Hasher, Workspace};
use dialtone_kit::child;
use dialtone_kit::course::Chapter;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Bump when the driver's compiler flags change, so old binaries are rebuilt.
pub const DRIVER_FLAGS: &str = "v2: debuginfo=0 strip=debuginfo prefer-dynamic";
/// Building the chapter libraries the first time can take a while.
pub const BUILD_LIMIT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Artifacts {
    pub key: String,
    pub rustc: String,
    /// Where the toolchain keeps the standard library as a shared object,
    /// when it does: linking against it makes each check's link faster.
    #[serde(default)]
    pub std_dylib_dir: Option<String>,
    pub deps_dir: String,
    /// `nix`, `dialtone_kit`: what a learner file and a driver may use.
    pub externs: BTreeMap<String, String>,
    /// Chapter crate name -> its library built with the reference answer.
    pub chapters: BTreeMap<String, ChapterLib>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChapterLib {
    pub rlib: String,
    pub edition: String,
}

/// Finds (or builds, once) the chapter libraries with the reference answer in
/// them.
pub fn prepare(ws: &Workspace, rebuild: bool, note: fn(&str)) -> Option<Artifacts> {
    let chapters: Vec<&Chapter> = ws
        .course
        .chapters
        .iter()
        .filter(|c| ws.has_check(c))
        .collect();
    let key = key(ws, &chapters);
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
    let messages = build_libraries(ws, &chapters)?;
    let rustc = find_rustc();
    let mut arts = Artifacts {
        key,
        std_dylib_dir: std_dylib_dir(&rustc),
        rustc,
        ..Artifacts::default()
    };
    for msg in messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact")
    {
        arts.add(msg, &chapters);
    }
    if arts.externs.len() < 2 {
        return None;
    }
    let text = toml::to_string(&arts).ok()?;
    let _ = write_atomic(&cache, text.as_bytes());
    Some(arts)
}

/// `cargo build` of every chapter library with its reference answer; cargo's
/// messages.
fn build_libraries(ws: &Workspace, chapters: &[&Chapter]) -> Option<Vec<Value>> {
    let mut cmd = cargo::command(ws);
    cmd.args(["build", "--lib", "--keep-going", "--message-format=json"]);
    let mut features = Vec::new();
    for ch in chapters {
        cmd.args(["-p", &ch.crate_name()]);
        features.push(format!("{}/solution", ch.crate_name()));
    }
    cmd.arg("--features").arg(features.join(","));
    let limits = child::Limits {
        input: b"",
        time: BUILD_LIMIT,
        cap: usize::MAX,
    };
    let done = child::run(&mut cmd, limits).ok()?;
    Some(cargo::messages(&done.stdout.text()).collect())
}

impl Artifacts {
    /// Takes note of one library cargo built, if it is one a driver links.
    fn add(&mut self, msg: &Value, chapters: &[&Chapter]) {
        let name = msg["target"]["name"].as_str().unwrap_or_default();
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
        let Some(rlib) = rlib else { return };
        if self.deps_dir.is_empty() {
            if let Some(dir) = Path::new(&rlib).parent() {
                self.deps_dir = dir.display().to_string();
            }
        }
        if name == "nix" || name == "dialtone_kit" {
            self.externs.insert(name.to_string(), rlib);
        } else if let Some(ch) = chapters
            .iter()
            .find(|c| c.crate_name().replace('-', "_") == name)
        {
            let edition = msg["target"]["edition"].as_str().unwrap_or("2021");
            let edition = edition.to_string();
            self.chapters
                .insert(ch.crate_name(), ChapterLib { rlib, edition });
        }
    }

    fn all_exist(&self) -> bool {
        (Path::new(&self.rustc).exists() || !self.rustc.contains('/'))
            && self.externs.values().all(|p| Path::new(p).is_file())
            && self.chapters.values().all(|c| Path::new(&c.rlib).is_file())
    }
}

/// The inputs of the prebuilt libraries: if none changed, they're still good.
fn key(ws: &Workspace, chapters: &[&Chapter]) -> String {
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
