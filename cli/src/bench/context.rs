//! The machine and build a bench ran on, for the report header and the JSON `context` block: tally's
//! version and features, CPU model, cores, NUMA nodes, memory, kernel, load and the date (Linux /proc and
//! /sys; fields that cannot be read are left empty rather than guessed).

use std::time::{SystemTime, UNIX_EPOCH};

/// What a reader of a bench result needs to compare it with another.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Machine {
    pub(crate) hostname: String,
    pub(crate) cpu_model: String,
    /// CPUs this process may run on, and CPUs online.
    pub(crate) cores: usize,
    pub(crate) online_cpus: usize,
    pub(crate) numa_nodes: usize,
    pub(crate) memory_bytes: u64,
    pub(crate) mem_available_bytes: u64,
    pub(crate) kernel: String,
    /// 1-minute load average when the bench started.
    pub(crate) load: Option<f64>,
    /// UTC, ISO 8601 (`2026-12-01T13:44:55Z`).
    pub(crate) date: String,
}

impl Machine {
    pub(crate) fn read() -> Machine {
        let cpuinfo = read("/proc/cpuinfo");
        let meminfo = read("/proc/meminfo");
        Machine {
            hostname: read("/proc/sys/kernel/hostname").trim().to_string(),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim()))
                .unwrap_or_default()
                .to_string(),
            cores: cores(),
            online_cpus: cpuinfo.lines().filter(|l| l.starts_with("processor")).count(),
            numa_nodes: std::fs::read_dir("/sys/devices/system/node").map_or(0, |d| {
                d.flatten()
                    .filter(|e| {
                        let name = e.file_name();
                        let name = name.to_string_lossy();
                        name.strip_prefix("node")
                            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    })
                    .count()
            }),
            memory_bytes: meminfo_kb(&meminfo, "MemTotal:").unwrap_or(0) * 1024,
            mem_available_bytes: meminfo_kb(&meminfo, "MemAvailable:").unwrap_or(0) * 1024,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            load: load_average(),
            date: utc_now(),
        }
    }
}

/// CPUs this process may use (its affinity mask; `available_parallelism` respects it and cgroup quotas).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(crate) fn load_average() -> Option<f64> {
    read("/proc/loadavg").split_whitespace().next()?.parse().ok()
}

/// Free bytes for an unprivileged user on the filesystem of `dir` (0 when unknown).
pub(crate) fn free_disk(dir: &std::path::Path) -> u64 {
    rustix::fs::statvfs(dir).map_or(0, |s| s.f_bavail.saturating_mul(s.f_frsize))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn meminfo_kb(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(key))?.split_whitespace().next()?.parse().ok()
}

fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level
/// Date Algorithms", `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        // 2000-02-29 is day 11016; 2026-12-01 is day 20788
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_788), (2026, 12, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn meminfo_lines_parse() {
        let text = "MemTotal:       32000000 kB\nMemAvailable:   23515636 kB\n";
        assert_eq!(meminfo_kb(text, "MemAvailable:"), Some(23_515_636));
        assert_eq!(meminfo_kb(text, "SwapTotal:"), None);
    }

    #[test]
    fn this_machine_reads_plausibly() {
        let m = Machine::read();
        assert!(m.cores >= 1 && m.date.len() == 20 && m.date.ends_with('Z'), "{m:?}");
    }
}
