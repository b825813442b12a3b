//! Part III's opening page, "The family of addresses", shows what
//! `tools/addresses` prints: the address structs as this build lays them
//! out, and the demonstrations its two tables cite. Both are snapshots here,
//! so the page (which includes them) changes only through review, and a
//! table that cites a demonstration cites one that still says so.
#![forbid(unsafe_code)]

// Only the redactions are this suite's; the rest serves the chapters.
#[allow(dead_code)]
#[path = "chapters/support.rs"]
mod support;

use dialtone_addresses::{run, Refusal};
use dialtone_kit::course::{course, workspace_root};
use std::fs;

/// The chapters' redactions, and what only this program prints: IPv6
/// numbers with their port.
fn redactions() -> Vec<(&'static str, &'static str)> {
    let mut all = support::redactions();
    all.push((r"\[([0-9a-f:]+)\]:[1-9]\d*", "[$1]:[PORT]"));
    all
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        filters => redactions(),
        omit_expression => true,
        prepend_module_to_snapshot => false,
        snapshot_path => "snapshots",
    }, {
        insta::assert_snapshot!(name, text);
    });
}

fn printed(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run(&args).unwrap_or_else(|e| panic!("addresses {args:?}: {e:?}"))
}

/// Every line fits an 80-column terminal.
fn fits(text: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
}

/// The structs' fields, offsets and sizes, and the lengths nix passes.
#[test]
fn layout_as_measured() {
    let text = printed(&[]);
    fits(&text);
    snapshot("addresses-layout", &text);
}

/// The demonstrations, each line with the id the page's tables cite.
#[test]
fn demonstrations_on_loopback() {
    let text = printed(&["--try"]);
    fits(&text);
    snapshot("addresses-try", &text);
    // The scratch folders for the Unix socket files are gone afterwards.
    let mine = format!("dialtone-addresses-{}-", std::process::id());
    let left: Vec<_> = fs::read_dir(std::env::temp_dir())
        .expect("the temp folder is readable")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&mine))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Every demonstration id a page of the course cites (`(B1)`, `R3`...)
/// is one the program prints, so a table can't cite a run that no longer
/// exists.
#[test]
fn cited_demonstrations_exist() {
    // The snapshot the test above keeps equal to what the program prints.
    let snap = workspace_root().join("tests/snapshots/addresses-try.snap");
    let text = fs::read_to_string(&snap).unwrap_or_else(|e| panic!("{}: {e}", snap.display()));
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.len() == 2 && id.as_bytes()[1].is_ascii_digit())
        .collect();
    for part in course().parts.iter() {
        let Some(page) = part.opening_page() else {
            continue;
        };
        let path = workspace_root().join(&page);
        let page_text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cited = cited_ids(&page_text);
        assert!(
            !cited.is_empty(),
            "{} cites no demonstration",
            path.display()
        );
        for id in cited {
            assert!(
                ids.contains(&id.as_str()),
                "{} cites {id}, which `addresses --try` doesn't print",
                path.display()
            );
        }
    }
}

/// The ids in `**[B1]**`-style citations: `[` a capital, a digit `]`.
fn cited_ids(text: &str) -> Vec<String> {
    text.split('[')
        .skip(1)
        .filter_map(|rest| rest.split_once(']'))
        .map(|(id, _)| id)
        .filter(|id| {
            let b = id.as_bytes();
            b.len() == 2 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit()
        })
        .map(str::to_string)
        .collect()
}

/// A bad argument is one line and exit 2; `--help` is the usage.
#[test]
fn bad_arguments_get_one_line() {
    let refused = run(&["--nonsense".to_string()]);
    match refused {
        Err(Refusal::BadArguments(line)) => {
            assert!(!line.contains('\n') && line.contains("--help"), "{line}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(printed(&["--help"]).starts_with("usage: addresses"));
}
