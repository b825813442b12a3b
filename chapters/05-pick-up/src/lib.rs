//! Chapter 5: Pick up (STUB: being written).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/05-pick-up/answer.rs")]
pub mod answer;

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}
