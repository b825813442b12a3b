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
    let options = textwrap::Options::new(width)
        .initial_indent(indent)
        .subsequent_indent(hanging)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .word_separator(textwrap::WordSeparator::Custom(words_outside_backticks))
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    textwrap::fill(text, options)
}

/// Words split at spaces, except inside `backticks`: a command the reader
/// should type (`cargo run -- check 2`) stays on one line.
fn words_outside_backticks(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let mut words = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'`' {
            quoted = !quoted;
        }
        // A word ends after its run of spaces, where the next word begins.
        let next_starts = i + 1 < bytes.len() && bytes[i + 1] != b' ';
        if b == b' ' && !quoted && next_starts {
            words.push(textwrap::core::Word::from(&line[start..=i]));
            start = i + 1;
        }
    }
    if start < line.len() {
        words.push(textwrap::core::Word::from(&line[start..]));
    }
    Box::new(words.into_iter())
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
