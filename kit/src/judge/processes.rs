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

/// How many processes of the learner's (the host's children, grandchildren
/// and orphans) a check allows at once: a course exercise starts none, a
/// forking server a handful. Past this the judge stops them all.
pub const MAX_PROCESSES: usize = 32;
/// Tasks (processes and threads) the learner's process may have where the
/// kernel can bound them (a pids cgroup): the host runs each call on a thread
/// of its own, and a check makes a few calls at once.
pub const MAX_TASKS: usize = 128;
/// How often the judge counts the learner's processes while a check runs.
pub const COUNT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// A pids cgroup (cgroup v1's `pids` controller) holding the learner's
/// process and everything it starts, with `pids.max` set: past it the
/// kernel refuses `fork()` and `clone()` with `EAGAIN`, so not even a fork
/// bomb gets far.
///
/// Why not `RLIMIT_NPROC`: setrlimit(2) counts it per real user across the
/// whole machine (a learner's desktop already runs hundreds of tasks, so no
/// fixed number fits), and fork() ignores it for root and for any process
/// with CAP_SYS_RESOURCE or CAP_SYS_ADMIN. A cgroup counts only what is in
/// it, root's processes included. Making one needs write access to the
/// pids hierarchy (root, where it is mounted at /sys/fs/cgroup/pids); where
/// the judge can't, only its own count ([`MAX_PROCESSES`], every
/// [`COUNT_EVERY`]) bounds the learner's processes.
pub struct PidsCgroup {
    dir: std::path::PathBuf,
}

const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";

impl PidsCgroup {
    /// Makes a cgroup for `host` and moves it in; `None` where the machine
    /// doesn't let us (no v1 pids hierarchy, not writable).
    pub fn enter(host: Pid) -> Option<PidsCgroup> {
        let base = std::path::Path::new(PIDS_ROOT);
        if !base.join("cgroup.procs").exists() {
            return None;
        }
        let dir = base.join(format!("dialtone-judge-{}-{host}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        let cgroup = PidsCgroup { dir };
        let entered = std::fs::write(cgroup.dir.join("pids.max"), MAX_TASKS.to_string())
            .and_then(|()| std::fs::write(cgroup.dir.join("cgroup.procs"), host.to_string()));
        match entered {
            Ok(()) => Some(cgroup),
            Err(_) => {
                let _ = std::fs::remove_dir(&cgroup.dir);
                None
            }
        }
    }

    /// How many forks the kernel refused because the cgroup was full
    /// (`pids.events`: "max N").
    pub fn refused(&self) -> u64 {
        std::fs::read_to_string(self.dir.join("pids.events"))
            .ok()
            .and_then(|e| {
                e.lines()
                    .find_map(|l| l.strip_prefix("max ")?.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Kills whatever is still in it and removes it (a cgroup can go only
    /// once it is empty: its last processes may still be on their way out).
    pub fn remove(self, host: Pid) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                if pid != host.as_raw() {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            if std::fs::remove_dir(&self.dir).is_ok() || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

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
