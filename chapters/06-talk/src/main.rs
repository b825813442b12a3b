//! `cargo run -p ch06-talk`: the scene of chapter 6, narrated.
#![forbid(unsafe_code)]

use ch06_talk::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
