//! `cargo run -p ch02-get-number`: the scene of chapter 2, narrated.
#![forbid(unsafe_code)]

use ch02_get_number::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
