//! Chapter 4: Dial (STUB: being written).
#![forbid(unsafe_code)]

#[cfg_attr(feature = "solution", path = "../../../solutions/04-dial/answer.rs")]
pub mod answer;

/// This chapter's entry in `course.toml`.
pub fn chapter() -> &'static dialtone_kit::course::Chapter {
    dialtone_kit::course::chapter_for(env!("CARGO_PKG_NAME"))
}
