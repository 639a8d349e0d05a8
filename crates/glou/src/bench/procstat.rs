//! Process figures read from `/proc` (Linux only): CPU time of the server under test
//! and of the generator itself, the server's resident size, and the open-file limit.
//! No syscalls and no `unsafe`: when `/proc` is missing, every figure is `None`.

use std::time::Instant;

/// Clock ticks per second of `utime`/`stime` in `/proc/PID/stat`. `USER_HZ` is 100 on
/// every mainstream Linux architecture; it is assumed rather than asked of `getconf`.
pub(crate) const TICKS_PER_SEC: u64 = 100;

/// CPU and wall time at the start of a phase, for both processes.
#[derive(Debug)]
pub(crate) struct CpuProbe {
    server_pid: Option<u32>,
    server_ticks: Option<u64>,
    own_ticks: Option<u64>,
    started: Instant,
}

/// What a phase cost, per operation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PhaseCost {
    pub(crate) seconds: f64,
    pub(crate) server_cpu_us_per_op: Option<f64>,
    pub(crate) bench_cpu_us_per_op: Option<f64>,
    pub(crate) server_rss_kib: Option<u64>,
    /// Server CPU time over wall time, in percent of one core.
    pub(crate) server_cpu_percent: Option<f64>,
}

impl CpuProbe {
    pub(crate) fn start(server_pid: Option<u32>) -> Self {
        Self {
            server_pid,
            server_ticks: server_pid.and_then(|pid| cpu_ticks(&pid.to_string())),
            own_ticks: cpu_ticks("self"),
            started: Instant::now(),
        }
    }

    /// Costs since `start`, spread over `ops` operations.
    pub(crate) fn finish(&self, ops: u64) -> PhaseCost {
        let seconds = self.started.elapsed().as_secs_f64();
        let wall_us = seconds * 1e6;
        let server_pid = self.server_pid.map(|pid| pid.to_string());
        let server_us = delta_us(self.server_ticks, server_pid.as_deref().and_then(cpu_ticks));
        let own_us = delta_us(self.own_ticks, cpu_ticks("self"));
        let per_op = |us: Option<f64>| us.filter(|_| ops > 0).map(|us| us / ops as f64);
        PhaseCost {
            seconds,
            server_cpu_us_per_op: per_op(server_us),
            bench_cpu_us_per_op: per_op(own_us),
            server_rss_kib: server_pid.as_deref().and_then(rss_kib),
            server_cpu_percent: server_us.map(|us| 100.0 * us / wall_us.max(1.0)),
        }
    }
}

fn delta_us(before: Option<u64>, after: Option<u64>) -> Option<f64> {
    let ticks = after?.checked_sub(before?)?;
    Some(ticks as f64 * 1e6 / TICKS_PER_SEC as f64)
}

/// `utime + stime` of `/proc/{pid}/stat`, all threads, in clock ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // field 14 is utime
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` of `/proc/{pid}/status`, in KiB.
pub(crate) fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The soft and hard `Max open files` of this process (`None` for unlimited).
pub(crate) fn open_file_limits() -> Option<(Option<u64>, Option<u64>)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    let value = |s: Option<&str>| s.and_then(|s| s.parse().ok());
    Some((value(fields.next()), value(fields.next())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_figures_are_readable() {
        assert!(cpu_ticks("self").is_some());
        assert!(rss_kib("self").is_some_and(|kib| kib > 0));
        assert!(open_file_limits().is_some());
    }
}
