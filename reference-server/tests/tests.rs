//! The reference server's integration tests: the real server started
//! in-process on loopback with a temporary SQLite file, driven by raw
//! tonic and HTTP clients.

mod bad_input;
mod dispatch;
mod held_polls;
mod hostile;
mod http_limits;
mod lifecycle;
mod permissions;
mod process;
mod promises_children;
mod restart;
mod schedules;
mod startup;
mod tasks;
mod util;
