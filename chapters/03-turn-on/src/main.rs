//! `cargo run -p ch03-turn-on` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch03_turn_on::chapter().title);
}
