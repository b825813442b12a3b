//! `cargo run -p ch08-answering-service`: the scene of chapter 8, narrated;
//! `-- --listen HOST:PORT` runs the answering service for real callers.
#![forbid(unsafe_code)]

use ch08_answering_service::{scene, ANSWER};

fn main() {
    dialtone_kit::scene::main(env!("CARGO_PKG_NAME"), |s, args| {
        scene::play(s, &ANSWER, &args)
    })
}
