//! Chapter 2 (get a number): STUB, being written.
