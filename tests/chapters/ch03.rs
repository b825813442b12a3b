//! Chapter 3 (turn the phone on): STUB, being written.
