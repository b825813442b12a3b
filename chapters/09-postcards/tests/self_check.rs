//! Your self-check for chapter 9: `cargo test -p ch09-postcards`.
//!
//! It calls your `get_a_phone()` and asks the kernel what it got.
#![forbid(unsafe_code)]

/// The phone you get must be an IPv4 stream socket.
#[test]
fn your_phone_is_an_ipv4_stream_socket() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 9 (Postcards)",
        ch09_postcards::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch09-postcards"
        ))),
    )
}
