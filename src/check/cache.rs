//! What a verdict is cached by: the learner's file as it is now and a
//! fingerprint of everything else the check depends on. Read once per check
//! (the board, `check` and `solution` all ask through [`Key`]).

use crate::workspace::{hash_bytes, Workspace};
use dialtone_kit::course::Chapter;

/// A chapter's learner file and check code, as they are now.
pub struct Key {
    pub learner_hash: String,
    pub check_hash: String,
}

impl Key {
    /// The key for `ch` now; an error a learner can act on when the file
    /// can't be read.
    pub fn now(ws: &Workspace, ch: &Chapter) -> Result<Key, String> {
        let path = ws.learner_file(ch);
        let learner = std::fs::read(&path).map_err(|e| {
            format!(
                "can't read {} ({e}); `cargo run -- reset {}` brings back the starter",
                ws.rel(&path),
                ch.number
            )
        })?;
        Ok(Key::of(ws, ch, &learner))
    }

    /// The key for `ch` with `learner` as its learner file's content.
    pub fn of(ws: &Workspace, ch: &Chapter, learner: &[u8]) -> Key {
        Key {
            learner_hash: hash_bytes(learner),
            check_hash: ws.check_fingerprint(ch),
        }
    }
}
