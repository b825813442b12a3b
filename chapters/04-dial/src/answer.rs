//! Chapter 4, your turn (STUB).

/// STUB
pub fn dial() {
    // TODO: stub
    todo!("dial")
}
