//! What an mdBook `{{#include file:selector}}` puts on a page: the book
//! check (every include resolves to text) and the docs run (a page's promised
//! output, often a snapshot) read includes the same way.

use std::fs;
use std::path::Path;

/// The text a selector picks from a file: an anchor, or a line range `A:B`.
pub fn select(content: &str, selector: Option<&str>, file: &str) -> Result<String, String> {
    let lines: Vec<&str> = content.lines().collect();
    let snapshot_rule =
        "a snapshot include must start at line 4, right after insta's 3-line header";
    let Some(selector) = selector else {
        return if file.ends_with(".snap") {
            Err(snapshot_rule.into())
        } else {
            Ok(content.to_string())
        };
    };
    let first = selector.split(':').next().unwrap_or_default();
    if first.is_empty() || first.chars().all(|c| c.is_ascii_digit()) {
        let mut bounds = selector.split(':');
        let start: usize = bounds.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        let end: usize = bounds
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(lines.len());
        if file.ends_with(".snap") && (start != 4 || lines.get(2) != Some(&"---")) {
            return Err(snapshot_rule.into());
        }
        if start == 0 || start > lines.len() || end < start {
            return Err(format!(
                "lines {start}..{end} are outside the file ({} lines)",
                lines.len()
            ));
        }
        return Ok(lines[start - 1..end.min(lines.len())].join("\n"));
    }
    let begin = lines
        .iter()
        .position(|l| l.trim_end().ends_with(&format!("ANCHOR: {selector}")))
        .ok_or_else(|| format!("{file} has no `ANCHOR: {selector}`"))?;
    let end = lines[begin..]
        .iter()
        .position(|l| l.trim_end().ends_with(&format!("ANCHOR_END: {selector}")))
        .ok_or_else(|| format!("{file} has no `ANCHOR_END: {selector}`"))?;
    Ok(lines[begin + 1..begin + end]
        .iter()
        .filter(|l| !l.contains("ANCHOR"))
        .copied()
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `text` with every `{{#include file:selector}}` replaced by what it
/// includes, files taken relative to `dir` (the page's folder).
pub fn expand(dir: &Path, text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{#include ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "{{#include ".len()..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("an unclosed include: {}", &rest[at..]))?;
        let spec = after[..end].trim();
        let (file, selector) = match spec.split_once(':') {
            Some((f, s)) => (f, Some(s)),
            None => (spec, None),
        };
        let content = fs::read_to_string(dir.join(file))
            .map_err(|e| format!("{{{{#include {spec}}}}}: {e}"))?;
        out.push_str(&select(&content, selector, file)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
