//! The opening of Part III, "The family of addresses", as a program: the
//! socket address structs measured in this build ([`layout`]), and the
//! kinds of phone (stream or datagram; IPv4, IPv6 or Unix) run side by side
//! on this machine ([`demos`]). The book's page includes what it prints,
//! from the snapshots `tests/addresses.rs` keeps; its tables cite the ids
//! of the demonstrations.
//!
//! Each chapter of the part teaches one of these kinds in full; this
//! program only lines them up, so a reader sees the differences at once.
#![forbid(unsafe_code)]

pub mod demos;
pub mod layout;

/// What `addresses --help` prints.
pub const USAGE: &str = "\
usage: addresses [--try]

With no argument: the socket address structs (sockaddr, sockaddr_in,
sockaddr_in6, sockaddr_un, sockaddr_storage), each field's offset and size
as this build measures them, and the length nix passes to bind() for each.

--try   run the demonstrations the page's tables cite, on loopback: message
        boundaries, small buffers, refusals, who is on the other end.
";

/// What to print for `args` (the arguments after the program's name), or
/// the one line that says what was wrong with them.
pub fn run(args: &[String]) -> Result<String, Refusal> {
    match args {
        [] => layout::report().map_err(Refusal::Failed),
        [flag] if flag == "--try" => demos::report().map_err(Refusal::Failed),
        [flag] if flag == "--help" || flag == "-h" => Ok(USAGE.to_string()),
        _ => Err(Refusal::BadArguments(format!(
            "addresses: unexpected {:?}; run `addresses --help` for what it takes",
            args.join(" ")
        ))),
    }
}

/// Why `run` printed nothing: the caller's mistake (exit 2) or the
/// kernel's refusal of a step (exit 1).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    BadArguments(String),
    Failed(String),
}
