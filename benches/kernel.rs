//! Criterion benchmark of the per-chunk describe kernel, in bytes of column data per second.
//!
//! `cargo bench -p tally-benches --bench kernel`. The data is in memory (no file, no page faults), one
//! thread: this is the kernel's ceiling per core, to compare with the memory bandwidth in benches/README.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tally_benches::{demo_store, run_pass_once, value_bytes};

fn describe_kernel(c: &mut Criterion) {
    let rows = 4 << 20;
    let mut group = c.benchmark_group("describe_chunk");
    for (name, columns, exact) in [
        ("a (normal)", &["a"][..], false),
        ("c (1% nulls)", &["c"][..], false),
        ("d (1e9 + normal)", &["d"][..], false),
        ("k1 (int32)", &["k1"][..], false),
        ("id (int64)", &["id"][..], false),
        ("a --exact", &["a"][..], true),
    ] {
        let (store, plan, pass) = demo_store(rows, 1_000_000, columns, exact);
        let all: Vec<usize> = (0..columns.len()).collect();
        group.throughput(Throughput::Bytes(value_bytes(&store, &all)));
        group.bench_function(name, |b| b.iter(|| run_pass_once(&plan, &pass, &store)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = describe_kernel
}
criterion_main!(benches);
