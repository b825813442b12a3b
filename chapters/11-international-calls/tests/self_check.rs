//! Your self-check for chapter 11: `cargo test -p ch11-international-calls`.
//!
//! It gives your `dial_each()` lists of numbers of both families (a dead
//! one first, one that never answers) and asks your `open_listener()` for
//! IPv6 phones, v6-only on and off, that IPv4 and IPv6 callers ring. All on
//! this machine's loopback lines: 127.0.0.1 and ::1.
#![forbid(unsafe_code)]

/// Your dialler tries each number in turn; your IPv6 phone is v6-only as asked.
#[test]
fn your_calls_go_through_in_both_families() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 11 (International calls)",
        ch11_international_calls::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch11-international-calls"
        ))),
    )
}
