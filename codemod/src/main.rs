//! The `codemod` binary: parse arguments, run, map the result to an exit
//! code (0 done, 1 pending with --check, 2 usage or I/O error, 3 some files
//! could not be parsed, 4 the --verify command failed, 5 the migrated tree
//! does not build).

mod cli;
mod interactive;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match cli::Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match cli::main_with_args(&args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("codemod: {err:#}");
            ExitCode::from(2)
        }
    }
}
