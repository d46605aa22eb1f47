//! The two wire adapters: gRPC (the Flovyn v1 protocol) and REST. Thin:
//! decode, call a service, encode.

pub mod grpc;
pub mod rest;
