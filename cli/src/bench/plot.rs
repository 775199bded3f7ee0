//! `--plot FILE.svg`: speed-up (with the ideal line) and GB/s (with the measured ceilings) against workers,
//! one line per executor, side by side, drawn with plotters' SVG backend.
//!
//! PNG is refused: plotters' bitmap backend draws no text without a font rasteriser (`ttf`/font-kit or
//! `ab_glyph` and a font file), which would cost the build a font stack for a picture `rsvg-convert` makes
//! from the SVG (the engine's histogram plot refuses it for the same reason).

use std::path::Path;

use anyhow::{Context, bail};
use plotters::prelude::*;

use super::Bench;

const SIZE: (u32, u32) = (1200, 500);
const COLOURS: [RGBColor; 4] =
    [RGBColor(70, 110, 180), RGBColor(220, 120, 40), RGBColor(60, 150, 80), RGBColor(150, 60, 150)];

/// A polyline as a one-element series (plotters' `LineSeries` needs a feature this build does not enable).
fn line<S: Into<ShapeStyle>>(
    points: impl IntoIterator<Item = (f64, f64)>,
    style: S,
) -> std::iter::Once<PathElement<(f64, f64)>> {
    std::iter::once(PathElement::new(points.into_iter().collect::<Vec<_>>(), style))
}

/// Refuses anything but `.svg`, before the bench spends minutes measuring.
pub(crate) fn check_format(path: &Path) -> anyhow::Result<()> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => {}
        Some("png") => bail!(
            "{}: PNG plots are not built into this tally (plotters' bitmap backend needs a font rasteriser to \
             draw any label); write .svg and convert it, e.g. rsvg-convert -o plot.png plot.svg",
            path.display()
        ),
        _ => bail!("{}: unknown plot format: the file name must end in .svg", path.display()),
    }
    Ok(())
}

pub(crate) fn render(b: &Bench, path: &Path) -> anyhow::Result<()> {
    check_format(path)?;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw(&root, b).map_err(|e| anyhow::anyhow!("{e}")).with_context(|| format!("{}: cannot draw", path.display()))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}")).with_context(|| format!("{}: cannot write", path.display()))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    b: &Bench,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let max_workers = b.summaries.iter().map(|s| s.workers).max().unwrap_or(1).max(2) as f64;
    let mut executors: Vec<&str> = Vec::new();
    for s in &b.summaries {
        if !executors.contains(&s.executor.as_str()) {
            executors.push(&s.executor);
        }
    }
    let series = |e: &str, f: &dyn Fn(&super::stats::Summary) -> f64| -> Vec<(f64, f64)> {
        b.summaries.iter().filter(|s| s.executor == e).map(|s| (s.workers as f64, f(s))).collect()
    };

    let top = b.summaries.iter().map(|s| s.speedup).fold(max_workers, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption(format!("{}: speed-up", b.analysis_name), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(1.0..max_workers, 0.0..top)?;
    chart.configure_mesh().x_desc("workers").y_desc("speed-up").draw()?;
    chart
        .draw_series(line([(1.0, 1.0), (max_workers, max_workers)], BLACK.mix(0.4)))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    for (i, e) in executors.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points = series(e, &|s| s.speedup);
        chart
            .draw_series(line(points.clone(), colour.stroke_width(2)))?
            .label(*e)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, colour.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;

    let ceilings = [("memory ceiling", &b.ceiling.anon), ("mapped-file ceiling", &b.ceiling.mapped)];
    let top = b
        .summaries
        .iter()
        .map(|s| s.gbps)
        .chain(ceilings.iter().flat_map(|(_, p)| p.iter().map(|p| p.gbps)))
        .fold(0.1, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&right)
        .caption("column data GB/s", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(1.0..max_workers, 0.0..top)?;
    chart.configure_mesh().x_desc("workers").y_desc("GB/s").draw()?;
    for (i, (name, points)) in ceilings.iter().enumerate() {
        let style = ShapeStyle::from(BLACK.mix(if i == 0 { 0.25 } else { 0.55 })).stroke_width(2);
        let path: Vec<(f64, f64)> = points.iter().map(|p| (p.threads as f64, p.gbps)).collect();
        chart
            .draw_series(line(path, style))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    for (i, e) in executors.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points = series(e, &|s| s.gbps);
        chart
            .draw_series(line(points.clone(), colour.stroke_width(2)))?
            .label(*e)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, colour.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    Ok(())
}
