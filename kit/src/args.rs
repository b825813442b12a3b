//! The few command-line flags chapter binaries take (`--to`, `--listen`).
//!
//! Deliberately tiny: a chapter binary has one optional flag, and a learner's
//! typo deserves one line saying what was expected, not a parser's essay.

use crate::scene::SceneError;
use nix::sys::socket::SockaddrIn;
use std::net::{Ipv4Addr, SocketAddrV4};

/// What a chapter binary was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    /// No flags: play the scene, both parties in this process.
    Scene,
    /// `FLAG HOST:PORT`: talk to (or wait for) a real peer.
    Real(SockaddrIn),
}

/// Parses `[FLAG HOST:PORT]`. `HOST` is an IPv4 number or `localhost`;
/// names and IPv6 come in later chapters.
pub fn parse(args: &[String], flag: &str, example: &str) -> Result<Mode, SceneError> {
    let usage = |why: String| {
        SceneError::Usage(format!(
            "{why}. Usage: no arguments for the scene, or {flag} HOST:PORT (e.g. {flag} {example})."
        ))
    };
    match args {
        [] => Ok(Mode::Scene),
        [f, value] if f == flag => parse_addr(value)
            .map(Mode::Real)
            .map_err(|why| usage(format!("{flag} {value}: {why}"))),
        [f] if f == flag => Err(usage(format!("{flag} needs a HOST:PORT after it"))),
        [other, ..] => Err(usage(format!("unexpected argument {other:?}"))),
    }
}

/// `127.0.0.1:5000` or `localhost:5000` to a nix IPv4 address.
pub fn parse_addr(value: &str) -> Result<SockaddrIn, String> {
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| "expected HOST:PORT, with a colon before the port".to_string())?;
    let ip: Ipv4Addr = if host == "localhost" {
        Ipv4Addr::LOCALHOST
    } else {
        host.parse().map_err(|_| {
            format!(
                "{host:?} is not an IPv4 number like 127.0.0.1 (names and IPv6 come in Part III)"
            )
        })?
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number (0 to 65535)"))?;
    Ok(SockaddrIn::from(SocketAddrV4::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A learner's typo gets one usage line, not a panic.
    #[test]
    fn nonsense_is_a_usage_error() {
        for bad in [
            &["--to", "nonsense"][..],
            &["--to"],
            &["--to", "127.0.0.1:99999"],
            &["--too", "127.0.0.1:1"],
        ] {
            let err = parse(&strings(bad), "--to", "127.0.0.1:5000").unwrap_err();
            assert!(
                matches!(err, SceneError::Usage(ref l) if l.contains("Usage") && !l.contains('\n')),
                "{err}"
            );
        }
    }

    #[test]
    fn localhost_and_numbers_parse() {
        assert_eq!(parse(&[], "--to", "x").unwrap(), Mode::Scene);
        let Mode::Real(a) = parse(&strings(&["--to", "localhost:7"]), "--to", "x").unwrap() else {
            panic!("expected a real address")
        };
        assert_eq!((a.ip(), a.port()), (Ipv4Addr::LOCALHOST, 7));
    }
}
