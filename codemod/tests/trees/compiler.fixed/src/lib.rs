//! A crate the syntactic pass cannot finish alone: the notifier is reached
//! through a closure parameter whose type is not written, and its field name
//! is kept by another struct (so only the compiler knows which one
//! `st.notifier` is); a helper only a removed argument used sits in a file
//! with out-of-line modules; a method of a kept type only the notifier code
//! called.

mod notify;
pub mod state;

pub fn wake(_states: &[state::AppState], _queue: &str) {}
