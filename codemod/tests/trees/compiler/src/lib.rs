//! A crate the syntactic pass cannot finish alone: the notifier is reached
//! through a closure parameter whose type is not written, and its field name
//! is kept by another struct (so only the compiler knows which one
//! `st.notifier` is); a helper only a removed argument used sits in a file
//! with out-of-line modules; a method of a kept type only the notifier code
//! called.

mod notify;
pub mod state;

pub use notify::WorkerNotifier;

fn label(queue: &str) -> String {
    format!("q:{queue}")
}

pub fn wake(states: &[state::AppState], queue: &str) {
    states.iter().for_each(|st| {
        st.notifier
            .notify_work_available(&st.org_key(), &label(queue));
    });
}
