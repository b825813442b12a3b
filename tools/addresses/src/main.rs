//! `cargo run -p dialtone-addresses [-- --try]`: see the crate's docs.
#![forbid(unsafe_code)]

use dialtone_addresses::{run, Refusal};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(Refusal::BadArguments(line)) => {
            eprintln!("{line}");
            ExitCode::from(2)
        }
        Err(Refusal::Failed(line)) => {
            eprintln!("addresses: {line}");
            ExitCode::from(1)
        }
    }
}
