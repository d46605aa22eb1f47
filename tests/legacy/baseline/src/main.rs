//! `baseline`: the performance baseline of the migration. Runs the same
//! scenarios on the legacy pair (work notifications), on the reference pair
//! with polls answered at once, and on the reference pair with held polls,
//! on this machine in one run, and prints a Markdown table side by side;
//! draws two charts as PNG files. See `docs/baseline.md`;
//! `scripts/bench-baseline.sh` builds everything and runs it.

mod charts;
mod counting;
mod herd;
mod idle;
mod latency;
mod report;
mod round_trips;
mod run;
mod sdk;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Before/after bench of the migration (legacy pair beside the reference pair, polls answered at once and held).
#[derive(Debug, Parser)]
struct Args {
    /// Folder for the PNG charts [default: the repository's docs/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Discovery latency samples per side.
    #[arg(long, default_value_t = 150)]
    samples: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    counting::install();
    let config = run::Config {
        out: args
            .out
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../docs"))),
        samples: args.samples.max(1),
    };
    match run::run(&config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("baseline: {err:#}");
            ExitCode::FAILURE
        }
    }
}
