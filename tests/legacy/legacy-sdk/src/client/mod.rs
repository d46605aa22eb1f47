//! [`FlovynClient`]: what an application asks of the server (start
//! workflows, wait for their results, resolve promises). Its builder, which
//! also starts the workers, lives beside them in [`crate::worker`].

mod flovyn_client;

pub use crate::transport::Event;
pub use flovyn_client::FlovynClient;
