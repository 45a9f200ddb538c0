//! The training curves as an SVG picture: loss per epoch beside accuracy per epoch, for the
//! training and the test split.
//!
//! plotters draws SVG with its default features off: its font stack needs system libraries
//! (fontconfig, FreeType), while SVG text is laid out by whoever displays the picture.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;
use strata_modules::EpochMetrics;

/// Size of the whole picture in pixels (two panels side by side).
const SIZE: (u32, u32) = (1000, 420);
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const TEST_COLOR: RGBColor = RGBColor(214, 39, 40);

/// One line of a panel: a label and `(epoch, value)` points.
struct Curve {
    label: &'static str,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Draws loss and accuracy per epoch (1-based epochs) into an SVG file at `path`.
pub fn training_curves(history: &[EpochMetrics], path: &Path) -> Result<(), String> {
    let fail = |err: &dyn std::fmt::Display| format!("plot {}: {err}", path.display());
    let curve = |label, color, value: &dyn Fn(&EpochMetrics) -> Option<f64>| Curve {
        label,
        color,
        points: history
            .iter()
            .filter_map(|m| value(m).map(|v| (m.epoch as f64 + 1.0, v)))
            .collect(),
    };
    let losses = [
        curve("train", TRAIN_COLOR, &|m| m.train_loss().map(f64::from)),
        curve("test", TEST_COLOR, &|m| m.val_loss().map(f64::from)),
    ];
    let accuracies = [
        curve("train", TRAIN_COLOR, &|m| {
            m.train_accuracy().map(|a| 100.0 * f64::from(a))
        }),
        curve("test", TEST_COLOR, &|m| {
            m.val_accuracy().map(|a| 100.0 * f64::from(a))
        }),
    ];
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let max_loss = max_value(&losses).max(f64::MIN_POSITIVE);
    panel(
        &left,
        "Loss per epoch",
        "cross-entropy loss",
        SeriesLabelPosition::UpperRight,
        0.0..max_loss * 1.05,
        &losses,
    )
    .map_err(|e| fail(&e))?;
    let lowest_accuracy = min_value(&accuracies).min(100.0);
    let floor = (lowest_accuracy / 5.0).floor() * 5.0;
    panel(
        &right,
        "Accuracy per epoch",
        "accuracy (%)",
        SeriesLabelPosition::LowerRight,
        floor..100.0,
        &accuracies,
    )
    .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

fn max_value(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .fold(0.0, f64::max)
}

fn min_value(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .fold(f64::INFINITY, f64::min)
}

/// One chart with its caption, axis descriptions, lines, points and legend.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_description: &str,
    legend: SeriesLabelPosition,
    y_range: Range<f64>,
    curves: &[Curve],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let epochs = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..epochs.max(2.0), y_range)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_description)
        .x_label_formatter(&|epoch| format!("{epoch:.0}"))
        .draw()?;
    for curve in curves.iter().filter(|c| !c.points.is_empty()) {
        let color = curve.color;
        chart
            .draw_series(LineSeries::new(
                curve.points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(curve.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(
            curve
                .points
                .iter()
                .map(|&point| Circle::new(point, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
}
