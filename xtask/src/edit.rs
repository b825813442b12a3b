//! The entries a new chapter needs in files that list every chapter. Each
//! edit works on the text, inserting lines next to the last chapter's, so
//! comments and layout survive; each fails with one line when the file no
//! longer looks the way it expects, rather than guessing.

/// What the edits need to know about the new chapter.
pub struct Entry<'a> {
    pub number: u32,
    /// `09-demo`: the folder under `chapters/`, `solutions/`, the page name.
    pub id: &'a str,
    /// `ch09-demo`.
    pub crate_name: &'a str,
    pub title: &'a str,
    pub analogy: &'a str,
    pub minutes: u32,
    /// The part's heading in the book's sidebar, `Part I: Making a call`.
    pub part_heading: String,
}

/// The byte offset just past the line that holds `at`.
fn end_of_line(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// Inserts `lines` after the last line for which `is_entry` is true.
fn after_last_line(
    text: &str,
    is_entry: impl Fn(&str) -> bool,
    lines: &str,
    file: &str,
    what: &str,
) -> Result<String, String> {
    let mut offset = 0;
    let mut last = None;
    for line in text.split_inclusive('\n') {
        if is_entry(line.trim_end()) {
            last = Some(offset);
        }
        offset += line.len();
    }
    let at = last.ok_or_else(|| format!("{file} has no {what} to add the new one after"))?;
    let end = end_of_line(text, at);
    let mut out = text[..end].to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(lines);
    out.push_str(&text[end..]);
    Ok(out)
}

/// Is `line` a chapter's dev-dependency, `chNN-slug = { path = "chapters/..." }`?
fn is_chapter_dependency(line: &str) -> bool {
    line.starts_with("ch") && line.contains("= { path = \"chapters/")
}

/// The root package's dev-dependency on the chapter's crate (the integrity
/// suite uses its check and scene).
pub fn cargo_toml(text: &str, e: &Entry) -> Result<String, String> {
    let line = format!("{} = {{ path = \"chapters/{}\" }}\n", e.crate_name, e.id);
    after_last_line(
        text,
        is_chapter_dependency,
        &line,
        "Cargo.toml",
        "chapter dev-dependency",
    )
}

/// The integrity suite's module for the chapter.
pub fn chapters_rs(text: &str, e: &Entry) -> Result<String, String> {
    let is_mod = |l: &str| {
        l.strip_prefix("mod ch")
            .and_then(|r| r.strip_suffix(';'))
            .is_some_and(|n| n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()))
    };
    let lines = format!(
        "\n#[path = \"chapters/ch{:02}.rs\"]\nmod ch{:02};\n",
        e.number, e.number
    );
    after_last_line(
        text,
        is_mod,
        &lines,
        "tests/chapters.rs",
        "`mod chNN;` line",
    )
}

/// Is `line` a sidebar entry for a page (`- [Title](NN-slug.md)`, or a
/// part's opening page `- [Title](part-3-slug.md)`)?
fn is_page_link(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("- [") else {
        return false;
    };
    rest.split_once("](")
        .is_some_and(|(_, target)| target.len() > 4 && target.ends_with(".md)"))
}

/// The sidebar line, after the last page's (a chapter's, or the opening
/// page of a part that has no chapter yet). Chapters are numbered in
/// course order, so a chapter of an earlier part still comes last: it gets
/// its part's heading again (mdBook allows a part title more than once).
pub fn summary(text: &str, e: &Entry) -> Result<String, String> {
    // The number is written in (book.toml turns mdBook's own off, which
    // would count an opening page as a chapter).
    let link = format!("- [{}. {}]({}.md)\n", e.number, e.title, e.id);
    let lines: Vec<&str> = text.lines().collect();
    let last_link = lines
        .iter()
        .rposition(|l| is_page_link(l))
        .ok_or("book/src/SUMMARY.md lists no chapter to add the new one after")?;
    let heading = lines[..last_link]
        .iter()
        .rfind(|l| l.starts_with("# "))
        .copied()
        .unwrap_or_default();
    let lines = if heading == format!("# {}", e.part_heading) {
        link
    } else {
        format!("\n# {}\n\n{link}", e.part_heading)
    };
    after_last_line(
        text,
        is_page_link,
        &lines,
        "book/src/SUMMARY.md",
        "chapter link",
    )
}

/// Is `line` a row of the README's table for a chapter (`| 9. Title |`),
/// a part (`| **Part III: ...** |`) or a part's opening page (`| *Title* |`)?
fn is_readme_row(line: &str) -> bool {
    let Some(cell) = line.strip_prefix("| ") else {
        return false;
    };
    let numbered = cell
        .split_once(". ")
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    numbered || cell.starts_with('*')
}

/// The README's chapter table: the chapter's row after the last row, under
/// a new `| **Part N: Title** | | |` row when the part isn't the last one's.
pub fn readme(text: &str, e: &Entry) -> Result<String, String> {
    let row = format!(
        "| {}. {} | {} | `socket()` |\n",
        e.number, e.title, e.analogy
    );
    let part_row = format!("| **{}** |", e.part_heading);
    let lines: Vec<&str> = text.lines().collect();
    let last = lines
        .iter()
        .rposition(|l| is_readme_row(l))
        .ok_or("README.md has no chapter row to add the new one after")?;
    let part = lines[..=last]
        .iter()
        .rfind(|l| l.starts_with("| **"))
        .copied()
        .unwrap_or_default();
    let rows = if part.starts_with(&part_row) {
        row
    } else {
        format!("{part_row} | |\n{row}")
    };
    after_last_line(text, is_readme_row, &rows, "README.md", "chapter row")
}

/// Is `line` a table row whose last cell links a chapter page?
fn links_a_chapter_in_its_last_cell(line: &str) -> bool {
    line.starts_with('|')
        && line
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .is_some_and(|cell| cell.contains("](") && cell.trim().ends_with(".md)"))
}

/// The introduction's table: telephone words, the calls, the chapter link.
pub fn introduction(text: &str, e: &Entry) -> Result<String, String> {
    let row = format!(
        "| {} | `socket()` | [{}: {}]({}.md) |\n",
        e.analogy, e.number, e.title, e.id
    );
    after_last_line(
        text,
        links_a_chapter_in_its_last_cell,
        &row,
        "book/src/README.md",
        "chapter row in its table",
    )
}

/// The teachers' page: a timing row (and the new total), and a section on
/// what students get wrong, naming the self-check's ids.
pub fn teachers(text: &str, e: &Entry) -> Result<String, String> {
    let is_timing = |l: &str| l.starts_with("| [") && l.contains(".md) |") && l.contains(" min |");
    let row = format!(
        "| [{}. {}]({}.md) | {} min | `socket()` | a socket is a descriptor; `SO_TYPE` says what kind of line it is |\n",
        e.number, e.title, e.id, e.minutes
    );
    let text = after_last_line(text, is_timing, &row, "book/src/teachers.md", "timing row")?;
    let text = add_to_total(&text, e.minutes)?;
    let text = add_to_plans(&text, e)?;
    let section = format!(
        "\n### {}. {}\n\n- **Postcards for a call** (`ch{:02}.wrong-type`): `SockType::Datagram`\n  where `SockType::Stream` was meant.\n- **The wrong network** (`ch{:02}.not-ipv4`): `AddressFamily::Inet6` for `Inet`.\n",
        e.number, e.title, e.number, e.number
    );
    let last_section = text
        .rfind("\n### ")
        .ok_or("book/src/teachers.md has no chapter section to add the new one after")?;
    let end = text[last_section + 1..]
        .find("\n## ")
        .map_or(text.len(), |i| last_section + 1 + i + 1);
    let mut out = text[..end].trim_end_matches('\n').to_string();
    out.push('\n');
    out.push_str(&section);
    if end < text.len() {
        out.push('\n');
        out.push_str(&text[end..]);
    }
    Ok(out)
}

/// Every session plan under `### A plan` gets one more session: the new
/// chapter alone, with at least ten minutes left for set-up and a break (the
/// book's plan test demands each plan cover every chapter, in order, and add
/// up). The author regroups the sessions once the chapter's minutes are real.
fn add_to_plans(text: &str, e: &Entry) -> Result<String, String> {
    let start = text
        .find("### A plan")
        .ok_or("book/src/teachers.md has no `### A plan` section")?;
    let end = text[start + 1..]
        .find("\n#")
        .map_or(text.len(), |i| start + 1 + i);
    // A session's length in half hours, so the plan reads like a timetable.
    let length = (e.minutes + 10).div_ceil(30) * 30;
    let mut section = String::new();
    let (mut sessions, mut plans) = (0, 0);
    let lines: Vec<&str> = text[start..end].split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        section.push_str(line);
        if !line.starts_with('|') {
            continue;
        }
        let is_rule = line.starts_with("|---");
        if !is_rule && !line.starts_with("| session ") {
            sessions += 1;
        }
        let table_ends = lines.get(i + 1).is_none_or(|next| !next.starts_with('|'));
        if table_ends {
            section.push_str(&format!(
                "| {}: *{}* | {length} min | {} | {} min | {} min |\n",
                sessions + 1,
                e.title,
                e.number,
                e.minutes,
                length - e.minutes
            ));
            sessions = 0;
            plans += 1;
        }
    }
    if plans == 0 {
        return Err("book/src/teachers.md: `### A plan` has no table".into());
    }
    Ok(format!("{}{section}{}", &text[..start], &text[end..]))
}

/// `| **total** | **245 min** | ...` with `minutes` more.
fn add_to_total(text: &str, minutes: u32) -> Result<String, String> {
    let start = text
        .find("| **total** | **")
        .ok_or("book/src/teachers.md has no `| **total** | **N min** |` row")?;
    let number_at = start + "| **total** | **".len();
    let digits = text[number_at..]
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(0);
    let total: u32 = text[number_at..number_at + digits]
        .parse()
        .map_err(|_| "book/src/teachers.md: the total row's minutes aren't a number")?;
    Ok(format!(
        "{}{}{}",
        &text[..number_at],
        total + minutes,
        &text[number_at + digits..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry<'static> {
        Entry {
            number: 9,
            id: "09-demo",
            crate_name: "ch09-demo",
            title: "Demo",
            analogy: "get a phone of your own",
            minutes: 15,
            part_heading: "Part I: Making a call".into(),
        }
    }

    #[test]
    fn the_dependency_goes_after_the_last_chapter() {
        let text = "[dev-dependencies]\nch01-a = { path = \"chapters/01-a\" }\nch02-b = { path = \"chapters/02-b\" }\n\n[[test]]\n";
        let out = cargo_toml(text, &entry()).unwrap();
        assert!(
            out.contains("02-b\" }\nch09-demo = { path = \"chapters/09-demo\" }\n\n[[test]]"),
            "{out}"
        );
        assert!(cargo_toml("[dev-dependencies]\n", &entry()).is_err());
    }

    #[test]
    fn the_module_goes_after_the_last_chapter_module() {
        let text = "#[path = \"chapters/ch01.rs\"]\nmod ch01;\n\n#[path = \"chapters/cli.rs\"]\nmod cli;\n";
        let out = chapters_rs(text, &entry()).unwrap();
        assert!(out.contains("mod ch01;\n\n#[path = \"chapters/ch09.rs\"]\nmod ch09;\n\n#[path = \"chapters/cli.rs\"]"), "{out}");
    }

    #[test]
    fn an_earlier_part_is_named_again_after_a_later_one() {
        let text = "# Part I: Making a call\n\n- [One](01-one.md)\n\n# Part II: Talk\n\n- [Eight](08-eight.md)\n\n---\n\n[For teachers](teachers.md)\n";
        let out = summary(text, &entry()).unwrap();
        assert!(
            out.contains(
                "- [Eight](08-eight.md)\n\n# Part I: Making a call\n\n- [9. Demo](09-demo.md)\n\n---"
            ),
            "{out}"
        );
        let same_part = "# Part I: Making a call\n\n- [One](01-one.md)\n\n---\n";
        let out = summary(same_part, &entry()).unwrap();
        assert!(
            out.contains("- [One](01-one.md)\n- [9. Demo](09-demo.md)\n\n---"),
            "{out}"
        );
    }

    #[test]
    fn the_teachers_page_gets_a_row_a_total_and_a_section() {
        let text = "## Timing\n\n| [1. One](01-one.md) | 20 min | x | y |\n| **total** | **20 min** | | |\n\n### A plan\n\n| session | length |\n|---|---|\n| 1 | 30 min | 1 | 20 min | 10 min |\n\nTwo.\n\n## Wrong\n\n### 1. One\n\n- a (`ch01.a`)\n";
        let out = teachers(text, &entry()).unwrap();
        assert!(
            out.contains("y |\n| [9. Demo](09-demo.md) | 15 min |"),
            "{out}"
        );
        assert!(out.contains("| **total** | **35 min** |"), "{out}");
        assert!(
            out.contains("| 1 | 30 min | 1 | 20 min | 10 min |\n| 2: *Demo* | 30 min | 9 | 15 min | 15 min |\n\nTwo."),
            "{out}"
        );
        assert!(out.ends_with("- a (`ch01.a`)\n\n### 9. Demo\n\n- **Postcards for a call** (`ch09.wrong-type`): `SockType::Datagram`\n  where `SockType::Stream` was meant.\n- **The wrong network** (`ch09.not-ipv4`): `AddressFamily::Inet6` for `Inet`.\n"), "{out}");
    }

    /// A part whose opening page is its only entry so far takes the new
    /// chapter after that page, under its heading, not a second heading.
    #[test]
    fn a_chapter_follows_its_parts_opening_page() {
        let text = "# Part I: Making a call\n\n- [Dial](04-dial.md)\n\n# Part II: Talk\n\n- [Before](part-2-before.md)\n\n---\n";
        let mut e = entry();
        e.part_heading = "Part II: Talk".into();
        let out = summary(text, &e).unwrap();
        assert!(
            out.contains(
                "# Part II: Talk\n\n- [Before](part-2-before.md)\n- [9. Demo](09-demo.md)\n\n---"
            ),
            "{out}"
        );
        assert_eq!(out.matches("# Part II").count(), 1, "{out}");
    }

    #[test]
    fn the_readme_gets_a_row_under_its_part() {
        let text = "| chapter | words | calls |\n|---|---|---|\n| **Part I: Making a call** | | |\n| 1. One | a | `x` |\n| **Part II: Talk** | | |\n| *Before* | b | `y` |\n| 8. Eight | c | `z` |\n\nMore.\n";
        let out = readme(text, &entry()).unwrap();
        assert!(
            out.contains("| 8. Eight | c | `z` |\n| **Part I: Making a call** | | |\n| 9. Demo | get a phone of your own | `socket()` |\n\nMore."),
            "{out}"
        );
        let mut e = entry();
        e.part_heading = "Part II: Talk".into();
        let out = readme(text, &e).unwrap();
        assert!(
            out.contains("| 8. Eight | c | `z` |\n| 9. Demo | get a phone of your own | `socket()` |\n\nMore."),
            "{out}"
        );
        assert!(readme("no table\n", &e).is_err());
    }

    #[test]
    fn the_introduction_gets_a_row() {
        let text = "| words | call | chapter |\n|---|---|---|\n| dial | `connect()` | [4: Dial](04-dial.md) |\n\nMore.\n";
        let out = introduction(text, &entry()).unwrap();
        assert!(out.contains("(04-dial.md) |\n| get a phone of your own | `socket()` | [9: Demo](09-demo.md) |\n\nMore."), "{out}");
    }
}
