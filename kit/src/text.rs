//! Prose that fits the reader's screen: one wrapping rule for every line the
//! course prints (verdicts, the operator's board, the scenes).
//!
//! Lines break between words only, never inside one, so a path, a command or
//! `todo!()` is never cut in two (not even at a hyphen); a word longer than
//! the line stays whole.
//! A wrapped line keeps its label's indent (`☎ phone:`, `⚙ syscall:`), so
//! the eye can follow which hint a continuation belongs to.

/// How wide the reader's screen is: the terminal's width when standard output
/// is a terminal, else 80 columns (a pipe, a file, a test), so what is written
/// to a file reads the same on every machine.
pub fn width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(80, |(terminal_size::Width(w), _)| usize::from(w))
        // Below this, hanging indents would leave no room for words.
        .max(40)
}

/// `text` wrapped to `width` columns: the first line starts with `indent`,
/// every later one with `hanging`. Line breaks already in `text` are kept
/// (each line is wrapped on its own). Colour codes take no room.
pub fn wrap(text: &str, width: usize, indent: &str, hanging: &str) -> String {
    let mut out = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let first = if n == 0 { indent } else { hanging };
        out.extend(wrap_line(line, line, width, first, hanging, Breaks::Prose));
    }
    out.join("\n")
}

/// The one wrapping rule, for a single line of `text`: the lines it becomes,
/// the first after `first`, the others after `rest`, none longer than
/// `width` unless one word is.
///
/// `measured` is the same line as it will be measured (the scenes pass the
/// text as their snapshots show it, `[FD]` for `fd 12`, so a break doesn't
/// move from run to run); it must have the same words. A line that fits is
/// left exactly as written, spacing and all; otherwise it breaks at spaces
/// outside `backticks`, and the spaces inside a line are kept.
pub fn wrap_line(
    text: &str,
    measured: &str,
    width: usize,
    first: &str,
    rest: &str,
    breaks: Breaks,
) -> Vec<String> {
    use textwrap::wrap_algorithms::wrap_first_fit;
    if columns(first) + columns(measured) <= width {
        return vec![format!("{first}{text}")];
    }
    let seen = words(measured, breaks);
    let mut pieces = words(text, breaks);
    if pieces.len() == seen.len() {
        for (piece, seen) in pieces.iter_mut().zip(&seen) {
            piece.width = seen.width;
        }
    }
    let widths = [
        width.saturating_sub(columns(first)) as f64,
        width.saturating_sub(columns(rest)) as f64,
    ];
    let mut out = Vec::new();
    for (i, line) in wrap_first_fit(&pieces, &widths).iter().enumerate() {
        let mut row = String::from(if i == 0 { first } else { rest });
        for (j, piece) in line.iter().enumerate() {
            row.push_str(piece.word);
            if j + 1 < line.len() {
                row.push_str(piece.space);
            }
        }
        out.push(row);
    }
    if out.is_empty() {
        out.push(first.trim_end().to_string());
    }
    out
}

/// Where a line may break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// At any space outside `backticks`.
    Prose,
    /// Also never inside (parentheses) or "quotes": a system call and its
    /// arguments, `connect(fd 3, 127.0.0.1:5000)`, read (and are searched
    /// for) whole, the way strace prints them; lines break between calls.
    Calls,
}

/// A word and the spaces after it: what a line may break after.
#[derive(Debug)]
struct Piece<'a> {
    word: &'a str,
    space: &'a str,
    width: usize,
}

impl textwrap::core::Fragment for Piece<'_> {
    fn width(&self) -> f64 {
        self.width as f64
    }
    fn whitespace_width(&self) -> f64 {
        self.space.len() as f64
    }
    fn penalty_width(&self) -> f64 {
        0.0
    }
}

/// `line`'s words, split at spaces except inside `backticks` (and, for
/// [`Breaks::Calls`], parentheses and quotes): a command the reader should
/// type (`cargo run -- check 2`) stays on one line. Leading spaces are a
/// word of no width, so an indented line keeps its indent.
fn words(line: &str, breaks: Breaks) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let (mut start, mut i) = (0, 0);
    let (mut ticks, mut quoted, mut depth) = (false, false, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'`' => ticks = !ticks,
            b'"' if breaks == Breaks::Calls => quoted = !quoted,
            b'(' if breaks == Breaks::Calls && !quoted => depth += 1,
            b')' if breaks == Breaks::Calls && !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
        // `fd 3` and `port 5000` are one name: never split in a call.
        let names_a_number = breaks == Breaks::Calls
            && (line[start..i].ends_with("fd") || line[start..i].ends_with("port"))
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'[');
        if bytes[i] == b' ' && !ticks && !quoted && depth == 0 && !names_a_number {
            let word_end = i;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            let word = &line[start..word_end];
            out.push(Piece {
                word,
                space: &line[word_end..i],
                width: columns(word),
            });
            start = i;
            continue;
        }
        i += 1;
    }
    if start < line.len() {
        let word = &line[start..];
        out.push(Piece {
            word,
            space: "",
            width: columns(word),
        });
    }
    out
}

/// The display width of `text` in columns (colour codes take none).
pub fn columns(text: &str) -> usize {
    textwrap::core::display_width(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_between_words_with_a_hanging_indent() {
        let text = "call nix's socket() asking for the IPv4 family and the stream type, then fill in todo!()";
        let out = wrap(text, 40, "  ⚙ syscall: ", "             ");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        assert!(lines.iter().all(|l| columns(l) <= 40), "{out}");
        assert!(lines[0].starts_with("  ⚙ syscall: call"), "{out}");
        assert!(lines[1..]
            .iter()
            .all(|l| l.starts_with("             ") && !l[13..].starts_with(' ')));
        // No word is cut: joining the lines gives the words back.
        let words: Vec<&str> = out.split_whitespace().collect();
        assert!(words.contains(&"todo!()") && words.contains(&"socket()"));
    }

    #[test]
    fn a_command_in_backticks_stays_on_one_line() {
        let text = "Read the page, then `cargo run -- check 2` to see.";
        let out = wrap(text, 30, "", "");
        assert!(
            out.lines().any(|l| l.contains("`cargo run -- check 2`")),
            "{out}"
        );
        assert_eq!(
            out.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_call_and_its_arguments_stay_on_one_line() {
        let text = "socket(AF_INET, SOCK_STREAM, 0) = fd 3; connect(fd 3, 127.0.0.1:5000) = 0; read(fd 3, \"a b c\") = 5";
        let lines = wrap_line(text, text, 40, "* ", "  ", Breaks::Calls);
        assert!(lines.iter().all(|l| columns(l) <= 40), "{lines:#?}");
        for call in [
            "socket(AF_INET, SOCK_STREAM, 0)",
            "connect(fd 3, 127.0.0.1:5000)",
            "read(fd 3, \"a b c\")",
        ] {
            assert!(
                lines.iter().any(|l| l.contains(call)),
                "{call} was cut: {lines:#?}"
            );
        }
        // "fd 3" is one name; prose breaks anywhere between words.
        assert!(!lines.iter().any(|l| l.ends_with("fd")), "{lines:#?}");
        let prose = wrap_line(text, text, 40, "* ", "  ", Breaks::Prose);
        assert!(prose.iter().any(|l| l.ends_with("fd")), "{prose:#?}");
    }

    #[test]
    fn a_word_longer_than_the_line_stays_whole() {
        let path = "chapters/01-install-phone/src/answer.rs";
        let out = wrap(&format!("edit {path} now"), 20, "", "  ");
        assert!(out.lines().any(|l| l.trim() == path), "{out}");
    }

    #[test]
    fn colour_takes_no_room_and_short_text_is_unchanged() {
        let red = "\x1b[31mred\x1b[0m words";
        assert_eq!(columns(red), 9);
        assert_eq!(wrap(red, 9, "", ""), red);
        assert_eq!(wrap("two\nlines", 80, "- ", "  "), "- two\n  lines");
        // Leading spaces and padding inside a line (a table's columns) stay.
        assert_eq!(
            wrap("   1. Dial      done", 80, "", ""),
            "   1. Dial      done"
        );
    }

    #[test]
    fn not_a_terminal_means_80_columns() {
        // Under `cargo test` standard output is captured or piped, or it is
        // the developer's terminal: only the first case can be asserted.
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            assert_eq!(width(), 80);
        }
    }
}
