//! The whole run: every scenario on a fresh server of each side (legacy
//! first, then reference with immediate polls, then reference with held
//! polls; the same configuration but for `max_poll_wait_seconds`), then the
//! table on stdout and the two charts. Progress goes to stderr.

use std::path::PathBuf;
use std::time::Instant;

use uuid::Uuid;

use crate::report::{self, Measured};
use crate::sdk::Side;
use crate::server::{Binaries, Server};
use crate::{charts, herd, idle, latency, round_trips};

const SIDES: [Side; 3] = Side::ALL;

/// What to run and where to write.
pub(crate) struct Config {
    /// Folder of the two PNG charts.
    pub out: PathBuf,
    /// Discovery latency samples per side.
    pub samples: usize,
}

/// Runs every scenario, prints the table and draws the charts.
pub(crate) async fn run(config: &Config) -> anyhow::Result<()> {
    let started = Instant::now();
    charts::register_font()?;
    let binaries = Binaries::find()?;
    let org = Uuid::new_v4();
    let mut measured = [Measured::default(), Measured::default(), Measured::default()];

    for (side, m) in SIDES.into_iter().zip(&mut measured) {
        let server = start(&binaries, side, org, "thundering herd")?;
        m.herd = herd::run(side, &server, org).await?;
    }
    for (side, m) in SIDES.into_iter().zip(&mut measured) {
        let server = start(&binaries, side, org, "discovery latency")?;
        m.latency = latency::run(side, &server, org, config.samples).await?;
    }
    for n in idle::COUNTS {
        for (side, m) in SIDES.into_iter().zip(&mut measured) {
            let server = start(&binaries, side, org, &format!("{n} idle workers"))?;
            m.idle.push(idle::run(side, &server, org, n).await?);
        }
    }
    // Twice per side, in the order of the sides and back: the rate drifts
    // between runs, and this order cancels a steady drift.
    for side in SIDES.into_iter().chain(SIDES.into_iter().rev()) {
        let server = start(&binaries, side, org, "round trips")?;
        let m = &mut measured[side.index()];
        m.round_trips.push(round_trips::run(side, &server, org).await?);
    }

    println!("{}", report::table(&measured));
    println!(
        "Machine: {}. The servers (release binaries, SQLite, one runtime thread) and the bench's SDK workers share these cores.",
        report::machine()
    );
    std::fs::create_dir_all(&config.out)?;
    let out = std::fs::canonicalize(&config.out)?;
    let latency_png = out.join("baseline-latency.png");
    let idle_png = out.join("baseline-idle.png");
    charts::draw_latency(&latency_png, &measured)?;
    charts::draw_idle(&idle_png, &measured)?;
    println!("\nCharts: {} and {}", latency_png.display(), idle_png.display());
    eprintln!("baseline: done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A fresh server of `side` for `scenario`.
fn start(binaries: &Binaries, side: Side, org: Uuid, scenario: &str) -> anyhow::Result<Server> {
    eprintln!("baseline: {scenario}, {}", side.name());
    Server::start(binaries, side, org)
}
