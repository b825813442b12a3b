//! Your self-check for chapter 4: `cargo test -p ch04-dial`.
//!
//! It switches on a phone of its own, calls your `dial()` with its number,
//! and asks the kernel whether the call really went through.
#![forbid(unsafe_code)]

/// Your phone must be connected to the number you were given, with a number of
/// its own from the exchange, and a call nobody answers must be refused.
#[test]
fn your_phone_dials_the_number_it_is_given() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 4 (Dial)",
        ch04_dial::self_check(std::process::Command::new(env!("CARGO_BIN_EXE_ch04-dial"))),
    )
}
