//! Chapter 5, the reference answer (STUB).

/// STUB
pub fn pick_up() {}
