//! Your self-check for chapter 7: `cargo test -p ch07-hang-up`.
//!
//! It calls your two functions on real loopback calls whose other end hangs
//! up politely, waits for your half-close before answering, slams the phone
//! down, or has already gone.
#![forbid(unsafe_code)]

/// Your functions must end a call so that both sides know it is over.
#[test]
fn you_hang_up_properly() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 7 (Hang up)",
        ch07_hang_up::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch07-hang-up"
        ))),
    )
}
