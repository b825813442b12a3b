//! Chapter 8 (an answering service): STUB, being written.
