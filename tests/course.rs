//! The course's metadata agrees with the files on disk (`course.toml` is the
//! one source of truth; everything else must match it).
#![forbid(unsafe_code)]

use dialtone_kit::course::{course, workspace_root, Course, Page, COURSE_TOML};
use std::fs;

fn read(rel: impl AsRef<std::path::Path>) -> String {
    let path = workspace_root().join(rel.as_ref());
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// course.toml parses, numbers chapters 1..=N in order, and every part exists.
#[test]
fn metadata_is_well_formed() {
    let c = Course::parse(COURSE_TOML).expect("course.toml parses");
    assert!(!c.chapters.is_empty());
    for (i, ch) in c.chapters.iter().enumerate() {
        assert_eq!(
            ch.number as usize,
            i + 1,
            "chapters must be numbered 1, 2, 3... in file order"
        );
        assert!(
            c.part(ch.part).is_some(),
            "chapter {} names part {} which isn't listed",
            ch.number,
            ch.part
        );
        assert!(
            ch.slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "slug {:?}",
            ch.slug
        );
        assert!(
            ch.hints.len() >= 3,
            "chapter {} needs at least three progressive hints",
            ch.number
        );
        assert!(
            ch.hints.iter().all(|h| !h.trim().is_empty()),
            "chapter {} has an empty hint",
            ch.number
        );
        assert!(!ch.tasks.is_empty(), "chapter {} has no task", ch.number);
        for t in &ch.tasks {
            assert!(
                !t.hint.trim().is_empty() && !t.does.trim().is_empty(),
                "task {} is missing words",
                t.function
            );
        }
        assert!(
            (1..=10).contains(&ch.timeout_secs),
            "chapter {}: timeouts must be 1..=10 s",
            ch.number
        );
    }
}

/// Each chapter has its crate (named as course.toml derives), a learner file
/// with a todo!() per task, and a solution with every task and no todo!().
#[test]
fn every_chapter_has_its_files() {
    let workspace = read("Cargo.toml");
    for ch in &course().chapters {
        let manifest = read(ch.dir().join("Cargo.toml"));
        assert!(
            manifest.contains(&format!("name = \"{}\"", ch.crate_name())),
            "{} should be named {}",
            ch.dir().display(),
            ch.crate_name()
        );
        assert!(
            manifest.contains("solution = []"),
            "{} needs a `solution` feature",
            ch.crate_name()
        );
        // The workspace's members glob ("chapters/*") takes in every chapter.
        assert!(
            workspace.contains("\"chapters/*\""),
            "the workspace's members should include \"chapters/*\""
        );
        let member = format!("\"{}\"", ch.dir().display());
        assert!(
            workspace.contains(&format!("{} = {{ path = {member} }}", ch.crate_name())),
            "the root package should dev-depend on {}",
            ch.crate_name()
        );
        let module = format!(
            "#[path = \"chapters/ch{:02}.rs\"]\nmod ch{:02};",
            ch.number, ch.number
        );
        assert!(
            read("tests/chapters.rs").contains(&module),
            "tests/chapters.rs should run chapter {}'s integrity tests ({module})",
            ch.number
        );
        let starter = read(ch.learner_path());
        let solution = read(ch.solution_path());
        let lib = read(ch.dir().join("src/lib.rs"));
        assert!(
            lib.contains(&ch.solution_path().display().to_string()),
            "{}'s lib.rs should swap in {} under the solution feature",
            ch.crate_name(),
            ch.solution_path().display()
        );
        for t in &ch.tasks {
            let sig = format!("pub fn {}(", t.function);
            assert!(
                starter.contains(&sig),
                "{} lacks {sig}",
                ch.learner_path().display()
            );
            assert!(
                solution.contains(&sig),
                "{} lacks {sig}",
                ch.solution_path().display()
            );
        }
        assert_eq!(
            starter.matches("todo!(").count(),
            ch.tasks.len(),
            "{}: one todo!() per task",
            ch.learner_path().display()
        );
        assert!(
            starter.contains("// TODO"),
            "{}: mark the work with // TODO",
            ch.learner_path().display()
        );
        assert!(
            !solution.contains("todo!("),
            "{} still has a todo!()",
            ch.solution_path().display()
        );
        for (name, text) in [("starter", &starter), ("solution", &solution)] {
            assert!(!text.contains("crate::"), "{name} {} must stand alone (std and nix only): the integrity suite compiles it in by path", ch.crate_name());
        }
    }
}

/// Every crate in the workspace forbids unsafe code.
#[test]
fn every_crate_forbids_unsafe() {
    let mut roots = vec!["src/main.rs".into(), "kit/src/lib.rs".into()];
    for ch in &course().chapters {
        roots.push(ch.dir().join("src/lib.rs"));
        roots.push(ch.dir().join("src/main.rs"));
    }
    for root in roots {
        assert!(
            read(&root).contains("#![forbid(unsafe_code)]"),
            "{} must say #![forbid(unsafe_code)]",
            root.display()
        );
    }
}

/// No stray chapter or solution folders that course.toml doesn't know about.
#[test]
fn no_stray_chapter_folders() {
    let known: Vec<String> = course().chapters.iter().map(|c| c.id()).collect();
    for dir in ["chapters", "solutions"] {
        for entry in fs::read_dir(workspace_root().join(dir)).expect("folder exists") {
            let name = entry
                .expect("readable")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                known.contains(&name),
                "{dir}/{name} isn't a chapter in course.toml"
            );
        }
    }
}

/// Every claim a chapter's page makes (`[[chapter.claim]]` in course.toml) is
/// backed twice: the chapter's self-check can give each verdict id that the
/// claim names, and the integrity suite proves it with a wrong answer that
/// gets that id (`expect_mistake(..., "id")`).
#[test]
fn every_claim_is_checked_and_proven() {
    for ch in &course().chapters {
        let check = read(ch.dir().join("src/check.rs"));
        let suite = read(format!("tests/chapters/ch{:02}.rs", ch.number));
        for claim in &ch.claims {
            assert!(
                !claim.caught_by.is_empty(),
                "chapter {}: the claim {:?} names no verdict that catches it",
                ch.number,
                claim.says
            );
            for id in &claim.caught_by {
                let literal = format!("\"{id}\"");
                assert!(
                    check.contains(&literal),
                    "chapter {}: claim {:?} says {id} catches it, but {}/src/check.rs never gives {id}",
                    ch.number,
                    claim.says,
                    ch.dir().display()
                );
                assert!(
                    suite.contains(&literal),
                    "chapter {}: no wrong answer in tests/chapters/ch{:02}.rs is shown to get {id}",
                    ch.number,
                    ch.number
                );
            }
        }
    }
}

/// Each part's opening page (`[part.opening]` in course.toml) has a slug,
/// a page in the book, words and a time, and a name no chapter has.
#[test]
fn every_opening_page_exists() {
    let chapters: Vec<String> = course().chapters.iter().map(|c| c.id()).collect();
    for part in &course().parts {
        let (Some(o), Some(id), Some(page)) =
            (&part.opening, part.opening_id(), part.opening_page())
        else {
            continue;
        };
        assert!(
            !o.slug.is_empty() && o.slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "part {}: opening slug {:?}",
            part.number,
            o.slug
        );
        assert!(
            !o.title.trim().is_empty() && !o.lesson.trim().is_empty() && o.minutes > 0,
            "part {}: the opening page needs a title, a lesson and minutes",
            part.number
        );
        assert!(!chapters.contains(&id), "{id} is a chapter's name too");
        assert!(
            workspace_root().join(&page).exists(),
            "part {}'s opening page {} is missing",
            part.number,
            page.display()
        );
    }
}

/// The README's chapter table lists every part and page in the course's
/// reading order: a `| **Part N: Title** |` row where each part starts, a
/// `| *Title* |` row for its opening page, and `| N. Title |` per chapter.
#[test]
fn readme_table_follows_the_course() {
    let readme = read("README.md");
    let problems = readme_problems(&readme);
    assert!(problems.is_empty(), "README.md:\n{}", problems.join("\n"));
}

fn readme_problems(readme: &str) -> Vec<String> {
    let mut wanted = Vec::new();
    let mut part = None;
    for page in course().reading_order() {
        if part != Some(page.part()) {
            part = Some(page.part());
            let heading = course().part(page.part()).map(|p| p.heading());
            wanted.push(format!("| **{}** |", heading.unwrap_or_default()));
        }
        wanted.push(match page {
            Page::Chapter(ch) => format!("| {}. {} |", ch.number, ch.title),
            Page::Opening(..) => format!("| *{}* |", page.title()),
        });
    }
    let mut problems = Vec::new();
    let mut at = 0;
    for row in wanted {
        match readme[at..].find(&format!("\n{row}")) {
            Some(i) => at += i + 1,
            None => problems.push(format!("no row starting {row:?} after the one before it")),
        }
    }
    problems
}

/// The README check catches a part's row left out and a chapter out of order.
#[test]
fn readme_check_catches_a_stale_table() {
    let readme = read("README.md");
    let last = course().parts.last().expect("a part");
    let dropped = readme.replace(&format!("| **{}** |", last.heading()), "| gone |");
    assert!(!readme_problems(&dropped).is_empty());
    let first = &course().chapters[0];
    let row = format!("\n| {}. {} |", first.number, first.title);
    let moved = readme.replacen(&row, "\n| moved |", 1) + &row;
    assert!(
        readme_problems(&moved).iter().any(|p| p.contains("| 2. ")),
        "{:?}",
        readme_problems(&moved)
    );
}
