//! HTTP and gRPC front ends of the dispatch server.

pub mod grpc;
pub mod rest;
pub mod state;

pub use grpc::GrpcDispatch;
pub use rest::router as app;
pub use state::AppState;
