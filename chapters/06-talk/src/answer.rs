//! Chapter 6, your turn (STUB).

/// STUB
pub fn send_all() {
    // TODO: stub
    todo!("send_all")
}
