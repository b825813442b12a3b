//! Test-only plumbing for the course's own test suites and benchmarks, kept
//! out of `dialtone-kit` so that no learner's build compiles it.
#![forbid(unsafe_code)]

use std::path::Path;

/// Copies the course in `from` (every file of the workspace but its build,
/// its git history and the operator's state) to `to`, for scratch copies that
/// tests and benchmarks edit freely. Everything at the top level is copied
/// unless it is hidden or `target`, so a folder added to the workspace is
/// never missing from a copy.
pub fn copy_course(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let skip = name.to_string_lossy().starts_with('.') || name == "target";
        if !skip {
            copy_tree(&entry.path(), &to.join(&name))?;
        }
    }
    Ok(())
}

/// Copies a file, or a folder and everything in it.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if !std::fs::symlink_metadata(from)?.is_dir() {
        return std::fs::copy(from, to).map(|_| ());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        copy_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hidden folders and `target` stay behind; everything else comes along.
    #[test]
    fn copies_the_course_but_not_its_build_or_state() {
        let base = std::env::temp_dir().join(format!("dialtone-testkit-{}", std::process::id()));
        let (from, to) = (base.join("from"), base.join("to"));
        for dir in ["src/deep", "target/debug", ".dialtone", ".git"] {
            std::fs::create_dir_all(from.join(dir)).expect("scratch folders");
        }
        std::fs::write(from.join("src/deep/a.rs"), "a").expect("a file");
        std::fs::write(from.join("target/debug/b"), "b").expect("a file");
        std::fs::write(from.join(".dialtone/c"), "c").expect("a file");
        copy_course(&from, &to).expect("copying");
        let copied = |p: &str| to.join(p).exists();
        assert!(copied("src/deep/a.rs"));
        assert!(!copied("target") && !copied(".dialtone") && !copied(".git"));
        let _ = std::fs::remove_dir_all(&base);
    }
}
