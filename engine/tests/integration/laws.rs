//! The laws of the `Partial` contract, checked with proptest over every `AnyPartial` variant
//! (`Counts`, `Float` over f64 and f32, `Int` over signed and unsigned widths, `Decimal`, `Bytes`), DataFusion `state_compat`
//! style:
//!
//! * identity: merging the empty state the engine starts from (`FloatDescribe::new(exact)`, so the exact
//!   sum's merge path is covered) changes nothing, merging into it copies;
//! * split: `update(a ++ b)` ≈ `merge(update(a), update(b))`: counts, null/NaN counts, min, max, integer
//!   sums and exact sums bit-exact; compensated float sums within `1e-12·(|sum| + n·(|mean| + std))`; mean within `1e-12·(|mean| + std)`, variance within `1e-10` relative,
//!   skewness and kurtosis within `1e-8` absolute (data spread at least 1e-6 of its offset);
//! * round trip: `decode(encode(s))` re-encodes to the same bytes and compares equal;
//! * determinism: serial, threads × {1, 2, 3, 7} workers and any completion order give the same bits.
//!
//! Not here: the group-by and distinct-sketch states (`Groups`, `Sketch`), whose inputs are key and value
//! columns rather than one typed slice; their laws are in tests/groupby.rs (`group_states_obey_the_partial_laws`,
//! split law against brute force over many chunkings) and tests/distinct.rs.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, Int64Array};
use common::{options_of, store_of};
use proptest::prelude::*;
use tally_engine::describe_store;
use tally_engine::exec::ExecutorKind;
use tally_engine::report::{Format, InputInfo};
use tally_engine::stats::{AnyPartial, Counts, FloatDescribe, IntDescribe, Partial, Summary, Value, decode, encode};
use tally_engine::store::{ColumnChunk, FloatElem, IntElem};

/// Values with nulls (`None`), plus validity words as the kernels take them.
fn words(valid: &[bool]) -> Vec<u64> {
    let mut w = vec![0u64; valid.len().div_ceil(64)];
    for (i, _) in valid.iter().enumerate().filter(|(_, v)| **v) {
        w[i / 64] |= 1 << (i % 64);
    }
    w
}

fn float_state<T: FloatElem>(xs: &[T], valid: &[bool], exact: bool) -> FloatDescribe {
    let mut s = FloatDescribe::new(exact);
    let w = words(valid);
    s.update(ColumnChunk::new(xs, Some(&w)));
    s
}

fn int_state<T: IntElem>(xs: &[T], valid: &[bool]) -> IntDescribe {
    let mut s = IntDescribe::default();
    let w = words(valid);
    s.update(ColumnChunk::new(xs, Some(&w)));
    s
}

fn merged<P: Partial>(a: &P, b: &P) -> P {
    let mut m = a.clone();
    m.merge(b);
    m
}

/// Finished summaries agree: exact fields bit for bit, moments within the documented bounds. Compensated
/// float sums (`exact_sum` false) agree within `1e-12 · (|sum| + count · (|mean| + std))`.
fn assert_split_law(whole: &Summary, parts: &Summary, exact_sum: bool) {
    let exact = |s: &Summary| (s.count, s.null_count, s.nan_count, format!("{:?} {:?}", s.min, s.max));
    assert_eq!(exact(whole), exact(parts));
    match (whole.sum, parts.sum) {
        (Some(Value::Float(w)), Some(Value::Float(p))) if !exact_sum && w.is_finite() => {
            let scale = w.abs() + whole.count as f64 * (whole.mean.unwrap_or(0.0).abs() + whole.std.unwrap_or(0.0));
            assert!((w - p).abs() <= 1e-12 * scale, "sum {w} vs {p}");
        }
        (w, p) => assert_eq!(format!("{w:?}"), format!("{p:?}"), "sums"),
    }
    let (Some(mw), Some(mp)) = (whole.mean, parts.mean) else {
        assert_eq!(whole.mean.is_some(), parts.mean.is_some());
        return;
    };
    if mw.is_nan() || mw.is_infinite() {
        assert_eq!(format!("{mw:?}"), format!("{mp:?}"));
        return;
    }
    let scale = mw.abs() + whole.std.unwrap_or(0.0);
    assert!((mw - mp).abs() <= 1e-12 * scale, "mean {mw} vs {mp}");
    if let (Some(vw), Some(vp)) = (whole.var, parts.var) {
        assert!((vw - vp).abs() <= 1e-10 * vw.max(f64::MIN_POSITIVE), "var {vw} vs {vp}");
    }
    for (w, p) in [(whole.skewness, parts.skewness), (whole.kurtosis, parts.kurtosis)] {
        if let (Some(w), Some(p)) = (w, p) {
            assert!((w - p).abs() <= 1e-8, "higher moment {w} vs {p}");
        }
    }
}

fn assert_round_trip(state: &AnyPartial) {
    let bytes = encode(state).unwrap();
    let back: AnyPartial = decode(&bytes).unwrap();
    assert_eq!(encode(&back).unwrap(), bytes);
    assert_eq!(format!("{back:?}"), format!("{state:?}"));
}

/// Identity with the empty state the engine really starts from (`FloatDescribe::new(exact)`, which
/// carries the exact accumulator under `--exact`; `Default` for the others), compared as states (`==`
/// is canonical for exact sums) and as encoded bytes.
fn assert_identity<P: Partial + PartialEq + std::fmt::Debug>(s: &P, empty: &P) {
    for m in [merged(s, empty), merged(empty, s)] {
        assert_eq!(&m, s);
        assert_eq!(encode(&m).unwrap(), encode(s).unwrap());
    }
}

/// Floats around an offset, with NaN, ±inf and nulls sprinkled in.
fn float_data() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    let offset = prop::sample::select(vec![0.0, 1e9, -1e15, 1e-300, 3.5]);
    let scale = prop::sample::select(vec![1e-3, 1.0, 1e3]);
    (offset, scale, prop::collection::vec((0u32..1000, any::<bool>(), 0u8..100), 0..600)).prop_map(
        |(offset, scale, raw): (f64, f64, Vec<(u32, bool, u8)>)| {
            let spread = if offset == 0.0 { scale } else { scale.max(offset.abs() * 1e-6) };
            raw.iter()
                .map(|&(u, v, k)| {
                    let x = match k {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        2 => f64::NEG_INFINITY,
                        _ => offset + spread * (u as f64 / 500.0 - 1.0),
                    };
                    (x, v || k > 10)
                })
                .unzip()
        },
    )
}

fn int_data() -> impl Strategy<Value = (Vec<i64>, Vec<bool>)> {
    let base = prop::sample::select(vec![0i64, i64::MAX - 5000, i64::MIN + 3, -77]);
    (base, prop::collection::vec((0i64..5000, 0u8..10), 0..600))
        .prop_map(|(base, raw)| raw.iter().map(|&(d, k)| (base.saturating_add(d), k > 0)).unzip())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn float_states_obey_the_laws((xs, valid) in float_data(), cut in 0usize..600, exact in any::<bool>()) {
        let cut = cut.min(xs.len());
        let whole = float_state(&xs, &valid, exact);
        let (a, b) = (float_state(&xs[..cut], &valid[..cut], exact), float_state(&xs[cut..], &valid[cut..], exact));
        let parts = merged(&a, &b);
        assert_split_law(&whole.finish(&Default::default()), &parts.finish(&Default::default()), exact);
        assert_identity(&whole, &FloatDescribe::new(exact));
        assert_round_trip(&AnyPartial::Float(parts));
        let narrow: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
        let whole32 = float_state(&narrow, &valid, exact);
        let parts32 = merged(&float_state(&narrow[..cut], &valid[..cut], exact), &float_state(&narrow[cut..], &valid[cut..], exact));
        assert_split_law(&whole32.finish(&Default::default()), &parts32.finish(&Default::default()), exact);
    }

    #[test]
    fn int_states_obey_the_laws((xs, valid) in int_data(), cut in 0usize..600) {
        let cut = cut.min(xs.len());
        let whole = int_state(&xs, &valid);
        let parts = merged(&int_state(&xs[..cut], &valid[..cut]), &int_state(&xs[cut..], &valid[cut..]));
        assert_split_law(&whole.finish(&Default::default()), &parts.finish(&Default::default()), true);
        assert_identity(&whole, &IntDescribe::default());
        assert_round_trip(&AnyPartial::Int(parts));
        let small: Vec<u16> = xs.iter().map(|&x| x as u16).collect();
        let whole16 = int_state(&small, &valid);
        let parts16 = merged(&int_state(&small[..cut], &valid[..cut]), &int_state(&small[cut..], &valid[cut..]));
        assert_split_law(&whole16.finish(&Default::default()), &parts16.finish(&Default::default()), true);
    }

    #[test]
    fn count_states_obey_the_laws(len_a in 0usize..1000, nulls_a in 0usize..1000, len_b in 0usize..1000) {
        let mut whole = Counts::default();
        whole.update(len_a + len_b, nulls_a.min(len_a));
        let (mut a, mut b) = (Counts::default(), Counts::default());
        a.update(len_a, nulls_a.min(len_a));
        b.update(len_b, 0);
        assert_eq!(merged(&a, &b), whole);
        assert_identity(&whole, &Counts::default());
        assert_round_trip(&AnyPartial::Counts(whole));
    }

    #[test]
    fn every_executor_and_worker_count_gives_the_same_bits(
        (xs, valid) in float_data(),
        (ints, int_valid) in int_data(),
        batch_cuts in prop::collection::vec(0usize..600, 0..4),
        chunk_rows in 1u64..200,
        exact in any::<bool>(),
    ) {
        let n = xs.len().min(ints.len());
        let mut cuts: Vec<usize> = batch_cuts.into_iter().map(|c| c.min(n)).chain([0, n]).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let batches: Vec<Vec<ArrayRef>> = cuts
            .windows(2)
            .map(|w| {
                let r = w[0]..w[1];
                let f: Float64Array = r.clone().map(|i| valid[i].then_some(xs[i])).collect();
                let i64s: Int64Array = r.clone().map(|i| int_valid[i].then_some(ints[i])).collect();
                let i32s: Int32Array = r.map(|i| int_valid[i].then_some(ints[i] as i32)).collect();
                vec![Arc::new(f) as ArrayRef, Arc::new(i64s), Arc::new(i32s)]
            })
            .collect();
        prop_assume!(!batches.is_empty());
        let store = store_of(&["f", "i", "j"], batches);
        let render = |executor, workers| {
            let input = InputInfo { path: "memory".into(), format: "test", bytes: 0, batches: 0 , files: Vec::new() };
            let options = options_of(executor, workers, chunk_rows, exact, 1);
            let done = describe_store(&store, input, &options).unwrap();
            let mut out = Vec::new();
            done.report.render(Format::Json, &Default::default(), &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let oracle = render(ExecutorKind::Serial, 1);
        for workers in [1, 2, 3, 7] {
            prop_assert_eq!(&render(ExecutorKind::Threads, workers), &oracle, "threads x {}", workers);
        }
    }
}

// The statistics of the other analyses (Range, Histogram, CoMoments), through the closed `AnyPartial` the
// executors move: identity, split and round trip, over random data with nulls, NaN and ±inf.

use tally_engine::stats::numeric::NumericChunk;
use tally_engine::stats::{CoMoments, Histogram, HistogramSpec, Range};

fn special(x: f64, k: u8) -> f64 {
    match k % 16 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        _ => x,
    }
}

/// The three states over `xs[range]` (with `ys` as the second co-moment column).
fn other_states(xs: &[f64], ys: &[f64], valid: &[bool], spec: &HistogramSpec) -> [AnyPartial; 3] {
    let w = words(valid);
    let mut r = Range::default();
    r.update_float(ColumnChunk::new(xs, Some(&w)));
    let mut h = Histogram::default();
    h.update(spec, NumericChunk::F64(ColumnChunk::new(xs, Some(&w))));
    let mut c = CoMoments::new(2);
    c.update(&[NumericChunk::F64(ColumnChunk::new(xs, Some(&w))), NumericChunk::F64(ColumnChunk::new(ys, None))]);
    [AnyPartial::Range(r), AnyPartial::Histogram(h), AnyPartial::CoMoments(c)]
}

fn any_merged(a: &AnyPartial, b: &AnyPartial) -> AnyPartial {
    let mut m = a.clone();
    m.merge(b).unwrap();
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn range_histogram_and_comoments_obey_the_laws(
        rows in proptest::collection::vec((-1e3f64..1e3, any::<u8>(), any::<bool>(), -1e3f64..1e3), 1..400),
        cut in any::<prop::sample::Index>(),
    ) {
        let xs: Vec<f64> = rows.iter().map(|r| special(r.0, r.1)).collect();
        let ys: Vec<f64> = rows.iter().map(|r| r.3).collect();
        let valid: Vec<bool> = rows.iter().map(|r| r.2 || r.1 % 3 == 0).collect();
        let spec = HistogramSpec::equal_width(-800.0, 800.0, 13).unwrap();
        let cut = cut.index(xs.len() + 1);
        let whole = other_states(&xs, &ys, &valid, &spec);
        let left = other_states(&xs[..cut], &ys[..cut], &valid[..cut], &spec);
        let right = other_states(&xs[cut..], &ys[cut..], &valid[cut..], &spec);
        let empties = [AnyPartial::Range(Range::default()), AnyPartial::Histogram(Histogram::default()), AnyPartial::CoMoments(CoMoments::new(2))];
        for i in 0..3 {
            // Identity, both sides, bit for bit (NaN moments of columns holding ±inf compare unequal with ==).
            let bits = |s: &AnyPartial| encode(s).unwrap();
            prop_assert_eq!(bits(&any_merged(&whole[i], &empties[i])), bits(&whole[i]));
            prop_assert_eq!(bits(&any_merged(&empties[i], &whole[i])), bits(&whole[i]));
            // Round trip.
            let bytes = encode(&whole[i]).unwrap();
            let back: AnyPartial = decode(&bytes).unwrap();
            prop_assert_eq!(encode(&back).unwrap(), bytes);
        }
        // Split: range and histogram exactly; co-moments within 1e-9 relative on n, means and sums.
        let split: Vec<AnyPartial> = (0..3).map(|i| any_merged(&left[i], &right[i])).collect();
        prop_assert_eq!(&split[0], &whole[0]);
        prop_assert_eq!(&split[1], &whole[1]);
        let (AnyPartial::CoMoments(a), AnyPartial::CoMoments(b)) = (&split[2], &whole[2]) else { unreachable!() };
        let (fa, fb) = (a.finish(1), b.finish(1));
        prop_assert_eq!(&fa.n_pairs, &fb.n_pairs);
        for (p, q) in fa.cov.iter().zip(fb.cov.iter()) {
            match (p, q) {
                (Some(p), Some(q)) => prop_assert!((p - q).abs() <= 1e-9 * q.abs().max(1.0), "{} vs {}", p, q),
                (p, q) => prop_assert_eq!(p, q),
            }
        }
    }
}

// The decimal and string describe states (`Decimal`, `Bytes`): exact, so the split law holds for the
// states themselves, bit for bit, whatever the cut.

use arrow_array::{Array, Decimal256Array, StringArray};
use tally_engine::stats::{BytesDescribe, DecimalDescribe};

fn exact_state<S: Partial>(
    mut s: S,
    array: &dyn Array,
    valid: &[bool],
    update: fn(&mut S, &dyn Array, Option<&[u64]>, usize),
) -> S {
    let w = words(valid);
    update(&mut s, array, Some(&w), 0);
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decimal_and_string_states_obey_the_laws(
        raw in prop::collection::vec((any::<i64>(), 0u8..10), 0..300),
        cut in 0usize..300,
        shift in 0u32..200,
    ) {
        let cut = cut.min(raw.len());
        let valid: Vec<bool> = raw.iter().map(|&(_, k)| k > 0).collect();
        // Values up to 2^(63 + 200): the 256-bit sums overflow into big integers for large shifts.
        let big = |x: i64| arrow_buffer::i256::from_i128(x.into()).wrapping_mul(arrow_buffer::i256::from_i128(2).wrapping_pow(shift.min(190)));
        let decimals = Decimal256Array::from(raw.iter().map(|&(x, _)| big(x)).collect::<Vec<_>>())
            .with_precision_and_scale(76, 4)
            .unwrap();
        let update: fn(&mut DecimalDescribe, &dyn Array, Option<&[u64]>, usize) = DecimalDescribe::update;
        let state = |a: &dyn Array, v: &[bool]| exact_state(DecimalDescribe::new(4), a, v, update);
        let whole = state(&decimals, &valid);
        let parts = merged(&state(&decimals.slice(0, cut), &valid[..cut]), &state(&decimals.slice(cut, raw.len() - cut), &valid[cut..]));
        prop_assert_eq!(&whole, &parts);
        assert_identity(&whole, &DecimalDescribe::new(4));
        assert_round_trip(&AnyPartial::Decimal(Box::new(parts)));

        let strings = StringArray::from(raw.iter().map(|&(x, _)| format!("{x:x}")).collect::<Vec<_>>());
        let update: fn(&mut BytesDescribe, &dyn Array, Option<&[u64]>, usize) = BytesDescribe::update;
        let state = |a: &dyn Array, v: &[bool]| exact_state(BytesDescribe::new(true), a, v, update);
        let whole = state(&strings, &valid);
        let parts = merged(&state(&strings.slice(0, cut), &valid[..cut]), &state(&strings.slice(cut, raw.len() - cut), &valid[cut..]));
        prop_assert_eq!(&whole, &parts);
        assert_identity(&whole, &BytesDescribe::new(true));
        assert_round_trip(&AnyPartial::Bytes(Box::new(parts)));
    }
}
