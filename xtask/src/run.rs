//! Running cargo (and other programs) for the chores, with their output
//! passed straight through, so a person sees the build as it happens.

use std::path::Path;
use std::process::Command;

/// `cargo` as the one that started us (so a toolchain chosen by rustup is
/// kept), or the one on PATH.
pub fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root);
    command
}

/// Runs `command` to the end; an error names it and how it ended.
pub fn status(command: &mut Command) -> Result<(), String> {
    let shown = show(command);
    println!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("couldn't start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// The command as a person would type it (program and arguments).
pub fn show(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    let mut out = vec![program];
    out.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    out.join(" ")
}
