//! `cargo run -p ch06-talk` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch06_talk::chapter().title);
}
