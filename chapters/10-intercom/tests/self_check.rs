//! Your self-check for chapter 10: `cargo test -p ch10-intercom`.
//!
//! It calls your three functions in a process of their own, each in a fresh
//! private folder: a free name, a path too long, a stale socket file, a
//! running server, a caller from another process (as user nobody when you
//! are root), and taking the intercom down. It asks the kernel and the
//! filesystem what your code did, and removes every folder afterwards.
#![forbid(unsafe_code)]

/// Your intercom goes up safely, names its caller, and leaves nothing behind.
#[test]
fn your_intercom_is_safe_and_knows_its_callers() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 10 (The intercom)",
        ch10_intercom::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch10-intercom"
        ))),
    )
}
