//! Narrating a chapter's scene: each line pairs the telephone analogy with the
//! real system call and what the kernel answered.
//!
//! A scene writes to any `Write`, so the binary prints to stdout and the
//! integrity suite captures the very same text for its snapshot. The layout is
//! fixed-width text so it reads the same in a terminal, a snapshot and the book.

use crate::course::{self, Chapter};
use crate::learner::LearnerError;
use crate::names;
use nix::errno::Errno;
use std::fmt;
use std::io::{self, Write};

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

impl<'w> Scene<'w> {
    pub fn new(out: &'w mut dyn Write, chapter: &'static Chapter) -> Self {
        Scene { out, chapter }
    }

    /// The chapter heading and the scene's setting.
    pub fn title(&mut self, setting: &str) -> io::Result<()> {
        let c = self.chapter;
        let part = course::course()
            .part(c.part)
            .map(|p| p.title.as_str())
            .unwrap_or("");
        writeln!(self.out, "Chapter {}: {} ({part})", c.number, c.title)?;
        writeln!(self.out, "{setting}")?;
        writeln!(self.out)
    }

    /// One line of action: telephone words, then the syscall and its result.
    pub fn step(&mut self, who: Who, phone: &str, syscall: &str) -> io::Result<()> {
        let label = who.label();
        writeln!(self.out, "  {label:<WHO_WIDTH$}☎ {phone}")?;
        writeln!(self.out, "  {:<WHO_WIDTH$}⚙ {syscall}", "")
    }

    /// A narrator's aside: why what just happened matters.
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "  {:<WHO_WIDTH$}» {text}", "")
    }

    /// A blank line between beats of the scene.
    pub fn pause(&mut self) -> io::Result<()> {
        writeln!(self.out)
    }

    /// The closing line: the lesson from course.toml.
    pub fn moral(&mut self) -> io::Result<()> {
        writeln!(self.out, "Lesson: {}", self.chapter.lesson)
    }
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
            eprintln!("{e}");
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
