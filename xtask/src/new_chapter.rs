//! `cargo xtask new-chapter SLUG --title "..." --part N`: every file a
//! chapter needs and every entry the integrity suite requires, so the new
//! chapter passes `cargo test` at once (its starter failing with its hint,
//! its solution passing) before anyone has written a line of it.
//!
//! The files come from `xtask/templates/`, with `{{KEY}}` replaced by the
//! chapter's values: to change what every new chapter starts as, edit a
//! template. The chapter starts with one small, genuine exercise
//! (`get_a_phone()`: a new IPv4 stream socket, checked with SO_TYPE and the
//! family), so its self-check really fails on a wrong answer from the start.

use crate::chores::{self, read_course, relative};
use crate::edit::{self, Entry};
use crate::run::{cargo, status};
use clap::ValueEnum;
use dialtone_kit::course::Course;
use std::fs;
use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// Lowercase words joined by '-', e.g. postcards
    slug: String,
    /// The title the book and the operator show
    #[arg(long)]
    title: String,
    /// The part's number in course.toml
    #[arg(long)]
    part: u32,
    /// The part's title, to start a part course.toml doesn't have yet
    #[arg(long)]
    part_title: Option<String>,
    /// Which snapshots to record afterwards, by running their tests
    #[arg(long, value_enum, default_value_t = Snapshots::All)]
    snapshots: Snapshots,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Snapshots {
    /// Its own, and those listing all chapters (--help, board)
    All,
    /// Only the new chapter's transcript and starter paragraph
    Chapter,
    /// None: run `cargo xtask snapshots` yourself
    None,
}

/// The template files, compiled in, and where each one goes.
const FILES: &[(&str, &str)] = &[
    (
        "chapters/{{ID}}/Cargo.toml",
        include_str!("../templates/chapter-Cargo.toml"),
    ),
    (
        "chapters/{{ID}}/src/lib.rs",
        include_str!("../templates/lib.rs"),
    ),
    (
        "chapters/{{ID}}/src/main.rs",
        include_str!("../templates/main.rs"),
    ),
    (
        "chapters/{{ID}}/src/answer.rs",
        include_str!("../templates/answer.rs"),
    ),
    (
        "chapters/{{ID}}/src/check.rs",
        include_str!("../templates/check.rs"),
    ),
    (
        "chapters/{{ID}}/src/scene.rs",
        include_str!("../templates/scene.rs"),
    ),
    (
        "chapters/{{ID}}/tests/self_check.rs",
        include_str!("../templates/self_check.rs"),
    ),
    (
        "solutions/{{ID}}/answer.rs",
        include_str!("../templates/solution.rs"),
    ),
    (
        "tests/chapters/ch{{NN}}.rs",
        include_str!("../templates/integrity.rs"),
    ),
    ("book/src/{{ID}}.md", include_str!("../templates/page.md")),
];
const COURSE_ENTRY: &str = include_str!("../templates/course-entry.toml");
const PART_ENTRY: &str = include_str!("../templates/part-entry.toml");

/// `{{KEY}}` → value, in order.
type Vars = Vec<(&'static str, String)>;

fn fill(template: &str, vars: &Vars) -> String {
    vars.iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}"), value)
        })
}

/// A string for a `"..."` literal in Rust or a basic string in TOML (both
/// escape `\` and `"` the same way; a title has no other special character).
fn literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn run(root: &Path, args: &Args) -> Result<(), String> {
    check_words(args)?;
    let course = read_course(root)?;
    let number = course.chapters.len() as u32 + 1;
    if let Some(ch) = course.chapters.iter().find(|c| c.slug == args.slug) {
        return Err(format!(
            "chapter {} already has the slug {:?}; pick another",
            ch.number, args.slug
        ));
    }
    let new_part = part_is_new(&course, args)?;
    let vars = variables(number, args);
    let written = write_files(root, &vars)?;
    format_rust(root, &written);
    append(root, "course.toml", &course_entry(&vars, new_part))?;
    // Parse what was written: a chapter the course can't read stops here,
    // with the parser's own words, before anything else is edited.
    let course = read_course(root)?;
    let chapter = course
        .chapter(number)
        .ok_or("course.toml did not take the new chapter")?;
    let part = course.part(args.part).ok_or("course.toml lost the part")?;
    fill_page(root, chapter, &vars)?;
    let e = Entry {
        number,
        id: &chapter.id(),
        crate_name: &chapter.crate_name(),
        title: &chapter.title,
        analogy: &chapter.analogy,
        minutes: chapter.minutes,
        part_heading: part.heading(),
    };
    make_entries(root, &e)?;
    chores::figures(root)?;
    record_snapshots(root, number, args.snapshots)?;
    report(root, &e, &written);
    Ok(())
}

/// Whether `--part` starts a new part: only with `--part-title`, which an
/// existing part refuses.
fn part_is_new(course: &Course, args: &Args) -> Result<bool, String> {
    match (course.part(args.part), &args.part_title) {
        (Some(_), None) => Ok(false),
        (None, Some(_)) => Ok(true),
        (Some(p), Some(_)) => Err(format!(
            "part {} already exists ({:?}); drop --part-title",
            args.part, p.title
        )),
        (None, None) => Err(format!(
            "course.toml has no part {}; add --part-title \"...\" to start it",
            args.part
        )),
    }
}

/// The text appended to course.toml: the chapter, after its part if new.
fn course_entry(vars: &Vars, new_part: bool) -> String {
    let chapter = fill(COURSE_ENTRY, vars);
    if new_part {
        fill(PART_ENTRY, vars) + &chapter
    } else {
        chapter
    }
}

/// The slug and titles become file names, crate names and TOML strings:
/// refuse what can't be one, in one line.
fn check_words(args: &Args) -> Result<(), String> {
    let slug_ok = !args.slug.is_empty()
        && args
            .slug
            .split('-')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()));
    if !slug_ok {
        return Err(format!(
            "{:?} is not a slug: use lowercase letters and '-' between words, e.g. postcards or unix-phone",
            args.slug
        ));
    }
    for (flag, text) in [
        ("--title", Some(&args.title)),
        ("--part-title", args.part_title.as_ref()),
    ] {
        if let Some(text) = text {
            if text.trim().is_empty() || text.chars().any(char::is_control) {
                return Err(format!("{flag} must be one line of words, not {text:?}"));
            }
        }
    }
    if args.part == 0 {
        return Err("parts are numbered from 1".into());
    }
    Ok(())
}

fn variables(number: u32, args: &Args) -> Vars {
    let nn = format!("{number:02}");
    vec![
        ("ID", format!("{nn}-{}", args.slug)),
        (
            "CRATE_IDENT",
            format!("ch{nn}_{}", args.slug.replace('-', "_")),
        ),
        ("CRATE", format!("ch{nn}-{}", args.slug)),
        ("NN", nn),
        ("N", number.to_string()),
        ("SLUG", args.slug.clone()),
        ("TITLE_LIT", literal(&args.title)),
        ("TITLE", args.title.clone()),
        (
            "PART_TITLE_LIT",
            literal(args.part_title.as_deref().unwrap_or_default()),
        ),
        ("PART", args.part.to_string()),
    ]
}

/// Writes every template file, refusing to overwrite anything.
fn write_files(root: &Path, vars: &Vars) -> Result<Vec<String>, String> {
    let targets: Vec<String> = FILES.iter().map(|(path, _)| fill(path, vars)).collect();
    if let Some(taken) = targets.iter().find(|t| root.join(t).exists()) {
        return Err(format!("{taken} already exists; nothing was written"));
    }
    for ((_, template), target) in FILES.iter().zip(&targets) {
        let path = root.join(target);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::write(&path, fill(template, vars)).map_err(|e| format!("{target}: {e}"))?;
    }
    Ok(targets)
}

/// Formats the Rust files written, so `cargo fmt --check` holds for any
/// slug and title (how rustfmt breaks a line depends on their lengths).
/// Without rustfmt the files still build; say so and go on.
fn format_rust(root: &Path, written: &[String]) {
    let files: Vec<&String> = written.iter().filter(|f| f.ends_with(".rs")).collect();
    let mut rustfmt = std::process::Command::new("rustfmt");
    rustfmt
        .current_dir(root)
        .args(["--edition", "2021"])
        .args(&files);
    match rustfmt.status() {
        Ok(s) if s.success() => {}
        Ok(s) => println!("note: rustfmt ended with {s}; run `cargo fmt --all`"),
        Err(e) => println!("note: rustfmt didn't start ({e}); run `cargo fmt --all`"),
    }
}

/// The page's course-dependent parts: the minutes, the calls, the figure's
/// alt text and each hint verbatim in its own fold, read back from
/// course.toml so the page says exactly what the course says.
fn fill_page(root: &Path, ch: &dialtone_kit::course::Chapter, vars: &Vars) -> Result<(), String> {
    let page = root.join(ch.book_page());
    let text = fs::read_to_string(&page).map_err(|e| format!("{}: {e}", page.display()))?;
    let hints: String = ch
        .hints
        .iter()
        .enumerate()
        .map(|(i, h)| {
            format!(
                "<details>\n<summary>Hint {}</summary>\n\n{h}\n\n</details>\n",
                i + 1
            )
        })
        .collect();
    let calls: Vec<String> = ch.syscalls.iter().map(|c| format!("`{c}`")).collect();
    let mut page_vars = vars.clone();
    page_vars.extend([
        ("MINUTES", ch.minutes.to_string()),
        ("SYSCALLS", calls.join(", ")),
        ("HINTS", hints),
        ("FIGURE_ALT", "The call sequence: the server installs a phone with socket, gets a number with bind, switches it on with listen and picks up with accept; the client installs a phone with socket and dials with connect; then both talk with read and write and hang up with close. This chapter's step, socket, is highlighted on both sides.".to_string()),
    ]);
    fs::write(&page, fill(&text, &page_vars)).map_err(|e| format!("{}: {e}", page.display()))
}

fn append(root: &Path, file: &str, text: &str) -> Result<(), String> {
    let path = root.join(file);
    let mut old = fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
    if !old.ends_with('\n') {
        old.push('\n');
    }
    fs::write(&path, old + text).map_err(|e| format!("{file}: {e}"))
}

/// One list's edit: the file's text in, the text with the entry out.
type EditFn = fn(&str, &Entry) -> Result<String, String>;

/// The lists that name every chapter: each gets the new chapter's line.
fn make_entries(root: &Path, e: &Entry) -> Result<(), String> {
    let edits: [(&str, EditFn); 6] = [
        ("Cargo.toml", edit::cargo_toml),
        ("README.md", edit::readme),
        ("tests/chapters.rs", edit::chapters_rs),
        ("book/src/SUMMARY.md", edit::summary),
        ("book/src/README.md", edit::introduction),
        ("book/src/teachers.md", edit::teachers),
    ];
    // Every edit is worked out before any file is written, so a file that
    // doesn't look as expected leaves the others untouched.
    let mut out = Vec::new();
    for (file, edit) in edits {
        let text = fs::read_to_string(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
        out.push((file, edit(&text, e)?));
    }
    for (file, text) in out {
        fs::write(root.join(file), text).map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(())
}

/// Records the snapshots the new chapter needs by running the tests that
/// take them, with insta writing them in place; then lists what changed.
fn record_snapshots(root: &Path, number: u32, which: Snapshots) -> Result<(), String> {
    if which == Snapshots::None {
        return Ok(());
    }
    let before = chores::snapshot_files(root);
    let module = format!("ch{number:02}::");
    let mut runs = vec![vec!["test", "--test", "chapters", "--", module.as_str()]];
    if which == Snapshots::All {
        runs[0].push("cli::help_on_every_binary");
        runs.push(vec!["test", "--test", "operator"]);
    }
    for run in runs {
        status(cargo(root).args(run).env("INSTA_UPDATE", "always"))?;
    }
    let after = chores::snapshot_files(root);
    for (path, text) in &after {
        if before.get(path) != Some(text) {
            println!("  snapshot written: {}", relative(root, path));
        }
    }
    Ok(())
}

fn report(root: &Path, e: &Entry, written: &[String]) {
    println!(
        "\nChapter {}, {:?}, is in the course. New files:",
        e.number, e.title
    );
    for path in written {
        println!("  {path}");
    }
    println!("Entries made: course.toml, Cargo.toml (dev-dependency), tests/chapters.rs (mod),");
    println!("  README.md, book/src/SUMMARY.md, book/src/README.md, book/src/teachers.md,");
    println!("  book/src/images/sequence-{:02}.svg", e.number);
    println!(
        "\nNext: `cargo test -p {}` (the starter fails with its hint), then",
        e.crate_name
    );
    println!("replace the starting exercise with your chapter's: see CONTRIBUTING.md.");
    let _ = root;
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_kit::course::{Course, COURSE_TOML};

    fn args(slug: &str, title: &str, part: u32, part_title: Option<&str>) -> Args {
        Args {
            slug: slug.into(),
            title: title.into(),
            part,
            part_title: part_title.map(str::to_string),
            snapshots: Snapshots::None,
        }
    }

    /// The entry appended to the real course.toml parses, with a new part
    /// before the chapter, and a title with quotes survives as written.
    #[test]
    fn a_chapter_in_a_new_part_parses() {
        let number = Course::parse(COURSE_TOML).unwrap().chapters.len() as u32 + 1;
        let a = args(
            "unix-phone",
            r#"The "intercom""#,
            3,
            Some("Other kinds of phone"),
        );
        let vars = variables(number, &a);
        let text = format!("{COURSE_TOML}{}", course_entry(&vars, true));
        let course = Course::parse(&text).unwrap();
        let ch = course.chapter(number).expect("the new chapter is last");
        assert_eq!(ch.title, r#"The "intercom""#);
        assert_eq!(ch.crate_name(), format!("ch{number:02}-unix-phone"));
        assert_eq!(
            course.part(3).map(|p| p.title.as_str()),
            Some("Other kinds of phone")
        );
        assert!(ch.hints.len() >= 3 && ch.tasks.len() == 1);
        assert!(
            ch.hints[2].contains(r#"The "intercom""#),
            "{:?}",
            ch.hints[2]
        );
        assert_eq!(
            vars[1],
            ("CRATE_IDENT", format!("ch{number:02}_unix_phone"))
        );
    }

    #[test]
    fn slugs_and_titles_are_refused_in_one_line() {
        for (a, says) in [
            (args("Demo", "Demo", 1, None), "not a slug"),
            (args("two--dashes", "Demo", 1, None), "not a slug"),
            (args("demo", "two\nlines", 1, None), "one line"),
            (args("demo", "Demo", 0, None), "from 1"),
        ] {
            let e = check_words(&a).unwrap_err();
            assert!(e.contains(says) && !e.contains('\n'), "{e}");
        }
        assert!(check_words(&args("unix-phone", "Unix", 3, Some("Other"))).is_ok());
    }
}
