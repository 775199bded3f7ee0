mod util;
use arrow_array::types::Int32Type;
use arrow_array::*;
use std::sync::Arc;
use util::*;
#[test]
fn probe() {
    let dir = Dir::new();
    let f = |v: Vec<Option<f64>>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
    let dict: ArrayRef =
        Arc::new(vec![Some("a"), None, Some("b"), Some("a")].into_iter().collect::<DictionaryArray<Int32Type>>());
    let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), None, Some(3), Some(4)]));
    let schema = arrow_schema::Schema::empty();
    dir.write_schema_and_batches("e.arrow", &schema, &[]);
    for args in [
        &["describe", "e.arrow"][..],
        &["describe", "e.arrow", "--format", "json"],
        &["describe", "e.arrow", "--format", "csv"],
        &["schema", "e.arrow"],
    ] {
        let out = dir.tally().args(args).output().unwrap();
        println!("EMPTY {args:?} {:?}\n{}\n{}", out.status, lossy(&out.stdout), lossy(&out.stderr));
    }
    let dup = batch_of(vec![("x", f(vec![Some(1.0)])), ("x", f(vec![Some(2.0)]))]);
    dir.write_batches("dup.arrow", &[dup]);
    for args in [
        &["describe", "dup.arrow", "--format", "csv"][..],
        &["describe", "dup.arrow", "--format", "csv", "--columns", "x", "--workers", "4096"],
    ] {
        let out = dir.tally().args(args).output().unwrap();
        println!("DUP {args:?} {:?}\n{}\n{}", out.status, lossy(&out.stdout), lossy(&out.stderr));
    }
    return;
    let m = f64::MAX;
    let batch = batch_of(vec![
        ("pm_max", f(vec![Some(m), Some(-m), None, None])),
        ("pm_1e308", f(vec![Some(1e308), Some(-1e308), None, None])),
        ("mixed", f(vec![Some(1e308), Some(1e308), Some(-1e308), Some(1e308)])),
        ("zero_first", f(vec![Some(0.0), Some(1e308), Some(1e308), None])),
        ("spread", f(vec![Some(1e200), Some(-1e200), None, None])),
        ("_dict", dict),
        ("_date", date),
    ]);
    dir.write_batches("p.arrow", &[batch.clone()]);
    for extra in [&[][..], &["--exact"]] {
        let out = dir.tally().args(["describe", "p.arrow", "--format", "csv"]).args(extra).output().unwrap();
        println!("{}\n{}", lossy(&out.stdout), lossy(&out.stderr));
    }
    let out = dir.tally().args(["describe", "p.arrow"]).output().unwrap();
    println!("{}\n{}", lossy(&out.stdout), lossy(&out.stderr));
    for c in [arrow_ipc::CompressionType::LZ4_FRAME, arrow_ipc::CompressionType::ZSTD] {
        let opts = arrow_ipc::writer::IpcWriteOptions::default().try_with_compression(Some(c)).unwrap();
        let file = std::fs::File::create(dir.join("c.arrow")).unwrap();
        let mut w = arrow_ipc::writer::FileWriter::try_new_with_options(file, batch.schema().as_ref(), opts).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        let out = dir.tally().args(["describe", "c.arrow", "--format", "csv", "-v"]).output().unwrap();
        println!("{c:?} {:?}\n{}\n{}", out.status, lossy(&out.stdout), lossy(&out.stderr));
    }
}
