//! Finding and stopping every process the learner's code started.
//!
//! A child the learner starts may move to a process group of its own
//! (`process_group(0)`), so killing the host's group is not enough. The judge
//! is a child subreaper: an orphan is re-parented to it, not to init, so the
//! parent links in `/proc/<pid>/stat` lead every such process back to us.

use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// A process found under the judge.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: Pid,
    pub parent: Pid,
    /// The program's name as the kernel keeps it (`comm`, 15 bytes at most).
    pub name: String,
    pub zombie: bool,
}

/// Every process whose parent links lead to `root`, except `host` itself;
/// zombies (already dead, not yet reaped) are left out.
pub fn descendants(root: Pid, host: Pid) -> Vec<Process> {
    all_under(root)
        .into_iter()
        .filter(|p| p.pid != host && !p.zombie)
        .collect()
}

fn all_under(root: Pid) -> Vec<Process> {
    let mut under: Vec<Process> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for p in children(parent) {
            if !under.iter().any(|u| u.pid == p.pid) {
                frontier.push(p.pid);
                under.push(p);
            }
        }
    }
    under
}

/// The children of `parent`: read from `/proc/<pid>/task/<tid>/children`
/// (a child belongs to the thread that started it), which costs a read per
/// thread rather than one per process on the machine; from the whole
/// process table where the kernel doesn't offer that file.
fn children(parent: Pid) -> Vec<Process> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for task in tasks.flatten() {
        match std::fs::read_to_string(task.path().join("children")) {
            Ok(list) => pids.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && task_alive(&task.path()) => {
                return table().into_iter().filter(|p| p.parent == parent).collect();
            }
            // The thread ended while we looked: its children moved to
            // another thread of the same process, read next.
            Err(_) => {}
        }
    }
    pids.into_iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(pid, &stat)
        })
        .collect()
}

fn task_alive(task: &std::path::Path) -> bool {
    task.join("stat").exists()
}

/// Every process in /proc, with its parent.
fn table() -> Vec<Process> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(pid, &stat)
        })
        .collect()
}

/// `pid (comm) state ppid ...`; the name may itself hold spaces and ')'.
fn parse_stat(pid: i32, stat: &str) -> Option<Process> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?;
    let parent = rest.next()?.parse::<i32>().ok()?;
    Some(Process {
        pid: Pid::from_raw(pid),
        parent: Pid::from_raw(parent),
        name,
        zombie: state == "Z" || state == "X",
    })
}

/// SIGKILL for the host's group and for every process under the judge, then
/// reap those that became ours, until none is left (or a second has gone by:
/// a process stuck in the kernel can't be hurried).
pub fn kill_all(host: Pid, known: &[Process]) {
    let me = Pid::this();
    let _ = killpg(host, Signal::SIGKILL);
    for p in known {
        let _ = kill(p.pid, Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let left: Vec<Process> = all_under(me)
            .into_iter()
            .filter(|p| p.pid != host)
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            return;
        }
        for p in &left {
            if !p.zombie {
                let _ = kill(p.pid, Signal::SIGKILL);
            }
            if p.parent == me {
                // Ours since its parent died: reap it (SIGKILL is on its way,
                // so this returns as soon as it lands).
                let _ = waitpid(p.pid, None);
            }
        }
        // The rest are dying under a parent that is dying too; they come to
        // us in a moment (a short pause, not a busy scan of /proc).
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_odd_names() {
        let p = parse_stat(42, "42 (we (ir) d) S 7 42 42 0 -1").expect("parses");
        assert_eq!((p.pid.as_raw(), p.parent.as_raw()), (42, 7));
        assert_eq!(p.name, "we (ir) d");
        assert!(!p.zombie);
        assert!(parse_stat(1, "1 (x) Z 0").expect("parses").zombie);
    }
}
