//! `tally merge`: finish the merge of saved states (`--save-state`) without reading any input again.

use std::path::Path;

use tally_engine::state_file::merge_files;

use crate::analysis::render;
use crate::args::MergeArgs;

pub(crate) fn run(args: MergeArgs) -> anyhow::Result<()> {
    let paths: Vec<&Path> = args.states.iter().map(|p| p.as_path()).collect();
    let merged = merge_files(&paths)?;
    if let Some(out) = &args.save_state {
        let bytes = merged.to_bytes()?;
        crate::output::with_output(Some(out), &paths, |w| w.write_all(&bytes))?;
    }
    render(&merged.finish()?, &args.output, &paths)
}
