//! Cargo, for the two jobs the fast path leaves to it: building the chapter
//! libraries once and the slow path's `cargo test`. Both read cargo's
//! `--message-format=json` lines.

use crate::workspace::Workspace;
use serde_json::Value;
use std::process::Command;

/// `cargo`, in the workspace, in words a learner's terminal can show.
pub fn command(ws: &Workspace) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&ws.root)
        .env("CARGO_TERM_COLOR", "never")
        // Self-checks never write insta's pending snapshots into the learner's tree.
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS");
    cmd
}

/// Cargo's JSON messages in its stdout (other lines are skipped).
pub fn messages(stdout: &str) -> impl Iterator<Item = Value> + '_ {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
}

/// The compiler's rendered errors among `messages`.
pub fn errors(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
        .filter_map(|m| m["message"]["rendered"].as_str())
        .map(super::compiler_output::strip_ansi)
        .collect()
}
