//! Criterion benchmark of `--where` evaluation, in bytes of the filter's column values per second.
//!
//! `cargo bench -p tally-benches --bench filter`. Pieces of 1 Mi rows of the demo data (`k1` int32 uniform
//! in 0..1000, `c` float64 with 1% nulls) in memory, one thread: the filter's cost per core, to set beside
//! the describe kernel's (`--bench kernel`). The target is `describe --where 'k1 < 500'` within 30% of the
//! unfiltered describe.

use arrow_array::Array;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tally_engine::filter::Filter;
use tally_engine::generate::{demo_batch, demo_schema};

fn filter_eval(c: &mut Criterion) {
    let (pieces, piece_rows) = (4u64, 1usize << 20);
    let ids: Vec<i64> = (0..1000).collect();
    let batches: Vec<_> = (0..pieces).map(|b| demo_batch(1, b * piece_rows as u64, piece_rows, &ids)).collect();
    let schema = demo_schema();
    let mut group = c.benchmark_group("filter");
    for text in ["k1 < 500", "k1 < 500 and c is not null", "c > 0.5 or k1 in (1, 2, 3)", "a between -1 and 1"] {
        let filter = Filter::try_parse(text, &schema).expect("valid demo filter");
        // Rows per second is this divided by the width of the columns read (4 bytes for k1, 12 for k1 and c).
        let width: usize =
            filter.columns().iter().map(|&i| schema.field(i).data_type().primitive_width().unwrap_or(0)).sum();
        group.throughput(Throughput::Bytes(pieces * (piece_rows * width) as u64));
        group.bench_function(text, |b| {
            b.iter(|| {
                for batch in &batches {
                    let arrays: Vec<&dyn Array> = filter.columns().iter().map(|&i| batch.column(i).as_ref()).collect();
                    std::hint::black_box(filter.evaluate(&arrays));
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = filter_eval
}
criterion_main!(benches);
