//! Chapter 2, your turn (STUB).

/// STUB
pub fn get_a_number() {
    // TODO: stub
    todo!("get_a_number")
}
