//! Writing a job's output: an Excel-friendly CSV that appears whole.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anist_core::csvio::{CsvWriter, WriterOptions};

use super::BulkError;

fn output_error(path: &Path, e: impl std::fmt::Display) -> BulkError {
    BulkError::Output {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// An Excel-friendly CSV written to `<path>.partial`, renamed into place
/// (after an fsync) by [`AtomicCsv::finish`]: a reader never sees half a
/// file.
pub(crate) struct AtomicCsv {
    tmp: PathBuf,
    path: PathBuf,
    w: CsvWriter<BufWriter<File>>,
}

impl AtomicCsv {
    /// Starts the file with its header row.
    pub(crate) fn create(path: &Path, columns: &[&str]) -> Result<Self, BulkError> {
        let mut name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".partial");
        let tmp = path.with_file_name(name);
        let file = crate::files::create_private(&tmp).map_err(|e| output_error(&tmp, e))?;
        let mut w = CsvWriter::new(BufWriter::new(file), WriterOptions::excel());
        w.write_row(columns).map_err(|e| output_error(&tmp, e))?;
        Ok(Self {
            tmp,
            path: path.to_owned(),
            w,
        })
    }

    /// One row.
    pub(crate) fn row<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), BulkError> {
        self.w
            .write_row(fields)
            .map_err(|e| output_error(&self.tmp, e))
    }

    /// Flushes, syncs and renames the file into place.
    pub(crate) fn finish(self) -> Result<(), BulkError> {
        let tmp = self.tmp;
        let mut inner = self.w.into_inner().map_err(|e| output_error(&tmp, e))?;
        inner.flush().map_err(|e| output_error(&tmp, e))?;
        let file = inner
            .into_inner()
            .map_err(|e| output_error(&tmp, e.error()))?;
        file.sync_all().map_err(|e| output_error(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, &self.path).map_err(|e| output_error(&self.path, e))
    }
}
