//! How long a scene or a self-check waits, named for what it waits on.
//!
//! Every wait in a check has a reason to end, and the reason sets the
//! length. A wait for something that is already in the kernel (bytes that
//! were written on loopback, a call already queued) ends in microseconds
//! when all is well, so its limit only matters when something is wrong and
//! can be short. A wait for the learner's own function to do what it should
//! must leave room for a slow machine. Naming each wait for what it waits on
//! keeps a chapter from guessing a number, and a verdict that says "nothing
//! within 2 s" says the same thing in every chapter.
//!
//! All of them stay under a chapter's timeout (`course.toml`, 4 s), so a
//! wrong answer fails in seconds, not minutes.

use std::time::Duration;

/// Something already sent on loopback, waited for by the other end: a call
/// that `connect()` has queued ringing on the listener, words a caller has
/// written arriving on the line. On loopback the kernel has done it before
/// the sender's call returned; two seconds is for a machine under load.
/// (Chapter 4's `RING_WITHIN`, chapter 5's `HEAR_WITHIN` and `SOON`.)
pub const ALREADY_IN_THE_KERNEL: Duration = Duration::from_secs(2);

/// A learner call that should return at once, where the classic mistake
/// is to wait for ever: a read loop that treats end-of-file as "try
/// again", a frame reader with no limit. Checks run such calls under this
/// instead of the chapter's timeout, so the mistake gets its own verdict.
/// (Chapters 6 and 7's `QUIET`.)
pub const SHOULD_RETURN_AT_ONCE: Duration = Duration::from_secs(2);

/// A scripted other party waiting for the learner's side to take (read)
/// what it said before it says more, or to answer it: the pacing that keeps
/// two writes from landing in one read. The learner's read happens on
/// another thread, so this leaves more room than [`ALREADY_IN_THE_KERNEL`].
/// (Chapters 6 and 7's check `PATIENCE`, chapter 8's scene `PATIENCE`.)
pub const PEER_REPLY: Duration = Duration::from_secs(3);

/// A caller in a check waiting for the learner's service to say its next
/// thing (a greeting, an echo, the end of the call). Shorter than
/// [`PEER_REPLY`] because a check makes several such waits inside one
/// learner call. (Chapter 8's check `PATIENCE`.)
pub const SERVICE_REPLY: Duration = Duration::from_secs(2);

/// How long a test caller lets a phone ring before hanging up: a loopback
/// call to a switched-on phone connects in microseconds; one whose queue is
/// full never does (the kernel ignores the caller's SYN and the first retry
/// comes a second later). Used with [`crate::party::dial_within`].
/// (Chapter 3's `RING_OUT`.)
pub const RING_OUT: Duration = Duration::from_secs(2);

/// A scene waiting for its own props: bytes it has just written reaching
/// the other end, the other kernel's reset arriving. Generous, because a
/// scene that gives up can only say "run it again", and scenes run on
/// loaded classroom machines. (Chapters 6 and 7's scene `PATIENCE`.)
pub const SCENE_SETTLES: Duration = Duration::from_secs(5);

/// A person at a real terminal typing a line (`nc`, then typing): people
/// are slow, and the scene tells them how long they have.
/// (Chapter 5's `--listen` `PATIENCE`.)
pub const PERSON_TYPES: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every check's wait ends well inside the chapter's timeout, so a
    /// call that the check waits on can still be reported as hung.
    #[test]
    fn check_waits_fit_inside_a_chapter_timeout() {
        let timeout = crate::course::course()
            .chapters
            .iter()
            .map(|c| c.timeout())
            .min()
            .expect("the course has chapters");
        for wait in [
            ALREADY_IN_THE_KERNEL,
            SHOULD_RETURN_AT_ONCE,
            PEER_REPLY,
            SERVICE_REPLY,
            RING_OUT,
        ] {
            assert!(wait < timeout, "{wait:?} is not under {timeout:?}");
        }
    }
}
