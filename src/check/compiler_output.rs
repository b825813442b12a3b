//! The compiler's words as a learner should read them.

/// The compiler's errors without its closing boilerplate, and with
/// dependency sources named by crate (`nix-0.32.0/src/...`) rather than by
/// where this machine's package cache happens to keep them.
pub fn tidy(text: &str) -> String {
    let kept: Vec<String> = text.lines().map(shorten_registry_path).collect();
    let kept: Vec<&str> = kept
        .iter()
        .map(String::as_str)
        .filter(|l| {
            !l.starts_with("error: aborting due to")
                && !l.starts_with("For more information about")
                && !l.starts_with("Some errors have detailed explanations")
                && !l.contains("could not compile")
        })
        .collect();
    kept.join("\n").trim_end().to_string()
}

fn shorten_registry_path(line: &str) -> String {
    const MARK: &str = "/registry/src/";
    let Some(at) = line.find(MARK) else {
        return line.to_string();
    };
    let start = line[..at].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let after = at + MARK.len();
    match line[after..].find('/') {
        Some(slash) => format!("{}{}", &line[..start], &line[after + slash + 1..]),
        None => line.to_string(),
    }
}

/// `s` without terminal colour codes (cargo's JSON renders them in).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boilerplate_goes_and_registry_paths_shorten() {
        let text = "error[E0425]: cannot find value `x`\n  --> /home/u/.cargo/registry/src/index-abc/nix-0.32.0/src/lib.rs:1:1\nerror: aborting due to 1 previous error\nFor more information about this error, try `rustc --explain E0425`.\n";
        assert_eq!(
            tidy(text),
            "error[E0425]: cannot find value `x`\n  --> nix-0.32.0/src/lib.rs:1:1"
        );
        assert_eq!(strip_ansi("\x1b[1m\x1b[31merror\x1b[0m: x"), "error: x");
    }
}
