//! Chapter 2, the reference answer (STUB).

/// STUB
pub fn get_a_number() {}
