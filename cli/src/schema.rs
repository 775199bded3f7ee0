//! `tally schema`: what a file holds, without reading its values. The JSON nests `input` exactly as
//! `describe` does, CSV and table use the same `name`/`type` fields, and the table is the shared renderer.

use tally_engine::exec::Cancel;
use tally_engine::report::csv::quote;
use tally_engine::report::{Format, Notation, ResultTable, TableCell, TableColumn, plural};
use tally_engine::source;
use tally_engine::store::ColumnKind;

use crate::args::SchemaArgs;
use crate::options::{format, table_options};
use crate::output::with_output;

pub(crate) fn run(args: SchemaArgs, cancel: &Cancel) -> anyhow::Result<()> {
    let (format, format_note) = format(&args.output);
    if format == Format::Arrow {
        anyhow::bail!("schema has no Arrow output; use --format table, json or csv");
    }
    if let Some(out) = &args.output.output {
        tally_engine::output::refuse_inputs(out, &[&args.path])?;
    }
    let file = source::open_for_run(&args.path, &args.input.to_options(), cancel)?;
    // The input's columns, then its struct fields (`a.b`), numbered as `#N` selects them.
    let schema = file.columns();
    let stats = |k: ColumnKind| match k {
        ColumnKind::Float | ColumnKind::Int => "all",
        ColumnKind::Decimal { .. } => "exact decimal",
        ColumnKind::Bytes { .. } => "counts, min/max, lengths",
        ColumnKind::Nested => "none (nested)",
        ColumnKind::Other => "count only",
    };
    let rows: Vec<[String; 4]> = schema
        .fields()
        .iter()
        .map(|f| {
            let nullable = if f.is_nullable() { "yes" } else { "no" };
            [f.name().clone(), f.data_type().to_string(), nullable.into(), stats(ColumnKind::of(f.data_type())).into()]
        })
        .collect();
    let path = args.path.display().to_string();
    let bytes = std::fs::metadata(&args.path).map(|m| m.len()).unwrap_or(0);
    let table = table_options(&args.output);
    let written = with_output(args.output.output.as_deref(), &[&args.path], |out| match format {
        Format::Json => {
            let columns: Vec<_> = rows
                .iter()
                .map(|[name, ty, nullable, st]| {
                    serde_json::json!({"name": name, "type": ty, "nullable": nullable == "yes", "statistics": st})
                })
                .collect();
            let doc = serde_json::json!({
                "schema_version": tally_engine::report::SCHEMA_VERSION,
                "input": {"path": path, "format": file.format().as_str(), "bytes": bytes, "batches": file.num_batches()},
                "rows": file.num_rows(),
                "columns": columns,
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Csv => {
            writeln!(out, "position,name,type,nullable,statistics")?;
            for (i, r) in rows.iter().enumerate() {
                writeln!(out, "{i},{},{},{},{}", quote(&r[0]), quote(&r[1]), r[2], r[3])?;
            }
            Ok(())
        }
        Format::Table | Format::Arrow => {
            let title = format!(
                "{path}: {}, {} in {}, {}",
                file.format().as_str(),
                plural(file.num_rows() as usize, "row"),
                plural(file.num_batches(), "record batch"),
                plural(rows.len(), "column")
            );
            let columns = ["#", "name", "type", "nullable", "statistics"];
            let result = ResultTable {
                title: Some(title),
                columns: columns.iter().enumerate().map(|(i, c)| TableColumn::new(*c, (i > 2) as u8)).collect(),
                rows: rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut row = vec![TableCell::Int(i as i128)];
                        row.extend(r.into_iter().map(TableCell::Text));
                        row
                    })
                    .collect(),
                notation: Notation::PerColumn,
            };
            tally_engine::report::table::render(&result, &table, out)
        }
    });
    written?;
    if let Some(note) = format_note {
        eprintln!("tally: note: {note}");
    }
    Ok(())
}
