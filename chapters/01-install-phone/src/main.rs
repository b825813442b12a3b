//! `cargo run -p ch01-install-phone`: the scene of chapter 1, narrated.
#![forbid(unsafe_code)]

use ch01_install_phone::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
