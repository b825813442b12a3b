//! Calling the learner's code safely.
//!
//! A learner's function may be a `todo!()`, may panic, or may block forever
//! (an `accept` with nobody calling, a `read` that waits for bytes that never
//! come). [`call`] runs it on its own thread under the chapter's timeout and
//! turns each of those into a [`LearnerError`] whose `Display` is one friendly
//! paragraph: which function, in which file, and what to try. No backtrace.
//!
//! A hung call's thread can't be killed from safe Rust; it is left parked and
//! dies with the process, which is why binaries exit right after reporting.

use crate::course::Chapter;
use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Once};
use std::thread;
use std::time::Duration;

/// What went wrong inside the learner's function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// It reached a `todo!()`: the learner hasn't written it yet.
    Unfinished,
    /// It panicked with this message.
    Panicked(String),
    /// It didn't return within this time.
    Hung(Duration),
}

#[derive(Debug, Clone)]
pub struct LearnerError {
    pub chapter: &'static Chapter,
    pub function: String,
    pub trouble: Trouble,
}

/// Thread names start with this so the quiet panic hook knows whose panic it is.
const THREAD_PREFIX: &str = "learner:";

/// Runs `f` (the learner's `function`) under `chapter`'s timeout.
pub fn call<T, F>(chapter: &'static Chapter, function: &str, f: F) -> Result<T, LearnerError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    call_within(chapter, function, chapter.timeout(), f)
}

/// Like [`call`], with an explicit timeout (checks use a short one when a
/// call is *expected* to block, to prove that it does).
pub fn call_within<T, F>(
    chapter: &'static Chapter,
    function: &str,
    timeout: Duration,
    f: F,
) -> Result<T, LearnerError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    quiet_learner_panics();
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name(format!("{THREAD_PREFIX}{function}"))
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(f));
            // The receiver may have given up (timeout); nobody is left to tell.
            let _ = tx.send(outcome);
        });
    let fail = |trouble| LearnerError {
        chapter,
        function: function.to_string(),
        trouble,
    };
    if let Err(e) = spawned {
        return Err(fail(Trouble::Panicked(format!(
            "could not start a thread: {e}"
        ))));
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(payload)) => {
            let trouble = classify(payload.as_ref());
            let mut error = fail(trouble.clone());
            // A task may call another task (a service calling its own
            // send_all()): name the todo!() actually reached, not its caller.
            if let (Trouble::Unfinished, Some(inner)) = (&trouble, todo_name(payload.as_ref())) {
                if chapter.task(&inner).is_some() {
                    error.function = inner;
                }
            }
            Err(error)
        }
        Err(_) => Err(fail(Trouble::Hung(timeout))),
    }
}

/// The name inside `todo!("name")`, if the panic came from one.
fn todo_name(payload: &(dyn Any + Send)) -> Option<String> {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())?;
    message
        .strip_prefix("not yet implemented: ")
        .map(|name| name.trim().to_string())
}

fn classify(payload: &(dyn Any + Send)) -> Trouble {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_string());
    // `todo!()` panics with "not yet implemented", optionally followed by ": <msg>".
    if message.starts_with("not yet implemented") {
        Trouble::Unfinished
    } else {
        Trouble::Panicked(message)
    }
}

/// Installs (once) a panic hook that stays silent for learner threads, whose
/// panics we report ourselves, and defers to the usual hook for everything else.
fn quiet_learner_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let learner = thread::current()
                .name()
                .is_some_and(|n| n.starts_with(THREAD_PREFIX));
            if !learner {
                previous(info);
            }
        }));
    });
}

impl LearnerError {
    /// The learner file, relative to the workspace root, as a learner types it.
    pub fn file(&self) -> String {
        self.chapter.learner_path().display().to_string()
    }

    fn task_line(&self) -> String {
        match self.chapter.task(&self.function) {
            Some(task) => format!("Your job there: {}.\nHint: {}.", task.does, task.hint),
            None => String::new(),
        }
    }
}

impl fmt::Display for LearnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, file) = (&self.function, self.file());
        let krate = self.chapter.crate_name();
        match &self.trouble {
            Trouble::Unfinished => write!(
                f,
                "Not yet: {name}() in {file} is still a todo!().\n{}\n\
                 Fill it in, then run `cargo run -p {krate}` again; `cargo test -p {krate}` checks your answer.",
                self.task_line()
            ),
            Trouble::Panicked(msg) => write!(
                f,
                "{name}() in {file} panicked: {msg}\n\
                 A learner function should return an Err for the kernel's \"no\", not unwrap() it.\n{}",
                self.task_line()
            ),
            Trouble::Hung(t) => {
                let waiting = waiting_words(self.chapter);
                write!(
                    f,
                    "{name}() in {file} did not return within {} s: the line went quiet.\n\
                     Something in it is {} ({}), or it loops forever.\n{}",
                    t.as_secs_f32(),
                    waiting.phone,
                    waiting.calls,
                    self.task_line()
                )
            }
        }
    }
}

impl std::error::Error for LearnerError {}

/// What a hung learner call is most likely waiting for, in telephone words
/// and as the blocking calls that do it, for this chapter's kind of phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// e.g. "waiting by the telephone for a call or for words that never come".
    pub phone: &'static str,
    /// e.g. "a blocking accept, read or connect".
    pub calls: &'static str,
}

/// The words for a hung call in `chapter`: a chapter about datagrams
/// (its syscalls include `sendto`, `recvfrom` or `recvmsg`) waits at the
/// letterbox, not by the telephone, and has no accept or connect to block.
pub fn waiting_words(chapter: &Chapter) -> Waiting {
    let postcards = chapter
        .syscalls
        .iter()
        .any(|c| matches!(c.as_str(), "sendto" | "recvfrom" | "recvmsg" | "sendmsg"));
    if postcards {
        Waiting {
            phone: "waiting at the letterbox for a postcard that never comes",
            calls: "a blocking recvfrom or recv, with nobody posting",
        }
    } else {
        Waiting {
            phone: "waiting by the telephone for a call or for words that never come",
            calls: "a blocking accept, read or connect",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::course;
    use std::time::Instant;

    fn ch01() -> &'static Chapter {
        course().chapter(1).expect("chapter 1 exists")
    }

    /// A todo!() becomes "unfinished", with the file and the task's hint.
    #[test]
    fn todo_is_unfinished_with_file_and_hint() {
        let err = call(ch01(), "install_phone", || -> u8 { todo!("install_phone") }).unwrap_err();
        assert_eq!(err.trouble, Trouble::Unfinished);
        let text = err.to_string();
        assert!(
            text.contains("chapters/01-install-phone/src/answer.rs"),
            "{text}"
        );
        assert!(text.contains(&ch01().tasks[0].hint), "{text}");
    }

    /// A panic is caught and its message kept; the process carries on.
    #[test]
    fn panic_is_caught() {
        let err = call(ch01(), "install_phone", || -> u8 { panic!("boom") }).unwrap_err();
        assert_eq!(err.trouble, Trouble::Panicked("boom".into()));
    }

    /// A call that never returns is reported as hung once the timeout passes,
    /// not waited on forever.
    #[test]
    fn hang_is_reported_after_the_timeout() {
        let start = Instant::now();
        let timeout = Duration::from_millis(200);
        let err = call_within(ch01(), "install_phone", timeout, || loop {
            thread::park();
        })
        .unwrap_err();
        assert_eq!(err.trouble, Trouble::Hung(timeout));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "gave up late: {:?}",
            start.elapsed()
        );
        assert!(
            err.to_string().contains("did not return within 0.2 s"),
            "{err}"
        );
    }

    /// A finished call hands its value back unchanged.
    #[test]
    fn value_comes_back() {
        assert_eq!(call(ch01(), "install_phone", || 7u8).unwrap(), 7);
    }

    /// The stream chapters keep their words; a datagram chapter's hung
    /// call speaks of postcards and recvfrom, not of accept or connect.
    #[test]
    fn hung_words_fit_the_kind_of_phone() {
        let stream = waiting_words(ch01());
        assert!(stream.calls.contains("accept") && stream.phone.contains("telephone"));
        // Chapter 1 as a datagram chapter would list its calls.
        let mut course = crate::course::Course::parse(crate::course::COURSE_TOML).expect("parses");
        let mut postcards = course.chapters.swap_remove(0);
        postcards.syscalls = vec!["socket".into(), "sendto".into(), "recvfrom".into()];
        let postcards: &'static Chapter = Box::leak(Box::new(postcards));
        let err = call_within(
            postcards,
            "install_phone",
            Duration::from_millis(10),
            || loop {
                thread::park();
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("postcard") && err.contains("recvfrom"),
            "{err}"
        );
        assert!(!err.contains("accept") && !err.contains("connect"), "{err}");
    }
}
