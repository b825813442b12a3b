//! A private folder for socket files, removed when it is dropped.
//!
//! Every intercom this chapter puts on the wall (in the scene, the
//! self-check and the `--listen` service) lives in a fresh folder of its own
//! under the system's temp folder, made with mode 0700. The guard removes the
//! folder and whatever socket files are left in it, on success, on an early
//! `?` and on a panic alike: the kernel never removes a socket file, so a
//! program that doesn't is how stale files are born. (A process killed with
//! SIGKILL runs no destructor: the `--listen` service handles SIGINT, SIGTERM
//! and SIGHUP, the judge removes the folders of a learner's process it has
//! killed, and nothing can tidy up after a SIGKILL of the judge itself.)

use std::cell::RefCell;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A private folder; removed, with everything in it, when dropped.
#[derive(Debug)]
pub struct Folder {
    path: PathBuf,
}

thread_local! {
    /// The folders made on this thread, for the integrity suite to ask
    /// afterwards whether each one is gone.
    static MADE: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// Room a folder's path may take so that a socket name in it fits
/// `sun_path` (108 bytes with C's closing NUL) with room to spare.
const LONGEST_FOLDER: usize = 80;

/// The temp folder (`$TMPDIR`), unless another user couldn't reach a file
/// in it: a caller running as `nobody` needs to pass through every folder
/// above a socket file (a course under a 0700 folder sets `TMPDIR` inside
/// it in the docs test). Then `/tmp`, which anyone may pass through.
pub fn reachable_temp_dir() -> PathBuf {
    let temp = std::env::temp_dir();
    let passable =
        |dir: &Path| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0);
    let canonical = temp.canonicalize().unwrap_or_else(|_| temp.clone());
    if canonical.ancestors().all(passable) {
        temp
    } else {
        PathBuf::from("/tmp")
    }
}

impl Folder {
    /// A fresh folder `dialtone-intercom-PID-N` under the temp folder
    /// (`$TMPDIR`, or `/tmp` if that is too long for socket names).
    pub fn new() -> io::Result<Folder> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "dialtone-intercom-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut base = reachable_temp_dir();
        if base.as_os_str().len() + name.len() + 1 > LONGEST_FOLDER {
            base = PathBuf::from("/tmp");
        }
        let path = base.join(name);
        // 0700: nobody else may even look inside (but see open_to_others).
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        MADE.with(|m| m.borrow_mut().push(path.clone()));
        Ok(Folder { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `FOLDER/name`, as the text a learner's function takes.
    pub fn name(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    /// Lets other users pass through (mode 0711: search, not list), so a
    /// caller running as another user can reach a socket file inside if the
    /// file's own permissions allow it.
    pub fn open_to_others(&self) -> io::Result<()> {
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o711))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        // A learner's process still running may be creating a file in it
        // at this moment (remove_dir then fails with ENOTEMPTY): try again.
        for _ in 0..5 {
            match std::fs::remove_dir_all(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => continue,
                _ => return,
            }
        }
    }
}

/// The folders made on this thread since the last call, to check they're
/// gone.
pub fn made_on_this_thread() -> Vec<PathBuf> {
    MADE.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder is private, and gone with what is in it once dropped.
    #[test]
    fn a_folder_is_private_and_removed() {
        let folder = Folder::new().expect("the temp folder is writable");
        let mode = std::fs::metadata(folder.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(folder.name("leftover"), b"x").unwrap();
        let path = folder.path().to_path_buf();
        drop(folder);
        assert!(!path.exists());
        assert_eq!(made_on_this_thread(), vec![path]);
    }
}
