//! A pool of paced workers sharing one operation counter: each of `concurrency` workers
//! takes the next operation number, runs it, and records its latency. Each worker paces
//! itself to `rate / concurrency` per second; all stop at the count or the deadline.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::lock;
use super::stats::Recorder;

/// Time an operation may run past the deadline before it is abandoned.
const GRACE: Duration = Duration::from_secs(10);
/// A worker that fell this far behind its pace starts afresh rather than bursting.
const MAX_LAG: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Pool {
    pub(crate) concurrency: usize,
    /// Operations per second across all workers; 0 = as fast as possible.
    pub(crate) rate: u64,
    /// Operation numbers `0..count`; `None` = until the deadline.
    pub(crate) count: Option<u64>,
    pub(crate) deadline: Instant,
}

/// Runs `op(ctx, n)` for each operation number `n`; `op` returns how many items it saw.
pub(crate) async fn run<C, F, Fut>(pool: Pool, ctx: &Arc<C>, op: F) -> Recorder
where
    C: Send + Sync + 'static,
    F: Fn(Arc<C>, u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let workers = pool.concurrency.max(1);
    let interval =
        (pool.rate > 0).then(|| Duration::from_secs_f64(workers as f64 / pool.rate as f64));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(workers);
    for w in 0..workers {
        let (ctx, next) = (ctx.clone(), next.clone());
        // Stagger the workers' first ticks over one interval.
        let first = interval.map(|iv| start + iv.mul_f64(w as f64 / workers as f64));
        handles.push(tokio::spawn(async move {
            let mut rec = Recorder::new();
            let mut tick = first;
            loop {
                if let (Some(at), Some(iv)) = (tick.as_mut(), interval) {
                    if *at >= pool.deadline {
                        break;
                    }
                    let now = Instant::now();
                    if *at > now {
                        tokio::time::sleep_until((*at).into()).await;
                    } else if now - *at > MAX_LAG {
                        *at = now;
                    }
                    *at += iv;
                }
                if Instant::now() >= pool.deadline {
                    break;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                if pool.count.is_some_and(|count| n >= count) {
                    break;
                }
                let t0 = Instant::now();
                let limit = (pool.deadline + GRACE).into();
                match tokio::time::timeout_at(limit, op(ctx.clone(), n)).await {
                    Ok(Ok(items)) => {
                        rec.record_us(t0.elapsed().as_micros() as u64);
                        rec.items += items;
                    }
                    Ok(Err(e)) => rec.error(&e),
                    Err(_) => {
                        rec.error(&anyhow::anyhow!("no reply within 10 s after the deadline"))
                    }
                }
            }
            rec
        }));
    }
    let mut total = Recorder::new();
    for handle in handles {
        match handle.await {
            Ok(rec) => total.merge(rec),
            Err(e) => total.error(&anyhow::Error::new(e).context("bench worker failed")),
        }
    }
    total
}

/// As [`run`], but with the latencies the operations record themselves in `exact`
/// (when what is timed is a part of the operation, e.g. heartbeat → answer); the
/// operations record exactly when they return `Ok`, so the counts agree.
pub(crate) async fn run_exact<C, F, Fut>(
    pool: Pool,
    ctx: &Arc<C>,
    exact: fn(&C) -> &Mutex<Recorder>,
    op: F,
) -> Recorder
where
    C: Send + Sync + 'static,
    F: Fn(Arc<C>, u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    *lock(exact(ctx)) = Recorder::new();
    let mut rec = run(pool, ctx, op).await;
    rec.latency_us = std::mem::replace(&mut *lock(exact(ctx)), Recorder::new()).latency_us;
    rec
}
