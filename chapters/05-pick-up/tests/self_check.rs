//! Your self-check for chapter 5: `cargo test -p ch05-pick-up`.
//!
//! It switches on a phone, rings it from a caller of its own, hands the phone
//! to your `pick_up()`, and asks the kernel what came back.
#![forbid(unsafe_code)]

/// Your pick_up() must return a new line for the call (not the phone on the
/// wall), the caller's number, and the caller's words must arrive on it.
#[test]
fn you_pick_up_the_ringing_call() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 5 (Pick up)",
        ch05_pick_up::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch05-pick-up"
        ))),
    )
}
