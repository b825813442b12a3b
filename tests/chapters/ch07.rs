//! Chapter 7 (hang up): STUB, being written.
