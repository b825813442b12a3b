//! The board, `check`, `verify`, `hint`, `solution` and `reset`.

use crate::check::cache::Key;
use crate::check::{Checker, Route};
use crate::state::{looks_untouched, write_durable, Outcome, Record, State};
use crate::ui::{self, cmd, BAD, BOLD, CMD, DIM, GOOD, WARN};
use crate::workspace::Workspace;
use dialtone_kit::course::Chapter;
use std::fs;
use std::io::{BufRead, Write};

/// Where a chapter stands, from the learner's file and the cached verdicts
/// only: the board never compiles, so it shows at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Done,
    /// Started; the words say how it stands.
    InProgress(String),
    NotStarted,
    /// The chapter has no self-check yet.
    Coming,
}

pub fn status(ws: &Workspace, state: &State, ch: &Chapter) -> Status {
    if !ws.has_check(ch) {
        return Status::Coming;
    }
    let Some(text) = ws.read_learner(ch) else {
        return Status::InProgress(format!("{} is missing", ch.learner_path().display()));
    };
    let key = Key::of(ws, ch, &text);
    let lh = &key.learner_hash;
    if let Some(v) = state.cached(ch, &key) {
        let unfinished = v.outcome.failure().is_some_and(|f| f.id == "unfinished");
        return if v.outcome.passed() {
            Status::Done
        } else if unfinished && state.starter_hash(ch).as_ref() == Some(lh) {
            Status::NotStarted
        } else {
            Status::InProgress(format!("last check: {}", ui::summary(&v.outcome)))
        };
    }
    match state.starter_hash(ch) {
        Some(h) if h == *lh => return Status::NotStarted,
        None if looks_untouched(ch, &text) => return Status::NotStarted,
        _ => {}
    }
    if state.checked_before(ch) {
        Status::InProgress("edited since the last check".into())
    } else {
        Status::InProgress("edited, not checked yet".into())
    }
}

/// The first chapter not done: the one to work on.
pub fn current<'c>(ws: &'c Workspace, state: &State) -> Option<&'c Chapter> {
    ws.course
        .chapters
        .iter()
        .find(|ch| status(ws, state, ch) != Status::Done)
}

pub fn board(ws: &Workspace) -> i32 {
    let state = State::new(ws);
    state.capture_starters();
    let c = &ws.course;
    anstream::println!("{BOLD}{}{BOLD:#}: {}", c.title, c.subtitle);
    let statuses: Vec<Status> = c.chapters.iter().map(|ch| status(ws, &state, ch)).collect();
    let current = c
        .chapters
        .iter()
        .zip(&statuses)
        .find(|(_, s)| **s != Status::Done)
        .map(|(ch, _)| ch);
    let mut part = None;
    let mut shown = Vec::new();
    for (ch, st) in c.chapters.iter().zip(&statuses) {
        if part != Some(ch.part) {
            let first_time = !shown.contains(&ch.part);
            part = Some(ch.part);
            shown.push(ch.part);
            let p = c.part(ch.part);
            let heading = p.map_or_else(|| format!("Part {}", ch.part), |p| p.heading());
            anstream::println!("\n{BOLD}{heading}{BOLD:#}");
            // A part's opening page comes before its first chapter: a page
            // to read, with nothing to check.
            let opening = p.and_then(|p| Some((p.opening.as_ref()?, p.opening_page()?)));
            if let Some((o, page)) = opening.filter(|_| first_time) {
                let row = format!("{:8}{:<24} read {}", "", o.title, page.display());
                ui::say(&row, "", &" ".repeat(33));
            }
        }
        let here = current.is_some_and(|c| c.number == ch.number);
        let marker = if here { "▸" } else { " " };
        let (mark, words) = match st {
            Status::Done => (format!("{GOOD}✓{GOOD:#}"), format!("{GOOD}done{GOOD:#}")),
            Status::InProgress(how) => (
                format!("{WARN}…{WARN:#}"),
                format!("{WARN}in progress{WARN:#} {DIM}({how}){DIM:#}"),
            ),
            Status::NotStarted => (" ".to_string(), "not started".to_string()),
            Status::Coming => (
                format!("{DIM}·{DIM:#}"),
                format!("{DIM}being written (no self-check yet){DIM:#}"),
            ),
        };
        // Continuation lines under the status column.
        let row = format!("{marker} {mark} {:>2}. {:<24} {words}", ch.number, ch.title);
        ui::say(&row, "", &" ".repeat(33));
    }
    let done = statuses.iter().filter(|s| **s == Status::Done).count();
    anstream::println!("\n{done} of {} chapters done.", c.chapters.len());
    match current {
        Some(ch) if statuses[(ch.number - 1) as usize] == Status::Coming || !ws.has_check(ch) => {
            anstream::println!(
                "Chapter {} ({}) is still being written; there's nothing to check yet.",
                ch.number,
                ch.title
            );
        }
        Some(ch) => print_next(ch),
        None => {
            anstream::println!("\n{GOOD}Every chapter passes its self-check. Well done!{GOOD:#}")
        }
    }
    0
}

/// The board's closing lines: the chapter to work on and how.
fn print_next(ch: &Chapter) {
    anstream::println!();
    ui::say(
        &format!(
            "{BOLD}Next: chapter {}, {}{BOLD:#} ({}: {})",
            ch.number,
            ch.title,
            ch.analogy,
            ch.syscalls.join(", ")
        ),
        "",
        "  ",
    );
    anstream::println!("  read  {}", ch.book_page().display());
    anstream::println!("  edit  {}", ch.learner_path().display());
    anstream::println!(
        "  then  {CMD}{}{CMD:#}",
        cmd(&format!("check {}", ch.number))
    );
    ui::say(
        &format!(
            "{DIM}or `{}` to check every time you save; `{}` when stuck{DIM:#}",
            cmd("watch"),
            cmd(&format!("hint {}", ch.number))
        ),
        "  ",
        "  ",
    );
}

/// `check [N]`: 0 when it passes, 1 when it doesn't.
pub fn check(ws: &Workspace, checker: &Checker, ch: &Chapter, fresh: bool, verbose: bool) -> i32 {
    State::new(ws).capture_starters();
    let start = std::time::Instant::now();
    match checker.check(ch, fresh) {
        Ok(checked) => {
            ui::print_verdict(ch, &checked.record, checked.route == Route::Cached);
            ui::print_next_after(ws, ch, &checked.record);
            if verbose {
                eprintln!(
                    "[{:?} path, {} ms]",
                    checked.route,
                    start.elapsed().as_millis()
                );
            }
            if checked.record.outcome.passed() {
                0
            } else {
                1
            }
        }
        Err(e) => {
            anstream::eprintln!("{BAD}error:{BAD:#} {e}");
            1
        }
    }
}

/// `verify`: every chapter's self-check, in parallel, then a summary.
pub fn verify(ws: &Workspace, checker: &Checker, fresh: bool) -> i32 {
    let chapters = &ws.course.chapters;
    let results = check_all(chapters, checker, fresh);
    anstream::println!(
        "{BOLD}{}{BOLD:#}: every chapter's self-check\n",
        ws.course.title
    );
    let (mut passed, mut failed, mut coming) = (0, 0, 0);
    for (ch, r) in chapters.iter().zip(results) {
        let line = match r {
            Some(Ok(v)) if v.outcome.passed() => {
                passed += 1;
                format!("{GOOD}✓ passed{GOOD:#}")
            }
            Some(Ok(v)) if v.outcome == Outcome::NoCheck => {
                coming += 1;
                format!("{DIM}· no self-check yet{DIM:#}")
            }
            Some(Ok(v)) => {
                failed += 1;
                let id = v
                    .outcome
                    .failure()
                    .map(|f| format!(" {DIM}[{}]{DIM:#}", f.id));
                format!(
                    "{BAD}✗{BAD:#} {}{}",
                    ui::summary(&v.outcome),
                    id.unwrap_or_default()
                )
            }
            Some(Err(e)) => {
                failed += 1;
                format!("{BAD}✗{BAD:#} {e}")
            }
            None => {
                failed += 1;
                format!("{BAD}✗{BAD:#} not checked")
            }
        };
        let row = format!("  {:>2}. {:<24} {line}", ch.number, ch.title);
        ui::say(&row, "", &" ".repeat(31));
    }
    let with_check = passed + failed;
    anstream::println!("\n{passed} of {with_check} chapters with a self-check pass.");
    if coming > 0 {
        anstream::println!("{coming} chapters have no self-check yet.");
    }
    if failed > 0 {
        anstream::println!("`{}` shows a chapter's full verdict.", cmd("check N"));
        1
    } else {
        0
    }
}

/// Where a hint was asked for, so the way to the next one reads right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// `cargo run -- hint N`.
    Command,
    /// The `h` key in watch.
    Watch,
}

/// Every chapter's check, on as many threads as there are cores, in
/// chapter order.
fn check_all(
    chapters: &[Chapter],
    checker: &Checker,
    fresh: bool,
) -> Vec<Option<Result<Record, String>>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Record, String>>>> =
        chapters.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers.min(chapters.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(ch) = chapters.get(i) else { break };
                let r = checker.check(ch, fresh).map(|c| c.record);
                *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// `hint [N]`: the next hint each time.
pub fn hint(ws: &Workspace, ch: &Chapter, asked: Asked) -> i32 {
    let state = State::new(ws);
    let shown = state.hints_shown(ch);
    let total = ch.hints.len();
    if total == 0 {
        anstream::println!("Chapter {} has no hints.", ch.number);
        return 0;
    }
    let i = shown.min(total - 1);
    anstream::println!(
        "{BOLD}Hint {} of {total} for chapter {} ({}):{BOLD:#}",
        i + 1,
        ch.number,
        ch.title
    );
    ui::say(&ch.hints[i], "  ", "  ");
    anstream::println!();
    if i + 1 < total {
        let next = match asked {
            Asked::Command => format!(
                "`{}` again shows the next one.",
                cmd(&format!("hint {}", ch.number))
            ),
            Asked::Watch => "Press h again for the next one.".to_string(),
        };
        ui::say(&format!("{DIM}{next}{DIM:#}"), "", "");
    } else {
        let solution = cmd(&format!("solution {}", ch.number));
        ui::say(
            &format!("{DIM}That's the last hint. `{solution}` shows the reference answer.{DIM:#}"),
            "",
            "",
        );
    }
    if let Err(e) = state.set_hints_shown(ch, (i + 1).min(total)) {
        anstream::eprintln!("{WARN}note:{WARN:#} couldn't remember that you saw this hint ({e})");
    }
    0
}

/// `solution [N]`: the reference answer and a diff against the learner's file.
pub fn solution(ws: &Workspace, checker: &Checker, ch: &Chapter, peek: bool) -> i32 {
    let path = ws.root.join(ch.solution_path());
    let Ok(reference) = fs::read_to_string(&path).map(|t| without_book_markers(&t)) else {
        anstream::eprintln!(
            "{BAD}error:{BAD:#} chapter {} has no reference answer at {}",
            ch.number,
            ch.solution_path().display()
        );
        return 1;
    };
    let passed = checker.cached(ch).is_some_and(|v| v.outcome.passed());
    if !passed && !peek {
        if !ui::interactive() {
            anstream::eprintln!(
                "Chapter {} hasn't passed its self-check yet, so the answer stays folded.\nTo peek anyway: {}",
                ch.number,
                cmd(&format!("solution {} --peek", ch.number))
            );
            return 1;
        }
        anstream::print!(
            "Chapter {} hasn't passed yet. Peek at the reference answer anyway? [y/N] ",
            ch.number
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            anstream::println!(
                "Folded. `{}` when you're stuck.",
                cmd(&format!("hint {}", ch.number))
            );
            return 0;
        }
    }
    anstream::println!(
        "{BOLD}The reference answer for chapter {} ({}), {}:{BOLD:#}\n",
        ch.number,
        ch.title,
        ch.solution_path().display()
    );
    for line in reference.lines() {
        anstream::println!("  {line}");
    }
    let mine = ws
        .read_learner(ch)
        .map(|b| without_book_markers(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    let diff = similar::TextDiff::from_lines(&mine, &reference);
    if diff.ratio() == 1.0 {
        anstream::println!("\nYour file is the same as the reference answer.");
        return 0;
    }
    anstream::println!("\n{BOLD}From your file to the reference answer:{BOLD:#}\n");
    let learner_name = ch.learner_path().display().to_string();
    let solution_name = ch.solution_path().display().to_string();
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&learner_name, &solution_name)
        .to_string();
    for line in unified.lines() {
        if line.starts_with("+++") || line.starts_with("---") || line.starts_with("@@") {
            anstream::println!("{DIM}{line}{DIM:#}");
        } else if line.starts_with('+') {
            anstream::println!("{GOOD}{line}{GOOD:#}");
        } else if line.starts_with('-') {
            anstream::println!("{BAD}{line}{BAD:#}");
        } else {
            anstream::println!("{line}");
        }
    }
    0
}

/// The reference answer as a learner should read it: without the
/// `// ANCHOR:` lines that only tell the book which part to show.
fn without_book_markers(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("// ANCHOR:") || line.starts_with("// ANCHOR_END:"))
        })
        .flat_map(|line| [line, "\n"])
        .collect()
}

/// `reset [N]` and `reset --undo`.
pub fn reset(ws: &Workspace, ch: &Chapter, undo: bool) -> i32 {
    let state = State::new(ws);
    state.capture_starters();
    let file = ws.learner_file(ch);
    let backup = state.backup_path(ch);
    let name = ch.learner_path().display().to_string();
    if undo {
        let Ok(saved) = fs::read(&backup) else {
            anstream::eprintln!(
                "{BAD}error:{BAD:#} there's no reset of chapter {} to undo",
                ch.number
            );
            return 1;
        };
        if let Err(e) = write_durable(&file, &saved) {
            anstream::eprintln!("{BAD}error:{BAD:#} couldn't write {name}: {e}");
            return 1;
        }
        let _ = fs::remove_file(&backup);
        anstream::println!("Brought back your version of {name}.");
        return 0;
    }
    let Some(starter) = starter(ws, &state, ch) else {
        anstream::eprintln!(
            "{BAD}error:{BAD:#} the operator never saw chapter {}'s starter file; restore it with `git checkout -- {name}`",
            ch.number
        );
        return 1;
    };
    let current = fs::read(&file).ok();
    if current.as_deref() == Some(&starter[..]) {
        anstream::println!("{name} is already the starter; nothing to reset.");
        return 0;
    }
    if let Some(mine) = &current {
        if let Err(e) = write_durable(&backup, mine) {
            anstream::eprintln!(
                "{BAD}error:{BAD:#} couldn't keep a backup of {name} ({e}); nothing was changed"
            );
            return 1;
        }
    }
    if let Err(e) = write_durable(&file, &starter) {
        anstream::eprintln!("{BAD}error:{BAD:#} couldn't write {name}: {e}");
        return 1;
    }
    let _ = state.set_hints_shown(ch, 0);
    let _ = state.set_last_reset(ch);
    anstream::println!("{name} is the starter again.");
    if current.is_some() {
        anstream::println!(
            "Your version is kept: `{CMD}{}{CMD:#}` brings it back.",
            cmd(&format!("reset {} --undo", ch.number))
        );
    }
    0
}

/// The starter: the copy the operator kept, else git's committed version if
/// it is still a starter.
fn starter(ws: &Workspace, state: &State, ch: &Chapter) -> Option<Vec<u8>> {
    if let Some(s) = state.starter(ch) {
        return Some(s);
    }
    let out = std::process::Command::new("git")
        .current_dir(&ws.root)
        .arg("show")
        .arg(format!("HEAD:./{}", ch.learner_path().display()))
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    (out.status.success() && looks_untouched(ch, &out.stdout)).then_some(out.stdout)
}
