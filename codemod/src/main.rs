//! The `codemod` binary: parse arguments, run, map the result to an exit
//! code (the table is `codemod::exit`).

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
            return ExitCode::from(if err.use_stderr() {
                codemod::exit::USAGE_OR_IO
            } else {
                codemod::exit::DONE
            });
        }
    };
    match cli::main_with_args(&args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("codemod: {err:#}");
            ExitCode::from(codemod::exit::USAGE_OR_IO)
        }
    }
}
