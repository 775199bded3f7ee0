//! Memory-bandwidth ceiling: how fast this machine can stream bytes from RAM into registers, with 1..N
//! threads, so benchmark reports can state GB/s as a fraction of what the hardware allows.
//!
//! `cargo run --release -p tally-benches --bin membw [-- MIB]`: sums a buffer of MIB mebibytes (default
//! 2048, far beyond any cache) as u64 words, median of 7 passes per thread count.

use std::time::Instant;

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2048);
    let words = mib << 17;
    let data: Vec<u64> = (0..words as u64).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("buffer {mib} MiB, {cores} cores");
    for threads in 1..=cores {
        let mut times = Vec::new();
        for _ in 0..7 {
            let start = Instant::now();
            let total: u64 = std::thread::scope(|s| {
                let part = data.len().div_ceil(threads);
                let handles: Vec<_> = data
                    .chunks(part)
                    .map(|c| s.spawn(move || c.iter().fold(0u64, |a, &b| a.wrapping_add(b))))
                    .collect();
                handles.into_iter().map(|h| h.join().expect("reader thread")).fold(0, u64::wrapping_add)
            });
            std::hint::black_box(total);
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!("{threads} thread(s): {:.1} GB/s (median of 7)", (words * 8) as f64 / median / 1e9);
    }
}
