//! Criterion benchmark of the quantile passes, in bytes of column values per second.
//!
//! `cargo bench -p tally-benches --bench quantile`. Exact quantiles take a first pass that counts the top
//! 16 bits of every value's order key, then window passes that count sub-buckets of, or collect, the keys
//! inside the buckets holding the ranks; `--approx` is one pass of the same key histogram over float keys
//! with the mantissa bits its relative error needs. In-memory demo data, one thread, through
//! `kernel::compute_chunk`: the per-core cost of each pass of `tally quantile`.

use criterion::{Criterion, criterion_group, criterion_main};
use tally_benches::bench_kernels;
use tally_engine::analysis::quantile::select::FIRST_PASS_BITS;
use tally_engine::analysis::quantile::sketch::sketch_bits;
use tally_engine::stats::Stat;
use tally_engine::stats::key_windows::Window;
use tally_engine::stats::order_key::float_key;

fn quantile_passes(c: &mut Criterion) {
    let rows = 4 << 20;
    // `b` is lognormal(0, 1): its median is 1.0. The windows sit where the median's bucket would be: a wide
    // counting window (refining a first-pass bucket) and a narrow collecting one (the final selection).
    let counting = Window::counting(float_key(0.5), float_key(2.0));
    let collecting = Window::collecting(float_key(0.999), float_key(1.001));
    let approx_bits = sketch_bits(0.01).expect("valid relative error");
    let b = &["b"][..];
    let cases = vec![
        ("pass 1 key histogram b", b, Stat::KeyHistogram { bits: FIRST_PASS_BITS, float_keys: false }),
        ("window pass b (count)", b, Stat::KeyWindows(vec![counting])),
        ("window pass b (collect)", b, Stat::KeyWindows(vec![collecting])),
        ("approx sketch b (rel-error 0.01)", b, Stat::KeyHistogram { bits: approx_bits, float_keys: true }),
    ];
    bench_kernels(c, "quantile_chunk", rows, 1000, cases);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = quantile_passes
}
criterion_main!(benches);
