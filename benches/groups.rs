//! Criterion benchmark of the group-by and distinct kernels, in bytes of column values per second.
//!
//! `cargo bench -p tally-benches --bench groups`. `groupby --by k1 --agg count,mean(a)` (1,000 groups: the
//! direct-array path) and `--by k2` (1,000,000 ids as in `tally gen`: hashing, a table far beyond cache),
//! exact `distinct k2` and `top --column k2` (both a key-only group-by: one kernel) and `distinct --approx`
//! (HyperLogLog). In-memory demo data, one thread, through `kernel::compute_chunk`. Merging the chunks'
//! states is not in these numbers (it runs in the parent, after the kernels).

use criterion::{Criterion, criterion_group, criterion_main};
use tally_benches::{K2_DISTINCT, bench_kernels};
use tally_engine::stats::Stat;
use tally_engine::stats::groups::{AggColumn, AggFn, GroupSpec, KeyKind, Needs};

fn groups(c: &mut Criterion) {
    let rows = 4 << 20;
    let mean_a = AggColumn { float: true, needs: Needs::default().with(AggFn::Mean) };
    // One int key; `aggs` empty is the key-only state `distinct` and `top` count with.
    let by = |aggs: Vec<AggColumn>| Stat::GroupBy(GroupSpec { keys: vec![KeyKind::Int], aggs });
    let cases = vec![
        ("groupby k1 count,mean(a)", &["k1", "a"][..], by(vec![mean_a])),
        ("groupby k2 count,mean(a)", &["k2", "a"][..], by(vec![mean_a])),
        ("distinct/top k2 (exact)", &["k2"][..], by(vec![])),
        ("distinct k2 --approx", &["k2"][..], Stat::ApproxDistinct),
    ];
    bench_kernels(c, "groups_chunk", rows, K2_DISTINCT, cases);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(5));
    targets = groups
}
criterion_main!(benches);
