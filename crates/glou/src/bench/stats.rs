//! Figures of one phase: a latency histogram in microseconds with success and error
//! counts ([`Recorder`]), and the printed result ([`PhaseReport`]): one aligned line for
//! people and, with `--json`, one JSON object per line (lines starting with `{`).

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::procstat::{CpuProbe, PhaseCost};

/// Latencies up to a minute, 3 significant digits.
const MAX_US: u64 = 60_000_000;

/// Outcomes of the operations of one worker, merged at the end of a phase.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) latency_us: Histogram<u64>,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
    /// Whatever the operations count (entries per page, deliveries).
    pub(crate) items: u64,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"),
            errors: 0,
            first_error: None,
            items: 0,
        }
    }

    pub(crate) fn ok(&self) -> u64 {
        self.latency_us.len()
    }

    pub(crate) fn record_us(&mut self, us: u64) {
        self.latency_us.saturating_record(us.clamp(1, MAX_US));
    }

    pub(crate) fn error(&mut self, err: &anyhow::Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| format!("{err:#}"));
    }

    pub(crate) fn merge(&mut self, other: Recorder) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency_us.add(&other.latency_us);
        self.errors += other.errors;
        self.items += other.items;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The printed result of one phase.
#[derive(Debug)]
pub(crate) struct PhaseReport {
    pub(crate) phase: &'static str,
    pub(crate) rec: Recorder,
    pub(crate) cost: PhaseCost,
    /// Phase-specific figures (a JSON object), printed under the line.
    pub(crate) extra: Value,
}

#[rustfmt::skip]
const COLUMNS: [(&str, usize); 13] = [
    ("phase", 10), ("ok", 9), ("errors", 7), ("secs", 7), ("ops/s", 9), ("p50 µs", 8),
    ("p90 µs", 8), ("p99 µs", 8), ("max µs", 8), ("srv µs/op", 10), ("srv cpu%", 8),
    ("srv MiB", 8), ("gen µs/op", 10),
];

/// Printed once before the first phase.
pub(crate) fn print_header() {
    print_row(COLUMNS.map(|(name, _)| name.to_string()));
}

fn print_row(cells: [String; 13]) {
    let mut line = String::new();
    for (i, (cell, (_, width))) in cells.iter().zip(COLUMNS).enumerate() {
        match i {
            0 => line.push_str(&format!("{cell:<width$}")),
            _ => line.push_str(&format!(" {cell:>width$}")),
        }
    }
    println!("{line}");
}

impl PhaseReport {
    pub(crate) fn print(&self, json_too: bool) {
        let (h, c) = (&self.rec.latency_us, &self.cost);
        let rate = self.rec.ok() as f64 / c.seconds.max(1e-9);
        let q = |p: f64| match h.is_empty() {
            true => "-".to_string(),
            false => h.value_at_quantile(p).to_string(),
        };
        let f = |v: Option<f64>, prec: usize| v.map_or("-".into(), |v| format!("{v:.prec$}"));
        print_row([
            self.phase.to_string(),
            self.rec.ok().to_string(),
            self.rec.errors.to_string(),
            format!("{:.2}", c.seconds),
            format!("{rate:.0}"),
            q(0.5),
            q(0.9),
            q(0.99),
            q(1.0),
            f(c.server_cpu_us_per_op, 1),
            f(c.server_cpu_percent, 0),
            f(c.server_rss_kib.map(|k| k as f64 / 1024.0), 1),
            f(c.bench_cpu_us_per_op, 1),
        ]);
        if let Some(extra) = self.extra.as_object().filter(|e| !e.is_empty()) {
            let pairs: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("{:10} {}", "", pairs.join(" "));
        }
        if let Some(err) = &self.rec.first_error {
            println!("{:10} first error: {err}", "");
            if let Some(hint) = limits_hint(err) {
                println!("{:10} hint: {hint}", "");
            }
        }
        if json_too {
            let latency = (!h.is_empty()).then(|| {
                json!({
                    "p50": h.value_at_quantile(0.5), "p90": h.value_at_quantile(0.9),
                    "p99": h.value_at_quantile(0.99), "max": h.max(), "mean": h.mean(),
                })
            });
            let line = json!({
                "phase": self.phase, "ok": self.rec.ok(), "errors": self.rec.errors,
                "seconds": c.seconds, "ops_per_sec": rate, "latency_us": latency,
                "server_cpu_us_per_op": c.server_cpu_us_per_op,
                "server_cpu_percent": c.server_cpu_percent, "server_rss_kib": c.server_rss_kib,
                "bench_cpu_us_per_op": c.bench_cpu_us_per_op,
                "first_error": self.rec.first_error, "extra": self.extra,
            });
            println!("{line}");
        }
    }
}

/// Prints a phase measured since `probe` started (`json_too`: also as a JSON line).
pub(crate) fn report(
    probe: &CpuProbe,
    phase: &'static str,
    rec: Recorder,
    extra: Value,
    json_too: bool,
) {
    let cost = probe.finish(rec.ok());
    PhaseReport {
        phase,
        rec,
        cost,
        extra,
    }
    .print(json_too);
}

/// What to say when connections were closed under the bench: the server's `[limits]`
/// turn away an address that opens too many, or too fast, as a load generator does.
fn limits_hint(error: &str) -> Option<&'static str> {
    let error = error.to_ascii_lowercase();
    [
        "reset by peer",
        "broken pipe",
        "end of file",
        "closed",
        "eof",
    ]
    .iter()
    .any(|sign| error.contains(sign))
    .then_some(
        "the server may have turned connections away under its [limits] (see \
             glou_connections_refused_total in its /metrics): run it with \
             --trusted 127.0.0.0/8 for a bench (docs/benchmarks.md)",
    )
}

#[cfg(test)]
mod tests {
    use super::limits_hint;

    #[test]
    fn closed_connections_point_at_the_limits() {
        assert!(limits_hint("sending: Connection reset by peer (os error 104)").is_some());
        assert!(limits_hint("reading the greeting: unexpected end of file").is_some());
        assert!(limits_hint("HTTP 404: no such server").is_none());
    }
}
