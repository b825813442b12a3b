//! `cargo run -p ch11-international-calls`: the scene of chapter 11, narrated.
#![forbid(unsafe_code)]

use ch11_international_calls::{host_if_asked, scene, ANSWER};

fn main() {
    // Started by a self-check's judge: run the learner's functions for it.
    host_if_asked(&ANSWER);
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
