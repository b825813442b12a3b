//! Your self-check for chapter 6: `cargo test -p ch06-talk`.
//!
//! It calls your four functions on a real loopback call whose other end is
//! deliberately awkward: it speaks one byte at a time, says two lines at once,
//! reads so slowly that `write` comes back short, and hangs up mid-sentence.
#![forbid(unsafe_code)]

/// Your functions must frame a conversation however the bytes arrive.
#[test]
fn you_can_hold_a_framed_conversation() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 6 (Talk)",
        ch06_talk::self_check(std::process::Command::new(env!("CARGO_BIN_EXE_ch06-talk"))),
    )
}
