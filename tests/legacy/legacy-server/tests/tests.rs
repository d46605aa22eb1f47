//! The reference server's integration tests: the real server started
//! in-process on loopback with a temporary SQLite file, driven by raw
//! tonic and HTTP clients.

mod bad_input;
mod dispatch;
mod lifecycle;
mod process;
mod promises_children;
mod restart;
mod schedules;
mod tasks;
mod util;
