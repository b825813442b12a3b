//! Chapter 7, your turn (STUB).

/// STUB
pub fn placeholder() {
    // TODO: stub
    todo!("placeholder")
}
