//! The course as `course.toml` describes it: the one source of truth.
//!
//! The file is compiled in (so a chapter binary finds it wherever it runs) and
//! parsed once. Paths derived from a chapter's number and slug are computed
//! here and nowhere else, so the companion, the book check and the tests can't
//! disagree about where a chapter lives.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The text of `course.toml`, as compiled into this build.
pub const COURSE_TOML: &str = include_str!("../../course.toml");

/// The metadata format this code understands; bump it when a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    pub format_version: u32,
    pub title: String,
    pub subtitle: String,
    #[serde(rename = "part")]
    pub parts: Vec<Part>,
    #[serde(rename = "chapter")]
    pub chapters: Vec<Chapter>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub number: u32,
    pub title: String,
    /// The page that opens the part, before its first chapter: the ideas
    /// every chapter of the part shares (Part III's "The family of
    /// addresses"). A part without one starts with its first chapter.
    #[serde(default)]
    pub opening: Option<Opening>,
}

/// A part's opening page: a page of the book, not a chapter (no crate, no
/// exercise, no self-check), but timed like one and listed wherever the
/// course lists its pages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    pub slug: String,
    pub title: String,
    /// One sentence: what a reader should leave the page with.
    pub lesson: String,
    /// A class's time for the page.
    pub minutes: u32,
}

impl Part {
    /// "Part II", as the book's sidebar and the operator's board both say it.
    pub fn label(&self) -> String {
        let numeral = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
            .get((self.number as usize).wrapping_sub(1))
            .map_or_else(|| self.number.to_string(), |r| r.to_string());
        format!("Part {numeral}")
    }

    /// `Part III: Other kinds of phone`: the part's heading in the book's
    /// sidebar, the operator's board and the README's table.
    pub fn heading(&self) -> String {
        format!("{}: {}", self.label(), self.title)
    }

    /// `part-3-family-of-addresses`: the opening page's name in the book.
    pub fn opening_id(&self) -> Option<String> {
        let o = self.opening.as_ref()?;
        Some(format!("part-{}-{}", self.number, o.slug))
    }

    /// The opening page, relative to the workspace root.
    pub fn opening_page(&self) -> Option<PathBuf> {
        Some(Path::new("book/src").join(format!("{}.md", self.opening_id()?)))
    }
}

/// One page of the course's reading order: a part's opening or a chapter.
#[derive(Debug, Clone, Copy)]
pub enum Page<'c> {
    Opening(&'c Part, &'c Opening),
    Chapter(&'c Chapter),
}

impl Page<'_> {
    /// The page's file name in the book without `.md`: `05-pick-up`,
    /// `part-3-family-of-addresses`.
    pub fn id(&self) -> String {
        match self {
            Page::Opening(part, _) => part.opening_id().unwrap_or_default(),
            Page::Chapter(ch) => ch.id(),
        }
    }
    pub fn title(&self) -> &str {
        match self {
            Page::Opening(_, o) => &o.title,
            Page::Chapter(ch) => &ch.title,
        }
    }
    pub fn minutes(&self) -> u32 {
        match self {
            Page::Opening(_, o) => o.minutes,
            Page::Chapter(ch) => ch.minutes,
        }
    }
    /// The part the page belongs to.
    pub fn part(&self) -> u32 {
        match self {
            Page::Opening(part, _) => part.number,
            Page::Chapter(ch) => ch.part,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub number: u32,
    pub part: u32,
    pub slug: String,
    pub title: String,
    pub analogy: String,
    pub syscalls: Vec<String>,
    pub lesson: String,
    pub minutes: u32,
    pub timeout_secs: u64,
    pub learner_file: String,
    pub hints: Vec<String>,
    #[serde(rename = "task")]
    pub tasks: Vec<Task>,
    /// What the chapter's page claims about the learner's code and its effect
    /// on the kernel, each with the verdict ids that catch an answer breaking
    /// it. The self-check, the integrity suite and the teachers' page all read
    /// this one list.
    #[serde(rename = "claim", default)]
    pub claims: Vec<Claim>,
}

/// One lesson of a chapter, stated as something the self-check verifies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The claim in the page's words, e.g. "a second call installs a second
    /// phone: a new kernel object, not a copy of the first descriptor".
    pub says: String,
    /// The `Failure` ids an answer that breaks the claim gets.
    pub caught_by: Vec<String>,
}

/// One function the learner fills in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub function: String,
    pub does: String,
    pub hint: String,
}

impl Chapter {
    /// `01-install-phone`: the folder name under `chapters/` and `solutions/`.
    pub fn id(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }
    /// The cargo package name, e.g. `ch01-install-phone`.
    pub fn crate_name(&self) -> String {
        format!("ch{:02}-{}", self.number, self.slug)
    }
    /// The chapter crate's folder, relative to the workspace root.
    pub fn dir(&self) -> PathBuf {
        Path::new("chapters").join(self.id())
    }
    /// The file the learner edits, relative to the workspace root.
    pub fn learner_path(&self) -> PathBuf {
        self.dir().join(&self.learner_file)
    }
    /// The reference answer, relative to the workspace root.
    pub fn solution_path(&self) -> PathBuf {
        Path::new("solutions").join(self.id()).join("answer.rs")
    }
    /// The chapter's page in the book, relative to the workspace root.
    pub fn book_page(&self) -> PathBuf {
        Path::new("book/src").join(format!("{}.md", self.id()))
    }
    /// How long one learner call may take before a check calls it hung.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
    /// The task for `function`, if the chapter has one by that name.
    pub fn task(&self, function: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.function == function)
    }
}

impl Course {
    /// Parses course metadata; the error names the field that is wrong.
    pub fn parse(text: &str) -> Result<Course, String> {
        let course: Course = toml::from_str(text).map_err(|e| format!("course.toml: {e}"))?;
        if course.format_version != FORMAT_VERSION {
            return Err(format!(
                "course.toml has format_version {}, this build understands {FORMAT_VERSION}",
                course.format_version
            ));
        }
        Ok(course)
    }

    pub fn chapter(&self, number: u32) -> Option<&Chapter> {
        self.chapters.iter().find(|c| c.number == number)
    }

    pub fn chapter_by_crate(&self, crate_name: &str) -> Option<&Chapter> {
        self.chapters.iter().find(|c| c.crate_name() == crate_name)
    }

    pub fn part(&self, number: u32) -> Option<&Part> {
        self.parts.iter().find(|p| p.number == number)
    }

    /// Every page in the order a reader meets it: the chapters in course
    /// order, each part's opening page just before the part's first
    /// chapter. The book's sidebar, its "next" arrows, the teachers' page
    /// and the browser test all follow this one order.
    pub fn reading_order(&self) -> Vec<Page<'_>> {
        let mut pages = Vec::new();
        let mut opened = Vec::new();
        for ch in &self.chapters {
            if !opened.contains(&ch.part) {
                opened.push(ch.part);
                if let Some(part) = self.part(ch.part) {
                    if let Some(o) = &part.opening {
                        pages.push(Page::Opening(part, o));
                    }
                }
            }
            pages.push(Page::Chapter(ch));
        }
        pages
    }
}

/// The compiled-in course. The integrity suite parses the same text, so a
/// malformed `course.toml` fails `cargo test` long before a learner sees it.
pub fn course() -> &'static Course {
    static COURSE: OnceLock<Course> = OnceLock::new();
    COURSE.get_or_init(|| {
        Course::parse(COURSE_TOML).unwrap_or_else(|e| {
            // Only a broken checkout gets here; the integrity suite parses this
            // text on every run, so a course that ships cannot.
            eprintln!("Dial Tone's course metadata is broken: {e}");
            std::process::exit(70)
        })
    })
}

/// The chapter whose crate is `crate_name` (chapters pass `env!("CARGO_PKG_NAME")`).
pub fn chapter_for(crate_name: &str) -> &'static Chapter {
    course().chapter_by_crate(crate_name).unwrap_or_else(|| {
        eprintln!("{crate_name} is not listed in course.toml; add a [[chapter]] entry for it");
        std::process::exit(70)
    })
}

/// The workspace root, as seen from where this crate was compiled.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
