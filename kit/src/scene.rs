//! Narrating a chapter's scene: each line pairs the telephone analogy with the
//! real system call and what the kernel answered.
//!
//! A scene writes to any `Write`, so the binary prints to stdout and the
//! integrity suite captures the very same text for its snapshot. The layout is
//! fixed-width text so it reads the same in a terminal, a snapshot and the book.

use crate::args;
use crate::course::{self, Chapter};
use crate::learner::LearnerError;
use crate::names;
use crate::text::Breaks;
use nix::errno::Errno;
use std::fmt;
use std::io::{self, BufRead, Write};

/// Who is acting in a line of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The learner's side: the phone being installed, numbered, answered.
    You,
    /// The other party: whoever dials in (or whom we dial).
    Caller,
    /// The party we dial or who answers.
    Callee,
    /// The kernel, answering on behalf of the phone system.
    Exchange,
}

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::You => "you",
            Who::Caller => "caller",
            Who::Callee => "callee",
            Who::Exchange => "exchange",
        }
    }
}

pub struct Scene<'w> {
    out: &'w mut dyn Write,
    pub chapter: &'static Chapter,
    /// Where Enter comes from when `--hold` was given; `None` plays straight through.
    hold: Option<Box<dyn BufRead + 'w>>,
}

/// Why a scene stopped early.
#[derive(Debug)]
pub enum SceneError {
    /// The learner's function isn't done (or panicked, or hung).
    Learner(LearnerError),
    /// A system call failed: which call, the errno, and what to do.
    Sys {
        call: String,
        errno: Errno,
        advice: String,
    },
    /// A bad command-line argument: the line to print.
    Usage(String),
    /// Not a failure: `--help` or `-h` asked for the usage, which is printed
    /// on stdout with exit status 0.
    Help(String),
    /// The other party heard something the scene didn't expect (a learner's
    /// answer that runs but misbehaves): one line saying what, and what to do.
    Unexpected(String),
    /// Writing the transcript failed (e.g. a closed pipe).
    Io(io::Error),
}

impl From<LearnerError> for SceneError {
    fn from(e: LearnerError) -> Self {
        SceneError::Learner(e)
    }
}
impl From<io::Error> for SceneError {
    fn from(e: io::Error) -> Self {
        SceneError::Io(e)
    }
}

/// Attach the call and advice to a nix error: `bind(...).map_err(sys("bind(..)", "pick another port"))?`.
pub fn sys(call: impl Into<String>, advice: impl Into<String>) -> impl FnOnce(Errno) -> SceneError {
    let (call, advice) = (call.into(), advice.into());
    move |errno| SceneError::Sys {
        call,
        errno,
        advice,
    }
}

impl SceneError {
    /// The news as the binary prints it. The learner's paragraph (an
    /// unfinished or panicking function) wraps to `width` columns (80 when
    /// not a terminal); a refused call or a misbehaving answer stays the one
    /// line a script can grep for.
    pub fn as_printed(&self, width: usize) -> String {
        match self {
            SceneError::Learner(_) => crate::text::wrap(&self.to_string(), width, "", ""),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for SceneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SceneError::Learner(e) => write!(f, "{e}"),
            SceneError::Sys {
                call,
                errno,
                advice,
            } => write!(
                f,
                "{call} failed with {}: {}. {advice}",
                names::errno(*errno),
                names::errno_phone(*errno)
            ),
            SceneError::Usage(line) | SceneError::Unexpected(line) => write!(f, "{line}"),
            SceneError::Help(text) => write!(f, "{}", text.trim_end()),
            SceneError::Io(e) => write!(f, "could not write the transcript: {e}"),
        }
    }
}

pub type SceneResult = Result<(), SceneError>;

const WHO_WIDTH: usize = 9;
/// Where the words of a transcript line start: two spaces, the party's
/// name padded to `WHO_WIDTH`, then a mark (☎, ⚙, ») and a space.
const TEXT_COLUMN: usize = 2 + WHO_WIDTH + 2;

impl<'w> Scene<'w> {
    pub fn new(out: &'w mut dyn Write, chapter: &'static Chapter) -> Self {
        Scene {
            out,
            chapter,
            hold: None,
        }
    }

    /// The same scene, stopping at each [`Scene::hold`] until a line (Enter)
    /// arrives on `input`; chapter binaries pass stdin when given `--hold`.
    pub fn holding(mut self, input: impl BufRead + 'w) -> Self {
        self.hold = Some(Box::new(input));
        self
    }

    /// The chapter heading and the scene's setting.
    pub fn title(&mut self, setting: &str) -> io::Result<()> {
        let c = self.chapter;
        let part = course::course()
            .part(c.part)
            .map(|p| p.title.as_str())
            .unwrap_or("");
        writeln!(self.out, "Chapter {}: {} ({part})", c.number, c.title)?;
        self.out.write_all(wrap("", "", setting).as_bytes())?;
        writeln!(self.out)
    }

    /// One line of action: telephone words, then the syscall and its result.
    /// Both wrap to the page's width under their first word; the syscall
    /// words break only between calls, never inside one's arguments (a
    /// system call reads, and is searched for, whole, as strace prints it).
    pub fn step(&mut self, who: Who, phone: &str, syscall: &str) -> io::Result<()> {
        let label = who.label();
        let first = format!("  {label:<WHO_WIDTH$}☎ ");
        self.out
            .write_all(wrap(&first, &hang(), phone).as_bytes())?;
        self.out
            .write_all(wrap_calls(&mark('⚙'), &hang(), syscall).as_bytes())
    }

    /// A narrator's aside: why what just happened matters. Give it the
    /// whole thought: it wraps itself to the page's 80 columns.
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        self.out
            .write_all(wrap(&mark('»'), &hang(), text).as_bytes())
    }

    /// With `--hold`, stops the scene here until Enter (end of input goes
    /// on at once), so the learner can look at this process from another
    /// terminal while the phone is in the state `what` describes. Without
    /// `--hold` it does nothing: a transcript is the same either way.
    pub fn hold(&mut self, what: &str) -> io::Result<()> {
        let Some(input) = self.hold.as_mut() else {
            return Ok(());
        };
        let line = format!(
            "{what}. Holding the line: look at /proc/{}/fd or ss now; press Enter to go on",
            std::process::id()
        );
        self.out
            .write_all(wrap(&mark('⏸'), &hang(), &line).as_bytes())?;
        self.out.flush()?;
        let mut enter = String::new();
        input.read_line(&mut enter)?;
        Ok(())
    }

    /// A blank line between beats of the scene.
    pub fn pause(&mut self) -> io::Result<()> {
        writeln!(self.out)
    }

    /// The closing line: the lesson from course.toml.
    pub fn moral(&mut self) -> io::Result<()> {
        let text = wrap("Lesson: ", "        ", &self.chapter.lesson);
        self.out.write_all(text.as_bytes())
    }
}

/// The start of a narrator's line: the empty party column, then `mark`.
fn mark(mark: char) -> String {
    format!("  {:<WHO_WIDTH$}{mark} ", "")
}

/// The indent that continues a wrapped line under its first word.
fn hang() -> String {
    " ".repeat(TEXT_COLUMN)
}

/// The widest a transcript line may be, measured as its snapshot shows it
/// (see [`as_snapshot_shows`]). Three columns under 80: a socket inode (up
/// to 10 digits) is wider on the screen than `[INODE]`, and the line must
/// still fit a terminal's 80.
const WIDTH: usize = 77;

/// `text` wrapped at spaces, the first line after `first`, the others after
/// `rest`, each ending in a newline. A word longer than the line is left
/// whole (a syscall split in two reads worse than a long line).
///
/// Break points are chosen on the text as the integrity suite's snapshot
/// shows it (ports, descriptors, pids and inodes as `[PORT]`, `[FD]`...):
/// a descriptor is `fd 3` in one run and `fd 12` in the next, and a break
/// that moved with it would make the snapshot differ from run to run.
pub(crate) fn wrap(first: &str, rest: &str, text: &str) -> String {
    wrap_to(WIDTH, first, rest, text)
}

/// [`wrap`] to `columns` instead: for text with no varying numbers in it
/// (`--help`), which can use the whole 80. The rule is kit's one
/// ([`crate::text::wrap_line`]); a scene only measures its words as the
/// snapshot shows them.
pub(crate) fn wrap_to(columns: usize, first: &str, rest: &str, text: &str) -> String {
    wrap_lines(columns, first, rest, text, Breaks::Prose)
}

/// [`wrap`] for a step's system calls: breaks between calls only.
fn wrap_calls(first: &str, rest: &str, text: &str) -> String {
    wrap_lines(WIDTH, first, rest, text, Breaks::Calls)
}

fn wrap_lines(columns: usize, first: &str, rest: &str, text: &str, breaks: Breaks) -> String {
    let shown = as_snapshot_shows(text);
    let mut out = String::new();
    for line in crate::text::wrap_line(text, &shown, columns, first, rest, breaks) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `text` with what differs from run to run replaced the way the integrity
/// suite's snapshot redactions (`tests/chapters/support.rs`) replace it:
/// `IP:PORT`, `port N` (N > 0), `fd N`, `pid N`, `/proc/self/fd/N` and
/// `socket:[N]`. Used only to measure, never printed.
fn as_snapshot_shows(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(ch) = text[i..].chars().next() {
        let boundary = i == 0 || !is_word_byte(text.as_bytes()[i - 1]);
        match variable_at(&text[i..], boundary) {
            Some((shown, taken)) => {
                out.push_str(&shown);
                i += taken;
            }
            None => {
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// How many ASCII digits `s` starts with (none if `nonzero` and it starts with 0).
fn digits(s: &str, nonzero: bool) -> usize {
    if nonzero && s.starts_with('0') {
        return 0;
    }
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// The redacted form of a varying number at the start of `rest`, and how
/// many bytes of `rest` it replaces.
fn variable_at(rest: &str, boundary: bool) -> Option<(String, usize)> {
    if boundary {
        if let Some(ip) = ipv4_len(rest) {
            let port = rest[ip..].strip_prefix(':').map_or(0, |p| digits(p, true));
            if port > 0 {
                return Some((format!("{}:[PORT]", &rest[..ip]), ip + 1 + port));
            }
        }
        for (word, shown, nonzero) in [
            ("port ", "port [PORT]", true),
            ("fd ", "fd [FD]", false),
            ("pid ", "pid [PID]", false),
        ] {
            let n = rest.strip_prefix(word).map_or(0, |r| digits(r, nonzero));
            if n > 0 {
                return Some((shown.to_string(), word.len() + n));
            }
        }
    }
    let fd = rest
        .strip_prefix("/proc/self/fd/")
        .map_or(0, |r| digits(r, false));
    if fd > 0 {
        return Some(("/proc/self/fd/[FD]".into(), "/proc/self/fd/".len() + fd));
    }
    let after = rest.strip_prefix("socket:[")?;
    let inode = digits(after, false);
    (inode > 0 && after[inode..].starts_with(']'))
        .then(|| ("socket:[INODE]".into(), "socket:[".len() + inode + 1))
}

/// The length of a dotted IPv4 number (`d{1,3}` four times) starting `s`.
fn ipv4_len(s: &str) -> Option<usize> {
    let mut len = 0;
    for part in 0..4 {
        if part > 0 {
            s[len..].strip_prefix('.')?;
            len += 1;
        }
        let n = digits(&s[len..], false);
        if n == 0 || n > 3 {
            return None;
        }
        len += n;
    }
    Some(len)
}

/// Runs a chapter binary: the scene (or an argument-driven variant) writes to
/// stdout; any early stop prints one clear paragraph on stderr and exits 1
/// (2 for a usage error). `--help` prints on stdout and exits 0. Never a
/// panic backtrace for an ordinary mistake.
pub fn main(crate_name: &str, play: impl FnOnce(&mut Scene, Vec<String>) -> SceneResult) -> ! {
    let chapter = course::chapter_for(crate_name);
    let stdout = io::stdout();
    let mut out = Tally {
        inner: stdout.lock(),
        wrote: false,
    };
    // args_os, not args: std::env::args() panics on an argument that isn't
    // UTF-8; lossy text is enough to say which argument was unexpected.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let result = {
        let mut scene = Scene::new(&mut out, chapter);
        // `--hold` is every binary's flag (kit::args lets it through):
        // the scene stops at each hold until Enter on stdin.
        if args.iter().any(|a| a == args::HOLD) {
            scene = scene.holding(io::stdin().lock());
        }
        play(&mut scene, args)
    };
    let _ = out.flush();
    let narrated = out.wrote;
    drop(out);
    let code = match result {
        Ok(()) => 0,
        // Someone closed our stdout (`| head`): nothing left to say.
        Err(SceneError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(SceneError::Help(text)) => {
            // write_all, not print!: `--help | head -1` must not panic.
            let mut stdout = io::stdout();
            let _ = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush());
            0
        }
        Err(SceneError::Usage(line)) => {
            eprintln!("{line}");
            2
        }
        Err(e) => {
            // A blank line sets the news apart from a transcript already on
            // the screen; before any transcript, the news is the only line.
            if narrated {
                eprintln!();
            }
            eprintln!("{}", e.as_printed(crate::text::width()));
            1
        }
    };
    // exit() rather than return: a learner thread stuck in a blocking call
    // must not keep the process (and its sockets) alive.
    std::process::exit(code)
}

/// Stdout, remembering whether the scene has printed anything yet.
struct Tally<W> {
    inner: W,
    wrote: bool,
}

impl<W: Write> Write for Tally<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.wrote |= !buf.is_empty();
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chapter() -> &'static Chapter {
        course::chapter_for("ch01-install-phone")
    }

    fn played(play: impl FnOnce(&mut Scene) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        play(&mut Scene::new(&mut out, chapter())).expect("writing to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    const LONG: &str = "a refused caller's socket is spent: it is closed, and a new one \
        is installed for the next try, because connect() on a socket that failed once \
        has undefined results on some systems";

    /// A long note becomes several lines, each within 80 columns, continuing
    /// under the first word; the words and their order are kept.
    #[test]
    fn a_long_note_wraps_under_its_first_word() {
        let text = played(|s| s.note(LONG));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() >= 3, "{text}");
        assert!(lines[0].starts_with("           » a refused"), "{text}");
        for line in &lines[1..] {
            assert!(line.starts_with(&hang()) && !line[TEXT_COLUMN..].starts_with(' '));
        }
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{text}");
        let words: Vec<&str> = text.split_whitespace().filter(|w| *w != "»").collect();
        assert_eq!(words, LONG.split_whitespace().collect::<Vec<_>>());
    }

    /// Short lines are printed exactly as given, spacing included.
    #[test]
    fn a_short_line_is_untouched() {
        let text = played(|s| s.note("connect(fd 3,  127.0.0.1:80) = 0"));
        assert_eq!(text, "           » connect(fd 3,  127.0.0.1:80) = 0\n");
    }

    /// Where a line breaks doesn't depend on how many digits a descriptor
    /// or a port had this run: the snapshot, redacted, is the same.
    #[test]
    fn breaks_do_not_move_with_the_numbers() {
        let say = |fd: &str, port: &str| {
            format!(
                "write(fd {fd}, \"hello\", 5) = 5 on the line to 127.0.0.1:{port}, and the \
                 bytes wait in fd {fd}'s queue at socket:[{port}{fd}] until read() takes them"
            )
        };
        let redact = |t: String| {
            t.lines()
                .map(as_snapshot_shows)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let a = redact(played(|s| s.note(&say("3", "40000"))));
        let b = redact(played(|s| s.note(&say("1234", "65535"))));
        assert_eq!(a, b);
        assert!(a.lines().count() > 1, "{a}");
    }

    /// The redaction shapes follow the integrity suite's patterns.
    #[test]
    fn measured_as_the_snapshot_shows_it() {
        let shown = as_snapshot_shows(
            "fd 12 port 0 port 5000 pid 77 (fd 3) 10.0.0.1:80 /proc/self/fd/9 socket:[123] afd 4",
        );
        assert_eq!(
            shown,
            "fd [FD] port 0 port [PORT] pid [PID] (fd [FD]) 10.0.0.1:[PORT] /proc/self/fd/[FD] socket:[INODE] afd 4"
        );
    }

    /// Without --hold a hold is silent; with it, one line and a wait for
    /// Enter, and the end of input goes on at once.
    #[test]
    fn hold_waits_for_enter_only_when_asked() {
        assert_eq!(played(|s| s.hold("the phone is installed")), "");
        let mut input: &[u8] = b"\nrest";
        let mut out = Vec::new();
        {
            let mut s = Scene::new(&mut out, chapter()).holding(&mut input);
            s.hold("the phone is installed").expect("write");
            s.hold("again, at end of input").expect("EOF goes on");
        }
        assert_eq!(input, b"", "one line taken, then the rest until EOF");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            text.contains("the phone is installed. Holding the line"),
            "{text}"
        );
        let pid = format!("/proc/{}/fd", std::process::id());
        assert!(
            text.contains(&pid) && text.contains("press Enter"),
            "{text}"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }
}
