//! Your self-check for chapter 1: `cargo test -p ch01-install-phone`.
//!
//! It calls your `install_phone()` and asks the kernel what it got.
#![forbid(unsafe_code)]

/// The phone you install must be an IPv4 stream socket with no number yet.
#[test]
fn your_phone_is_an_unnumbered_ipv4_stream_socket() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 1 (Install a phone)",
        ch01_install_phone::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch01-install-phone"
        ))),
    )
}
