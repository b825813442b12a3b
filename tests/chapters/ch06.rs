//! Chapter 6 (talk): STUB, being written.
