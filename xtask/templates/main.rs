//! `cargo run -p {{CRATE}}`: the scene of chapter {{N}}, narrated.
#![forbid(unsafe_code)]

use {{CRATE_IDENT}}::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
