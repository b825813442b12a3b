//! Your self-check for chapter 11: `cargo test -p ch11-international-calls`.
//!
//! It calls your `get_a_phone()` and asks the kernel what it got.
#![forbid(unsafe_code)]

/// The phone you get must be an IPv4 stream socket.
#[test]
fn your_phone_is_an_ipv4_stream_socket() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 11 (International calls)",
        ch11_international_calls::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch11-international-calls"
        ))),
    )
}
