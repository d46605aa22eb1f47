//! Compiles `proto/flovyn.proto` with protox (no system `protoc`), then
//! generates the tonic server and client code.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = "../../../proto";
    println!("cargo:rerun-if-changed={proto_dir}/flovyn.proto");
    let descriptors = protox::compile(["flovyn.proto"], [proto_dir])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
