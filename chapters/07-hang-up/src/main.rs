//! `cargo run -p ch07-hang-up`: the scene of chapter 7, narrated.
#![forbid(unsafe_code)]

use ch07_hang_up::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
