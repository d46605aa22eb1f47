//! Making commits durable off the writer's path.
//!
//! The writer commits with `synchronous = OFF`: a COMMIT hands its pages to
//! the operating system and returns. This syncer then flushes the WAL file
//! with `fdatasync` on a blocking thread; one flush covers every commit made
//! before it started. A transaction is acknowledged only once its commit is
//! durable, as under `synchronous = FULL`, but the writer runs the next
//! batch while the disk works instead of waiting for it.
//!
//! Checkpoints would copy WAL pages into the database file without syncing
//! it under `synchronous = OFF`, so automatic checkpoints are off and the
//! writer runs [`CHECKPOINT_SQL`] itself, which syncs as `FULL` does.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{watch, Notify};

/// A checkpoint that syncs the WAL before and the database file after
/// copying, whatever the connection's own `synchronous` setting.
pub(super) const CHECKPOINT_SQL: &str =
    "PRAGMA synchronous = FULL; PRAGMA wal_checkpoint(PASSIVE); PRAGMA synchronous = OFF";

/// How far the WAL is durable.
#[derive(Clone, Debug, Default)]
struct Durable {
    /// Every commit numbered up to this one is on disk.
    upto: u64,
    /// Set when a flush failed: from then on nothing is acknowledged.
    failed: Option<String>,
}

/// Numbers commits and flushes the WAL behind them.
pub(super) struct Syncer {
    wal: PathBuf,
    /// The directory holding the files, flushed once (the WAL's entry).
    dir: PathBuf,
    dir_synced: AtomicBool,
    committed: AtomicU64,
    wake: Notify,
    durable: watch::Sender<Durable>,
    /// Tests hold the flushes back with [`Syncer::pause`].
    #[cfg(test)]
    paused: watch::Sender<bool>,
}

impl Syncer {
    /// A syncer for the database at `db`, with its flush loop running.
    pub(super) fn start(db: &Path) -> Arc<Syncer> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let dir = match db.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let syncer = Arc::new(Syncer {
            wal: PathBuf::from(wal),
            dir,
            dir_synced: AtomicBool::new(false),
            committed: AtomicU64::new(0),
            wake: Notify::new(),
            durable: watch::channel(Durable::default()).0,
            #[cfg(test)]
            paused: watch::channel(false).0,
        });
        tokio::spawn(syncer.clone().run());
        syncer
    }

    /// Records a commit that just returned and returns its number.
    pub(super) fn committed(&self) -> u64 {
        let number = self.committed.fetch_add(1, Ordering::AcqRel) + 1;
        self.wake.notify_one();
        number
    }

    /// The number of the latest commit.
    pub(super) fn latest(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// Why flushing failed, once it has: nothing is acknowledged then.
    pub(super) fn failed(&self) -> Option<String> {
        self.durable.borrow().failed.clone()
    }

    /// Holds back (or lets go) the flushes that have not started.
    #[cfg(test)]
    pub(super) fn pause(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    /// Waits until commit `number` is on disk.
    pub(super) async fn wait(&self, number: u64) -> Result<(), String> {
        let mut rx = self.durable.subscribe();
        let durable = rx
            .wait_for(|d| d.upto >= number || d.failed.is_some())
            .await
            .map_err(|_| "the WAL syncer stopped".to_string())?;
        match &durable.failed {
            Some(err) if durable.upto < number => Err(err.clone()),
            _ => Ok(()),
        }
    }

    async fn run(self: Arc<Self>) {
        loop {
            let target = self.committed.load(Ordering::Acquire);
            if target <= self.durable.borrow().upto {
                // A commit after the load above left a permit: no lost wake-up.
                self.wake.notified().await;
                continue;
            }
            #[cfg(test)]
            let _ = self.paused.subscribe().wait_for(|paused| !paused).await;
            let this = self.clone();
            let flushed = tokio::task::spawn_blocking(move || this.flush()).await;
            match flushed {
                Ok(Ok(())) => {
                    self.durable.send_modify(|d| d.upto = d.upto.max(target));
                }
                Ok(Err(err)) => return self.fail(format!("flushing {} failed: {err}", self.wal.display())),
                Err(err) => return self.fail(format!("flushing {} failed: {err}", self.wal.display())),
            }
        }
    }

    fn flush(&self) -> std::io::Result<()> {
        File::open(&self.wal)?.sync_data()?;
        if !self.dir_synced.load(Ordering::Acquire) {
            File::open(&self.dir)?.sync_all()?;
            self.dir_synced.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// A failed flush may have dropped pages (the kernel forgets them):
    /// nothing committed since the last good flush can be acknowledged.
    fn fail(&self, err: String) {
        tracing::error!("{err}; no further write will be acknowledged");
        self.durable.send_modify(|d| d.failed = Some(err));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits are acknowledged once a flush covering them has finished.
    #[tokio::test]
    async fn a_commit_is_acknowledged_after_its_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::write(dir.path().join("db-wal"), b"frames").unwrap();
        let syncer = Syncer::start(&db);
        let first = syncer.committed();
        let second = syncer.committed();
        assert_eq!((first, second), (1, 2));
        syncer.wait(second).await.unwrap();
        syncer.wait(first).await.unwrap();
        assert!(syncer.durable.borrow().upto >= 2);
        assert_eq!(syncer.wait(0).await, Ok(()));
    }

    /// A flush that fails (here: no WAL file) acknowledges nothing after
    /// it, neither the commit it was for nor any later one.
    #[tokio::test]
    async fn a_failed_flush_acknowledges_nothing_more() {
        let dir = tempfile::tempdir().unwrap();
        let syncer = Syncer::start(&dir.path().join("missing"));
        let number = syncer.committed();
        let err = syncer.wait(number).await.unwrap_err();
        assert!(err.contains("missing-wal"), "{err}");
        let later = syncer.committed();
        assert!(syncer.wait(later).await.is_err());
    }
}
