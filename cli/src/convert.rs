//! `tally convert IN... OUT.arrow`: the engine converts (`tally_engine::export`), this shows progress and
//! a one-line summary with `-v`.

use tally_engine::exec::Cancel;
use tally_engine::export::{Compression, convert};

use crate::args::{CompressionArg, ConvertArgs};
use crate::options::init_logging;
use crate::progress;

pub(crate) fn run(args: ConvertArgs, cancel: &Cancel) -> anyhow::Result<()> {
    init_logging(args.log.verbose);
    let (output, inputs) = args.paths.split_last().expect("clap requires two paths");
    let compression = match args.compression {
        CompressionArg::None => Compression::None,
        CompressionArg::Lz4 => Compression::Lz4,
        CompressionArg::Zstd => Compression::Zstd,
    };
    let template = "{spinner} converting {msg} [{bar:30}] {human_pos}/{human_len} rows ETA {eta}";
    let bar = progress::bar(0, args.log.quiet, template);
    bar.set_message(output.display().to_string());
    let start = std::time::Instant::now();
    let result = convert(inputs, output, compression, &args.input.to_options(), cancel, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let done = result?;
    if args.log.verbose > 0 {
        eprintln!(
            "tally: wrote {}: {} rows, {} columns, {} batches in {:.3} s",
            output.display(),
            done.rows,
            done.columns,
            done.batches,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
