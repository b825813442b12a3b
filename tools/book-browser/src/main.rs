//! `cargo run -p book-browser`: reads the Dial Tone book in a real browser.
//!
//! It builds the book with mdBook (as a library, so no `mdbook` binary is
//! needed), serves it on 127.0.0.1 with a kernel-chosen port, and drives
//! headless Chromium through chromedriver to check what a reader would see:
//! every page loads with a clean console; the sidebar lists the chapters in
//! course.toml's order, and the "next" arrows walk them in that order; searching "accept" finds the chapter that teaches it;
//! every figure has a size and alt text; the dark themes really change the
//! colours. Screenshots of every page land in `target/book-browser/shots/`.
//!
//! Every request the browser makes is counted from its DevTools network
//! log, and any that is not to the book's own server is a problem: the book
//! reads offline. (Chromium resolves no host name but loopback here, so
//! nothing can leave the machine even when a page tries.)
//!
//! Then it proves the checks can fail: it builds a deliberately broken copy
//! (a chapter dropped from the sidebar, a figure deleted, a runnable Rust
//! block that makes mdBook's script call the Rust playground) and fails
//! unless every one of those faults is reported.
//!
//! This is its own command, not part of `cargo test`: it needs Chromium
//! (`apt-get install chromium chromium-driver`), and says so at once when
//! the browser is missing.
#![forbid(unsafe_code)]

mod checks;
mod driver;
mod serve;

use checks::{Expect, Report};
use dialtone_kit::course::{course, workspace_root, Page};
use mdbook_driver::book::BookItem;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Before anything slow: no browser, no test, and one line saying why.
    let (chromium, chromedriver) = match driver::locate() {
        Ok(found) => found,
        Err(why) => {
            eprintln!("book-browser: {why}");
            return ExitCode::from(2);
        }
    };
    driver::adopt_orphans();
    let started = Instant::now();
    // Ctrl-C drops `run`'s future, and with it the driver: nothing survives.
    let outcome = tokio::select! {
        outcome = run(&chromium, &chromedriver) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
    };
    // However the run ended, the browser is gone: say so, or end what's left.
    let strays = driver::children();
    if !strays.is_empty() {
        eprintln!(
            "book-browser: {} browser processes outlived the run; ending them",
            strays.len()
        );
        driver::end_strays(Duration::from_secs(2));
    }
    match outcome {
        Ok(true) => {
            println!(
                "book-browser: the book reads well ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!(
                "book-browser: the book has problems ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            ExitCode::FAILURE
        }
        Err(why) => {
            eprintln!("book-browser: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The whole run; Ok(true) when the book passes and the broken copy fails.
async fn run(chromium: &Path, chromedriver: &Path) -> Result<bool, String> {
    let out = workspace_root().join("target/book-browser");
    let shots = out.join("shots");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&shots).map_err(|e| format!("{}: {e}", shots.display()))?;

    let expect = expectations()?;
    // The broken copy drops the page the search must find, and chapter 1's figure.
    let removed = expect.search.1.clone();
    let removed_title = expect
        .chapters
        .iter()
        .find(|(page, _)| *page == removed)
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    let figure = format!("images/sequence-{:02}.svg", course().chapters[0].number);
    // The postcards' overview, which only a part's opening page shows (if
    // the course has one): the broken copy loses it too.
    let overview = course()
        .parts
        .iter()
        .find_map(|p| p.opening_id())
        .map(|page| {
            (
                format!("{page}.html"),
                "images/sequence-datagram.svg".to_string(),
            )
        });
    let last_part = course()
        .parts
        .last()
        .map(|p| p.heading())
        .unwrap_or_default();

    let t = Instant::now();
    let good = build(&out.join("book"), None)?;
    let broken = build(&out.join("broken"), Some(&removed))?;
    let playground_page = format!("{}.html", course().chapters[0].id());
    for gone in std::iter::once(&figure).chain(overview.as_ref().map(|(_, f)| f)) {
        fs::remove_file(broken.join(gone))
            .map_err(|e| format!("breaking the copy: {gone}: {e}"))?;
    }
    println!(
        "built the book and a broken copy in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let good_server = serve::Server::start(good).map_err(|e| format!("serving the book: {e}"))?;
    let broken_server =
        serve::Server::start(broken).map_err(|e| format!("serving the broken copy: {e}"))?;

    // A fresh, empty profile for this run alone. Declared before the driver,
    // so it is removed after the browser has gone, on every way out.
    let profile =
        Scratch(std::env::temp_dir().join(format!("book-browser-profile-{}", std::process::id())));
    let _ = fs::remove_dir_all(&profile.0);
    let driver = driver::Driver::start(
        chromedriver,
        out.join("chromedriver.log"),
        Duration::from_secs(10),
    )?;
    let client = driver.session(chromium, &profile.0).await?;

    let t = Instant::now();
    let result = async {
        let good_report = checks::check_book(
            &client,
            &|p: &str| good_server.url(p),
            &expect,
            Some(&shots),
        )
        .await?;
        let broken_report =
            checks::check_book(&client, &|p: &str| broken_server.url(p), &expect, None).await?;
        Ok::<_, String>((good_report, broken_report))
    }
    .await;
    // Close the session politely whatever happened; the driver's Drop then
    // ends chromedriver and anything of Chromium's still running.
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    let (good_report, broken_report) = result?;
    println!("browser checks took {:.1} s", t.elapsed().as_secs_f64());

    let book_ok = report_book(&good_report, &shots);
    let caught = report_broken(
        &broken_report,
        &Broken {
            removed: &removed,
            title: &removed_title,
            figure: &figure,
            overview: overview.as_ref(),
            part: &last_part,
            playground_page: &playground_page,
        },
    );
    Ok(book_ok && caught)
}

/// A folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// From course.toml: the pages in reading order (each part's opening page
/// before its chapters), each part's heading with the first page under it,
/// and that searching "accept" must find the first chapter whose syscalls
/// include accept().
fn expectations() -> Result<Expect, String> {
    let order = course().reading_order();
    // A chapter's sidebar label carries its number ("9. Postcards"), which
    // must be course.toml's: an opening page must not shift the count.
    let chapters: Vec<(String, String)> = order
        .iter()
        .map(|p| {
            let label = match p {
                Page::Chapter(ch) => format!("{}. {}", ch.number, ch.title),
                Page::Opening(..) => p.title().to_string(),
            };
            (format!("{}.html", p.id()), label)
        })
        .collect();
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut last = None;
    for page in &order {
        if last != Some(page.part()) {
            last = Some(page.part());
            let heading = course()
                .part(page.part())
                .map(|p| p.heading())
                .ok_or("a chapter names a part course.toml doesn't list")?;
            parts.push((heading, format!("{}.html", page.id())));
        }
    }
    let accept = course()
        .chapters
        .iter()
        .find(|c| c.syscalls.iter().any(|s| s == "accept"))
        .ok_or("no chapter in course.toml lists accept among its syscalls")?;
    Ok(Expect {
        chapters,
        parts,
        search: ("accept".into(), format!("{}.html", accept.id())),
    })
}

/// A Rust block that asks to be runnable whatever book.toml says: mdBook
/// gives it a Run button, and its script fetches the playground's crate list
/// as soon as the page loads.
const PLAYGROUND_BLOCK: &str =
    "\n```rust,mdbook-runnable\nfn main() {\n    println!(\"hello\");\n}\n```\n";

/// Builds the book into `dir`; with `drop_page`, leaves that page out of
/// the book (and so out of its sidebar and search index), leaves out the
/// last part's heading, and adds a runnable Rust block to chapter 1's page.
fn build(dir: &Path, drop_page: Option<&str>) -> Result<PathBuf, String> {
    let mut book = mdbook_driver::MDBook::load(workspace_root().join("book"))
        .map_err(|e| format!("mdBook can't load book/: {e:#}"))?;
    book.config.build.build_dir = dir.to_path_buf();
    if let Some(page) = drop_page {
        let md = Path::new(page).with_extension("md");
        book.book.items.retain(|item| !matches!(item, BookItem::Chapter(ch) if ch.path.as_deref() == Some(md.as_path())));
        let last_part = course()
            .parts
            .last()
            .map(|p| p.heading())
            .unwrap_or_default();
        book.book
            .items
            .retain(|item| !matches!(item, BookItem::PartTitle(t) if *t == last_part));
        let first = PathBuf::from(format!("{}.md", course().chapters[0].id()));
        book.book.for_each_mut(|item| {
            if let BookItem::Chapter(ch) = item {
                if ch.path.as_deref() == Some(first.as_path()) {
                    ch.content.push_str(PLAYGROUND_BLOCK);
                }
            }
        });
    }
    book.build()
        .map_err(|e| format!("mdBook can't build the book: {e:#}"))?;
    Ok(dir.to_path_buf())
}

fn report_book(report: &Report, shots: &Path) -> bool {
    println!(
        "checked {} pages: {}",
        report.pages.len(),
        report.pages.join(" ")
    );
    println!(
        "network: {} requests, {} not to the book's own server",
        report.requests, report.foreign
    );
    println!("screenshots: {}", shots.display());
    if let Some(w) = &report.weight {
        let kib = |b: u64| b as f64 / 1024.0;
        println!(
            "page weight of {}: {:.0} KiB (HTML {:.0}, CSS {:.0}, JS {:.0}, fonts {:.0}, images {:.0}, other {:.0})",
            w.page,
            kib(w.total()),
            kib(w.html),
            kib(w.css),
            kib(w.js),
            kib(w.fonts),
            kib(w.images),
            kib(w.other)
        );
    }
    for problem in &report.problems {
        println!("PROBLEM {problem}");
    }
    report.problems.is_empty()
}

/// What the broken copy breaks, for [`report_broken`].
struct Broken<'a> {
    /// The page left out, and its title.
    removed: &'a str,
    title: &'a str,
    /// Chapter 1's figure, deleted.
    figure: &'a str,
    /// A part's opening page and the overview figure deleted from it.
    overview: Option<&'a (String, String)>,
    /// The part heading left out of the sidebar.
    part: &'a str,
    /// The page given a runnable block.
    playground_page: &'a str,
}

/// The broken copy must fail every check its faults touch.
fn report_broken(report: &Report, broken: &Broken) -> bool {
    let Broken {
        removed,
        title,
        figure,
        overview,
        part,
        playground_page,
    } = *broken;
    let has = |prefix: &str, needle: &str| {
        report
            .problems
            .iter()
            .any(|p| p.starts_with(prefix) && p.contains(needle))
    };
    let playground_request = format!("{playground_page} requested https://play.rust-lang.org");
    let wanted = [
        (
            "sidebar:",
            removed,
            format!("the sidebar missing {removed} ({title})"),
        ),
        (
            "search:",
            "accept",
            format!("search no longer finding {removed}"),
        ),
        (
            "figure:",
            figure,
            format!("the deleted {figure} having no size"),
        ),
        (
            "console:",
            figure,
            format!("the console's 404 for {figure}"),
        ),
        ("load:", removed, format!("{removed} no longer loading")),
        (
            "network:",
            playground_request.as_str(),
            format!("{playground_page}'s runnable block calling the Rust playground"),
        ),
        (
            "next:",
            removed,
            format!("the next arrow skipping {removed}"),
        ),
    ];
    let mut wanted = wanted.to_vec();
    let part_heading = format!("{part:?}");
    wanted.push((
        "sidebar:",
        part_heading.as_str(),
        format!("the part heading {part:?} missing from the sidebar"),
    ));
    if let Some((page, image)) = overview {
        wanted.push((
            "figure:",
            image.as_str(),
            format!("the deleted {image} having no size on {page}"),
        ));
    }
    let mut all = true;
    for (prefix, needle, what) in wanted {
        if has(prefix, needle) {
            println!("broken copy: caught {what}");
        } else {
            println!("FAILED the broken copy's check missed {what}");
            all = false;
        }
    }
    all
}
