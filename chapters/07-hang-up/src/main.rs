//! `cargo run -p ch07-hang-up` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch07_hang_up::chapter().title);
}
