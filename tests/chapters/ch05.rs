//! Chapter 5 (pick up): STUB, being written.
