//! Your self-check for chapter 8: `cargo test -p ch08-answering-service`.
//!
//! Real callers ring your service on 127.0.0.1 and report what they heard:
//! a slow listener for `send_all`, a whole conversation and a rude caller for
//! `answer_one_call`, and three callers in a row for `serve`.
#![forbid(unsafe_code)]

/// Your service greets, echoes every byte, survives rude callers and hangs up.
#[test]
fn your_service_answers_callers_one_after_another() -> Result<(), dialtone_kit::check::Verdict> {
    dialtone_kit::check::verdict(
        "Chapter 8 (An answering service)",
        ch08_answering_service::self_check(std::process::Command::new(env!(
            "CARGO_BIN_EXE_ch08-answering-service"
        ))),
    )
}
