//! `cargo run -p ch05-pick-up`: the scene of chapter 5, narrated.
//! `cargo run -p ch05-pick-up -- --listen 127.0.0.1:0` waits for a real caller.
#![forbid(unsafe_code)]

use ch05_pick_up::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
