//! Your self-check for chapter 3: `cargo test -p ch03-turn-on`.
//!
//! It calls your `open_for_calls()`, asks the kernel whether the phone is
//! switched on, and then really dials the number you returned.
#![forbid(unsafe_code)]

/// Your phone must be listening on a loopback number, and ring when dialled.
#[test]
fn your_phone_is_switched_on_and_rings() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 3 (Turn the phone on)",
        ch03_turn_on::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch03-turn-on"
        ))),
    )
}
