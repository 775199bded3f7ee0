//! A histogram as a horizontal bar chart for the terminal: one line per bin (`[lo, hi)`, count, bar in
//! unicode eighths), then the out-of-range, null and NaN counts, fitted to a given width.
//!
//! A pure function from a [`HistogramResult`] to lines; printing and detecting the terminal width are the
//! caller's. Bars are scaled so the largest count fills the bar area; a non-zero count always shows at
//! least one eighth, so a bin with a few values never looks empty.

use crate::stats::histogram::HistogramResult;

/// Left partial blocks, in eighths of a cell (index 0: nothing).
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL: char = '█';

/// Narrowest bar area drawn, even when labels leave less room than that.
const MIN_BAR: usize = 4;

/// Edge text for a terminal: 6 significant digits, exponent form for very large or small magnitudes.
pub fn edge_text(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-4..1e6).contains(&a) {
        return format!("{x:.3e}");
    }
    let decimals = (5 - a.log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" { "0".into() } else { s }
}

/// The bar of `count` out of `max` over `cells` cells, in eighths, rounded to nearest; at least one
/// eighth for a non-zero count.
pub fn bar_eighths(count: u64, max: u64, cells: usize) -> usize {
    if count == 0 || max == 0 {
        return 0;
    }
    let total = cells as u128 * 8;
    let e = (count as u128 * total * 2 + max as u128) / (max as u128 * 2);
    (e as usize).max(1)
}

fn bar(eighths: usize) -> String {
    let mut s: String = std::iter::repeat_n(FULL, eighths / 8).collect();
    if !eighths.is_multiple_of(8) {
        s.push(EIGHTHS[eighths % 8]);
    }
    s
}

/// The chart, one string per line, each at most `width` characters when the labels leave room for a
/// bar of 4 cells (otherwise the bar area keeps that minimum).
pub fn render_bars(result: &HistogramResult, width: usize) -> Vec<String> {
    let bins = result.counts.len();
    let labels: Vec<String> = (0..bins)
        .map(|i| {
            let close = if i + 1 == bins { ']' } else { ')' };
            format!("[{}, {}{close}", edge_text(result.edges[i]), edge_text(result.edges[i + 1]))
        })
        .collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let counts: Vec<String> = result.counts.iter().map(u64::to_string).collect();
    let count_w = counts.iter().map(String::len).max().unwrap_or(1);
    // "label  count │bar"
    let cells = width.saturating_sub(label_w + count_w + 4).max(MIN_BAR);
    let max = result.counts.iter().copied().max().unwrap_or(0);
    let mut lines: Vec<String> = labels
        .iter()
        .zip(&counts)
        .zip(&result.counts)
        .map(|((label, text), &count)| {
            let b = bar(bar_eighths(count, max, cells));
            format!("{label:<label_w$}  {text:>count_w$} │{b}").trim_end().to_string()
        })
        .collect();
    let extras = [
        ("underflow", result.underflow),
        ("overflow", result.overflow),
        ("null", result.null_count),
        ("NaN", result.nan_count),
    ];
    let mut line = String::new();
    for piece in extras.iter().map(|(name, n)| format!("{name} {n}")) {
        if !line.is_empty() && line.chars().count() + 2 + piece.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push_str("  ");
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(counts: Vec<u64>) -> HistogramResult {
        let edges = (0..=counts.len()).map(|i| i as f64 * 0.25 - 1.0).collect();
        HistogramResult { edges, counts, underflow: 3, overflow: 0, null_count: 12, nan_count: 1 }
    }

    /// Eighths drawn in a line: 8 per full block plus the partial one.
    fn eighths_in(line: &str) -> usize {
        let bar = line.split('│').nth(1).unwrap_or("");
        bar.chars().map(|c| if c == FULL { 8 } else { EIGHTHS.iter().position(|&e| e == c).unwrap_or(0) }).sum()
    }

    #[test]
    fn fits_widths_and_scales_bars_by_count() {
        let counts = vec![0, 1, 7, 100, 2500, 1234, 5, 0];
        let r = result(counts.clone());
        for width in [40, 80, 200] {
            let lines = render_bars(&r, width);
            assert_eq!(lines.len(), counts.len() + 1);
            for l in &lines {
                assert!(l.chars().count() <= width, "{width}: {l:?}");
            }
            // label "[-0.75, -0.5)" is 13 wide, counts 4: the bar area is the rest.
            let cells = width - 13 - 4 - 4;
            for (line, &c) in lines.iter().zip(&counts) {
                // independent rounding: nearest eighth of c / 2500 of the area, at least 1 when c > 0
                let want = if c == 0 { 0 } else { ((c as f64 / 2500.0 * cells as f64 * 8.0).round() as usize).max(1) };
                assert_eq!(eighths_in(line), want, "{width}: {line:?}");
            }
            assert_eq!(eighths_in(&lines[4]), cells * 8);
            assert!(lines[0].starts_with("[-1, -0.75)"));
            assert!(lines[7].starts_with("[0.75, 1]"), "{:?}", lines[7]);
        }
        assert_eq!(render_bars(&r, 200).last().unwrap(), "underflow 3  overflow 0  null 12  NaN 1");
        assert_eq!(&render_bars(&r, 40)[8..], ["underflow 3  overflow 0  null 12  NaN 1"]);
        assert_eq!(&render_bars(&r, 20)[8..], ["underflow 3", "overflow 0  null 12", "NaN 1"]);
    }

    #[test]
    fn empty_histogram_draws_no_bars() {
        let lines = render_bars(&result(vec![0, 0]), 40);
        assert!(lines[..2].iter().all(|l| eighths_in(l) == 0 && l.ends_with('│')));
    }

    #[test]
    fn edge_texts_are_short() {
        assert_eq!(edge_text(0.30000000000000004), "0.3");
        assert_eq!(edge_text(-3.84), "-3.84");
        assert_eq!(edge_text(123456.0), "123456");
        assert_eq!(edge_text(1e9), "1.000e9");
        assert_eq!(edge_text(-1e-7), "-1.000e-7");
        assert_eq!(edge_text(-0.0), "0");
    }
}
