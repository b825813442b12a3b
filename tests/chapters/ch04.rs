//! Chapter 4 (dial): STUB, being written.
