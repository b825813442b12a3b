//! The operator: the learner's companion through the course (`cargo run`).
//!
//! For now it shows the board: every chapter from `course.toml`, whether the
//! learner has started it, and the next command to type.
#![forbid(unsafe_code)]

use dialtone_kit::course::{course, workspace_root};

fn main() {
    let c = course();
    println!("{}: {}\n", c.title, c.subtitle);
    let mut next = None;
    for ch in &c.chapters {
        let path = workspace_root().join(ch.learner_path());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let todos = text.matches("todo!(").count();
        let status = if todos == 0 { "written" } else { "to do" };
        if todos > 0 && next.is_none() {
            next = Some(ch);
        }
        println!(
            "  {:>2}. {:<28} {:<8} {}",
            ch.number,
            ch.title,
            status,
            ch.syscalls.join(", ")
        );
    }
    match next {
        Some(ch) => println!(
            "\nNext: chapter {} ({}). Read book/src/{}.md, edit {}, then:\n  cargo run -p {}\n  cargo test -p {}",
            ch.number,
            ch.title,
            ch.id(),
            ch.learner_path().display(),
            ch.crate_name(),
            ch.crate_name()
        ),
        None => println!("\nEvery chapter is written. Check them all: cargo test --workspace --exclude dialtone"),
    }
}
