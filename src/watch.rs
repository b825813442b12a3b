//! `watch`: check the current chapter each time its file is saved, and move
//! on to the next chapter when it passes.
//!
//! File notifications (inotify on Linux) give the quickest verdict. Network
//! mounts and WSL's Windows drives don't deliver them, so there the watcher
//! polls instead; `--manual` needs no notifications at all (Enter checks).

use crate::commands::current;
use crate::process::abort_all;
use crate::runner::Runner;
use crate::state::State;
use crate::ui::{self, cmd, BOLD, CMD, DIM, GOOD};
use crate::workspace::{hash_bytes, Workspace};
use dialtone_kit::course::Chapter;
use notify::{RecursiveMode, Watcher};
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// Editors save in bursts (truncate, write, rename); wait this long for the
/// burst to end. Short, because every millisecond here is the learner's.
const SETTLE: Duration = Duration::from_millis(15);
const POLL_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Notifications, or polling where they can't work.
    Auto,
    Poll,
    Manual,
}

enum Event {
    Saved,
    CheckNow,
    Hint,
}

pub fn watch(ws: &Workspace, runner: &Runner, mode: Mode) -> i32 {
    let state = State::new(ws);
    state.capture_starters();
    let (tx, rx) = mpsc::channel();
    let stdin_tty = std::io::stdin().is_terminal();
    // Commands are read from any stdin, not only a terminal: a script (or a
    // test) can pipe `q` in. An empty stdin (/dev/null) just ends the reader.
    keys(tx.clone(), mode == Mode::Manual);
    loop {
        let Some(ch) = current(ws, &state) else {
            anstream::println!("{GOOD}Every chapter passes its self-check. Well done!{GOOD:#}");
            return 0;
        };
        if !ws.has_check(ch) {
            anstream::println!(
                "Chapter {} ({}) has no self-check yet: it is still being written. Come back when it's ready.",
                ch.number, ch.title
            );
            return 0;
        }
        let file = ws.learner_file(ch);
        let mode_used = mode_for(&file, mode);
        let _watcher = match start_watcher(&file, mode_used, tx.clone()) {
            Ok(w) => w,
            Err(e) => {
                anstream::eprintln!(
                    "{DIM}(file notifications failed: {e}; polling instead){DIM:#}"
                );
                match start_watcher(&file, Mode::Poll, tx.clone()) {
                    Ok(w) => w,
                    Err(e) => {
                        anstream::eprintln!(
                            "can't watch {}: {e}; try `{}`",
                            ws.rel(&file),
                            cmd("watch --manual")
                        );
                        return 1;
                    }
                }
            }
        };
        intro(ch, mode_used, stdin_tty);
        let mut last_hash = None;
        // Say where the chapter stands before the first save.
        if run(ws, runner, ch, &mut last_hash, false) == Some(true) {
            continue;
        }
        loop {
            let force = match rx.recv() {
                Ok(Event::Saved) => {
                    crate::runner::trace("watch: file saved");
                    settle(&rx);
                    crate::runner::trace("watch: settled");
                    false
                }
                Ok(Event::CheckNow) => true,
                Ok(Event::Hint) => {
                    crate::commands::hint(ws, ch);
                    continue;
                }
                Err(_) => return 0,
            };
            match run(ws, runner, ch, &mut last_hash, force) {
                Some(true) => break,
                _ => continue,
            }
        }
    }
}

/// Checks `ch` if its file changed since `last_hash` (or `force`); returns
/// whether it passed, or `None` when nothing was checked.
fn run(
    ws: &Workspace,
    runner: &Runner,
    ch: &Chapter,
    last_hash: &mut Option<String>,
    force: bool,
) -> Option<bool> {
    let text = ws.read_learner(ch)?;
    let hash = hash_bytes(&text);
    if !force && last_hash.as_ref() == Some(&hash) {
        return None;
    }
    *last_hash = Some(hash);
    anstream::println!("{DIM}── checking chapter {} ──{DIM:#}", ch.number);
    match runner.check(ch, false) {
        Ok(c) => {
            ui::print_verdict(ws, ch, &c.verdict, false);
            let passed = c.verdict.outcome.passed();
            if passed {
                anstream::println!();
            } else {
                anstream::println!(
                    "{DIM}Save {} to check again.{DIM:#}\n",
                    ch.learner_path().display()
                );
            }
            Some(passed)
        }
        Err(e) => {
            anstream::eprintln!("{e}");
            Some(false)
        }
    }
}

fn intro(ch: &Chapter, mode: Mode, keys: bool) {
    anstream::println!(
        "{BOLD}Chapter {}, {}{BOLD:#} ({}: {}). Read {}.",
        ch.number,
        ch.title,
        ch.analogy,
        ch.syscalls.join(", "),
        ch.book_page().display()
    );
    let how = match mode {
        Mode::Manual => "press Enter to check".to_string(),
        Mode::Poll => "I check each time you save (polling the file)".to_string(),
        Mode::Auto => "I check each time you save".to_string(),
    };
    anstream::println!("Edit {CMD}{}{CMD:#}; {how}.", ch.learner_path().display());
    if keys {
        anstream::println!("{DIM}Enter: check now · h: next hint · q: quit{DIM:#}");
    }
    anstream::println!();
}

/// Drains the rest of a save burst.
fn settle(rx: &Receiver<Event>) {
    loop {
        match rx.recv_timeout(SETTLE) {
            Ok(Event::Saved) => continue,
            // A key press during a save burst is rare; the save wins.
            Ok(_) => continue,
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Reads commands from stdin on its own thread, so `q` works while a check
/// runs. `q` leaves at once: the running check's process group is killed and
/// state files are always whole (written by rename).
fn keys(tx: Sender<Event>, manual: bool) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            let event = match line.trim() {
                "q" | "quit" | "exit" => quit(),
                "h" | "hint" => Event::Hint,
                _ => Event::CheckNow,
            };
            if tx.send(event).is_err() {
                return;
            }
        }
        // End of input: in manual mode nothing else can ask for a check.
        if manual {
            quit();
        }
    });
}

fn quit() -> ! {
    abort_all();
    anstream::println!("Bye: `{}` shows where you are.", cmd(""));
    std::process::exit(0)
}

fn mode_for(file: &Path, asked: Mode) -> Mode {
    if asked != Mode::Auto {
        return asked;
    }
    match std::env::var("DIALTONE_WATCH").as_deref() {
        Ok("poll") => return Mode::Poll,
        Ok("manual") => return Mode::Manual,
        _ => {}
    }
    if notifications_unreliable(file) {
        Mode::Poll
    } else {
        Mode::Auto
    }
}

/// Network filesystems and WSL's Windows drives don't report changes made
/// elsewhere (or at all): poll there.
fn notifications_unreliable(file: &Path) -> bool {
    const NFS: i64 = 0x6969;
    const SMB: i64 = 0x517B;
    const CIFS: i64 = 0xFF53_4D42;
    const SMB2: i64 = 0xFE53_4D42;
    const V9FS: i64 = 0x0102_1997; // WSL 2's /mnt/c
    const FUSE: i64 = 0x6573_5546; // sshfs and friends
    let dir = file.parent().unwrap_or(file);
    if let Ok(fs) = nix::sys::statfs::statfs(dir) {
        #[allow(clippy::unnecessary_cast)]
        let kind = fs.filesystem_type().0 as i64;
        if [NFS, SMB, CIFS, SMB2, V9FS, FUSE].contains(&kind) {
            return true;
        }
    }
    // WSL 1 reports its Windows drives as ordinary; they live under /mnt/.
    let wsl = std::fs::read_to_string("/proc/version")
        .is_ok_and(|v| v.to_lowercase().contains("microsoft"));
    wsl && dir.starts_with("/mnt/")
}

enum AnyWatcher {
    Native(#[allow(dead_code)] notify::RecommendedWatcher),
    Poll(#[allow(dead_code)] notify::PollWatcher),
    None,
}

fn start_watcher(file: &Path, mode: Mode, tx: Sender<Event>) -> notify::Result<AnyWatcher> {
    if mode == Mode::Manual {
        return Ok(AnyWatcher::None);
    }
    // Watch the folder, not the file: many editors save by writing a new
    // file and renaming it over the old one, which ends a watch on the file.
    let dir: PathBuf = file.parent().unwrap_or(file).to_path_buf();
    let name = file.file_name().map(|n| n.to_os_string());
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            let ours = ev
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == name);
            let content = !matches!(ev.kind, notify::EventKind::Access(_));
            if ours && content {
                let _ = tx.send(Event::Saved);
            }
        }
    };
    if mode == Mode::Poll {
        let config = notify::Config::default().with_poll_interval(POLL_EVERY);
        let mut w = notify::PollWatcher::new(handler, config)?;
        w.watch(&dir, RecursiveMode::NonRecursive)?;
        Ok(AnyWatcher::Poll(w))
    } else {
        let mut w = notify::recommended_watcher(handler)?;
        w.watch(&dir, RecursiveMode::NonRecursive)?;
        Ok(AnyWatcher::Native(w))
    }
}
