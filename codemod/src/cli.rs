//! Command-line arguments: parsed with clap into [`Args`], validated into a
//! library [`Config`], and the outcome printed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;

use codemod::{report, CargoMode, Config, Mode, RpcMode};

/// Remove the WorkerNotifier push-notification system from Rust code.
///
/// By default a dry run: prints the diff and a report, changes nothing.
#[derive(Debug, Parser)]
#[command(
    name = "codemod",
    version,
    after_help = codemod::exit::help()
)]
pub struct Args {
    /// Files or folders to process.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Apply the edits (each file written atomically).
    #[arg(long, conflicts_with = "check")]
    pub write: bool,
    /// Change nothing; exit 1 when edits are pending.
    #[arg(long)]
    pub check: bool,
    /// With --write: show each hunk with its rule and cause and ask
    /// whether to apply it (needs a terminal).
    #[arg(long, requires = "write", conflicts_with = "format")]
    pub interactive: bool,
    /// Write even when the files to change have uncommitted git changes.
    #[arg(long, requires = "write")]
    pub allow_dirty: bool,
    /// With --write: write what could be processed even when some files or
    /// folders could not be read (by default nothing is written then).
    #[arg(long, requires = "write")]
    pub keep_going: bool,
    /// What the subscribe_to_notifications RPC becomes.
    #[arg(long, value_enum, default_value_t = RpcMode::Stub)]
    pub rpc: RpcMode,
    /// Skip paths matching this glob (repeatable), e.g. 'vendor/**'.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// After --write, run CMD in PATH; on failure restore every changed file.
    #[arg(long, value_name = "CMD", requires = "write")]
    pub verify: Option<String>,
    /// Leave changed files unformatted even where the original was
    /// rustfmt-clean (by default such files are run through rustfmt).
    #[arg(long)]
    pub no_format: bool,
    /// Check the result with `cargo check` and finish the migration from
    /// its diagnostics also for dry runs and --check (always on with
    /// --write inside a Cargo workspace).
    #[arg(long, conflicts_with = "no_cargo")]
    pub cargo: bool,
    /// Never run cargo: the syntactic edits only.
    #[arg(long)]
    pub no_cargo: bool,
    /// Rust files larger than this are reported as errors, not read
    /// (bytes, or with a K, M or G suffix: 8M, 512K).
    #[arg(long, value_name = "SIZE", default_value = "8M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// With --verify: kill the command after this long (s, m or h suffix)
    /// and restore every file.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration, requires = "verify")]
    pub verify_timeout: std::time::Duration,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour the diff: auto (on a terminal), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// `512K` → (`512`, `K`).
fn split_unit(text: &str) -> (&str, &str) {
    let at = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(at)
}

/// `90`, `90s`, `30m`, `2h`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (digits, unit) = split_unit(text);
    let seconds: u64 = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        other => return Err(format!("unknown duration unit `{other}` (use s, m or h)")),
    };
    let number: u64 = digits.parse().map_err(|_| format!("`{text}` is not a duration"))?;
    Ok(std::time::Duration::from_secs(number.saturating_mul(seconds)))
}

/// `1048576`, `512K`, `8M`, `1G` (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = split_unit(text);
    let multiplier: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` (use K, M or G)")),
    };
    let number: u64 = digits.parse().map_err(|_| format!("`{text}` is not a size"))?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// `--write --interactive`: plan, let the person choose among the hunks on
/// the terminal, then write what they accepted.
fn interactive_run(config: &Config) -> anyhow::Result<codemod::Outcome> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("--interactive needs a terminal on standard input");
    }
    let mut outcome = codemod::plan(config)?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    let accepted = crate::interactive::review(&mut outcome, &mut input, &mut out)?;
    writeln!(out, "\n{accepted} hunk(s) accepted.")?;
    codemod::write_plan(config, &mut outcome)?;
    Ok(outcome)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Args {
    pub fn config(&self) -> Config {
        let mut config = Config::new(self.paths.clone());
        config.mode = match (self.write, self.check) {
            (true, _) => Mode::Write,
            (_, true) => Mode::Check,
            _ => Mode::DryRun,
        };
        config.rpc = self.rpc;
        config.excludes = self.exclude.clone();
        config.allow_dirty = self.allow_dirty;
        config.keep_going = self.keep_going;
        config.verify = self.verify.clone();
        config.verify_timeout = self.verify_timeout;
        config.format = !self.no_format;
        config.max_file_size = self.max_file_size;
        config.cargo = match (self.cargo, self.no_cargo) {
            (true, _) => CargoMode::On,
            (_, true) => CargoMode::Off,
            _ => CargoMode::Auto,
        };
        if std::io::stderr().is_terminal() {
            config.progress = Some(std::sync::Arc::new(ProgressBar::default()));
        }
        config
    }
}

/// Runs and prints; returns the process exit code.
pub fn main_with_args(args: &Args) -> anyhow::Result<u8> {
    let config = args.config();
    let outcome = if args.interactive {
        interactive_run(&config)?
    } else {
        codemod::run(&config)?
    };
    let mut stdout = std::io::stdout().lock();
    let text = match args.format {
        Format::Json => report::json(&outcome) + "\n",
        Format::Text => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => std::io::stdout().is_terminal(),
            };
            let diffs = if outcome.mode == Mode::Write {
                String::new()
            } else {
                report::diffs(&outcome, color)
            };
            format!("{diffs}{}", report::summary(&outcome))
        }
    };
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(codemod::exit::DONE),
        other => other?,
    }
    Ok(outcome.exit_code())
}

/// The progress bar on stderr, for trees large enough to wait on.
#[derive(Debug, Default)]
struct ProgressBar(std::sync::OnceLock<indicatif::ProgressBar>);

impl codemod::Progress for ProgressBar {
    fn start(&self, total: usize) {
        const MIN_FILES: usize = 300;
        let bar = if total < MIN_FILES {
            indicatif::ProgressBar::hidden()
        } else {
            let target = indicatif::ProgressDrawTarget::stderr();
            let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), target);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files scanned") {
                bar.set_style(style);
            }
            bar
        };
        let _ = self.0.set(bar);
    }

    fn advance(&self) {
        if let Some(bar) = self.0.get() {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.0.get() {
            bar.finish_and_clear();
        }
    }
}
