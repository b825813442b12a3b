//! The few command-line flags chapter binaries take (`--to`, `--listen`),
//! `--help` and `--hold` for every one of them, and the one-line usage errors.
//!
//! Deliberately tiny: a chapter binary has at most one flag, and a learner's
//! typo deserves one line saying what was expected, not a parser's essay.
//! Every chapter's scene starts with [`none`] or [`parse`], so `--help` and
//! the usage lines read the same in all eight binaries.

use crate::course::Chapter;
use crate::scene::{wrap_to, SceneError};
use nix::errno::Errno;
use nix::sys::socket::{SockaddrIn, SockaddrIn6};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4, SocketAddrV6};

/// Every binary's `--hold`: the scene stops at each [`Scene::hold`] step
/// until Enter, so the learner has time to look at the process from another
/// terminal (`ls -l /proc/PID/fd`, `ss -tanp`). [`crate::scene::main`]
/// reads it; [`none`] and [`parse`] let it through wherever it is.
///
/// [`Scene::hold`]: crate::scene::Scene::hold
pub const HOLD: &str = "--hold";

/// How wide `--help` is: a terminal's 80 columns.
const COLUMNS: usize = 80;

/// How much of a learner's argument an error line quotes back.
const QUOTE_AT_MOST: usize = 60;

/// `arg` as an error line quotes it: whole if short, else its first
/// [`QUOTE_AT_MOST`] bytes (on a character boundary), `…` and how much more
/// there was. A pasted 100 kB argument gets one readable line, not 100 kB.
pub fn quoted(arg: &str) -> String {
    if arg.len() <= QUOTE_AT_MOST {
        return format!("{arg:?}");
    }
    let mut end = QUOTE_AT_MOST;
    while !arg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}…({} more bytes)", &arg[..end], arg.len() - end)
}

/// The arguments without `--hold` (every binary takes it; see [`HOLD`]).
fn without_hold(args: &[String]) -> Vec<String> {
    args.iter().filter(|a| *a != HOLD).cloned().collect()
}

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
    match without_hold(args).first() {
        None => Ok(()),
        Some(arg) => Err(SceneError::Usage(format!(
            "chapter {} takes no arguments but {HOLD} (got {}): the scene brings its own phones. \
             Usage: cargo run -p {} (--help says more).",
            chapter.number,
            quoted(arg),
            chapter.crate_name()
        ))),
    }
}

/// Parses `[FLAG HOST:PORT]`, or `--help`. `HOST` is an IPv4 number or
/// `localhost`; names and IPv6 come in later chapters. One rule for every
/// binary: a `PORT` alone means `127.0.0.1:PORT`. (A flag with no value at
/// all is a usage error here; chapter 8's scene reads a bare `--listen` as
/// `127.0.0.1:0` before it calls this.) A `--listen` beyond loopback is
/// taken, with one warning line on stderr (see [`beyond_loopback`]).
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
    let number = match without_hold(args).as_slice() {
        [] => return Ok(Mode::Scene),
        [f] if f == name => return Err(usage(format!("{name} needs a HOST:PORT after it"))),
        [f, value] if f == name => {
            parse_addr(value).map_err(|why| usage(format!("{name} {}: {why}", quoted(value))))?
        }
        [f, _, extra, ..] if f == name => {
            return Err(usage(format!(
                "unexpected argument {}: {name} takes one HOST:PORT",
                quoted(extra)
            )))
        }
        [other, ..] => return Err(usage(format!("unexpected argument {}", quoted(other)))),
    };
    if listens(flag) {
        if let Some(warning) = beyond_loopback(&number) {
            // One line, and never a panic if stderr is closed.
            let _ = writeln!(std::io::stderr(), "{warning}");
        }
    }
    Ok(Mode::Real(number))
}

/// Can a phone here take that address? (A test `bind` to its port 0.) An
/// address that isn't this machine's gets no warning: the chapter's own
/// `bind` fails with `EADDRNOTAVAIL`, and that one line says what to do.
fn is_ours(number: &SockaddrIn) -> bool {
    let probe = SockaddrIn::from(SocketAddrV4::new(number.ip(), 0));
    crate::party::new_phone().is_ok_and(|phone| {
        nix::sys::socket::bind(std::os::fd::AsRawFd::as_raw_fd(&phone), &probe).is_ok()
    })
}

/// Does this flag put a phone on the wall for others to call?
fn listens(flag: &Flag) -> bool {
    flag.name == "--listen"
}

/// The warning for a phone that answers beyond this machine, if `number`
/// is one: every binary that listens says it the same way, from here.
pub fn beyond_loopback(number: &SockaddrIn) -> Option<String> {
    (!number.ip().is_loopback() && is_ours(number)).then(|| {
        format!(
            "warning: listening on {}: anyone who can reach this machine there can call (127.0.0.1 keeps it on this machine).",
            number.ip()
        )
    })
}

/// [`beyond_loopback`] for an IPv6 number (Part III): `::1` and the
/// IPv4-mapped loopback (`::ffff:127.0.0.1`) stay on this machine; any other
/// number of this machine gets the same warning line, and `::` (every
/// interface, IPv4 too while `IPV6_V6ONLY` is off) says so.
pub fn beyond_loopback6(number: &SockaddrIn6) -> Option<String> {
    let ip = number.ip();
    let loopback = ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback());
    if loopback || !is_ours6(number) {
        return None;
    }
    let every = if ip.is_unspecified() {
        " (:: is every interface, IPv4 too while IPV6_V6ONLY is off)"
    } else {
        ""
    };
    Some(format!(
        "warning: listening on {ip}{every}: anyone who can reach this machine there can call ([::1] keeps it on this machine)."
    ))
}

/// [`is_ours`] for IPv6: can an IPv6 phone here (v6-only off, so a mapped
/// IPv4 number is tried as IPv4) take that address with port 0?
fn is_ours6(number: &SockaddrIn6) -> bool {
    use nix::sys::socket::{setsockopt, sockopt, AddressFamily, SockType};
    let probe = SockaddrIn6::from(SocketAddrV6::new(number.ip(), 0, 0, number.scope_id()));
    let kind = crate::party::Kind::new(AddressFamily::Inet6, SockType::Stream);
    crate::party::phone(kind).is_ok_and(|phone| {
        setsockopt(&phone, sockopt::Ipv6V6Only, &false).is_ok()
            && nix::sys::socket::bind(std::os::fd::AsRawFd::as_raw_fd(&phone), &probe).is_ok()
    })
}

/// The `--help` text: what the binary does (from course.toml), how to run
/// it, an example, wrapped to 80 columns. Printed on stdout, exit 0.
pub fn help(chapter: &Chapter, flag: Option<&Flag>) -> String {
    let run = format!("cargo run -p {}", chapter.crate_name());
    let mut text = paragraph(&format!(
        "Chapter {} of Dial Tone, \"{}\". You {}.",
        chapter.number, chapter.title, chapter.analogy
    ));
    text += &paragraph(&format!(
        "The scene narrates it step by step, in telephone words and the system calls \
         beneath them ({}).",
        chapter.syscalls.join(", ")
    ));
    text.push_str("\nUsage:\n");
    // Each command on its own line, what it does under it: a command
    // column as wide as chapter 8's would leave its words 15 columns.
    for (line, what) in usage(&run, flag) {
        text.push_str(&format!("  {line}\n"));
        text += &wrap_to(COLUMNS, "      ", "      ", &what);
    }
    text.push_str("\nExample:\n");
    match flag {
        Some(f) => text.push_str(&format!("  {run} -- {} {}\n", f.name, f.example)),
        None => text.push_str(&format!("  {run} --features solution\n")),
    }
    if let Some(note) = flag.map(|f| f.note).filter(|n| !n.is_empty()) {
        text += &paragraph(note);
    }
    let before = if flag.is_some() {
        " (before the --)"
    } else {
        ""
    };
    text + &paragraph(&format!(
        "With --features solution{before} the scene plays the reference answer instead of yours."
    ))
}

/// The usage table: each way to run the binary, and what it does.
fn usage(run: &str, flag: Option<&Flag>) -> Vec<(String, String)> {
    let mut lines = vec![(
        run.to_string(),
        "play the scene: both parties in this program, every call narrated".to_string(),
    )];
    if let Some(f) = flag {
        lines.push((format!("{run} -- {} HOST:PORT", f.name), f.does.to_string()));
    }
    lines.push((
        format!("{run} -- {HOLD}"),
        "stop where the scene says until Enter, to look at /proc/PID/fd or ss".to_string(),
    ));
    lines.push((format!("{run} -- --help"), "show this help".to_string()));
    lines
}

/// One paragraph of `--help`, wrapped.
fn paragraph(text: &str) -> String {
    wrap_to(COLUMNS, "", "", text)
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

/// `127.0.0.1:5000`, `localhost:5000` or `5000` (which means
/// `127.0.0.1:5000`) to a nix IPv4 address. A port is digits only: Rust's
/// own `u16` parser would take `+80` as 80.
pub fn parse_addr(value: &str) -> Result<SockaddrIn, String> {
    let (host, port) = match value.rsplit_once(':') {
        Some(pair) => pair,
        None if is_port(value) => ("127.0.0.1", value),
        None => return Err("expected HOST:PORT, with a colon before the port".to_string()),
    };
    let ip: Ipv4Addr = if host == "localhost" {
        Ipv4Addr::LOCALHOST
    } else {
        host.parse().map_err(|_| {
            format!(
                "{} is not an IPv4 number like 127.0.0.1 (names and IPv6 come in Part III)",
                quoted(host)
            )
        })?
    };
    let port: u16 = Some(port)
        .filter(|p| is_port(p))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("{} is not a port number (0 to 65535)", quoted(port)))?;
    Ok(SockaddrIn::from(SocketAddrV4::new(ip, port)))
}

/// One to five ASCII digits: the only way a port is written here.
fn is_port(text: &str) -> bool {
    (1..=5).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
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

    const LISTEN: Flag = Flag {
        name: "--listen",
        example: "127.0.0.1:0",
        does: "answer a real caller",
        note: "",
    };

    fn real(args: &[&str], flag: &Flag) -> SockaddrIn {
        match parse(chapter(), &strings(args), flag) {
            Ok(Mode::Real(a)) => a,
            other => panic!("{args:?}: expected an address, got {other:?}"),
        }
    }

    /// `--hold` is every binary's flag: taken anywhere, by none() and parse().
    #[test]
    fn hold_is_let_through_everywhere() {
        assert!(none(chapter(), &strings(&["--hold"])).is_ok());
        let args = ["--hold", "--to", "localhost:7"];
        assert_eq!(real(&args, &TO).port(), 7);
        assert_eq!(real(&["--to", "localhost:7", "--hold"], &TO).port(), 7);
        assert_eq!(
            parse(chapter(), &strings(&["--hold"]), &TO).unwrap(),
            Mode::Scene
        );
        let SceneError::Help(text) = none(chapter(), &strings(&["-h"])).unwrap_err() else {
            panic!("help")
        };
        assert!(text.contains("-- --hold"), "{text}");
    }

    /// Only an IPv6 number beyond loopback warns; `::` says it is every
    /// interface. (Nothing listens: the probe binds port 0 and closes.)
    #[test]
    fn ipv6_beyond_loopback_warns() {
        let six = |text: &str| SockaddrIn6::from(text.parse::<SocketAddrV6>().unwrap());
        assert_eq!(beyond_loopback6(&six("[::1]:0")), None);
        assert_eq!(beyond_loopback6(&six("[::ffff:127.0.0.1]:0")), None);
        let every = beyond_loopback6(&six("[::]:0")).expect(":: is this machine's");
        assert!(
            every.starts_with("warning: listening on :: (:: is every interface")
                && every.contains("anyone who can reach this machine there can call")
                && !every.contains('\n'),
            "{every}"
        );
        // Someone else's number: bind() will say EADDRNOTAVAIL, no warning.
        assert_eq!(beyond_loopback6(&six("[2001:db8::1]:0")), None);
    }

    /// A port is digits only; `+80` is not 80.
    #[test]
    fn a_port_is_digits_only() {
        for bad in [
            "127.0.0.1:+80",
            "127.0.0.1:-1",
            "127.0.0.1: 80",
            "127.0.0.1:",
            "+80",
        ] {
            assert!(parse_addr(bad).is_err(), "{bad} was taken");
        }
        assert_eq!(parse_addr("127.0.0.1:080").unwrap().port(), 80);
    }

    /// One rule for every binary: a bare port means 127.0.0.1; a flag
    /// still needs its value.
    #[test]
    fn a_bare_port_is_loopback() {
        assert_eq!(
            real(&["--listen", "5000"], &LISTEN),
            SockaddrIn::new(127, 0, 0, 1, 5000)
        );
        assert_eq!(
            real(&["--to", "5000"], &TO),
            SockaddrIn::new(127, 0, 0, 1, 5000)
        );
        assert!(parse(chapter(), &strings(&["--listen"]), &LISTEN).is_err());
        assert!(parse(chapter(), &strings(&["--to"]), &TO).is_err());
    }

    /// A 100 kB argument is quoted in a line of readable length.
    #[test]
    fn echoed_input_is_cut() {
        let huge = "x".repeat(100_000);
        for args in [
            vec!["--to", huge.as_str()],
            vec!["--to", "127.0.0.1:1", huge.as_str()],
            vec![huge.as_str()],
            vec!["--to", &format!("{huge}:1")],
        ] {
            let err = parse(chapter(), &strings(&args), &TO)
                .unwrap_err()
                .to_string();
            assert!(err.len() < 400, "{} bytes: {}", err.len(), &err[..200]);
            assert!(err.contains("more bytes)"), "{err}");
        }
        let err = none(chapter(), &strings(&[&huge])).unwrap_err().to_string();
        assert!(
            err.len() < 400 && err.contains("…(99940 more bytes)"),
            "{err}"
        );
        // Cut on a character boundary, never inside one.
        assert!(quoted(&"é".repeat(100)).starts_with(&format!("{:?}", "é".repeat(30))));
    }

    /// Beyond loopback gets the warning; loopback doesn't.
    #[test]
    fn listening_beyond_loopback_warns() {
        let warning = beyond_loopback(&SockaddrIn::new(0, 0, 0, 0, 0)).expect("a warning");
        assert!(warning.contains("0.0.0.0") && warning.contains("anyone who can reach"));
        assert!(!warning.contains('\n'));
        assert_eq!(beyond_loopback(&SockaddrIn::new(127, 0, 0, 1, 0)), None);
        // Not this machine's (TEST-NET-1): the bind's own error says so.
        assert_eq!(beyond_loopback(&SockaddrIn::new(192, 0, 2, 1, 0)), None);
    }
}
