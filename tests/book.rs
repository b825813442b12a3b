//! The book can't drift from the course: every include resolves to real,
//! non-empty text; the sidebar follows course.toml; each chapter page shows its
//! snapshot, its code and its hints; and mdBook itself builds it.
//!
//! mdBook logs a missing include and carries on, and silently includes nothing
//! for a missing anchor; these tests turn both into failures. The rendered
//! HTML is checked too: every internal link and `#anchor` resolves, nothing
//! is fetched from the internet (no remote script, font, image or preload,
//! no script `fetch` to another host, and no runnable code block calling the
//! Rust playground), the "next chapter" arrows follow the course,
//! and the call-sequence figures are exactly what their generator draws.
//!
//! Everything here runs on a fresh machine with nothing installed: mdBook is
//! used as a library. The browser test (`cargo run -p book-browser`) is the
//! part that needs Chromium.
#![forbid(unsafe_code)]

#[path = "book/figures.rs"]
mod figures;
#[path = "book/html.rs"]
mod html;
// `expand` is the docs run's; this suite checks includes one by one.
#[allow(dead_code)]
#[path = "book/include.rs"]
mod include;

use dialtone_kit::course::{self, course, workspace_root};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
        match include::select(&content, selector, file) {
            Ok(text) if text.trim().is_empty() => {
                problems.push(say("includes nothing but blank lines".into()))
            }
            Ok(_) => {}
            Err(why) => problems.push(say(why)),
        }
    }
    problems
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

/// The sidebar lists every page in the course's reading order (each part's
/// opening page, then its chapters), each under its part's heading, and an
/// opening page straight after that heading.
#[test]
fn sidebar_follows_the_course() {
    let summary = fs::read_to_string(book_dir().join("src/SUMMARY.md")).expect("SUMMARY.md");
    let problems = sidebar_problems(&summary);
    assert!(problems.is_empty(), "SUMMARY.md:\n{}", problems.join("\n"));
}

/// A page's sidebar entry: `- [9. Postcards](09-postcards.md)` for a
/// chapter (book.toml turns mdBook's own numbering off, which would count
/// opening pages too), `- [Title](part-3-slug.md)` for an opening page.
fn sidebar_line(page: &course::Page) -> String {
    match page {
        course::Page::Chapter(ch) => format!("- [{}. {}]({}.md)", ch.number, ch.title, ch.id()),
        course::Page::Opening(..) => format!("- [{}]({}.md)", page.title(), page.id()),
    }
}

/// Disagreements between a SUMMARY.md's text and the course's reading order.
fn sidebar_problems(summary: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut at = 0;
    for page in course().reading_order() {
        let part = course()
            .part(page.part())
            .expect("course test checks parts");
        let heading = format!("# {}", part.heading());
        let link = sidebar_line(&page);
        let Some(found) = summary[at..].find(&link).map(|i| i + at) else {
            problems.push(format!("no {link:?} after the page before it"));
            continue;
        };
        // The heading this entry sits under: the last one above it.
        let under = summary[..found]
            .rfind("\n# ")
            .map(|i| summary[i + 1..].lines().next().unwrap_or_default());
        if under != Some(heading.as_str()) {
            problems.push(format!(
                "{link} should sit under {heading:?}, not {under:?}"
            ));
        }
        if let course::Page::Opening(..) = page {
            let between = summary[..found].rfind(&heading).map(|h| &summary[h..found]);
            if between.is_some_and(|text| text.contains("- [")) {
                problems.push(format!("{link} should come first under {heading:?}"));
            }
        }
        at = found;
    }
    problems
}

/// The sidebar check catches a part's opening page left out, one after a
/// chapter, and a chapter under the wrong part's heading.
#[test]
fn sidebar_check_catches_a_misplaced_page() {
    let summary = fs::read_to_string(book_dir().join("src/SUMMARY.md")).expect("SUMMARY.md");
    let order = course().reading_order();
    let Some(opening) = order
        .iter()
        .position(|p| matches!(p, course::Page::Opening(..)))
    else {
        return;
    };
    let page = order[opening];
    let first_chapter = order[opening + 1];
    let line = |p: &course::Page| format!("{}\n", sidebar_line(p));
    let dropped = summary.replace(&line(&page), "");
    assert!(
        sidebar_problems(&dropped)
            .iter()
            .any(|p| p.contains(&page.id())),
        "a missing opening page should be reported"
    );
    let swapped = summary.replace(
        &format!("{}{}", line(&page), line(&first_chapter)),
        &format!("{}{}", line(&first_chapter), line(&page)),
    );
    assert_ne!(
        swapped, summary,
        "the opening page is followed by its part's first chapter"
    );
    assert!(
        sidebar_problems(&swapped)
            .iter()
            .any(|p| p.contains("should come first") || p.contains("after the page before")),
        "an opening page after a chapter should be reported"
    );
    let part = course().part(page.part()).expect("a part");
    let moved = summary.replace(&format!("# {}\n", part.heading()), "");
    assert!(
        sidebar_problems(&moved)
            .iter()
            .any(|p| p.contains("should sit under")),
        "a page under the wrong heading should be reported"
    );
}

/// Each part's opening page has its title, its time, the figures of both
/// kinds of line, and what the addresses tool prints, from its snapshots.
#[test]
fn opening_pages_match_the_course() {
    for part in &course().parts {
        let (Some(opening), Some(page)) = (&part.opening, part.opening_page()) else {
            continue;
        };
        let path = workspace_root().join(&page);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let must = [
            format!("# {}", opening.title),
            format!("about {} minutes", opening.minutes),
            opening.lesson.clone(),
        ];
        for needle in must {
            assert!(
                text.contains(&needle),
                "{} should contain {needle:?}",
                path.display()
            );
        }
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

/// Loads, preprocesses and renders the book once per test run, into
/// `target/book-test`; the tests that read HTML share this one build.
fn rendered() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        use mdbook_driver::book::BookItem;
        let out = workspace_root().join("target/book-test");
        // A page removed from the book must not linger from an earlier build.
        let _ = fs::remove_dir_all(&out);
        let mut book = mdbook_driver::MDBook::load(book_dir()).expect("mdBook loads book/");
        book.config.build.build_dir = out.clone();
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
        out
    })
}

/// mdBook itself loads the book, expands every include, and renders HTML.
#[test]
fn mdbook_builds_the_book() {
    let out = rendered();
    assert!(out.join("index.html").exists());
    assert!(out.join("print.html").exists(), "the print view is enabled");
    assert!(
        out.join("searchindex.json").exists() || has_file_starting(out, "searchindex"),
        "search is enabled"
    );
}

fn has_file_starting(dir: &Path, prefix: &str) -> bool {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
        })
        .unwrap_or(false)
}

/// Every internal link, image and script in the rendered book points at a
/// file that exists, and every `#fragment` at an id on that page.
#[test]
fn rendered_links_and_anchors_resolve() {
    let problems = html::link_problems(rendered());
    assert!(
        problems.is_empty(),
        "broken links in the rendered book:\n{}",
        problems.join("\n")
    );
}

/// The link check reports a missing page, a missing anchor and a missing
/// image, and accepts the links that are fine.
#[test]
fn link_check_catches_a_broken_book() {
    let dir = workspace_root().join("target/book-check-links");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("images")).expect("fixture folder");
    fs::write(dir.join("images/ok.svg"), "<svg/>").expect("fixture image");
    fs::write(
        dir.join("a.html"),
        r##"<html><body><h2 id="here">Here</h2>
<a href="b.html#there">fine</a> <a href="#here">fine</a> <img src="images/ok.svg" alt="ok">
<a href="https://example.org/x.html">external, not checked</a>
<script>let s = '<a href="nowhere.html">in a script</a>';</script>
<a href="gone.html">missing page</a> <a href="b.html#nowhere">missing anchor</a>
<img src="images/gone.svg" alt="missing image"></body></html>"##,
    )
    .expect("fixture page");
    fs::write(dir.join("b.html"), r#"<p id="there">there</p>"#).expect("fixture page");
    let problems = html::link_problems(&dir);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    for needle in ["gone.html", "#nowhere", "images/gone.svg"] {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{needle} should be reported: {problems:#?}"
        );
    }
}

/// The book reads offline: no script, stylesheet, font, image or frame is
/// fetched from the internet.
#[test]
fn rendered_book_fetches_nothing_from_the_internet() {
    let problems = html::external_resources(rendered());
    assert!(
        problems.is_empty(),
        "the book must read offline, but it loads:\n{}",
        problems.join("\n")
    );
}

/// The offline check catches a CDN script, a web font, a remote image, a
/// preload, a `srcset`, and scripts that fetch, open an `XMLHttpRequest` or a
/// WebSocket; it passes a link, a URL in a comment and a local fetch.
#[test]
fn offline_check_catches_a_cdn() {
    let dir = workspace_root().join("target/book-check-offline");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("fixture folder");
    fs::write(
        dir.join("index.html"),
        r#"<html><head><script src="https://cdn.example.org/x.js"></script>
<link rel="stylesheet" href="local.css"><link rel="preload" href="https://fonts.example.org/f.woff2" as="font">
<script src="local.js"></script>
<script>navigator.sendBeacon("https://stats.example.org/hit", "1");</script></head>
<body><a href="https://example.org">a link is fine</a><img src="//img.example.org/p.png" alt="remote">
<img src="ok.png" srcset="ok.png 1x, https://img.example.org/p2.png 2x" alt="hidpi"></body></html>"#,
    )
    .expect("fixture page");
    fs::write(
        dir.join("local.css"),
        "@font-face { src: url('https://fonts.example.org/f.woff2'); }\nbody { background: url(ok.png); }\n",
    )
    .expect("fixture css");
    fs::write(
        dir.join("local.js"),
        r#"// see https://example.org/docs for why (a comment, not a request)
fetch("searchindex.json");
fetch_with_timeout('https://api.example.org/data', {});
const x = new XMLHttpRequest(); x.open("POST", "https://api.example.org/post");
const ws = new WebSocket(`wss://live.example.org/`);
alert("read more at https://example.org/more");
"#,
    )
    .expect("fixture js");
    let problems = html::external_resources(&dir);
    let wanted = [
        "cdn.example.org/x.js",
        "<link \"https://fonts.example.org/f.woff2\"",
        "stats.example.org",
        "//img.example.org/p.png",
        "img.example.org/p2.png",
        "local.css: https://fonts.example.org/f.woff2",
        "api.example.org/data",
        "api.example.org/post",
        "live.example.org",
    ];
    for needle in wanted {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{needle} should be reported: {problems:#?}"
        );
    }
    assert_eq!(problems.len(), wanted.len(), "{problems:#?}");
}

/// Builds a copy of the book into `target/NAME` with `block` added to the
/// end of chapter 1's page and `settings` changed in its config, for the
/// checks that must catch a broken book.
fn build_broken(name: &str, block: &str, settings: &[(&str, bool)]) -> PathBuf {
    use mdbook_driver::book::BookItem;
    let out = workspace_root().join("target").join(name);
    let _ = fs::remove_dir_all(&out);
    let mut book = mdbook_driver::MDBook::load(book_dir()).expect("mdBook loads book/");
    book.config.build.build_dir = out.clone();
    for (key, value) in settings {
        book.config.set(*key, *value).expect("a valid setting");
    }
    let first = PathBuf::from(format!("{}.md", course().chapters[0].id()));
    let mut added = false;
    book.book.for_each_mut(|item| {
        if let BookItem::Chapter(ch) = item {
            if ch.path.as_deref() == Some(first.as_path()) {
                ch.content.push_str(block);
                added = true;
            }
        }
    });
    assert!(added, "{} is in the book", first.display());
    book.build().expect("mdBook renders the broken copy");
    out
}

/// The book's own setting keeps code blocks off the playground: a plain
/// ```rust block (no `ignore`) added to a page fetches nothing. The same
/// block with the setting gone, and a block that asks to be runnable
/// whatever the setting, each make the offline check fail.
#[test]
fn offline_check_catches_a_playground_block() {
    let block = "\n```rust\nfn main() {\n    println!(\"hello\");\n}\n```\n";
    let page = format!("{}.html", course().chapters[0].id());
    let safe = build_broken("book-check-rust-block", block, &[]);
    let problems = html::external_resources(&safe);
    assert!(
        problems.is_empty(),
        "with book.toml's `[output.html.playground] runnable = false`, a ```rust \
         block must stay off the playground:\n{}",
        problems.join("\n")
    );
    let broken = [
        build_broken(
            "book-check-playground",
            block,
            &[("output.html.playground.runnable", true)],
        ),
        build_broken(
            "book-check-runnable",
            &block.replace("```rust", "```rust,mdbook-runnable"),
            &[],
        ),
    ];
    for dir in broken {
        let problems = html::external_resources(&dir);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&page) && p.contains("play.rust-lang.org")),
            "{}: the playground block on {page} should be reported: {problems:#?}",
            dir.display()
        );
    }
}

/// Each page's "next" arrow leads to the next page in course order: the
/// introduction, then every page of the reading order (a part's opening
/// page before its chapters), and from the last chapter on to the
/// teachers' page.
#[test]
fn next_chapter_follows_the_course() {
    let out = rendered();
    let mut order = vec!["index.html".to_string()];
    order.extend(
        course()
            .reading_order()
            .iter()
            .map(|p| format!("{}.html", p.id())),
    );
    order.push("teachers.html".into());
    for pair in order.windows(2) {
        let page =
            fs::read_to_string(out.join(&pair[0])).unwrap_or_else(|e| panic!("{}: {e}", pair[0]));
        let next = html::next_link(&page);
        assert_eq!(
            next.as_deref(),
            Some(pair[1].as_str()),
            "{}'s next arrow should lead to {}",
            pair[0],
            pair[1]
        );
    }
}

/// The print view holds the whole book: every page's heading (each
/// chapter's, each part's opening page's) and the teachers' page, in
/// course order.
#[test]
fn print_view_has_every_chapter_in_order() {
    let print = fs::read_to_string(rendered().join("print.html")).expect("print.html");
    let mut at = 0;
    for page in course().reading_order() {
        let heading = match page {
            course::Page::Chapter(ch) => {
                format!("Chapter {}: {}", ch.number, html::escape(&ch.title))
            }
            course::Page::Opening(_, o) => html::escape(&o.title),
        };
        let found = print[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("print.html lacks {heading:?} after the previous chapter"));
        at += found;
    }
    assert!(
        print[at..].contains("For teachers"),
        "print.html ends with the teachers' page"
    );
}

/// The call-sequence figures are exactly what `tools/figures` draws from
/// course.toml. To redraw them after changing the generator or a chapter's
/// syscalls: `cargo xtask figures`.
#[test]
fn figures_match_their_generator() {
    let images = book_dir().join("src/images");
    let problems = figure_problems(&images, &expected_figures());
    assert!(
        problems.is_empty(),
        "{}\nRedraw them with: cargo xtask figures",
        problems.join("\n")
    );
}

/// Every figure the book should have, by file name: the introduction's and
/// one per chapter in course.toml.
fn expected_figures() -> Vec<(String, String)> {
    figures::book(course())
}

/// What differs between the figures in `dir` and `expected`: missing,
/// changed, or a `sequence*.svg` no chapter draws.
fn figure_problems(dir: &Path, expected: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, svg) in expected {
        match fs::read_to_string(dir.join(name)) {
            Err(_) => problems.push(format!("{name} is missing")),
            Ok(text) if text != *svg => {
                problems.push(format!("{name} differs from what its generator draws"))
            }
            Ok(_) => {}
        }
    }
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("sequence") && !expected.iter().any(|(n, _)| *n == name) {
            problems.push(format!("{name} is drawn by no chapter in course.toml"));
        }
    }
    problems
}

/// The drift check notices a hand-edited, a missing and a stray figure.
#[test]
fn figure_check_catches_drift() {
    let dir = workspace_root().join("target/book-check-figures");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("fixture folder");
    let expected = expected_figures();
    for (name, svg) in &expected[1..] {
        fs::write(dir.join(name), svg).expect("fixture figure");
    }
    let first = expected
        .iter()
        .find(|(name, _)| name == "sequence-01.svg")
        .expect("chapter 1 has a figure");
    let edited = first.1.replace("install a phone", "buy a phone");
    assert_ne!(edited, first.1, "the fixture really edits the figure");
    fs::write(dir.join(&first.0), edited).expect("fixture figure");
    fs::write(dir.join("sequence-99.svg"), "<svg/>").expect("fixture figure");
    let problems = figure_problems(&dir, &expected);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].contains("sequence.svg is missing"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("sequence-01.svg differs"),
        "{problems:#?}"
    );
    assert!(problems[2].contains("sequence-99.svg"), "{problems:#?}");
}

/// The highlight rule: a chapter lights the box of the first call it lists
/// that no earlier chapter lit (both sides' boxes when both sides make that
/// call), and a chapter naming accept, talk and hang-up lights the server's
/// loop.
#[test]
fn figure_highlight_follows_the_syscalls() {
    use figures::{course_highlights, highlight_for, Highlight};
    let calls = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases: [(&[&str], Highlight); 9] = [
        (
            &["socket", "getsockopt", "getsockname", "close"],
            Highlight::Steps(vec!["server-socket", "client-socket"]),
        ),
        (
            &["bind", "getsockname"],
            Highlight::Steps(vec!["server-bind"]),
        ),
        (
            &["connect", "getpeername"],
            Highlight::Steps(vec!["client-connect"]),
        ),
        (
            &["accept", "getpeername", "read", "write"],
            Highlight::Steps(vec!["server-accept"]),
        ),
        (
            &["send", "recv"],
            Highlight::Steps(vec!["server-talk", "client-talk"]),
        ),
        (
            &["shutdown", "close"],
            Highlight::Steps(vec!["server-close", "client-close"]),
        ),
        // Hanging up, shown with the read that sees end of file: still close.
        (
            &["close", "shutdown", "read", "send"],
            Highlight::Steps(vec!["server-close", "client-close"]),
        ),
        // The loop without installing: the loop's own steps.
        (
            &["accept", "read", "write", "shutdown", "close", "setsockopt"],
            Highlight::ServerLoop(vec!["server-accept", "server-talk", "server-close"]),
        ),
        (
            &[
                "socket", "bind", "listen", "accept", "read", "write", "close",
            ],
            Highlight::ServerLoop(vec!["server-accept", "server-talk", "server-close"]),
        ),
    ];
    for (syscalls, want) in cases {
        assert_eq!(
            highlight_for(&calls(syscalls), &[]),
            want,
            "for {syscalls:?}"
        );
    }
    assert_eq!(
        highlight_for(&calls(&["getsockopt"]), &[]),
        Highlight::Nothing
    );
    // A caller installs a phone before dialling; once socket() is lit by an
    // earlier chapter, the dialling chapter lights connect().
    let dial = calls(&["socket", "connect", "getsockname", "getpeername"]);
    let socket = Highlight::Steps(vec!["server-socket", "client-socket"]);
    assert_eq!(highlight_for(&dial, &[]), socket);
    assert_eq!(
        highlight_for(&dial, std::slice::from_ref(&socket)),
        Highlight::Steps(vec!["client-connect"])
    );
    // Every box already lit: the chapter's first call again.
    assert_eq!(
        highlight_for(&calls(&["socket"]), std::slice::from_ref(&socket)),
        socket
    );
    // Each chapter of the course lights something, and lights what an
    // earlier chapter lit only when every step its calls name was lit
    // before (a chapter that revisits socket(), say): each figure says
    // where that chapter is.
    let listed: Vec<&[String]> = course().chapters.iter().map(|c| &c.syscalls[..]).collect();
    let lit = course_highlights(&listed);
    for (i, h) in lit.iter().enumerate() {
        assert_ne!(*h, Highlight::Nothing, "chapter {} lights no step", i + 1);
        if lit[..i].contains(h) {
            let each_alone = listed[i]
                .iter()
                .map(|call| highlight_for(std::slice::from_ref(call), &[]));
            assert!(
                each_alone
                    .filter(|b| *b != Highlight::Nothing)
                    .all(|b| lit[..i].contains(&b)),
                "chapter {} lights the same as an earlier chapter, though one of its calls' steps is new",
                i + 1
            );
        }
    }
}

/// Every chapter page and the introduction show their figure, and each
/// part's opening page every sequence's overview, with alt text long
/// enough to describe it.
#[test]
fn pages_show_their_figure_with_alt_text() {
    let mut pages = vec![(
        book_dir().join("src/README.md"),
        "images/sequence.svg".to_string(),
    )];
    for ch in &course().chapters {
        pages.push((
            workspace_root().join(ch.book_page()),
            format!("images/sequence-{:02}.svg", ch.number),
        ));
    }
    // A part's opening page shows every kind of line side by side.
    for page in course().parts.iter().filter_map(|p| p.opening_page()) {
        for (image, _) in figures::overviews() {
            pages.push((workspace_root().join(&page), format!("images/{image}")));
        }
    }
    for (path, image) in pages {
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let alt = html::markdown_image_alt(&text, &image)
            .unwrap_or_else(|| panic!("{} should show ![...]({image})", path.display()));
        assert!(
            alt.len() >= 60,
            "{}: the alt text of {image} should describe the sequence ({} characters is too short)",
            path.display(),
            alt.len()
        );
    }
}

/// The introduction links every page of the course, by its course.toml
/// title: `[N: Title](NN-slug.md)` for a chapter, `[Title](part-N-slug.md)`
/// for a part's opening page.
#[test]
fn introduction_links_every_chapter() {
    let intro = fs::read_to_string(book_dir().join("src/README.md")).expect("README.md");
    for page in course().reading_order() {
        let link = match page {
            course::Page::Chapter(ch) => format!("[{}: {}]({}.md)", ch.number, ch.title, ch.id()),
            course::Page::Opening(..) => format!("[{}]({}.md)", page.title(), page.id()),
        };
        assert!(
            intro.contains(&link),
            "the introduction should link {link} (title as in course.toml)"
        );
    }
}

/// The teachers' page times each page as course.toml does (every chapter,
/// and each part's opening page), and its total is their sum.
#[test]
fn teacher_timing_matches_the_course() {
    let page = fs::read_to_string(book_dir().join("src/teachers.md")).expect("teachers.md");
    let problems = timing_problems(&page);
    assert!(problems.is_empty(), "teachers.md:\n{}", problems.join("\n"));
}

/// Disagreements between the timing table in `page` and course.toml. A row
/// is `| [Title](page.md) | M min | ...` (a chapter's title is `N. Title`),
/// and the total row is `| **total** | **T min** | ...`.
fn timing_problems(page: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let rows: Vec<Vec<&str>> = page
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let mut total = 0;
    for p in course().reading_order() {
        total += p.minutes();
        let link = format!("]({}.md)", p.id());
        let timed: Vec<&Vec<&str>> = rows
            .iter()
            .filter(|r| r.len() > 1 && r[0].contains(&link) && r[1].ends_with(" min"))
            .collect();
        let name = match p {
            course::Page::Chapter(ch) => format!("chapter {}", ch.number),
            course::Page::Opening(..) => format!("the page {}", p.id()),
        };
        match timed.as_slice() {
            [row] if row[1] == format!("{} min", p.minutes()) => {}
            [row] => problems.push(format!(
                "{name} is timed {:?}, course.toml says {} min",
                row[1],
                p.minutes()
            )),
            _ => problems.push(format!(
                "{name} needs exactly one timing row `| [..]({}.md) | {} min |`",
                p.id(),
                p.minutes()
            )),
        }
    }
    let want = format!("**{total} min**");
    match rows.iter().find(|r| r.first() == Some(&"**total**")) {
        Some(r) if r.get(1) == Some(&want.as_str()) => {}
        Some(r) => problems.push(format!(
            "the total says {:?}, the pages add up to {want}",
            r.get(1)
        )),
        None => problems.push(format!("no `| **total** | {want} |` row")),
    }
    problems
}

/// The timing check catches a chapter timed differently, a missing page
/// (chapter or opening) and a wrong total.
#[test]
fn timing_check_catches_a_stale_page() {
    let first = &course().chapters[0];
    let mut page = String::from("| chapter | time |\n|---|---|\n");
    page.push_str(&format!(
        "| [1. x]({}.md) | {} min |\n",
        first.id(),
        first.minutes + 5
    ));
    page.push_str("| **total** | **1 min** |\n");
    let problems = timing_problems(&page);
    assert!(problems[0].contains("chapter 1 is timed"), "{problems:#?}");
    assert_eq!(
        problems.len(),
        course().reading_order().len() + 1,
        "every other page is missing and the total is wrong: {problems:#?}"
    );
}

/// The teachers' page names failure ids (`ch05.listening-socket`) that the
/// chapters' self-checks really report, so a renamed id can't leave the page
/// pointing at nothing.
#[test]
fn teacher_page_names_real_failure_ids() {
    let page = fs::read_to_string(book_dir().join("src/teachers.md")).expect("teachers.md");
    assert!(
        failure_ids(&page).len() >= course().chapters.len(),
        "the teachers' page should name at least one failure id per chapter"
    );
    let problems = unknown_failure_ids(&page);
    assert!(
        problems.is_empty(),
        "teachers.md names failure ids no self-check reports:\n{}",
        problems.join("\n")
    );
}

/// The teachers' mistakes follow course.toml: under "## What students get
/// wrong", a section per page in reading order (`### N. Title` for a
/// chapter, `### Title` for a part's opening page), each chapter's naming
/// at least one id, and every id it names one that course.toml's claims
/// for that chapter list as catching a mistake (an opening page's section
/// may name its part's chapters' ids).
#[test]
fn teacher_mistakes_follow_the_course() {
    let page = fs::read_to_string(book_dir().join("src/teachers.md")).expect("teachers.md");
    let problems = mistake_problems(&page);
    assert!(problems.is_empty(), "teachers.md:\n{}", problems.join("\n"));
}

fn mistake_problems(page: &str) -> Vec<String> {
    let Some(start) = page.find("## What students get wrong") else {
        return vec!["no `## What students get wrong` section".into()];
    };
    let body = &page[start..];
    let body = &body[..body[1..].find("\n## ").map_or(body.len(), |i| i + 1)];
    let claimed = |number: u32| -> Vec<&String> {
        course()
            .chapter(number)
            .map(|ch| ch.claims.iter().flat_map(|c| &c.caught_by).collect())
            .unwrap_or_default()
    };
    let mut problems = Vec::new();
    let mut at = 0;
    for p in course().reading_order() {
        let (heading, allowed): (String, Vec<u32>) = match p {
            course::Page::Chapter(ch) => (
                format!("\n### {}. {}\n", ch.number, ch.title),
                vec![ch.number],
            ),
            course::Page::Opening(part, _) => (
                format!("\n### {}\n", p.title()),
                course()
                    .chapters
                    .iter()
                    .filter(|c| c.part == part.number)
                    .map(|c| c.number)
                    .collect(),
            ),
        };
        let Some(found) = body[at..].find(&heading).map(|i| i + at) else {
            problems.push(format!(
                "no {:?} section after the one before it",
                heading.trim()
            ));
            continue;
        };
        let rest = &body[found + heading.len()..];
        let section = &rest[..rest.find("\n### ").unwrap_or(rest.len())];
        let ids = failure_ids(section);
        if matches!(p, course::Page::Chapter(_)) && ids.is_empty() {
            problems.push(format!("{:?} names no failure id", heading.trim()));
        }
        for id in ids {
            let owner: u32 = id[2..4].parse().expect("failure_ids keeps two digits");
            if !allowed.contains(&owner) || !claimed(owner).contains(&&id) {
                problems.push(format!(
                    "{:?} names {id}, which no claim of {} in course.toml lists",
                    heading.trim(),
                    match allowed.as_slice() {
                        [one] => format!("chapter {one}"),
                        _ => "its part's chapters".to_string(),
                    }
                ));
            }
        }
        at = found;
    }
    problems
}

/// The mistakes check catches a missing section, an id of another chapter
/// and an id course.toml's claims don't list.
#[test]
fn mistakes_check_catches_a_stale_page() {
    let ch = &course().chapters[0];
    let page = format!(
        "## What students get wrong\n\n### {}. {}\n\n- (`ch02.made-up-number`) and (`ch01.no-such-mistake`)\n",
        ch.number, ch.title
    );
    let problems = mistake_problems(&page);
    assert!(
        problems.iter().any(|p| p.contains("ch02.made-up-number")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("ch01.no-such-mistake")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("no \"### 2.")),
        "{problems:#?}"
    );
}

/// Every `chNN.some-id` in backticks in `text`.
fn failure_ids(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| {
            let (head, tail) = t.split_once('.').unwrap_or_default();
            head.len() == 4
                && head.starts_with("ch")
                && head[2..].chars().all(|c| c.is_ascii_digit())
                && !tail.is_empty()
                && tail.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        })
        .map(str::to_string)
        .collect()
}

/// The ids in `text` that their chapter's check.rs doesn't report.
fn unknown_failure_ids(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for id in failure_ids(text) {
        let number: u32 = id[2..4].parse().expect("failure_ids keeps two digits");
        let Some(ch) = course().chapter(number) else {
            problems.push(format!("{id}: there is no chapter {number}"));
            continue;
        };
        let check = workspace_root().join(ch.dir()).join("src/check.rs");
        let source = fs::read_to_string(&check).unwrap_or_default();
        if !source.contains(&format!("\"{id}\"")) {
            problems.push(format!("{id}: {} never reports it", check.display()));
        }
    }
    problems
}

/// The id check catches an id no check reports and a chapter that doesn't
/// exist, and accepts a real one.
#[test]
fn failure_id_check_catches_a_stale_page() {
    let page =
        "`ch01.datagram` is real; `ch01.no-such-mistake` is not; nor is `ch99.x`; `ch01.not code`.";
    assert_eq!(failure_ids(page).len(), 3);
    let problems = unknown_failure_ids(page);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("ch01.no-such-mistake"));
    assert!(problems[1].contains("no chapter 99"));
}

/// Every session plan on the teachers' page fits its time: each table under
/// "### A plan" takes the chapters in order, each exactly once, and each
/// session's chapter minutes (from course.toml, a part's opening page
/// counted with the part's first chapter) and time left add up to its
/// length, with at least ten minutes left for a break.
#[test]
fn teacher_session_plans_fit_their_time() {
    let page = fs::read_to_string(book_dir().join("src/teachers.md")).expect("teachers.md");
    let problems = plan_problems(&page);
    assert!(problems.is_empty(), "teachers.md:\n{}", problems.join("\n"));
}

/// The minutes of chapters `first` to `last` in class: their own, and the
/// opening page of any part whose first chapter is among them (a session
/// reads the opening before that chapter).
fn session_minutes(first: u32, last: u32) -> u32 {
    let mut sum = 0;
    let mut opening = 0;
    for page in course().reading_order() {
        match page {
            course::Page::Opening(..) => opening = page.minutes(),
            course::Page::Chapter(ch) => {
                if (first..=last).contains(&ch.number) {
                    sum += ch.minutes + opening;
                }
                opening = 0;
            }
        }
    }
    sum
}

/// Disagreements between the plan tables in `page` and course.toml. A row is
/// `| name | L min | A to B | M min | R min |` (or just `A` for one chapter).
fn plan_problems(page: &str) -> Vec<String> {
    let Some(start) = page.find("### A plan") else {
        return vec!["no `### A plan` section".into()];
    };
    let section = &page[start + 1..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    let mut tables: Vec<Vec<Vec<&str>>> = Vec::new();
    let mut in_table = false;
    for line in section.lines() {
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table {
            tables.push(Vec::new());
            in_table = true;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let header = cells.iter().any(|c| c.starts_with("---")) || cells[0] == "session";
        if !header {
            tables.last_mut().expect("pushed above").push(cells);
        }
    }
    if tables.is_empty() {
        return vec!["`### A plan` has no table".into()];
    }
    let minutes = |text: &str| {
        text.strip_suffix(" min")
            .and_then(|n| n.parse::<u32>().ok())
    };
    let mut problems = Vec::new();
    for (t, rows) in tables.iter().enumerate() {
        let mut next = 1;
        for row in rows {
            let say = |why: String| format!("plan {}, session {:?}: {why}", t + 1, row[0]);
            let (Some(length), Some(chapters), Some(taken), Some(left)) = (
                row.get(1).and_then(|c| minutes(c)),
                row.get(2),
                row.get(3).and_then(|c| minutes(c)),
                row.get(4).and_then(|c| minutes(c)),
            ) else {
                problems.push(say(
                    "a row is `| name | L min | A to B | M min | R min |`".into()
                ));
                continue;
            };
            let bounds: Vec<u32> = chapters
                .split(" to ")
                .filter_map(|n| n.trim().parse().ok())
                .collect();
            let (first, last) = match bounds[..] {
                [one] => (one, one),
                [a, b] => (a, b),
                _ => {
                    problems.push(say(format!("{chapters:?} is not `A to B`")));
                    continue;
                }
            };
            if first != next || last < first {
                problems.push(say(format!(
                    "chapters {first} to {last}, but chapter {next} comes next"
                )));
            }
            let sum = session_minutes(first, last);
            if taken != sum {
                problems.push(say(format!(
                    "says its chapters take {taken} min, course.toml says {sum} min"
                )));
            }
            if sum + left != length {
                problems.push(say(format!(
                    "{sum} min of chapters and {left} min left is not {length} min"
                )));
            }
            if length < sum + 10 {
                problems.push(say(format!(
                    "{sum} min of chapters leave no break in {length} min"
                )));
            }
            next = last + 1;
        }
        let count = course().chapters.len() as u32;
        if next != count + 1 {
            problems.push(format!(
                "plan {} stops before chapter {next} (the course has {count})",
                t + 1
            ));
        }
    }
    problems
}

/// The plan check catches the old plan (125 minutes of chapters in a
/// two-hour session), a wrong sum, a skipped chapter and a short plan.
#[test]
fn plan_check_catches_a_session_that_overflows() {
    let minutes: Vec<u32> = course().chapters.iter().map(|c| c.minutes).collect();
    let part1: u32 = minutes[..5].iter().sum();
    // Chapters 6 to 8 (Part II) in the second session: later parts make
    // the plan stop early too, which the check reports as well.
    let rest: u32 = minutes[5..8].iter().sum();
    let page = format!(
        "### A plan\n\n| session | length | chapters | their minutes | left |\n|---|---|---|---|---|\n\
         | 1 | 120 min | 1 to 5 | {part1} min | 0 min |\n| 2 | 150 min | 6 to 8 | {rest} min | {} min |\n\n\
         | session | length | chapters | their minutes | left |\n|---|---|---|---|---|\n\
         | 1 | 150 min | 1 to 2 | 1 min | 0 min |\n| 2 | 150 min | 4 to 5 | 55 min | 95 min |\n\n## Next\n",
        150 - rest
    );
    let problems = plan_problems(&page);
    let wanted = [
        format!("plan 1, session \"1\": {part1} min of chapters and 0 min left is not 120 min"),
        format!("plan 1, session \"1\": {part1} min of chapters leave no break"),
        "plan 2, session \"1\": says its chapters take 1 min".into(),
        "plan 2, session \"2\": chapters 4 to 5, but chapter 3 comes next".into(),
        "plan 2 stops before chapter 6".into(),
    ];
    for needle in wanted {
        assert!(
            problems.iter().any(|p| p.contains(&needle)),
            "{needle:?} should be reported: {problems:#?}"
        );
    }
}
