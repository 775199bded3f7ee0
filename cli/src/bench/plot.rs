//! `--plot FILE.svg`: speed-up (with the ideal line) and GB/s (with the measured ceilings) against workers,
//! one line per executor, side by side, drawn with plotters' SVG backend.
//!
//! PNG is refused: plotters' bitmap backend draws no text without a font rasteriser (`ttf`/font-kit or
//! `ab_glyph` and a font file), which would cost the build a font stack for a picture `rsvg-convert` makes
//! from the SVG (the engine's histogram plot refuses it for the same reason).

use std::path::Path;

use anyhow::{Context, bail};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::Bench;
use super::stats::Summary;

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
    root: &DrawingArea<DB, Shift>,
    b: &Bench,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let max_workers = max_workers(b);
    let ideal = ("ideal".to_string(), vec![(1.0, 1.0), (max_workers, max_workers)], ShapeStyle::from(BLACK.mix(0.4)));
    let title = format!("{}: speed-up", b.analysis_name);
    panel(&left, b, &title, "speed-up", vec![ideal], |s| s.speedup)?;
    let ceilings = [("memory ceiling", &b.ceiling.anon, 0.25), ("mapped-file ceiling", &b.ceiling.mapped, 0.55)]
        .into_iter()
        .map(|(name, points, alpha)| {
            let path = points.iter().map(|p| (p.threads as f64, p.gbps)).collect();
            (name.to_string(), path, ShapeStyle::from(BLACK.mix(alpha)).stroke_width(2))
        })
        .collect();
    panel(&right, b, "column data GB/s", "GB/s", ceilings, |s| s.gbps)
}

fn max_workers(b: &Bench) -> f64 {
    b.summaries.iter().map(|s| s.workers).max().unwrap_or(1).max(2) as f64
}

/// A named reference polyline (the ideal speed-up, a ceiling).
type Reference = (String, Vec<(f64, f64)>, ShapeStyle);

/// One chart: `value` of each configuration against workers, one line per executor, over `references`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    b: &Bench,
    title: &str,
    y_desc: &str,
    references: Vec<Reference>,
    value: fn(&Summary) -> f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut executors: Vec<&str> = Vec::new();
    for s in &b.summaries {
        if !executors.contains(&s.executor.as_str()) {
            executors.push(&s.executor);
        }
    }
    let top = b
        .summaries
        .iter()
        .map(value)
        .chain(references.iter().flat_map(|(_, p, _)| p.iter().map(|p| p.1)))
        .fold(0.1, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(1.0..max_workers(b), 0.0..top)?;
    chart.configure_mesh().x_desc("workers").y_desc(y_desc).draw()?;
    for (name, path, style) in references {
        chart
            .draw_series(line(path, style))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    for (i, e) in executors.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<(f64, f64)> =
            b.summaries.iter().filter(|s| s.executor == *e).map(|s| (s.workers as f64, value(s))).collect();
        chart
            .draw_series(line(points.clone(), colour.stroke_width(2)))?
            .label(*e)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, colour.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::ceiling::{Ceiling, Point};
    use super::*;

    #[test]
    fn the_svg_has_both_charts_every_executor_and_the_ceilings() {
        let summary = |executor: &str, workers: usize, speedup: f64| Summary {
            executor: executor.to_string(),
            workers,
            speedup,
            gbps: 1.5 * speedup,
            ..Summary::default()
        };
        let b = Bench {
            analysis_name: "describe",
            summaries: vec![summary("processes", 1, 1.0), summary("processes", 2, 1.8), summary("threads", 2, 1.9)],
            ceiling: Ceiling {
                anon: vec![Point { threads: 1, gbps: 9.0 }],
                mapped: vec![Point { threads: 1, gbps: 4.0 }, Point { threads: 2, gbps: 7.0 }],
                ..Ceiling::default()
            },
            ..Bench::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.svg");
        render(&b, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["describe: speed-up", "column data GB/s", "ideal", "memory ceiling", "mapped-file ceiling"] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert_eq!(svg.matches("processes").count(), 2, "one legend entry per chart");
        assert_eq!(svg.matches("threads").count(), 2);
        let e = render(&b, &dir.path().join("p.png")).unwrap_err();
        assert!(e.to_string().contains("font rasteriser"), "{e}");
        assert!(render(&b, &dir.path().join("p.jpg")).is_err());
    }
}
