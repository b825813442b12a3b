//! The call-sequence figures are drawn by the `dialtone-figures` library
//! (`tools/figures`), which `cargo xtask figures` also uses to redraw them;
//! this suite only compares what it draws with the files the book ships.
pub use dialtone_figures::*;
