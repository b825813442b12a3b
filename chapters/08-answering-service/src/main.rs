//! `cargo run -p ch08-answering-service` (STUB: being written).
#![forbid(unsafe_code)]

fn main() {
    println!("{}", ch08_answering_service::chapter().title);
}
