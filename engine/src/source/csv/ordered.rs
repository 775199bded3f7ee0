//! An ordered, bounded parallel map: `threads` scoped threads compute `work(i)` for `i` in `0..n`, and the
//! calling thread hands the results to `sink` strictly in index order.
//!
//! ```text
//!  threads ─ claim i (at most `window` ahead of the sink) ─► work(i) ─► slot i ─┐
//!  caller  ◄────────────────── sink(0), sink(1), sink(2), ... in order ─────────┘
//! ```
//!
//! Why not rayon: its `collect` keeps every result until the end (a decoded CSV would sit in RAM whole), and
//! its scheduling is free to run any index first. Here the window bounds what is held, and the output is
//! the same for any thread count and timing, because only `sink`'s order is visible and it is fixed.
//! A failing or panicking `work`, or a failing `sink`, stops the claiming and is returned; the first error
//! in index order wins, so even the error does not depend on timing.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, PoisonError};

use crate::error::{Error, Result};

struct Shared<T> {
    /// The next index to claim.
    next: usize,
    /// Results not yet taken by the sink.
    done: BTreeMap<usize, Result<T>>,
    /// Indices below this have been taken by the sink.
    taken: usize,
    /// Set when the caller gives up: threads stop claiming.
    stop: bool,
}

/// Runs `work` over `0..n` on `threads` threads, at most `window` indices ahead of `sink`, which sees the
/// results in order on the calling thread.
pub(crate) fn for_each<T: Send>(
    n: usize,
    threads: usize,
    window: usize,
    work: impl Fn(usize) -> Result<T> + Sync,
    mut sink: impl FnMut(usize, T) -> Result<()>,
) -> Result<()> {
    let state = Mutex::new(Shared { next: 0, done: BTreeMap::new(), taken: 0, stop: false });
    let (ready, room) = (Condvar::new(), Condvar::new());
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    let window = window.max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut s = lock();
                        while !s.stop && s.next < n && s.next >= s.taken + window {
                            s = room.wait(s).unwrap_or_else(PoisonError::into_inner);
                        }
                        if s.stop || s.next >= n {
                            return;
                        }
                        s.next += 1;
                        s.next - 1
                    };
                    let result = catch_unwind(AssertUnwindSafe(|| work(i))).unwrap_or_else(|_| {
                        Err(Error::internal(format!("a CSV decoding thread panicked on piece {i}")))
                    });
                    lock().done.insert(i, result);
                    ready.notify_all();
                }
            });
        }
        let outcome = (|| {
            for i in 0..n {
                let result = {
                    let mut s = lock();
                    loop {
                        if let Some(r) = s.done.remove(&i) {
                            s.taken = i + 1;
                            break r;
                        }
                        s = ready.wait(s).unwrap_or_else(PoisonError::into_inner);
                    }
                };
                room.notify_all();
                sink(i, result?)?;
            }
            Ok(())
        })();
        lock().stop = true;
        room.notify_all();
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order_whatever_the_threads_and_timing() {
        for threads in [1, 2, 3, 7] {
            let mut seen = Vec::new();
            for_each(
                50,
                threads,
                3,
                |i| {
                    // Later indices finish first when they can.
                    std::thread::sleep(std::time::Duration::from_micros(((50 - i) * 20) as u64));
                    Ok(i * i)
                },
                |i, v| {
                    seen.push((i, v));
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(seen, (0..50).map(|i| (i, i * i)).collect::<Vec<_>>(), "threads {threads}");
        }
    }

    #[test]
    fn the_first_error_in_order_wins_and_panics_are_errors() {
        let work = |i: usize| {
            if i == 9 {
                panic!("boom");
            }
            if i >= 5 { Err(Error::input(format!("bad {i}"))) } else { Ok(i) }
        };
        for threads in [1, 2, 7] {
            let mut taken = 0;
            let e = for_each(20, threads, 4, work, |_, _| {
                taken += 1;
                Ok(())
            });
            assert_eq!((e.unwrap_err().to_string(), taken), ("bad 5".to_string(), 5));
        }
        let e = for_each(20, 2, 4, |i| if i == 3 { panic!("boom") } else { Ok(i) }, |_, _| Ok(())).unwrap_err();
        assert!(e.to_string().contains("panicked on piece 3"), "{e}");
        let e = for_each(20, 2, 4, Ok, |i, _| if i == 2 { Err(Error::input("sink")) } else { Ok(()) }).unwrap_err();
        assert_eq!(e.to_string(), "sink");
    }
}
