//! `cargo run -p ch02-get-number` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch02_get_number::chapter().title);
}
