//! `train-demo --trace`: where training time goes, from the trainer's `tracing` spans
//! (`epoch`, `data`, `step`, `forward`, `backward`, `reduce_gradients`, `optimizer`,
//! `validation`, `checkpoint`): a layer that adds up each span's busy time by name.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The phases in the order of the summary (nested phases after their parent).
const PHASES: [&str; 9] = [
    "epoch",
    "data",
    "step",
    "forward",
    "backward",
    "reduce_gradients",
    "optimizer",
    "validation",
    "checkpoint",
];

/// Busy time of one open span.
#[derive(Default)]
struct Busy {
    entered: Option<Instant>,
    total: Duration,
}

/// Count and total busy time per span name; clones share the totals.
#[derive(Clone, Default)]
pub struct PhaseTimes {
    totals: Arc<Mutex<HashMap<&'static str, (u64, Duration)>>>,
}

impl<S> Layer<S> for PhaseTimes
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Busy::default());
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(busy) = span.extensions_mut().get_mut::<Busy>() {
                busy.entered = Some(Instant::now());
            }
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(busy) = span.extensions_mut().get_mut::<Busy>() {
                if let Some(entered) = busy.entered.take() {
                    busy.total += entered.elapsed();
                }
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let total = span
            .extensions()
            .get::<Busy>()
            .map_or(Duration::ZERO, |b| b.total);
        let mut totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let entry = totals.entry(span.name()).or_default();
        entry.0 += 1;
        entry.1 += total;
    }
}

impl PhaseTimes {
    /// A table of the phases seen: spans, total seconds, mean milliseconds and share of the
    /// epochs' time.
    pub fn summary(&self) -> String {
        let totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let epochs = totals.get("epoch").map_or(0.0, |(_, t)| t.as_secs_f64());
        let mut table = format!(
            "{:<20} {:>8} {:>10} {:>10} {:>8}\n",
            "phase", "spans", "total s", "mean ms", "share"
        );
        for phase in PHASES {
            let Some(&(count, total)) = totals.get(phase) else {
                continue;
            };
            let nested = matches!(
                phase,
                "forward" | "backward" | "reduce_gradients" | "optimizer"
            );
            let name = if nested {
                format!("  {phase}")
            } else {
                phase.to_string()
            };
            let seconds = total.as_secs_f64();
            let share = if epochs > 0.0 {
                format!("{:.1}%", 100.0 * seconds / epochs)
            } else {
                "-".into()
            };
            let _ = writeln!(
                table,
                "{name:<20} {count:>8} {seconds:>10.3} {:>10.3} {share:>8}",
                1e3 * seconds / count.max(1) as f64
            );
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn nested_spans_add_up_by_name() {
        let times = PhaseTimes::default();
        let subscriber = tracing_subscriber::registry().with(times.clone());
        tracing::subscriber::with_default(subscriber, || {
            let _epoch = tracing::info_span!("epoch").entered();
            for _ in 0..3 {
                let _step = tracing::info_span!("step").entered();
                let _backward = tracing::info_span!("backward").entered();
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let totals = times.totals.lock().unwrap();
        let (steps, step_time) = totals["step"];
        let (backwards, backward_time) = totals["backward"];
        assert_eq!((steps, backwards, totals["epoch"].0), (3, 3, 1));
        assert!(backward_time >= Duration::from_millis(6));
        assert!(step_time >= backward_time && totals["epoch"].1 >= step_time);
        drop(totals);
        let summary = times.summary();
        assert!(summary.contains("  backward"), "{summary}");
        assert!(summary
            .lines()
            .any(|l| l.starts_with("step ") && l.contains('%')));
    }
}
