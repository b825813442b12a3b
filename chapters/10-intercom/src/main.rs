//! `cargo run -p ch10-intercom`: the scene of chapter 10, narrated.
#![forbid(unsafe_code)]

use ch10_intercom::{host_if_asked, scene, ANSWER};

fn main() {
    // Started by a self-check's judge: run the learner's functions for it.
    host_if_asked(&ANSWER);
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
