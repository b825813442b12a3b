//! Chapter 3, your turn (STUB).

/// STUB
pub fn open_for_calls() {
    // TODO: stub
    todo!("open_for_calls")
}
