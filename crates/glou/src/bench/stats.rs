//! Figures of one phase: a latency histogram in microseconds with success and error
//! counts ([`Recorder`]), and the printed result ([`PhaseReport`]): one aligned line for
//! people and, with `--json`, one JSON object per line (lines starting with `{`).

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

use super::procstat::PhaseCost;

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
    pub(crate) seconds: f64,
    pub(crate) cost: PhaseCost,
    /// Phase-specific figures, printed after the line.
    pub(crate) extra: Map<String, Value>,
}

/// Printed once before the first phase.
pub(crate) fn print_header() {
    println!(
        "{:<10} {:>9} {:>7} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>10}",
        "phase", "ok", "errors", "secs", "ops/s", "p50 µs", "p90 µs", "p99 µs", "max µs",
        "srv µs/op", "srv cpu%", "srv MiB", "gen µs/op"
    );
}

impl PhaseReport {
    pub(crate) fn print(&self, json_too: bool) {
        let h = &self.rec.latency_us;
        let ok = self.rec.ok();
        let rate = ok as f64 / self.seconds.max(1e-9);
        let q = |p: f64| if ok > 0 { h.value_at_quantile(p).to_string() } else { "-".into() };
        let opt = |v: Option<f64>, prec: usize| v.map_or("-".into(), |v| format!("{v:.prec$}"));
        let c = &self.cost;
        let rss_mib = c.server_rss_kib.map(|k| k as f64 / 1024.0);
        println!(
            "{:<10} {:>9} {:>7} {:>7.2} {:>9.0} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8} {:>10}",
            self.phase, ok, self.rec.errors, self.seconds, rate, q(0.5), q(0.9), q(0.99), q(1.0),
            opt(c.server_cpu_us_per_op, 1), opt(c.server_cpu_percent, 0), opt(rss_mib, 1),
            opt(c.bench_cpu_us_per_op, 1),
        );
        if !self.extra.is_empty() {
            let pairs: Vec<String> = self.extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("{:<10} {}", "", pairs.join(" "));
        }
        if let Some(err) = &self.rec.first_error {
            println!("{:<10} first error: {err}", "");
        }
        if json_too {
            println!("{}", self.to_json(rate));
        }
    }

    fn to_json(&self, rate: f64) -> Value {
        let h = &self.rec.latency_us;
        let latency = (h.len() > 0).then(|| {
            json!({
                "p50": h.value_at_quantile(0.5), "p90": h.value_at_quantile(0.9),
                "p99": h.value_at_quantile(0.99), "max": h.max(), "mean": h.mean(),
            })
        });
        json!({
            "phase": self.phase,
            "ok": self.rec.ok(),
            "errors": self.rec.errors,
            "seconds": self.seconds,
            "ops_per_sec": rate,
            "latency_us": latency,
            "server_cpu_us_per_op": self.cost.server_cpu_us_per_op,
            "server_cpu_percent": self.cost.server_cpu_percent,
            "server_rss_kib": self.cost.server_rss_kib,
            "bench_cpu_us_per_op": self.cost.bench_cpu_us_per_op,
            "first_error": self.rec.first_error,
            "extra": self.extra,
        })
    }
}
