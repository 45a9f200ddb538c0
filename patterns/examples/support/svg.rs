//! A scatter plot of 2-D points coloured by class, written as SVG text by hand (no plotting
//! library, no fonts needed: the viewer lays out the text).

use std::fmt::Write as _;
use std::path::Path;

/// Size of the square plotting area in pixels.
const PLOT: f32 = 480.0;
/// Margin around the plotting area (room for the legend on the right).
const MARGIN: f32 = 20.0;
/// Width of the legend column.
const LEGEND: f32 = 60.0;
/// Radius of a point.
const RADIUS: f32 = 2.5;
/// Gap between the outermost points and the frame, so no point sits on it.
const INSET: f32 = 4.0 * RADIUS;
/// A qualitative palette of ten distinguishable colours (one per digit).
const COLOURS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// The SVG document of `points` `(x, y)` coloured by `classes` (0..10), scaled to fill the plot.
pub fn scatter(points: &[(f32, f32)], classes: &[usize], title: &str) -> String {
    let bounds = |pick: fn(&(f32, f32)) -> f32| {
        let (low, high) = points
            .iter()
            .map(pick)
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        (low, (high - low).max(f32::EPSILON))
    };
    let ((x0, dx), (y0, dy)) = (bounds(|p| p.0), bounds(|p| p.1));
    let (width, height) = (PLOT + 3.0 * MARGIN + LEGEND, PLOT + 3.0 * MARGIN);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{MARGIN}" y="{}">{title}</text>"#, MARGIN);
    let _ = writeln!(
        svg,
        r##"<rect x="{MARGIN}" y="{}" width="{PLOT}" height="{PLOT}" fill="none" stroke="#999"/>"##,
        2.0 * MARGIN
    );
    for (&(x, y), &class) in points.iter().zip(classes) {
        let span = PLOT - 2.0 * INSET;
        let cx = MARGIN + INSET + (x - x0) / dx * span;
        let cy = 2.0 * MARGIN + INSET + (1.0 - (y - y0) / dy) * span;
        let _ = writeln!(
            svg,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{RADIUS}" fill="{}" fill-opacity="0.8"/>"#,
            COLOURS[class % COLOURS.len()]
        );
    }
    for (class, colour) in COLOURS.iter().enumerate() {
        let (x, y) = (
            2.0 * MARGIN + PLOT,
            2.0 * MARGIN + 20.0 * class as f32 + 10.0,
        );
        let _ = writeln!(
            svg,
            r#"<circle cx="{x}" cy="{y}" r="5" fill="{colour}"/><text x="{}" y="{}">{class}</text>"#,
            x + 10.0,
            y + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Writes [`scatter`] to `path`.
pub fn write_scatter(
    path: &Path,
    points: &[(f32, f32)],
    classes: &[usize],
    title: &str,
) -> std::io::Result<()> {
    std::fs::write(path, scatter(points, classes, title))
}
