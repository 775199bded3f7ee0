//! Byte messages between the ranks: broadcast from rank 0, gather to rank 0, all-gather of one word.
//! Payloads are `stats::encode`d (versioned postcard), so this module only moves bytes and their lengths.
//!
//! MPI counts are C `int`s: a broadcast is sent in pieces of at most [`PIECE`] bytes, so it has no size
//! limit; a gather (`MPI_Gatherv`, one buffer on rank 0 with `int` displacements) is limited to 2 GiB in
//! all and says so instead of overflowing.

use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::error::{Error, Result};

/// The rank that decides, merges and prints.
pub(super) const ROOT: i32 = 0;

/// The largest piece of a broadcast (1 GiB, well inside a C `int`).
const PIECE: usize = 1 << 30;

/// Rank 0's `bytes` on every rank (what other ranks pass is ignored).
pub(super) fn broadcast(world: &SimpleCommunicator, bytes: Vec<u8>) -> Vec<u8> {
    let root = world.process_at_rank(ROOT);
    let mut len = bytes.len() as u64;
    root.broadcast_into(&mut len);
    let mut buf = if world.rank() == ROOT { bytes } else { vec![0u8; len as usize] };
    for piece in buf.chunks_mut(PIECE) {
        root.broadcast_into(piece);
    }
    buf
}

/// Every rank's `bytes`, in rank order, on rank 0 (`None` elsewhere).
pub(super) fn gather(world: &SimpleCommunicator, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>> {
    if world.size() == 1 {
        // Alone, there is nothing to move (and Open MPI refuses the send and receive buffers of two empty
        // vectors: both dangling pointers are equal, which it takes for aliasing).
        return Ok(Some(vec![bytes.to_vec()]));
    }
    let count = i32::try_from(bytes.len()).map_err(|_| too_big(bytes.len()))?;
    let root = world.process_at_rank(ROOT);
    if world.rank() != ROOT {
        root.gather_into(&count);
        root.gather_varcount_into(bytes);
        return Ok(None);
    }
    let mut counts = vec![0i32; world.size() as usize];
    root.gather_into_root(&count, &mut counts[..]);
    let mut displs = Vec::with_capacity(counts.len());
    let mut total = 0usize;
    for &c in &counts {
        displs.push(i32::try_from(total).map_err(|_| too_big(total))?);
        total += c as usize;
    }
    let mut all = vec![0u8; total];
    {
        let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        root.gather_varcount_into_root(bytes, &mut partition);
    }
    let mut out = Vec::with_capacity(counts.len());
    for (&c, &d) in counts.iter().zip(&displs) {
        out.push(all[d as usize..d as usize + c as usize].to_vec());
    }
    Ok(Some(out))
}

/// Every rank's `word`, in rank order, on every rank.
pub(super) fn all_gather(world: &SimpleCommunicator, word: u64) -> Vec<u64> {
    let mut all = vec![0u64; world.size() as usize];
    world.all_gather_into(&word, &mut all[..]);
    all
}

fn too_big(bytes: usize) -> Error {
    Error::internal(format!(
        "the partials of one pass are {bytes} bytes, over MPI's 2 GiB gather limit; use fewer, larger ranks or \
         a larger --chunk-rows"
    ))
}
