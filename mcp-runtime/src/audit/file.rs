//! The file sink: appends, syncs per `audit.fsync`, rotates past `audit.max_file_bytes`.
//!
//! The path comes from configuration, which may come from the environment, so the sink touches nothing
//! that is not an audit trail: an existing regular file is used only when it is empty or starts like
//! one (a record or a checkpoint), rotation renames and deletes only `<path>.<n>` files that start like
//! one, and `keep_files = 0` empties the file rather than deleting it. A file it creates is readable by
//! its owner only (0600 on unix). Something other than a regular file (a FIFO, `/dev/null`) is written
//! to and never rotated.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::chain::CHECKPOINT_PREFIX;
use crate::config::{AuditConfig, AuditFsync};

pub(super) struct FileSink {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    keep: usize,
    fsync: AuditFsync,
    synced: Instant,
    /// A regular file; FIFOs and devices are never rotated.
    regular: bool,
}

impl FileSink {
    /// Opens (or creates, 0600) the audit file at `path`.
    pub(super) fn open(path: PathBuf, config: &AuditConfig) -> Result<Self, String> {
        let cannot = |e: io::Error| format!("audit.destination: cannot open {}: {e}", path.display());
        let regular = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.len() > 0 && !holds_audit(&path) => {
                return Err(format!(
                    "audit.destination: {} exists and is not an audit trail (it does not start with an audit \
                     record): name a new file",
                    path.display()
                ));
            }
            Ok(meta) => meta.is_file(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => return Err(cannot(e)),
        };
        let file = append(&path).map_err(cannot)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Self {
            path,
            file,
            size,
            max: config.max_file_bytes.max(1),
            keep: config.keep_files,
            fsync: config.fsync,
            synced: Instant::now(),
            regular,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a record that would end `pending` bytes from now, `before` of them ahead of it, calls for a
    /// rotation first: it would take the file past its size, and the file would not be empty without it.
    pub(super) fn full(&self, before: usize, pending: usize) -> bool {
        self.regular && self.size + before as u64 > 0 && self.size + pending as u64 > self.max
    }

    pub(super) fn write(&mut self, batch: &[u8], force_sync: bool) -> io::Result<()> {
        self.file.write_all(batch)?;
        self.size += batch.len() as u64;
        let due = match self.fsync {
            AuditFsync::Always => true,
            AuditFsync::Interval => self.synced.elapsed() >= Duration::from_secs(1),
            AuditFsync::Never => false,
        };
        if due || force_sync {
            self.file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }

    /// `audit.log` → `audit.log.1`, `.1` → `.2` …, the oldest beyond `keep` deleted; `closing` (the
    /// chain's checkpoint) ends the old file and opens the new one, which so starts where the old ended.
    ///
    /// # Errors
    /// A rotated name that holds something other than an audit trail: nothing is renamed or deleted, and
    /// the file goes on growing.
    pub(super) fn rotate(&mut self, closing: Option<&[u8]>) -> io::Result<()> {
        let name = |n: usize| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if let Some(foreign) = (1..=self.keep).map(name).find(|p| p.exists() && !holds_audit(p)) {
            return Err(io::Error::other(format!(
                "{} is not an audit trail: rotation would overwrite it, so the audit file is not rotated",
                foreign.display()
            )));
        }
        if let Some(line) = closing {
            self.file.write_all(line)?;
        }
        self.file.sync_data()?;
        if self.keep == 0 {
            self.file.set_len(0)?;
        } else {
            let _ = std::fs::remove_file(name(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(name(n), name(n + 1));
            }
            std::fs::rename(&self.path, name(1))?;
            self.file = append(&self.path)?;
        }
        self.size = 0;
        if let Some(line) = closing {
            self.file.write_all(line)?;
            self.size = line.len() as u64;
        }
        Ok(())
    }
}

/// Opens `path` to append, creating it readable by its owner only.
fn append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Whether the regular file at `path` starts like an audit trail: a record (`{"ts":"`) or a checkpoint.
pub(super) fn holds_audit(path: &Path) -> bool {
    // Checked before opening: opening a FIFO to read it would wait for a writer.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut start = [0u8; CHECKPOINT_PREFIX.len()];
    let Ok(file) = File::open(path) else { return false };
    let mut read = 0;
    let mut file = file.take(start.len() as u64);
    while let Ok(n @ 1..) = file.read(&mut start[read..]) {
        read += n;
    }
    let start = &start[..read];
    start.starts_with(br#"{"ts":""#) || start == CHECKPOINT_PREFIX.as_bytes()
}
