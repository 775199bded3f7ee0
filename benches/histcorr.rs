//! Criterion benchmark of the histogram (range pass and counting pass) and co-moment kernels, in bytes of
//! column values per second.
//!
//! `cargo bench -p tally-benches --bench histcorr`. In-memory demo data (no file, no page faults), one
//! thread, through `kernel::compute_chunk` as the executors call it: the per-core ceiling of `tally hist` and
//! `tally corr`. Column `c` has 1% nulls, so the correlation covers both the unmasked and the masked paths.

use criterion::{Criterion, criterion_group, criterion_main};
use tally_benches::bench_kernels;
use tally_engine::stats::{HistogramSpec, Stat};

fn hist_corr(c: &mut Criterion) {
    let rows = 4 << 20;
    let spec = HistogramSpec::equal_width(-5.5, 5.5, 100).expect("valid spec");
    let cases = vec![
        ("hist range pass a", &["a"][..], Stat::Range),
        ("hist a 100 bins", &["a"][..], Stat::Histogram(spec)),
        (
            "hist c 100 bins (1% nulls)",
            &["c"][..],
            Stat::Histogram(HistogramSpec::equal_width(0.0, 1.0, 100).expect("valid")),
        ),
        ("corr a,b,c,d", &["a", "b", "c", "d"][..], Stat::CoMoments),
        ("corr a,b", &["a", "b"][..], Stat::CoMoments),
    ];
    bench_kernels(c, "histcorr_chunk", rows, 1000, cases);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = hist_corr
}
criterion_main!(benches);
