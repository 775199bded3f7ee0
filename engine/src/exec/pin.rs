//! Pinning workers to CPUs (`tally bench --pin`): worker `i` of a session runs on the `i mod n`-th CPU of a
//! list, with `sched_setaffinity(2)`. Pinning keeps the scheduler from migrating workers between cores
//! during a measurement (a migration costs the worker its warm L1/L2); it does not make runs faster.

use rustix::process::Pid;
use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

use crate::error::{Error, Result};

/// The CPUs this process may run on (its affinity mask: taskset, cgroup cpusets), in ascending order.
pub fn allowed_cpus() -> Result<Vec<usize>> {
    let set = sched_getaffinity(None).map_err(|e| Error::io("cannot read the CPU affinity mask", e.into()))?;
    Ok((0..CpuSet::MAX_CPU).filter(|&cpu| set.is_set(cpu)).collect())
}

/// The CPU worker `worker` gets from `cpus` (round robin), if any.
pub fn cpu_for(cpus: &[usize], worker: usize) -> Option<usize> {
    (!cpus.is_empty()).then(|| cpus[worker % cpus.len()])
}

/// Pins the thread or process `pid` (`None`: the calling thread) to `cpu`.
pub(crate) fn pin(pid: Option<u32>, cpu: usize) -> Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu);
    let pid = pid.and_then(|p| Pid::from_raw(p as i32));
    sched_setaffinity(pid, &set).map_err(|e| Error::io(format!("cannot pin to CPU {cpu}"), e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_take_the_cpus_round_robin() {
        assert_eq!(cpu_for(&[], 3), None);
        let cpus = [2, 5, 7];
        let got: Vec<Option<usize>> = (0..5).map(|w| cpu_for(&cpus, w)).collect();
        assert_eq!(got, vec![Some(2), Some(5), Some(7), Some(2), Some(5)]);
    }

    #[test]
    fn a_thread_pinned_to_an_allowed_cpu_runs_there_only() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty(), "this process may run somewhere");
        let last = *cpus.last().unwrap();
        std::thread::spawn(move || {
            pin(None, last).unwrap();
            assert_eq!(allowed_cpus().unwrap(), vec![last]);
        })
        .join()
        .unwrap();
    }
}
