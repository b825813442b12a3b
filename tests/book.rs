//! The book can't drift from the course: every include resolves to real,
//! non-empty text; the sidebar follows course.toml; each chapter page shows its
//! snapshot, its code and its hints; and mdBook itself builds it.
//!
//! mdBook logs a missing include and carries on, and silently includes nothing
//! for a missing anchor; these tests turn both into failures.
#![forbid(unsafe_code)]

use dialtone_kit::course::{course, workspace_root};
use std::fs;
use std::path::{Path, PathBuf};

fn book_dir() -> PathBuf {
    workspace_root().join("book")
}

fn pages() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![book_dir().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("book/src is readable") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every `{{#include ...}}` / `{{#rustdoc_include ...}}` in `text` (a page at
/// `page`), as (directive, problem) pairs for those that resolve to nothing.
fn include_problems(page: &Path, text: &str) -> Vec<String> {
    let dir = page.parent().expect("a page has a folder");
    let mut problems = Vec::new();
    for (_, rest) in text.match_indices("{{#").map(|(i, _)| ((), &text[i + 3..])) {
        let Some(end) = rest.find("}}") else { continue };
        let body = rest[..end].trim();
        let Some((kind, spec)) = body.split_once(char::is_whitespace) else {
            continue;
        };
        if kind != "include" && kind != "rustdoc_include" {
            continue;
        }
        let spec = spec.trim();
        let mut parts = spec.splitn(2, ':');
        let file = parts.next().unwrap_or_default();
        let selector = parts.next();
        let say = |why: String| format!("{}: {{{{#{kind} {spec}}}}}: {why}", page.display());
        let Ok(content) = fs::read_to_string(dir.join(file)) else {
            problems.push(say(format!("{file} does not exist")));
            continue;
        };
        match select(&content, selector, file) {
            Ok(text) if text.trim().is_empty() => {
                problems.push(say("includes nothing but blank lines".into()))
            }
            Ok(_) => {}
            Err(why) => problems.push(say(why)),
        }
    }
    problems
}

/// The text a selector picks from a file: an anchor, or a line range `A:B`.
fn select(content: &str, selector: Option<&str>, file: &str) -> Result<String, String> {
    let lines: Vec<&str> = content.lines().collect();
    let snapshot_rule =
        "a snapshot include must start at line 4, right after insta's 3-line header";
    let Some(selector) = selector else {
        return if file.ends_with(".snap") {
            Err(snapshot_rule.into())
        } else {
            Ok(content.to_string())
        };
    };
    let first = selector.split(':').next().unwrap_or_default();
    if first.is_empty() || first.chars().all(|c| c.is_ascii_digit()) {
        let mut bounds = selector.split(':');
        let start: usize = bounds.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        let end: usize = bounds
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(lines.len());
        if file.ends_with(".snap") && (start != 4 || lines.get(2) != Some(&"---")) {
            return Err(snapshot_rule.into());
        }
        if start == 0 || start > lines.len() || end < start {
            return Err(format!(
                "lines {start}..{end} are outside the file ({} lines)",
                lines.len()
            ));
        }
        return Ok(lines[start - 1..end.min(lines.len())].join("\n"));
    }
    let begin = lines
        .iter()
        .position(|l| l.trim_end().ends_with(&format!("ANCHOR: {selector}")))
        .ok_or_else(|| format!("{file} has no `ANCHOR: {selector}`"))?;
    let end = lines[begin..]
        .iter()
        .position(|l| l.trim_end().ends_with(&format!("ANCHOR_END: {selector}")))
        .ok_or_else(|| format!("{file} has no `ANCHOR_END: {selector}`"))?;
    Ok(lines[begin + 1..begin + end]
        .iter()
        .filter(|l| !l.contains("ANCHOR"))
        .copied()
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Every include on every page resolves to a real file, anchor and text.
#[test]
fn every_include_resolves_to_text() {
    let problems: Vec<String> = pages()
        .iter()
        .flat_map(|p| include_problems(p, &fs::read_to_string(p).expect("page is readable")))
        .collect();
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

/// The include check itself fails on a missing file, a missing anchor, an
/// empty anchor and a snapshot included with its header.
#[test]
fn include_check_catches_a_broken_page() {
    let dir = workspace_root().join("target/book-check-fixture");
    fs::create_dir_all(&dir).expect("fixture folder");
    fs::write(dir.join("code.rs"), "// ANCHOR: empty\n\n// ANCHOR_END: empty\n// ANCHOR: full\nfn x() {}\n// ANCHOR_END: full\n").expect("fixture file");
    fs::write(dir.join("t.snap"), "---\nsource: x\n---\nhello\n").expect("fixture snapshot");
    let page = dir.join("page.md");
    let text = "{{#include missing.rs}}\n{{#include code.rs:nowhere}}\n{{#include code.rs:empty}}\n{{#include t.snap}}\n{{#include code.rs:full}}\n{{#include t.snap:4:}}\n";
    let problems = include_problems(&page, text);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    for (problem, needle) in
        problems
            .iter()
            .zip(["does not exist", "no `ANCHOR: nowhere`", "blank", "line 4"])
    {
        assert!(
            problem.contains(needle),
            "{problem} should mention {needle:?}"
        );
    }
}

fn roman(n: u32) -> &'static str {
    ["", "I", "II", "III", "IV", "V", "VI"]
        .get(n as usize)
        .copied()
        .unwrap_or("?")
}

/// The sidebar lists every chapter, in course order, under its part.
#[test]
fn sidebar_follows_the_course() {
    let summary = fs::read_to_string(book_dir().join("src/SUMMARY.md")).expect("SUMMARY.md");
    let mut at = 0;
    for ch in &course().chapters {
        let part = course().part(ch.part).expect("course test checks parts");
        let heading = format!("# Part {}: {}", roman(part.number), part.title);
        let part_at = summary
            .find(&heading)
            .unwrap_or_else(|| panic!("SUMMARY.md lacks {heading:?}"));
        let link = format!("- [{}]({}.md)", ch.title, ch.id());
        let found = summary[at..]
            .find(&link)
            .map(|i| i + at)
            .unwrap_or_else(|| panic!("SUMMARY.md lacks {link:?} after the previous chapter"));
        assert!(found > part_at, "{link} should sit under {heading:?}");
        at = found;
    }
}

/// Each chapter page has the course's sections, its snapshot, its solution
/// (folded away) and, verbatim, every hint from course.toml.
#[test]
fn chapter_pages_match_the_course() {
    for ch in &course().chapters {
        let path = workspace_root().join(ch.book_page());
        let page = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let must = [
            format!("# Chapter {}: {}", ch.number, ch.title),
            format!("about {} minutes", ch.minutes),
            ch.learner_path().display().to_string(),
            format!("snapshots/ch{:02}-transcript.snap:4:", ch.number),
            format!("../../{}:", ch.solution_path().display()),
            "## The scene".into(),
            "## Try it".into(),
            "## Your turn".into(),
            "## Hints".into(),
            "## Solution".into(),
            "<details>".into(),
        ];
        for needle in must {
            assert!(
                page.contains(&needle),
                "{} should contain {needle:?}",
                path.display()
            );
        }
        for (i, hint) in ch.hints.iter().enumerate() {
            assert!(
                page.contains(hint.as_str()),
                "{}: hint {} from course.toml is missing or reworded:\n{hint}",
                path.display(),
                i + 1
            );
        }
    }
}

/// mdBook itself loads the book, expands every include, and renders HTML.
#[test]
fn mdbook_builds_the_book() {
    use mdbook_driver::book::BookItem;
    let mut book = mdbook_driver::MDBook::load(book_dir()).expect("mdBook loads book/");
    book.config.build.build_dir = workspace_root().join("target/book-test");
    let renderer = mdbook_html::HtmlHandlebars::new();
    let (processed, _) = book.preprocess_book(&renderer).expect("preprocessors run");
    let mut pages = 0;
    for item in processed.iter() {
        if let BookItem::Chapter(ch) = item {
            pages += 1;
            assert!(
                !ch.content.contains("{{#"),
                "{}: a directive was left unexpanded (mdBook couldn't resolve it)",
                ch.name
            );
        }
    }
    assert!(
        pages > course().chapters.len(),
        "every chapter plus the introduction"
    );
    book.build().expect("mdBook renders the book");
    assert!(workspace_root()
        .join("target/book-test/index.html")
        .exists());
}
