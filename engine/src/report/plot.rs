//! A histogram as an image file, drawn with `plotters`: bars over the bin edges, x and y axes with tick
//! labels, axis descriptions, a title and the count above each bar (when the bars are wide enough to
//! hold it).
//!
//! Only the SVG backend is built: plotters' bitmap backend draws no text without a font rasteriser
//! (`ttf`/font-kit or `ab_glyph` plus a font file), so a PNG would come without labels or cost a font
//! stack in build time. The extension picks the format; any other extension is an error.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::stats::histogram::HistogramResult;

/// Image size in pixels.
const SIZE: (u32, u32) = (960, 540);
/// Bars at least this many pixels wide get their count written above them.
const MIN_LABELLED_BAR: f64 = 28.0;

/// Renders `result` to `path` (`.svg`) with the title "histogram".
pub fn render_histogram(result: &HistogramResult, path: &Path) -> Result<()> {
    render_histogram_titled(result, "histogram", path)
}

/// Renders `result` to `path` (`.svg`) under `title` (e.g. the column name).
pub fn render_histogram_titled(result: &HistogramResult, title: &str, path: &Path) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {}
        Some("png") => {
            return Err(
                Error::input("PNG plots are not built into this tally (no font rasteriser); use .svg").with_file(path)
            );
        }
        _ => {
            return Err(Error::input("unknown plot format: the file name must end in .svg").with_file(path));
        }
    }
    if result.counts.is_empty() || result.edges.len() != result.counts.len() + 1 {
        return Err(Error::internal("histogram result without bins"));
    }
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw(&root, result, title).map_err(|e| Error::input(format!("cannot draw the plot: {e}")).with_file(path))?;
    root.present().map_err(|e| Error::input(format!("cannot write the plot: {e}")).with_file(path))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    result: &HistogramResult,
    title: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (lo, hi) = (result.edges[0], result.edges[result.edges.len() - 1]);
    let max = result.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(lo..hi, 0.0..max * 1.08)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("value")
        .y_desc("count")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let bars = result.edges.windows(2).zip(&result.counts);
    chart
        .draw_series(bars.clone().map(|(e, &c)| {
            Rectangle::new([(e[0], 0.0), (e[1], c as f64)], RGBColor(70, 110, 180).mix(0.85).filled())
        }))?;
    let plot_width = f64::from(SIZE.0) - 72.0 - 32.0;
    let narrowest = result.edges.windows(2).map(|e| e[1] - e[0]).fold(f64::INFINITY, f64::min);
    if narrowest / (hi - lo) * plot_width >= MIN_LABELLED_BAR {
        let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(
            bars.map(|(e, &c)| Text::new(c.to_string(), ((e[0] + e[1]) / 2.0, c as f64), style.clone())),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> HistogramResult {
        HistogramResult {
            edges: vec![-1.0, 0.0, 1.0, 2.0],
            counts: vec![3, 17, 5],
            underflow: 0,
            overflow: 1,
            null_count: 0,
            nan_count: 0,
        }
    }

    #[test]
    fn svg_has_title_axes_bars_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.SVG");
        render_histogram_titled(&result(), "column a", &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"));
        // the contents of the <text> elements
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
            .collect();
        for text in ["column a", "count", "value", "17", "3", "5", "-1.0", "2.0"] {
            assert!(texts.contains(&text), "missing {text} in {texts:?}");
        }
        // three bars in the bar colour (plus the axes and background rectangles)
        assert_eq!(svg.matches("fill=\"#466EB4\"").count(), 3, "{svg}");
    }

    #[test]
    fn other_extensions_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["h.txt", "h", "h.png"] {
            let e = render_histogram(&result(), &dir.path().join(name)).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::Input, "{name}");
            assert!(!dir.path().join(name).exists());
        }
        let e = render_histogram(&result(), &dir.path().join("missing/dir/h.svg")).unwrap_err();
        assert!(e.to_string().contains("cannot"), "{e}");
    }
}
