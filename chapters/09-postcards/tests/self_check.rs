//! Your self-check for chapter 9: `cargo test -p ch09-postcards`.
//!
//! It runs your functions in a program of their own and posts real cards
//! to and from them on 127.0.0.1; the kernel says what happened.
#![forbid(unsafe_code)]

/// Your postbox, your replies, your `ask` and your `read_card`, checked.
#[test]
fn your_postcards_arrive() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 9 (Postcards)",
        ch09_postcards::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch09-postcards"
        ))),
    )
}
