//! Reading the shell blocks out of a Markdown page: which lines are
//! commands, what the page promises they print, and how a block is marked.

/// The info strings of a shell block (the language before any comma).
const SHELLS: &[&str] = &["console", "sh", "bash", "shell"];

/// One shell block on a page.
#[derive(Debug)]
pub struct Block {
    /// The 1-based line of its opening fence.
    pub line: usize,
    /// `console,interactive`: a person takes part; never run.
    pub interactive: bool,
    pub commands: Vec<Cmd>,
    /// The `text` block right after this one, if there is one (its
    /// includes not yet expanded), promised as the whole output of the
    /// block's one command.
    pub text_after: Option<String>,
}

/// One command of a block.
#[derive(Debug, Clone)]
pub struct Cmd {
    /// The 1-based line it is on.
    pub line: usize,
    /// The line as the reader types it (`$ ` removed, comment kept: bash
    /// ignores it).
    pub text: String,
    /// `... &`: started in the background, ended when the block ends.
    pub background: bool,
    /// `# prints: TEXT`: the output (stdout and stderr) contains TEXT.
    pub prints: Option<String>,
    /// `# exits: N`: the exit code; 0 when not said.
    pub exits: i32,
    /// In a `$` block, the lines under the command (output shown on the
    /// page): each must appear in its output, in order.
    pub shown: Vec<String>,
}

/// Every shell block in `page`, in order.
pub fn blocks(page: &str) -> Vec<Block> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out: Vec<Block> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((fence, info)) = opening(lines[i]) else {
            i += 1;
            continue;
        };
        let start = i;
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with(fence.as_str()))
            .unwrap_or(lines.len());
        // A block inside a list item is indented like its fence.
        let indent = lines[start].len() - lines[start].trim_start().len();
        let body: Vec<&str> = lines[start + 1..end]
            .iter()
            .map(|l| {
                let cut = l.len() - l.trim_start().len();
                &l[cut.min(indent)..]
            })
            .collect();
        let body = &body[..];
        let mut words = info.split(',').map(str::trim);
        let lang = words.next().unwrap_or_default();
        let flags: Vec<&str> = words.collect();
        if SHELLS.contains(&lang) {
            out.push(Block {
                line: start + 1,
                interactive: flags.contains(&"interactive"),
                commands: commands(body, start + 2),
                text_after: None,
            });
        } else if lang == "text" {
            // Promised output belongs to the shell block just before,
            // with nothing but blank lines between them.
            if let Some(prev) = out.last_mut() {
                let prev_end = closing_line(&lines, prev.line - 1);
                if lines[prev_end + 1..start]
                    .iter()
                    .all(|l| l.trim().is_empty())
                {
                    prev.text_after = Some(body.join("\n"));
                }
            }
        }
        i = end + 1;
    }
    out
}

/// The index of the fence that closes the block opened on line index `open`.
fn closing_line(lines: &[&str], open: usize) -> usize {
    let (fence, _) = opening(lines[open]).expect("an opening fence");
    (open + 1..lines.len())
        .find(|&j| lines[j].trim_start().starts_with(fence.as_str()))
        .unwrap_or(lines.len() - 1)
}

/// A fence that opens a block (```` ``` ```` or `~~~`, three or more) and
/// its info string.
fn opening(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim_start();
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = trimmed.chars().take_while(|c| *c == ch).count();
    if n < 3 {
        return None;
    }
    let fence: String = std::iter::repeat_n(ch, n).collect();
    Some((fence, trimmed[n..].trim().to_string()))
}

/// The commands in a block's `body`, whose first line is page line `first`.
/// With any `$ ` line, only those are commands (the rest is output the page
/// shows); otherwise every line but blanks and `#` comments is one.
fn commands(body: &[&str], first: usize) -> Vec<Cmd> {
    let prompted = body.iter().any(|l| l.starts_with("$ "));
    let mut out: Vec<Cmd> = Vec::new();
    for (k, raw) in body.iter().enumerate() {
        let text = if prompted {
            match raw.strip_prefix("$ ") {
                Some(t) => t,
                None => {
                    if let Some(cmd) = out.last_mut().filter(|_| !raw.trim().is_empty()) {
                        cmd.shown.push(raw.trim_end().to_string());
                    }
                    continue;
                }
            }
        } else {
            raw
        };
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (code, comment) = split_comment(text);
        let mut cmd = Cmd {
            line: first + k,
            text: text.to_string(),
            background: code.trim_end().ends_with('&') && !code.trim_end().ends_with("&&"),
            prints: None,
            exits: 0,
            shown: Vec::new(),
        };
        if let Some(c) = comment {
            if let Some(p) = c.split_once("prints:").map(|(_, p)| p.trim()) {
                cmd.prints = Some(p.to_string());
            }
            if let Some(n) = c.split_once("exits:").map(|(_, n)| n.trim()) {
                cmd.exits = n
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            }
        }
        out.push(cmd);
    }
    out
}

/// A command line's code and its trailing `# comment` (a `#` after
/// whitespace, outside quotes, as the shell reads it).
pub fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => {
                return (&line[..i], Some(line[i + 1..].trim()));
            }
            _ => {}
        }
        prev = c;
    }
    (line, None)
}

/// Whether `got` matches the promised line `want`, where `[PORT]`, `[FD]`,
/// and `[PID]` stand for any number and `[INODE]` for one in brackets
/// (`socket:[INODE]` is `socket:[4711]`): the snapshots' redactions.
pub fn line_matches(want: &str, got: &str) -> bool {
    const HOLES: [&str; 4] = ["[PORT]", "[FD]", "[PID]", "[INODE]"];
    let mut want = want.trim_end();
    let mut got = got.trim_end();
    loop {
        let next = HOLES
            .iter()
            .filter_map(|h| want.find(h).map(|i| (i, h.len())))
            .min();
        let Some((at, len)) = next else {
            return want == got;
        };
        let Some(rest) = got.strip_prefix(&want[..at]) else {
            return false;
        };
        let bracketed = &want[at..at + len] == "[INODE]";
        let rest = if bracketed {
            match rest.strip_prefix('[') {
                Some(r) => r,
                None => return false,
            }
        } else {
            rest
        };
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        got = &rest[digits..];
        if bracketed {
            match got.strip_prefix(']') {
                Some(r) => got = r,
                None => return false,
            }
        }
        want = &want[at + len..];
    }
}

/// The first port number (not 0) in `text`: after `127.0.0.1:`, `[::1]:`,
/// `localhost ` or `port `, the ways the course's programs and `nc -v`
/// print the number they listen on.
pub fn printed_port(text: &str) -> Option<u16> {
    ["127.0.0.1:", "[::1]:", "localhost ", "port "]
        .iter()
        .flat_map(|lead| text.match_indices(lead).map(move |(i, _)| i + lead.len()))
        .filter_map(|at| {
            let digits: String = text[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .map(|p| (at, p))
        })
        .min()
        .map(|(_, p)| p)
}
