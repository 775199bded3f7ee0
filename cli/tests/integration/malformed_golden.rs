//! Issue 11, item 8, as a user sees it: every file the peer suites' `MANIFEST.tsv` files mark as malformed
//! (arrow-testing's fuzz reproducers and broken files, parquet-testing's bad and encrypted files) makes
//! `tally describe` exit with status 1 within 5 s, by itself (no signal), with a one-line `tally: error:`
//! message naming the file and no panic. The engine tests check the same files in-process; this checks
//! the binary's exit path around them (worker processes included: the default executor runs).

use crate::util;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use util::lossy;

/// `$TALLY_TESTDATA` (relative to the workspace root), else `../shared/testdata` beside the workspace;
/// with `CI` set the variable must be, so the suite can never be skipped there.
fn testdata() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cli/ is inside the workspace").to_path_buf();
    match std::env::var_os("TALLY_TESTDATA") {
        Some(dir) => Some(root.join(dir)),
        None => {
            assert!(std::env::var_os("CI").is_none(), "CI is set but TALLY_TESTDATA is not (.ci/run sets it)");
            Some(root.join("../shared/testdata")).filter(|d| d.is_dir())
        }
    }
}

/// The malformed files of one suite: `expect` is `error` (or the file is encrypted).
fn malformed(suite: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(suite.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f.len() >= 5 && (f[4] == "error" || f[3] == "encrypted")).then(|| suite.join(f[0]))
        })
        .collect()
}

#[test]
fn every_malformed_golden_file_exits_1_with_a_one_line_error_within_5_s() {
    let Some(data) = testdata() else {
        println!("note: no test data; skipping");
        return;
    };
    let files: Vec<PathBuf> =
        ["arrow-testing", "parquet-testing"].iter().flat_map(|s| malformed(&data.join(s))).collect();
    assert!(files.len() > 250, "expected the peer suites' malformed files, found {}", files.len());
    let mut problems = Vec::new();
    for path in &files {
        let start = Instant::now();
        let mut child = std::process::Command::new(util::bin_path())
            .args(["describe".as_ref(), path.as_os_str()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tally");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if start.elapsed() > Duration::from_secs(5) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let out = child.wait_with_output().expect("output");
        let stderr = lossy(&out.stderr);
        let shown = path.display().to_string();
        let problem = match status {
            None => Some("still running after 5 s".to_string()),
            Some(s) if s.code() != Some(1) => Some(format!("exit status {s:?}")),
            _ if stderr.contains("panicked") => Some("panicked".into()),
            _ => {
                let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tally: error:")).collect();
                (errors.len() != 1 || !errors[0].contains(&shown)).then(|| "not one error line naming the file".into())
            }
        };
        if let Some(p) = problem {
            problems.push(format!("{shown}: {p}: {stderr}"));
        }
    }
    assert!(problems.is_empty(), "{} of {} files misbehaved:\n{}", problems.len(), files.len(), problems.join("\n"));
}
