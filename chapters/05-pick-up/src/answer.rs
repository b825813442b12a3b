//! Chapter 5, your turn (STUB).

/// STUB
pub fn pick_up() {
    // TODO: stub
    todo!("pick_up")
}
