//! The two charts, drawn with plotters into PNG files: the discovery
//! latency distribution (CDF) before and after, and the idle cost (server
//! requests/s and CPU) against the number of idle workers before and after.

use std::path::Path;

use anyhow::{anyhow, Context};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::idle::Idle;
use crate::report::Measured;
use crate::sdk::Side;

/// The font every label uses (Debian/Ubuntu: `fonts-dejavu-core`).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
/// Each side's colour, line width and point radius. Before is drawn
/// widest, so that it still shows where a later side covers it.
fn style(side: Side) -> (RGBColor, u32, u32) {
    match side {
        Side::Legacy => (RGBColor(214, 39, 40), 5, 6),
        Side::Reference => (RGBColor(31, 119, 180), 3, 4),
        Side::Held => (RGBColor(44, 160, 44), 2, 3),
    }
}

/// Loads [`FONT`] as plotters' "sans-serif". Call once before drawing.
pub(crate) fn register_font() -> anyhow::Result<()> {
    let bytes = std::fs::read(FONT)
        .with_context(|| format!("reading the chart font {FONT} (install it: apt install fonts-dejavu-core)"))?;
    // plotters keeps fonts for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow!("{FONT} is not a font plotters can read"))
}

/// The latency CDFs, on a log time axis (before: a few milliseconds;
/// after: up to the backoff).
pub(crate) fn draw_latency(path: &Path, measured: &[Measured; 3]) -> anyhow::Result<()> {
    let root = BitMapBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Workflow discovery latency, 1 idle worker, 100 ms backoff",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((0.5f64..200f64).log_scale(), 0f64..1f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("start → workflow code runs (ms, log scale)")
        .y_desc("fraction of samples")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    for side in Side::ALL {
        let latency = &measured[side.index()].latency;
        let (color, _, _) = style(side);
        let n = latency.samples.len() as f64;
        let points = latency
            .samples
            .iter()
            .enumerate()
            .map(|(i, ms)| (ms.clamp(0.5, 200.0), (i + 1) as f64 / n));
        let label = format!(
            "{}: p50 {:.1} ms, p99 {:.1} ms",
            side.label(),
            latency.percentile(0.50),
            latency.percentile(0.99)
        );
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// Two panels: server requests/s and server CPU % against idle workers.
pub(crate) fn draw_idle(path: &Path, measured: &[Measured; 3]) -> anyhow::Result<()> {
    let root = BitMapBackend::new(path, (1200, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let root = root
        .titled(
            "Idle workflow workers (100 ms backoff, 10 queues): server cost",
            ("sans-serif", 22),
        )
        .map_err(plot_error)?;
    let (left, right) = root.split_horizontally(600);
    let all = || measured.iter().flat_map(|m| &m.idle);
    let max_requests = all().map(|i| i.requests_per_s).fold(10.0, f64::max);
    // Held polls send almost nothing: shown at the axis' floor.
    panel(
        &left,
        "server requests/s (log scale)",
        (0.1f64..max_requests * 3.0).log_scale(),
        measured,
        |i| i.requests_per_s.max(0.1),
    )?;
    let max_cpu = all().map(|i| i.server_cpu).fold(1.0, f64::max);
    panel(
        &right,
        "server CPU (% of one core)",
        0f64..max_cpu * 1.2,
        measured,
        |i| i.server_cpu,
    )?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// One panel: `value` against the worker count (log axis), every side.
fn panel<Y>(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    y_desc: &str,
    y_range: Y,
    measured: &[Measured; 3],
    value: impl Fn(&Idle) -> f64,
) -> anyhow::Result<()>
where
    Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
    Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d((5f64..2000f64).log_scale(), y_range)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("idle workers (log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    for side in Side::ALL {
        let (color, width, radius) = style(side);
        let idle = &measured[side.index()].idle;
        let points: Vec<(f64, f64)> = idle.iter().map(|i| (i.workers as f64, value(i))).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(width)))
            .map_err(plot_error)?
            .label(side.label())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(width)));
        chart
            .draw_series(points.into_iter().map(|p| Circle::new(p, radius, color.filled())))
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// plotters' errors borrow nothing but are not all `Send + Sync`.
fn plot_error(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing a chart: {err}")
}
