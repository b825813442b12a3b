//! Your self-check for chapter 2: `cargo test -p ch02-get-number`.
//!
//! It hands your `get_a_number()` a fresh phone, then asks the kernel which
//! number that phone really has.
#![forbid(unsafe_code)]

/// Your phone must get a kernel-chosen number on 127.0.0.1, and you must
/// return the number the kernel reports.
#[test]
fn your_phone_gets_a_free_loopback_number() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 2 (Get a number)",
        ch02_get_number::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch02-get-number"
        ))),
    )
}
