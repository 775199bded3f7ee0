//! Progress bars on stderr (indicatif): drawn only on a terminal and never with `--quiet`, so piped JSON
//! and CI logs stay clean.

use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tally_engine::ProgressFn;

/// A bar over `total` units, hidden when `quiet` (indicatif itself hides it when stderr is not a tty).
pub(crate) fn bar(total: u64, quiet: bool, template: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
    bar
}

/// The describe progress callback: chunks done / total, throughput in GB/s, ETA.
pub(crate) fn describe_callback(bar: ProgressBar) -> ProgressFn {
    let start = Instant::now();
    Arc::new(move |done, total, bytes| {
        bar.set_length(total as u64);
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{:.2} GB/s", bytes as f64 / secs / 1e9));
        bar.set_position(done as u64);
    })
}
