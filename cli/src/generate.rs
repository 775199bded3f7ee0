//! `tally gen`: writes the synthetic benchmark data set, with a progress bar on a terminal.

use tally_engine::exec::Cancel;
use tally_engine::generate::{GenOptions, write_demo};

use crate::args::GenArgs;
use crate::progress;

pub(crate) fn run(args: GenArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let template = "{spinner} writing {msg} [{bar:30}] {human_pos}/{human_len} rows ({eta})";
    let bar = progress::bar(args.rows, args.quiet, template);
    bar.set_message(args.path.display().to_string());
    let options = GenOptions { rows: args.rows, seed: args.seed, batch_rows: args.batch_rows };
    let result = write_demo(&args.path, &options, cancel, |rows| bar.set_position(rows));
    bar.finish_and_clear();
    result?;
    Ok(())
}
