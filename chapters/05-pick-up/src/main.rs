//! `cargo run -p ch05-pick-up` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch05_pick_up::chapter().title);
}
