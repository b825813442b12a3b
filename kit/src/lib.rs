//! Shared plumbing for every Dial Tone chapter, the companion and the tests.
//!
//! Nothing in here teaches sockets: it is the stage, not the play. Chapters use
//! it to narrate a scene ([`scene`]), to call the learner's code without a panic
//! backtrace or a hung terminal ([`learner`]), and to report a self-check's
//! verdict in telephone words and syscall words ([`check`]). The course's
//! order, titles and hints come from `course.toml` through [`course`], and
//! [`wire`] sets up a loopback call whose other end a scene or check scripts.
//! A check's shared tools are [`task`] (the learner's function and its name
//! together: [`learner_call!`]), [`patience`] (how long each kind of wait
//! lasts), [`party`] (the other party's phone, dial and ears) and
//! [`names::show`] (bytes as a learner would print them).
//! [`text`] wraps prose to the screen; [`child`] runs another program under
//! a time limit (the operator and the test suites both use it).
#![forbid(unsafe_code)]

pub mod args;
pub mod check;
pub mod child;
pub mod course;
pub mod host;
pub mod judge;
pub mod kernel;
pub mod learner;
pub mod names;
pub mod party;
pub mod patience;
pub mod rpc;
pub mod sandbox;
pub mod scene;
pub mod task;
pub mod text;
pub mod wire;
