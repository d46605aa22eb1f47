//! `reference-server`: configuration, tracing, serve until Ctrl-C/SIGTERM.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use reference_server::config::Config;

/// The Flovyn reference server (polling-only dispatch).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML configuration file (also `CONFIG_FILE`).
    #[arg(long, env = "CONFIG_FILE")]
    config: Option<PathBuf>,
    /// PostgreSQL instead of SQLite: `postgres://user:password@host/db`
    /// (also `DATABASE_URL`, or `[database] url` in the file).
    #[arg(long)]
    database_url: Option<String>,
}

fn main() -> anyhow::Result<()> {
    // Colour only for a terminal: a log file or pipe gets plain text.
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(colour)
        // A log sink that went away (a closed pipe) must not stop the
        // server: tracing's own report of it would panic on a closed stderr.
        .log_internal_errors(false)
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    config.apply_env(|k| std::env::var(k).ok())?;
    if let Some(url) = args.database_url {
        config.database.url = Some(url);
    }
    // One thread serves best on small machines: the database work runs on
    // the SQLite driver's own thread, and cross-thread wake-ups cost more
    // than they give (docs/performance.md).
    let runtime = match config.server.runtime_threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    runtime.block_on(serve(config))
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    let dev = config.ensure_dev_org()?;
    let signalled = shutdown_signal().context("installing the SIGINT/SIGTERM handlers")?;
    let server = reference_server::start(config.clone())
        .await
        .context("starting the server")?;

    // A closed stdout must not stop the server: write errors are ignored.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "gRPC listening on {}", server.grpc_addr);
    let _ = writeln!(out, "HTTP listening on {}", server.http_addr);
    if dev {
        let org = &config.orgs[0];
        let keys = &config.auth.static_api_key.keys;
        let _ = writeln!(out, "development org: {} (slug {})", org.id, org.slug);
        let _ = writeln!(out, "worker token:    {}", keys[keys.len() - 2].key);
        let _ = writeln!(out, "REST API key:    {}", keys[keys.len() - 1].key);
        let path = config.server.data_dir.join("dev-credentials.toml");
        let _ = writeln!(out, "(kept in {})", path.display());
    }
    let _ = out.flush();
    drop(out);

    let token = server.shutdown_token();
    tokio::spawn(async move {
        signalled.await;
        token.cancel();
        tracing::info!("shutting down");
    });
    server.wait().await;
    Ok(())
}

/// SIGINT or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled: a signal that arrives right after the
/// addresses are printed still shuts the server down gracefully.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
