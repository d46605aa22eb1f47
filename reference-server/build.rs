//! Compiles `proto/flovyn.proto` with protox (no system `protoc`), then
//! generates the tonic server and client code.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = "../proto";
    println!("cargo:rerun-if-changed={proto_dir}/flovyn.proto");
    // The permission table's test reads the proto's method list.
    let proto_file = std::path::Path::new(proto_dir).join("flovyn.proto").canonicalize()?;
    println!("cargo:rustc-env=FLOVYN_PROTO_FILE={}", proto_file.display());
    let descriptors = protox::compile(["flovyn.proto"], [proto_dir])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
