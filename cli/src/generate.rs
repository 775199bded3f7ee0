//! `tally gen`: writes the synthetic benchmark data set, with a progress bar on a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tally_engine::generate::{GenOptions, write_demo};

use crate::args::GenArgs;

pub(crate) fn run(args: GenArgs) -> anyhow::Result<()> {
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        // indicatif draws nothing when stderr is not a terminal, so pipes and CI logs stay clean.
        ProgressBar::with_draw_target(Some(args.rows), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} writing {msg} [{bar:30}] {human_pos}/{human_len} rows ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(args.path.display().to_string());
    let options = GenOptions { rows: args.rows, seed: args.seed, batch_rows: args.batch_rows };
    let result = write_demo(&args.path, &options, |rows| bar.set_position(rows));
    bar.finish_and_clear();
    result?;
    Ok(())
}
