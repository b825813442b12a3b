//! `watch`: check the current chapter each time its file is saved, and move
//! on to the next chapter when it passes.
//!
//! File notifications (inotify on Linux) give the quickest verdict. Network
//! mounts and WSL's Windows drives don't deliver them, so there the watcher
//! polls instead; `--manual` needs no notifications at all (Enter checks).

use crate::check::Checker;
use crate::commands::current;
use crate::process::abort_all;
use crate::state::State;
use crate::ui::{self, cmd, BOLD, CMD, DIM, GOOD};
use crate::workspace::{hash_bytes, Workspace};
use dialtone_kit::course::Chapter;
use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices, Termios};
use notify::{RecursiveMode, Watcher};
use std::io::{BufRead, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
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

pub fn watch(ws: &Workspace, checker: &Checker, mode: Mode) -> i32 {
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
        if run(ws, checker, ch, &mut last_hash, false) == Some(true) {
            continue;
        }
        loop {
            let force = match rx.recv() {
                Ok(Event::Saved) => {
                    crate::check::trace("watch: file saved");
                    settle(&rx);
                    crate::check::trace("watch: settled");
                    false
                }
                Ok(Event::CheckNow) => true,
                Ok(Event::Hint) => {
                    crate::commands::hint(ws, ch, crate::commands::Asked::Watch);
                    continue;
                }
                Err(_) => return 0,
            };
            match run(ws, checker, ch, &mut last_hash, force) {
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
    checker: &Checker,
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
    match checker.check(ch, false) {
        Ok(c) => {
            ui::print_verdict(ch, &c.record, false);
            let passed = c.record.outcome.passed();
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
    let heading = format!(
        "{BOLD}Chapter {}, {}{BOLD:#} ({}: {}). Read {}.",
        ch.number,
        ch.title,
        ch.analogy,
        ch.syscalls.join(", "),
        ch.book_page().display()
    );
    ui::say(&heading, "", "  ");
    let how = match mode {
        Mode::Manual => "press Enter to check".to_string(),
        Mode::Poll => "I check each time you save (polling the file)".to_string(),
        Mode::Auto => "I check each time you save".to_string(),
    };
    let edit = format!("Edit {CMD}{}{CMD:#}; {how}.", ch.learner_path().display());
    ui::say(&edit, "", "  ");
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
/// state files are always whole (written by rename). In a terminal each key
/// acts as it is pressed; from a pipe (a script, a test) commands are lines.
fn keys(tx: Sender<Event>, manual: bool) {
    let at_once = keys_at_once();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let events: Box<dyn Iterator<Item = Option<Event>>> = if at_once {
            Box::new(stdin.lock().bytes().map_while(Result::ok).map(key_event))
        } else {
            Box::new(
                stdin
                    .lock()
                    .lines()
                    .map_while(Result::ok)
                    .map(|l| line_event(&l)),
            )
        };
        for event in events.flatten() {
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

/// A key pressed in a terminal: `q`, `h`, Enter; others do nothing.
fn key_event(key: u8) -> Option<Event> {
    match key {
        b'q' | b'Q' => quit(),
        b'h' | b'H' => Some(Event::Hint),
        b'\n' | b'\r' => Some(Event::CheckNow),
        _ => None,
    }
}

/// A line from a pipe: `q`, `h`, or anything else to check now.
fn line_event(line: &str) -> Option<Event> {
    match line.trim() {
        "q" | "quit" | "exit" => quit(),
        "h" | "hint" => Some(Event::Hint),
        _ => Some(Event::CheckNow),
    }
}

/// The terminal's settings from before [`keys_at_once`], to put back.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

/// When stdin is a terminal, turns off its line editing and echo, so a key
/// reaches watch when it is pressed, not at Enter. Ctrl-C still interrupts
/// (signals stay on), and [`restore_keys`] puts the settings back.
fn keys_at_once() -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    let Ok(saved) = termios::tcgetattr(&stdin) else {
        return false;
    };
    let mut keys = saved.clone();
    keys.local_flags
        .remove(LocalFlags::ICANON | LocalFlags::ECHO);
    keys.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    keys.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(saved);
    termios::tcsetattr(&stdin, SetArg::TCSANOW, &keys).is_ok()
}

/// Puts the terminal's settings back as watch found them (on `q`, at the
/// end and on Ctrl-C).
pub fn restore_keys() {
    let saved = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(saved) = saved {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, &saved);
    }
}

fn quit() -> ! {
    restore_keys();
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
