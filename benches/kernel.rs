//! Criterion benchmark of the per-chunk describe kernel, in bytes of column data per second.
//!
//! `cargo bench -p tally-benches --bench kernel`. The data is in memory (no file, no page faults), one
//! thread: this is the kernel's ceiling per core, to compare with the memory bandwidth in benches/README.md.

use criterion::{Criterion, criterion_group, criterion_main};
use tally_benches::bench_kernels;
use tally_engine::stats::Stat;

fn describe_kernel(c: &mut Criterion) {
    let fast = Stat::Describe { exact: false };
    let cases = vec![
        ("a (normal)", &["a"][..], fast.clone()),
        ("c (1% nulls)", &["c"][..], fast.clone()),
        ("d (1e9 + normal)", &["d"][..], fast.clone()),
        ("k1 (int32)", &["k1"][..], fast.clone()),
        ("id (int64)", &["id"][..], fast),
        ("a --exact", &["a"][..], Stat::Describe { exact: true }),
    ];
    bench_kernels(c, "describe_chunk", 4 << 20, 1000, cases);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = describe_kernel
}
criterion_main!(benches);
