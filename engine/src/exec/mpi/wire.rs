//! Byte messages between the ranks: broadcast from rank 0, one rank to another, all-gather of one word.
//! Payloads are `stats::encode`d (versioned postcard), so this module only moves bytes and their lengths.
//! MPI counts are C `int`s: messages go in pieces of at most [`PIECE`] bytes, so they have no size limit.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

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

/// Sends `bytes` to `rank` (its length, then pieces of at most [`PIECE`] bytes: no size limit).
pub(super) fn send(world: &SimpleCommunicator, rank: usize, bytes: &[u8]) {
    let peer = world.process_at_rank(rank as i32);
    peer.send(&(bytes.len() as u64));
    for piece in bytes.chunks(PIECE) {
        peer.send(piece);
    }
}

/// Receives what [`send`] sent from `rank`.
pub(super) fn receive(world: &SimpleCommunicator, rank: usize) -> Vec<u8> {
    let peer = world.process_at_rank(rank as i32);
    let mut len = 0u64;
    peer.receive_into(&mut len);
    let mut bytes = vec![0u8; len as usize];
    for piece in bytes.chunks_mut(PIECE) {
        peer.receive_into(piece);
    }
    bytes
}

/// Every rank's `word`, in rank order, on every rank.
pub(super) fn all_gather(world: &SimpleCommunicator, word: u64) -> Vec<u64> {
    let mut all = vec![0u64; world.size() as usize];
    world.all_gather_into(&word, &mut all[..]);
    all
}
