//! End-to-end: the reference server with reference SDK workers, over real
//! gRPC on loopback. Each test runs a real workflow or task to completion
//! through a path that used to call `notify_work_available`.

mod e2e {
    pub mod definitions;
    mod paths;
    mod robustness;
    mod stub;
}
