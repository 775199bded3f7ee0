//! `tally gen`: writes the synthetic benchmark data set, with a progress bar on a terminal. The engine
//! checks the free space first and replaces an existing file only when the new one is complete.

use tally_engine::exec::Cancel;
use tally_engine::generate::{GenOptions, write_demo};

use crate::args::GenArgs;
use crate::options::init_logging;
use crate::progress;

pub(crate) fn run(args: GenArgs, cancel: &Cancel) -> anyhow::Result<()> {
    init_logging(args.log.verbose);
    let template = "{spinner} writing {msg} [{bar:30}] {human_pos}/{human_len} rows ETA {eta}";
    let bar = progress::bar(args.rows, args.log.quiet, template);
    bar.set_message(args.path.display().to_string());
    let options = GenOptions { rows: args.rows, seed: args.seed, batch_rows: args.batch_rows };
    let result = write_demo(&args.path, &options, cancel, |rows| bar.set_position(rows));
    bar.finish_and_clear();
    result?;
    Ok(())
}
