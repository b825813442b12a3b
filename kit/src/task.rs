//! The check toolkit: calling one of the learner's functions by name, and
//! the verdicts every chapter's check would otherwise write again.
//!
//! A chapter's `Answer` holds the learner's functions as fields named like
//! the functions (and like the tasks in `course.toml`). [`task!`] takes the
//! field and its name together, with `stringify!`, so the name that picks
//! the task's hint can't drift from the function that is called: a typo is
//! a compile error, not a hint that silently goes missing.
//!
//! ```
//! use dialtone_kit::{course, learner_call, task};
//! use std::time::Duration;
//! # struct Answer { read_line: fn(&[u8], &mut Vec<u8>) -> usize }
//! # let answer = Answer { read_line: |line, pending| { pending.extend_from_slice(line); line.len() } };
//! let chapter = course::chapter_for("ch06-talk");
//! let line = b"hello\n".to_vec();
//! // the learner's read_line, under the chapter's timeout:
//! let heard = learner_call!(chapter, answer.read_line(&line, &mut Vec::new()));
//! assert_eq!(heard.unwrap(), 6);
//! // under a limit of the check's own (the classic mistake waits for ever):
//! let short = Duration::from_secs(2);
//! let heard = learner_call!(chapter, answer.read_line(b"", &mut Vec::new()), within = short);
//! assert_eq!(heard.unwrap(), 0);
//! // a closure handed the function, for more than one call:
//! let mut pending = Vec::new();
//! let (back, heard) = learner_call!(chapter, answer.read_line, move |read_line| {
//!     let n = read_line(b"hi", &mut pending);
//!     (pending, n)
//! }).unwrap();
//! assert_eq!((back, heard), (b"hi".to_vec(), 2));
//! // the pair itself, to hand on (e.g. to a thread that starts it later):
//! let read_line = task!(answer.read_line);
//! assert_eq!(read_line.name, "read_line");
//! ```
//!
//! Every call still goes through [`learner::call`] / [`learner::call_within`]:
//! the timeout, the `todo!()` and the panic handling live there alone.

use crate::check::Failure;
use crate::course::Chapter;
use crate::learner::{self, LearnerError, Trouble};
use crate::names;
use nix::errno::Errno;
use std::time::Duration;

/// One of the learner's functions and the name it has in `course.toml`
/// (and in the learner's file). Made by [`task!`], never by hand.
#[derive(Debug, Clone, Copy)]
pub struct Named<F> {
    pub name: &'static str,
    pub function: F,
}

impl<F: Send + 'static> Named<F> {
    /// Runs `with(function)` under the chapter's timeout, like
    /// [`learner::call`], naming the function in any verdict.
    pub fn call<T, W>(self, chapter: &'static Chapter, with: W) -> Result<T, LearnerError>
    where
        T: Send + 'static,
        W: FnOnce(F) -> T + Send + 'static,
    {
        self.check_name(chapter);
        let f = self.function;
        learner::call(chapter, self.name, move || with(f))
    }

    /// Like [`Named::call`], under `timeout` (see [`learner::call_within`]).
    pub fn call_within<T, W>(
        self,
        chapter: &'static Chapter,
        timeout: Duration,
        with: W,
    ) -> Result<T, LearnerError>
    where
        T: Send + 'static,
        W: FnOnce(F) -> T + Send + 'static,
    {
        self.check_name(chapter);
        let f = self.function;
        learner::call_within(chapter, self.name, timeout, move || with(f))
    }

    /// A field that isn't one of the chapter's tasks would lose its hint:
    /// the integrity suite (a debug build) finds out here.
    fn check_name(&self, chapter: &Chapter) {
        debug_assert!(
            chapter.task(self.name).is_some(),
            "{}() is not a [[chapter.task]] of chapter {} in course.toml",
            self.name,
            chapter.number
        );
    }
}

/// `task!(answer.read_line)`: the learner's function and its name, together.
#[macro_export]
macro_rules! task {
    ($answer:ident . $name:ident) => {
        $crate::task::Named {
            name: ::core::stringify!($name),
            function: $answer.$name,
        }
    };
}

/// Calls one of the learner's functions through [`learner::call`] (or
/// `call_within` with `within = LIMIT`), its name taken from the field:
///
/// - `learner_call!(chapter, answer.name(arg, ..))`: one call; the arguments
///   are moved into the learner's thread, as a `move ||` closure would.
/// - `learner_call!(chapter, answer.name, |name| ..)`: a closure handed the
///   function, for a body that does more than call it once.
///
/// [`learner::call`]: crate::learner::call
#[macro_export]
macro_rules! learner_call {
    ($chapter:expr, $answer:ident . $name:ident ( $($arg:expr),* $(,)? ) , within = $within:expr) => {
        $crate::task!($answer.$name).call_within($chapter, $within, move |f| f($($arg),*))
    };
    ($chapter:expr, $answer:ident . $name:ident ( $($arg:expr),* $(,)? )) => {
        $crate::task!($answer.$name).call($chapter, move |f| f($($arg),*))
    };
    ($chapter:expr, $answer:ident . $name:ident , $with:expr , within = $within:expr) => {
        $crate::task!($answer.$name).call_within($chapter, $within, $with)
    };
    ($chapter:expr, $answer:ident . $name:ident , $with:expr) => {
        $crate::task!($answer.$name).call($chapter, $with)
    };
}

/// A learner call that hung where the classic mistake is waiting for ever
/// gets that mistake's verdict (`mistake()`); a `todo!()` or a panic keeps
/// the generic one.
pub fn hung_means(e: LearnerError, mistake: impl FnOnce() -> Failure) -> Failure {
    match e.trouble {
        Trouble::Hung(_) => mistake(),
        _ => e.into(),
    }
}

/// The kernel could not read `what` (e.g. `SO_TYPE`) of the descriptor the
/// learner returned (`whose`: "your phone") or was lent: it isn't a socket
/// any more, or never was. Id `chNN.not-a-socket`. The hint says what to
/// return; a chapter whose phone is only lent replaces `expected`, `phone`
/// and `syscall` with its own words.
pub fn unreadable(chapter: &Chapter, what: &str, whose: &str, errno: Errno) -> Failure {
    Failure::new(
        format!("ch{:02}.not-a-socket", chapter.number),
        format!("the kernel couldn't read {what} of {whose}"),
    )
    .expected("a socket descriptor")
    .got(format!("{} while reading {what}", names::errno(errno)))
    .phone("what you returned isn't a phone at all.")
    .syscall("return the OwnedFd that socket() gave you.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::course;

    struct Answer {
        install_phone: fn() -> u8,
    }

    fn ch01() -> &'static Chapter {
        course().chapter(1).expect("chapter 1 exists")
    }

    /// The name in a verdict is the field's name, and the value comes back.
    #[test]
    fn the_name_travels_with_the_function() {
        let answer = Answer {
            install_phone: || -> u8 { todo!("install_phone") },
        };
        let named = task!(answer.install_phone);
        assert_eq!(named.name, "install_phone");
        let err = learner_call!(ch01(), answer.install_phone()).unwrap_err();
        assert_eq!(err.function, "install_phone");
        assert_eq!(err.trouble, Trouble::Unfinished);
        assert!(err.to_string().contains(&ch01().tasks[0].hint), "{err}");

        let answer = Answer {
            install_phone: || 7,
        };
        assert_eq!(learner_call!(ch01(), answer.install_phone()).unwrap(), 7);
        let doubled = learner_call!(ch01(), answer.install_phone, |f| f() * 2).unwrap();
        assert_eq!(doubled, 14);
    }

    /// `within` replaces the chapter's timeout, in both forms.
    #[test]
    fn within_sets_the_limit() {
        let limit = Duration::from_millis(100);
        let answer = Answer {
            install_phone: || loop {
                std::thread::park();
            },
        };
        let err = learner_call!(ch01(), answer.install_phone(), within = limit).unwrap_err();
        assert_eq!(err.trouble, Trouble::Hung(limit));
        let err = learner_call!(ch01(), answer.install_phone, |f| f(), within = limit).unwrap_err();
        assert_eq!(err.trouble, Trouble::Hung(limit));
    }

    /// A hang becomes the chapter's own mistake; a todo!() stays generic.
    #[test]
    fn hung_means_only_a_hang() {
        let mistake = || Failure::new("ch01.waits", "it waited");
        let hung =
            learner::call_within(
                ch01(),
                "install_phone",
                Duration::from_millis(50),
                || loop {
                    std::thread::park();
                },
            )
            .unwrap_err();
        assert_eq!(hung_means(hung, mistake).id, "ch01.waits");
        let todo = learner::call(ch01(), "install_phone", || -> u8 { todo!() }).unwrap_err();
        assert_eq!(hung_means(todo, mistake).id, "unfinished");
    }

    /// The id carries the chapter's number; the words name what was read.
    #[test]
    fn unreadable_names_chapter_and_call() {
        let f = unreadable(ch01(), "SO_TYPE", "your phone", Errno::EBADF);
        assert_eq!(f.id, "ch01.not-a-socket");
        assert_eq!(f.headline, "the kernel couldn't read SO_TYPE of your phone");
        assert!(
            f.got.starts_with("EBADF") && f.got.ends_with("while reading SO_TYPE"),
            "{}",
            f.got
        );
    }
}
