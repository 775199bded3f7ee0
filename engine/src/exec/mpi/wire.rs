//! Byte messages between the ranks: broadcast from rank 0, one rank to another, every rank to every rank
//! (all-to-all), all-gather of one word.
//! Payloads are `stats::encode`d (versioned postcard), so this module only moves bytes and their lengths.
//! MPI counts are C `int`s: messages go in pieces of at most [`PIECE`] bytes, so they have no size limit.

use mpi::datatype::{Partition, PartitionMut};
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

/// `messages[q]` to rank `q`, from every rank at once (`MPI_Alltoallv`); returns what each rank sent to
/// this one, in rank order. Counts and displacements are C `int`s, so large messages go in rounds of at
/// most [`PIECE`]` / ranks` bytes per pair (every rank takes part in every round, possibly with nothing).
pub(super) fn all_to_all(world: &SimpleCommunicator, messages: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let ranks = world.size() as usize;
    let send_lens: Vec<u64> = messages.iter().map(|m| m.len() as u64).collect();
    let mut recv_lens = vec![0u64; ranks];
    world.all_to_all_into(&send_lens[..], &mut recv_lens[..]);
    let piece = (PIECE / ranks).max(1);
    let rounds_here = send_lens.iter().chain(&recv_lens).map(|&l| (l as usize).div_ceil(piece)).max().unwrap_or(0);
    let mut rounds = 0u64;
    world.all_reduce_into(&(rounds_here as u64), &mut rounds, mpi::collective::SystemOperation::max());
    let mut received: Vec<Vec<u8>> = recv_lens.iter().map(|&l| Vec::with_capacity(l as usize)).collect();
    for round in 0..rounds as usize {
        let range = |len: usize| (round * piece).min(len)..((round + 1) * piece).min(len);
        let send_parts: Vec<&[u8]> = messages.iter().map(|m| &m[range(m.len())]).collect();
        let send: Vec<u8> = send_parts.concat();
        let send_counts: Vec<i32> = send_parts.iter().map(|p| p.len() as i32).collect();
        let recv_counts: Vec<i32> = recv_lens.iter().map(|&l| range(l as usize).len() as i32).collect();
        let displacements = |counts: &[i32]| -> Vec<i32> {
            counts.iter().scan(0, |at, &c| Some(std::mem::replace(at, *at + c))).collect()
        };
        let (send_displs, recv_displs) = (displacements(&send_counts), displacements(&recv_counts));
        let mut buf = vec![0u8; recv_counts.iter().map(|&c| c as usize).sum()];
        {
            let outgoing = Partition::new(&send[..], &send_counts[..], &send_displs[..]);
            let mut incoming = PartitionMut::new(&mut buf[..], &recv_counts[..], &recv_displs[..]);
            world.all_to_all_varcount_into(&outgoing, &mut incoming);
        }
        for ((into, &at), &count) in received.iter_mut().zip(&recv_displs).zip(&recv_counts) {
            into.extend_from_slice(&buf[at as usize..(at + count) as usize]);
        }
    }
    received
}
