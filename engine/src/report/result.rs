//! One renderer entry point for every analysis: [`render`] picks the analysis's table, JSON, CSV or
//! Arrow form.

use std::io::Write;

use arrow_array::RecordBatch;

use super::{Format, TableOptions, corr, counts, groupby, hist, quantile};
use crate::analysis::AnalysisResult;

/// Renders `result` as `format`; tables fit `table.width` (80 columns when unlimited, for the bar chart).
pub fn render(
    result: &AnalysisResult,
    format: Format,
    table: &TableOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match (result, format) {
        (AnalysisResult::Describe(r), f) => r.render(f, table, out),
        (AnalysisResult::Hist(r), Format::Table) => hist::table(r, table.width.unwrap_or(80), out),
        (AnalysisResult::Hist(r), Format::Json) => hist::json(r, out),
        (AnalysisResult::Hist(r), Format::Csv) => hist::csv(r, out),
        (AnalysisResult::Hist(r), Format::Arrow) => write_arrow(&hist::record_batch(r), out),
        (AnalysisResult::Corr(r), Format::Table) => corr::table(r, table.width, out),
        (AnalysisResult::Corr(r), Format::Json) => corr::json(r, out),
        (AnalysisResult::Corr(r), Format::Csv) => corr::csv(r, out),
        (AnalysisResult::Corr(r), Format::Arrow) => write_arrow(&corr::record_batch(r), out),
        (AnalysisResult::Quantile(r), Format::Table) => quantile::table(r, table, out),
        (AnalysisResult::Quantile(r), Format::Json) => quantile::json(r, out),
        (AnalysisResult::Quantile(r), Format::Csv) => quantile::csv(r, out),
        (AnalysisResult::Quantile(r), Format::Arrow) => write_arrow(&quantile::record_batch(r), out),
        (AnalysisResult::GroupBy(r), Format::Table) => super::table::render(&groupby::table(r), table, out),
        (AnalysisResult::GroupBy(r), Format::Json) => groupby::json(r, out),
        (AnalysisResult::GroupBy(r), Format::Csv) => groupby::csv(r, out),
        (AnalysisResult::GroupBy(r), Format::Arrow) => write_arrow(&groupby::record_batch(r), out),
        (AnalysisResult::Distinct(r), Format::Table) => super::table::render(&counts::distinct_table(r), table, out),
        (AnalysisResult::Distinct(r), Format::Json) => counts::distinct_json(r, out),
        (AnalysisResult::Distinct(r), Format::Csv) => counts::distinct_csv(r, out),
        (AnalysisResult::Distinct(r), Format::Arrow) => write_arrow(&counts::distinct_batch(r), out),
        (AnalysisResult::Top(r), Format::Table) => super::table::render(&counts::top_table(r), table, out),
        (AnalysisResult::Top(r), Format::Json) => counts::top_json(r, out),
        (AnalysisResult::Top(r), Format::Csv) => counts::top_csv(r, out),
        (AnalysisResult::Top(r), Format::Arrow) => write_arrow(&counts::top_batch(r), out),
    }
}

/// An Arrow IPC file holding one record batch.
pub(crate) fn write_arrow(batch: &RecordBatch, out: &mut dyn Write) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    let mut writer =
        arrow_ipc::writer::FileWriter::try_new(&mut bytes, &batch.schema()).map_err(std::io::Error::other)?;
    writer.write(batch).map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)?;
    drop(writer);
    out.write_all(&bytes)
}
