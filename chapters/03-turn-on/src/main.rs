//! `cargo run -p ch03-turn-on`: the scene of chapter 3, narrated.
#![forbid(unsafe_code)]

use ch03_turn_on::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
