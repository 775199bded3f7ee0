//! `tally schema`: what a file holds, without reading its values.

use tally_engine::source;
use tally_engine::store::ColumnKind;

use crate::args::{SchemaArgs, SchemaFormatArg};
use crate::output::with_output;

pub(crate) fn run(args: SchemaArgs) -> anyhow::Result<()> {
    let file = source::open(&args.path)?;
    let schema = file.schema();
    let stats = |k: ColumnKind| match k {
        ColumnKind::Float | ColumnKind::Int => "all",
        ColumnKind::Other => "count only",
    };
    with_output(None, |out| match args.format {
        SchemaFormatArg::Json => {
            let columns: Vec<_> = schema
                .fields()
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "name": f.name(),
                        "type": f.data_type().to_string(),
                        "nullable": f.is_nullable(),
                        "statistics": stats(ColumnKind::of(f.data_type())),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "schema_version": tally_engine::report::SCHEMA_VERSION,
                "path": args.path.display().to_string(),
                "format": "arrow-ipc-file",
                "rows": file.num_rows(),
                "batches": file.num_batches(),
                "columns": columns,
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        SchemaFormatArg::Table => {
            writeln!(
                out,
                "{}: Arrow IPC file, {} rows in {} record batches, {} columns",
                args.path.display(),
                file.num_rows(),
                file.num_batches(),
                schema.fields().len()
            )?;
            let name_w = schema.fields().iter().map(|f| f.name().len()).max().unwrap_or(0).max(4);
            let rows: Vec<(String, String, &str, &str)> = schema
                .fields()
                .iter()
                .map(|f| {
                    let nullable = if f.is_nullable() { "yes" } else { "no" };
                    (f.name().clone(), f.data_type().to_string(), nullable, stats(ColumnKind::of(f.data_type())))
                })
                .collect();
            let type_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
            writeln!(out, "{:>5}  {:<name_w$}  {:<type_w$}  nullable  statistics", "#", "name", "type")?;
            for (i, (name, ty, nullable, st)) in rows.iter().enumerate() {
                writeln!(out, "{i:>5}  {name:<name_w$}  {ty:<type_w$}  {nullable:<8}  {st}")?;
            }
            Ok(())
        }
    })
}
