//! What the learner's process may write: its scratch space and nothing else.
//!
//! The host runs code nobody has reviewed, with the permissions of whoever
//! started the check (often root, in a classroom container). Limits on time,
//! memory and descriptors keep it from hurting the machine by accident; this
//! keeps it from writing where it has no business, on purpose or not: the
//! course, the student's home, cargo's caches, and, through `/proc/PID/fd/N`,
//! any file the judge or cargo holds open. (A wrong answer in the integrity
//! suite tries exactly that, and before this it did corrupt cargo's cache
//! database.)
//!
//! The tool is Landlock (Linux 5.13 and later; landlock(7)): an unprivileged
//! process gives up rights for itself and everything it starts afterwards,
//! and not even root gets them back. Reading stays allowed everywhere;
//! creating, writing, truncating, renaming and removing files is allowed only
//! beneath the temporary directory and `/tmp` (where the checks make their
//! scratch folders and Unix socket files) and `/dev` (`/dev/null`, a
//! terminal).
//! Sockets and pipes aren't files on a disk, so every lesson still works.

use landlock::{
    path_beneath_rules, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, ABI,
};

/// How much of the confinement the kernel put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confined {
    /// Writes outside the scratch folders are refused.
    Fully,
    /// An older kernel enforced some of the rights (e.g. no truncate).
    Partly,
    /// No Landlock here (too old a kernel, or turned off at boot): only the
    /// other limits apply.
    Not,
}

/// The newest Landlock ABI this code was written for; older kernels get the
/// part they understand ("best effort", the crate's default).
const ABI_WANTED: ABI = ABI::V5;

/// Confines this process (and every thread and child it starts later) to
/// writing beneath the temporary directory and `/dev`.
pub fn confine_writes() -> Confined {
    let write = AccessFs::from_write(ABI_WANTED);
    // `/tmp` too when TMPDIR points elsewhere: a check may make its scratch
    // folder there (chapter 10's, so that another user can reach it).
    let scratch = [std::env::temp_dir(), "/tmp".into(), "/dev".into()];
    let status = Ruleset::default()
        .handle_access(write)
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(&scratch, write)))
        .and_then(|r| r.restrict_self());
    match status.map(|s| s.ruleset) {
        Ok(RulesetStatus::FullyEnforced) => Confined::Fully,
        Ok(RulesetStatus::PartiallyEnforced) => Confined::Partly,
        Ok(RulesetStatus::NotEnforced) | Err(_) => Confined::Not,
    }
}
