//! `--executor mpi` in the CLI (issue 14): MPI is initialised for the run and finalised after it, rank 0
//! alone prints and writes, and a rank that fails prints its error with its rank and ends the whole job
//! (`MPI_Abort`), so no other rank is left waiting in a collective. Without the `mpi` feature, or with
//! another executor, this is one process that is its own rank 0.

use crate::args::ExecutorArg;

/// Where this process stands in the job.
#[derive(Debug)]
pub(crate) struct Ranks {
    #[cfg(feature = "mpi")]
    runtime: Option<tally_engine::exec::mpi::Runtime>,
    rank: usize,
    size: usize,
}

impl Ranks {
    /// Initialises MPI when the run asks for it (the error without the feature comes from the engine).
    pub(crate) fn start(executor: ExecutorArg) -> anyhow::Result<Ranks> {
        #[cfg(feature = "mpi")]
        if executor == ExecutorArg::Mpi {
            let runtime = tally_engine::exec::mpi::Runtime::try_init()?;
            let (rank, size) = (runtime.rank(), runtime.size());
            return Ok(Ranks { runtime: Some(runtime), rank, size });
        }
        let _ = executor;
        Ok(Ranks {
            #[cfg(feature = "mpi")]
            runtime: None,
            rank: 0,
            size: 1,
        })
    }

    /// Rank 0: the one that prints results, warnings and notes, and writes files.
    pub(crate) fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// `rank 2 of 3: ` in a job of several ranks, else nothing: the prefix of a rank's messages.
    pub(crate) fn prefix(&self) -> String {
        if self.size > 1 { format!("rank {} of {}: ", self.rank, self.size) } else { String::new() }
    }

    /// Ends the run after `e`: in an MPI job, prints it naming the rank and aborts every rank with the exit
    /// code `tally` would have used (a closed stdout stays quiet: only rank 0 writes, after the others
    /// are done); otherwise hands `e` back to `main`.
    pub(crate) fn fail(&self, e: anyhow::Error, cancel: &tally_engine::exec::Cancel) -> anyhow::Error {
        #[cfg(feature = "mpi")]
        if let Some(runtime) = &self.runtime
            && !crate::is_broken_pipe(&e)
        {
            if !self.is_root() {
                // An error every rank meets (a missing file, an unknown column) is best said once: rank 0's
                // abort ends this rank during the pause; an error of this rank alone is said after it.
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
            let code = crate::report_error(&e, cancel, &format!("rank {} of {}: ", self.rank, self.size));
            runtime.abort(i32::from(code));
        }
        let _ = cancel;
        e
    }
}
