//! `cargo run -p ch04-dial` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch04_dial::chapter().title);
}
