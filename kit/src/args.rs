//! The few command-line flags chapter binaries take (`--to`, `--listen`),
//! `--help` for every one of them, and the one-line usage errors.
//!
//! Deliberately tiny: a chapter binary has at most one flag, and a learner's
//! typo deserves one line saying what was expected, not a parser's essay.
//! Every chapter's scene starts with [`none`] or [`parse`], so `--help` and
//! the usage lines read the same in all eight binaries.

use crate::course::Chapter;
use crate::scene::SceneError;
use nix::errno::Errno;
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

/// The one flag a chapter binary takes to meet a real peer.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// `--to` or `--listen`.
    pub name: &'static str,
    /// A `HOST:PORT` that works, for the usage line's example.
    pub example: &'static str,
    /// What the binary does with the address, for `--help`: telephone words,
    /// then the system calls.
    pub does: &'static str,
    /// One more line for `--help` (how to give the binary a peer), or "".
    pub note: &'static str,
}

/// True if the learner asked for help: `--help` or `-h`, anywhere.
fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// For a chapter whose binary takes no arguments: `--help` prints the usage,
/// anything else is a one-line usage error.
pub fn none(chapter: &Chapter, args: &[String]) -> Result<(), SceneError> {
    if wants_help(args) {
        return Err(SceneError::Help(help(chapter, None)));
    }
    match args.first() {
        None => Ok(()),
        Some(arg) => Err(SceneError::Usage(format!(
            "chapter {} takes no arguments (got {arg:?}): the scene brings its own phones. \
             Usage: cargo run -p {} (--help says more).",
            chapter.number,
            chapter.crate_name()
        ))),
    }
}

/// Parses `[FLAG HOST:PORT]`, or `--help`. `HOST` is an IPv4 number or
/// `localhost`; names and IPv6 come in later chapters.
pub fn parse(chapter: &Chapter, args: &[String], flag: &Flag) -> Result<Mode, SceneError> {
    if wants_help(args) {
        return Err(SceneError::Help(help(chapter, Some(flag))));
    }
    let name = flag.name;
    let usage = |why: String| {
        SceneError::Usage(format!(
            "{why}. Usage: no arguments for the scene, or {name} HOST:PORT (e.g. {name} {}); --help says more.",
            flag.example
        ))
    };
    match args {
        [] => Ok(Mode::Scene),
        [f, value] if f == name => parse_addr(value)
            .map(Mode::Real)
            .map_err(|why| usage(format!("{name} {value}: {why}"))),
        [f] if f == name => Err(usage(format!("{name} needs a HOST:PORT after it"))),
        [f, _, extra, ..] if f == name => Err(usage(format!(
            "unexpected argument {extra:?}: {name} takes one HOST:PORT"
        ))),
        [other, ..] => Err(usage(format!("unexpected argument {other:?}"))),
    }
}

/// The `--help` text: what the binary does (from course.toml), how to run
/// it, an example. Printed on stdout, exit 0.
pub fn help(chapter: &Chapter, flag: Option<&Flag>) -> String {
    let run = format!("cargo run -p {}", chapter.crate_name());
    let mut lines = vec![(
        run.clone(),
        "play the scene: both parties in this program, every call narrated".to_string(),
    )];
    if let Some(f) = flag {
        lines.push((format!("{run} -- {} HOST:PORT", f.name), f.does.to_string()));
    }
    lines.push((format!("{run} -- --help"), "show this help".to_string()));
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);

    let mut text = format!(
        "Chapter {} of Dial Tone, \"{}\". You {}.\n\
         The scene narrates it step by step, in telephone words and the system calls \
         beneath them ({}).\n\nUsage:\n",
        chapter.number,
        chapter.title,
        chapter.analogy,
        chapter.syscalls.join(", ")
    );
    for (line, what) in &lines {
        text.push_str(&format!("  {line:<width$}   {what}\n"));
    }
    text.push_str("\nExample:\n");
    match flag {
        Some(f) => text.push_str(&format!("  {run} -- {} {}\n", f.name, f.example)),
        None => text.push_str(&format!("  {run} --features solution\n")),
    }
    if let Some(note) = flag.map(|f| f.note).filter(|n| !n.is_empty()) {
        text.push_str(&format!("{note}\n"));
    }
    let before = if flag.is_some() {
        " (before the --)"
    } else {
        ""
    };
    text.push_str(&format!(
        "With --features solution{before} the scene plays the reference answer instead of yours.\n"
    ));
    text
}

/// What to do when the exchange refuses the number a `--listen` asked for.
pub fn bind_advice(errno: Errno, at: &str) -> String {
    match errno {
        Errno::EADDRINUSE => format!(
            "Another program (an earlier run, or nc) already has {at}: stop it, pick another port, or use port 0 and let the exchange choose."
        ),
        Errno::EACCES => "Ports below 1024 need root: use a port of 1024 or above, or port 0.".to_string(),
        Errno::EADDRNOTAVAIL => format!(
            "{at} isn't one of this machine's addresses (`ip -4 addr` lists them): use 127.0.0.1."
        ),
        _ => "Check the address: 127.0.0.1 with port 0 always works.".to_string(),
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
    use crate::course;

    const TO: Flag = Flag {
        name: "--to",
        example: "127.0.0.1:5000",
        does: "dial a real phone",
        note: "",
    };

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn chapter() -> &'static Chapter {
        course::chapter_for("ch04-dial")
    }

    /// A learner's typo gets one usage line, not a panic.
    #[test]
    fn nonsense_is_a_usage_error() {
        for bad in [
            &["--to", "nonsense"][..],
            &["--to"],
            &["--to", "127.0.0.1:99999"],
            &["--too", "127.0.0.1:1"],
            &["--to", "127.0.0.1:1", "extra"],
        ] {
            let err = parse(chapter(), &strings(bad), &TO).unwrap_err();
            assert!(
                matches!(err, SceneError::Usage(ref l) if l.contains("Usage") && l.contains("--help") && !l.contains('\n')),
                "{err}"
            );
        }
    }

    /// The extra argument is the one named, not the flag before it.
    #[test]
    fn an_extra_argument_is_named() {
        let err = parse(chapter(), &strings(&["--to", "localhost:7", "x"]), &TO).unwrap_err();
        assert!(err.to_string().contains("\"x\""), "{err}");
    }

    #[test]
    fn localhost_and_numbers_parse() {
        assert_eq!(parse(chapter(), &[], &TO).unwrap(), Mode::Scene);
        let Mode::Real(a) = parse(chapter(), &strings(&["--to", "localhost:7"]), &TO).unwrap()
        else {
            panic!("expected a real address")
        };
        assert_eq!((a.ip(), a.port()), (Ipv4Addr::LOCALHOST, 7));
    }

    /// `--help` and `-h`, wherever they are, ask for the help text.
    #[test]
    fn help_is_help_anywhere() {
        for asked in [&["--help"][..], &["-h"], &["--to", "x", "--help"]] {
            let err = parse(chapter(), &strings(asked), &TO).unwrap_err();
            let SceneError::Help(text) = err else {
                panic!("{asked:?} should ask for help, got {err}")
            };
            assert!(text.contains("--to HOST:PORT") && text.contains("--to 127.0.0.1:5000"));
            let SceneError::Help(text) = none(chapter(), &strings(asked)).unwrap_err() else {
                panic!("{asked:?} should ask for help")
            };
            assert!(!text.contains("HOST:PORT"), "{text}");
        }
    }

    /// A chapter without flags refuses any argument in one line.
    #[test]
    fn no_arguments_means_none() {
        assert!(none(chapter(), &[]).is_ok());
        let err = none(chapter(), &strings(&["-x"])).unwrap_err();
        assert!(
            matches!(err, SceneError::Usage(ref l) if l.contains("takes no arguments") && l.contains("cargo run -p ch04-dial") && !l.contains('\n')),
            "{err}"
        );
    }
}
