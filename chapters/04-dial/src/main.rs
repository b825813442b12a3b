//! `cargo run -p ch04-dial`: the scene of chapter 4, narrated.
//! `cargo run -p ch04-dial -- --to 127.0.0.1:5000` dials a real phone.
#![forbid(unsafe_code)]

use ch04_dial::{host_if_asked, scene, ANSWER};

fn main() {
    // Started by a self-check's judge: run the learner's functions for it.
    host_if_asked(&ANSWER);
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
