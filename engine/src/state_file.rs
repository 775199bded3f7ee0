//! State files (`--save-state`, `tally merge`): a merged partial state on disk, self-describing.
//!
//! ```text
//!  offset 0   8 bytes  magic "TALLYST\0"
//!         8   4 bytes  CRC-32 (IEEE) of everything after it, little endian
//!        12   ...      the state codec shared with pipe frames (stats::encode): u16 format version, then the
//!                      postcard body of a [`StateFile`]: tally version, the resolved analysis (kind, options,
//!                      names and types of the columns read), the input fingerprints, the merged PartialSet
//! ```
//!
//! The CRC makes a truncated or corrupted file a clear error instead of a misread state. Merging checks the
//! resolved analyses are equal (same analysis, options, columns and types), so states never mix silently;
//! merging states of *different inputs* is the point, and the inputs are recorded in the result.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::{AnalysisResult, Resolved};
use crate::error::{Error, Result};
use crate::report::{InputInfo, RowFilter};
use crate::stats::{self, PartialSet};

const MAGIC: &[u8; 8] = b"TALLYST\0";

/// What was read to build a state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub path: String,
    pub format: String,
    pub bytes: u64,
    /// Rows of the input (before any filter).
    pub rows: u64,
}

/// The contents of a state file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateFile {
    /// The tally release that wrote it (informational; compatibility is the codec's format version).
    pub tally_version: String,
    pub analysis: Resolved,
    /// The `--where` expression the state was computed under: part of what must match to merge.
    pub filter: Option<String>,
    pub inputs: Vec<Fingerprint>,
    pub state: PartialSet,
}

impl StateFile {
    pub fn new(analysis: Resolved, input: &InputInfo, rows: u64, state: PartialSet) -> Self {
        let input =
            Fingerprint { path: input.path.clone(), format: input.format.to_string(), bytes: input.bytes, rows };
        StateFile {
            tally_version: env!("CARGO_PKG_VERSION").into(),
            analysis,
            filter: None,
            inputs: vec![input],
            state,
        }
    }

    /// Records the `--where` expression the state was computed under.
    pub fn with_filter(mut self, filter: Option<String>) -> Self {
        self.filter = filter;
        self
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let body = stats::encode(self)?;
        let mut out = Vec::with_capacity(body.len() + 12);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Parses a state file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |why: String| Error::input(why).with_file(path);
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad("not a tally state file (no TALLYST magic; write one with --save-state)".into()));
        }
        let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        let body = &bytes[12..];
        if crc32fast::hash(body) != crc {
            return Err(bad(format!(
                "corrupt or truncated state file: checksum mismatch over its {} bytes",
                body.len()
            )));
        }
        stats::decode(body).map_err(|e| bad(format!("unreadable state file: {}", e.message())))
    }

    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::input(format!("cannot read: {e}")).with_file(path))?;
        Self::from_bytes(&bytes, path)
    }

    /// Folds `other` (read from `other_path`) into `self` (first read from `self_path`).
    pub fn merge(&mut self, other: &StateFile, self_path: &Path, other_path: &Path) -> Result<()> {
        if self.filter != other.filter {
            let show = |f: &Option<String>| f.as_ref().map_or("no --where".to_string(), |t| format!("--where {t:?}"));
            return Err(Error::input(format!(
                "cannot merge {} with {}: they were filtered differently ({} vs {})",
                self_path.display(),
                other_path.display(),
                show(&self.filter),
                show(&other.filter)
            )));
        }
        if self.analysis != other.analysis {
            return Err(Error::input(format!(
                "cannot merge {} with {}: {}",
                self_path.display(),
                other_path.display(),
                mismatch(&self.analysis, &other.analysis)
            )));
        }
        self.state.merge(&other.state).map_err(|e| {
            Error::input(format!("cannot merge {} with {}: {}", self_path.display(), other_path.display(), e.message()))
        })?;
        self.inputs.extend(other.inputs.iter().cloned());
        Ok(())
    }

    /// The finished result; the input reads as the list of merged inputs.
    pub fn finish(&self) -> Result<AnalysisResult> {
        let input = InputInfo {
            path: self.inputs.iter().map(|i| i.path.as_str()).collect::<Vec<_>>().join(" + "),
            format: "tally-state",
            bytes: self.inputs.iter().map(|i| i.bytes).sum(),
            batches: 0,
            files: Vec::new(),
        };
        let mut result = self.analysis.finish(&self.state, input)?;
        let input_rows = self.inputs.iter().map(|i| i.rows).sum();
        result.set_filter(self.filter.clone().map(|text| RowFilter { text, input_rows }));
        Ok(result)
    }
}

/// Says how two resolved analyses differ, for the error message.
fn mismatch(a: &Resolved, b: &Resolved) -> String {
    if a.name() != b.name() {
        return format!("one is a {} state, the other a {} state", a.name(), b.name());
    }
    // Same analysis: show the debug forms, which name options and columns with their types.
    format!("their analyses differ in options or columns ({a:?} vs {b:?})")
}

/// Reads every file and merges them in order.
pub fn merge_files(paths: &[&Path]) -> Result<StateFile> {
    let (first, rest) = paths.split_first().ok_or_else(|| Error::input("tally merge needs at least one state file"))?;
    let mut merged = StateFile::read(first)?;
    for path in rest {
        let next = StateFile::read(path)?;
        merged.merge(&next, first, path)?;
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::describe::{DescribedColumn, ResolvedDescribe};
    use crate::stats::{AnyPartial, Counts};

    fn state(count: u64, exact: bool) -> StateFile {
        let analysis = Resolved::Describe(ResolvedDescribe {
            columns: vec![DescribedColumn { name: "s".into(), type_name: "Utf8".into(), flavor: Default::default() }],
            exact,
            ddof: 1,
            quantiles: None,
        });
        let input = InputInfo {
            path: format!("day{count}.arrow"),
            format: "arrow-ipc-file",
            bytes: 10,
            batches: 1,
            files: Vec::new(),
        };
        let partial = PartialSet { rows: count, stats: vec![AnyPartial::Counts(Counts { count, null_count: 1 })] };
        StateFile::new(analysis, &input, count, partial)
    }

    #[test]
    fn round_trips_and_merges_in_order() {
        let bytes = state(3, false).to_bytes().unwrap();
        let mut a = StateFile::from_bytes(&bytes, Path::new("a")).unwrap();
        assert_eq!(a, state(3, false));
        a.merge(&state(4, false), Path::new("a"), Path::new("b")).unwrap();
        assert_eq!(a.state.stats[0], AnyPartial::Counts(Counts { count: 7, null_count: 2 }));
        assert_eq!(a.inputs.len(), 2);
        let AnalysisResult::Describe(report) = a.finish().unwrap() else { panic!("a describe state") };
        assert_eq!((report.rows, report.input.path.as_str()), (7, "day3.arrow + day4.arrow"));
    }

    #[test]
    fn corrupt_truncated_foreign_and_mismatched_files_are_errors() {
        let bytes = state(3, false).to_bytes().unwrap();
        let path = Path::new("x.tstate");
        let truncated = StateFile::from_bytes(&bytes[..bytes.len() - 1], path).unwrap_err().to_string();
        assert!(truncated.contains("x.tstate") && truncated.contains("checksum"), "{truncated}");
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(StateFile::from_bytes(&flipped, path).unwrap_err().to_string().contains("corrupt"));
        assert!(StateFile::from_bytes(b"ARROW1..", path).unwrap_err().to_string().contains("not a tally state file"));
        let err = state(3, false).merge(&state(4, true), Path::new("a"), Path::new("b")).unwrap_err().to_string();
        assert!(err.contains("cannot merge a with b") && err.contains("exact"), "{err}");
    }
}
