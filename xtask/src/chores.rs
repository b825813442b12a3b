//! The chores that used to have an entry point each: redraw the figures,
//! run the benchmarks, the browser test, and accept reviewed snapshots.

use crate::run::{cargo, status};
use dialtone_kit::course::Course;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The course in `root`'s `course.toml` (not the copy compiled into this
/// tool, which may be older than the file).
pub fn read_course(root: &Path) -> Result<Course, String> {
    let path = root.join("course.toml");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Course::parse(&text)
}

/// Redraws `book/src/images/sequence*.svg` from course.toml, removes those
/// no chapter draws, and returns the names of the files it changed.
pub fn figures(root: &Path) -> Result<Vec<String>, String> {
    let course = read_course(root)?;
    let images = root.join("book/src/images");
    fs::create_dir_all(&images).map_err(|e| format!("{}: {e}", images.display()))?;
    let wanted = dialtone_figures::book(&course);
    let mut changed = Vec::new();
    for (name, svg) in &wanted {
        let path = images.join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(svg.as_str()) {
            fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
            changed.push(name.clone());
        }
    }
    for entry in fs::read_dir(&images).map_err(|e| format!("{}: {e}", images.display()))? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("sequence") && !wanted.iter().any(|(n, _)| *n == name) {
            fs::remove_file(images.join(&name)).map_err(|e| format!("{name}: {e}"))?;
            changed.push(format!("{name} (removed: no chapter draws it)"));
        }
    }
    if changed.is_empty() {
        println!("The figures are up to date ({} files).", wanted.len());
    } else {
        println!("Redrew in book/src/images: {}", changed.join(", "));
    }
    Ok(changed)
}

/// The operator's edit-to-verdict benchmark (given `args`, e.g. `--runs 5`),
/// then chapter 8's echo service against socat, as README.md describes them,
/// then chapter 9's postcard service against socat's UDP echo.
pub fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let mut operator = cargo(root);
    operator.args(["run", "--example", "operator_bench"]);
    if !args.is_empty() {
        operator.arg("--").args(args);
    }
    status(&mut operator)?;
    status(cargo(root).args([
        "run",
        "--release",
        "-p",
        "ch08-answering-service",
        "--features",
        "solution",
        "--example",
        "echo-bench",
    ]))?;
    status(cargo(root).args([
        "run",
        "--release",
        "-p",
        "ch09-postcards",
        "--features",
        "solution",
        "--example",
        "postcard-bench",
    ]))
}

/// The book in headless Chromium (`tools/book-browser`).
pub fn browser(root: &Path) -> Result<(), String> {
    status(cargo(root).args(["run", "-p", "book-browser"]))
}

/// Runs the integrity suite (or the tests matching `filter` in
/// `tests/chapters`) with insta writing every snapshot in place, then lists
/// the snapshots that changed, for `git diff` to review before committing.
pub fn snapshots(root: &Path, filter: Option<&str>) -> Result<(), String> {
    let before = snapshot_files(root);
    let mut test = cargo(root);
    // Every test binary runs, so a failing one (the book's, say, before the
    // transcripts it includes exist) doesn't stop the others' snapshots.
    test.args(["test", "--no-fail-fast"])
        .env("INSTA_UPDATE", "always");
    if let Some(filter) = filter {
        test.args(["--test", "chapters", filter]);
    }
    let ran = status(&mut test);
    let after = snapshot_files(root);
    let changed: Vec<String> = after
        .iter()
        .filter(|(path, text)| before.get(*path) != Some(text))
        .map(|(path, _)| relative(root, path))
        .collect();
    if changed.is_empty() {
        println!("No snapshot changed.");
    } else {
        println!("Snapshots written (review them with `git diff`, then commit the .snap files):");
        for path in &changed {
            println!("  {path}");
        }
    }
    ran
}

/// Every `.snap` under `tests/`, with its text.
pub fn snapshot_files(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "snap") {
                out.insert(path.clone(), fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    out
}

pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
