//! Guards for connectionless front doors, sans-IO: [`Challenges`] make UDP
//! announcements unspoofable (a server is listed only once its address answered a
//! random challenge), and [`RateLimiter`] bounds what one address may ask for.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;
use std::time::Duration;

use crate::time::Timestamp;

/// Challenges sent and not yet answered, one per address.
#[derive(Debug)]
pub struct Challenges {
    pending: HashMap<SocketAddr, (String, Timestamp)>,
    capacity: usize,
}

impl Challenges {
    pub fn new(capacity: usize) -> Self {
        Self {
            pending: HashMap::new(),
            capacity,
        }
    }

    /// Records that `challenge` was sent to `addr` (replacing an older one). False
    /// when too many are pending: send nothing then.
    pub fn issue(&mut self, addr: SocketAddr, challenge: String, now: Timestamp) -> bool {
        if self.pending.len() >= self.capacity && !self.pending.contains_key(&addr) {
            return false;
        }
        self.pending.insert(addr, (challenge, now));
        true
    }

    /// Whether `challenge` is the one pending for `addr`. A right answer consumes it;
    /// a wrong one leaves it pending (a spoofer cannot cancel a real server's).
    pub fn answer(&mut self, addr: SocketAddr, challenge: &str) -> bool {
        match self.pending.get(&addr) {
            Some((expected, _))
                if crate::account::secret_eq(expected.as_bytes(), challenge.as_bytes()) =>
            {
                self.pending.remove(&addr);
                true
            }
            _ => false,
        }
    }

    /// Removes and returns the addresses that left a challenge unanswered for `grace`.
    pub fn overdue(&mut self, now: Timestamp, grace: Duration) -> Vec<SocketAddr> {
        let late: Vec<SocketAddr> = self
            .pending
            .iter()
            .filter(|(_, (_, issued))| now.since(*issued) >= grace)
            .map(|(addr, _)| *addr)
            .collect();
        for addr in &late {
            self.pending.remove(addr);
        }
        late
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// A token bucket per key: `rate` tokens a second, at most `burst` saved up.
#[derive(Debug)]
pub struct RateLimiter<K> {
    buckets: HashMap<K, (f64, Timestamp)>,
    rate: f64,
    burst: f64,
    capacity: usize,
}

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    /// At most `capacity` keys are tracked; beyond, unknown keys are refused until
    /// [`RateLimiter::prune`] makes room.
    pub fn new(rate: f64, burst: f64, capacity: usize) -> Self {
        Self {
            buckets: HashMap::new(),
            rate,
            burst,
            capacity,
        }
    }

    /// Takes `cost` tokens from `key`'s bucket if it has them.
    pub fn allow(&mut self, key: K, cost: f64, now: Timestamp) -> bool {
        if !self.buckets.contains_key(&key) && self.buckets.len() >= self.capacity {
            return false;
        }
        let (rate, burst) = (self.rate, self.burst);
        let (tokens, last) = self.buckets.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Whether `key`'s bucket holds `cost` tokens now, without taking them: for limits
    /// charged only on failure (a login refused before its password is checked).
    pub fn would_allow(&self, key: &K, cost: f64, now: Timestamp) -> bool {
        match self.buckets.get(key) {
            None => self.buckets.len() < self.capacity,
            Some((tokens, last)) => {
                (tokens + now.since(*last).as_secs_f64() * self.rate).min(self.burst) >= cost
            }
        }
    }

    /// New limits, from now on: buckets keep their tokens (cut to the new burst).
    pub fn set_rate(&mut self, rate: f64, burst: f64) {
        self.rate = rate;
        self.burst = burst;
        for (tokens, _) in self.buckets.values_mut() {
            *tokens = tokens.min(burst);
        }
    }

    /// Forgets keys whose buckets have refilled (they are as good as new).
    pub fn prune(&mut self, now: Timestamp) {
        let (rate, burst) = (self.rate, self.burst);
        self.buckets
            .retain(|_, (tokens, last)| *tokens + now.since(*last).as_secs_f64() * rate < burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_limits_apply_to_existing_buckets() {
        let mut limits = RateLimiter::new(1.0, 5.0, 10);
        assert!(limits.allow("a", 1.0, ms(0)));
        limits.set_rate(0.0, 2.0);
        assert!(limits.allow("a", 1.0, ms(0)));
        assert!(limits.allow("a", 1.0, ms(0)));
        assert!(!limits.allow("a", 1.0, ms(10_000)), "no refill at rate 0");
        assert!(limits.allow("b", 2.0, ms(0)) && !limits.allow("b", 1.0, ms(0)));
    }

    fn ms(n: u64) -> Timestamp {
        Timestamp::from_millis(n)
    }

    #[test]
    fn challenges_answered_overdue_and_bounded() {
        let a: SocketAddr = "198.51.100.1:27960".parse().unwrap();
        let b: SocketAddr = "198.51.100.2:27960".parse().unwrap();
        let mut c = Challenges::new(2);
        assert!(c.issue(a, "one".into(), ms(0)));
        assert!(!c.answer(a, "wrong"), "a wrong answer");
        assert!(!c.answer(b, "one"), "the right answer from another address");
        assert!(c.answer(a, "one"));
        assert!(!c.answer(a, "one"), "consumed: a replay fails");
        assert!(c.issue(a, "two".into(), ms(100)));
        assert!(c.issue(b, "three".into(), ms(2_000)));
        assert!(
            !c.issue("198.51.100.3:1".parse().unwrap(), "x".into(), ms(2_000)),
            "full"
        );
        assert_eq!(c.overdue(ms(3_000), Duration::from_secs(2)), vec![a]);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn rate_limits_refill_and_prune() {
        let mut r = RateLimiter::new(10.0, 5.0, 2);
        let allowed = (0..8).filter(|_| r.allow(1, 1.0, ms(0))).count();
        assert_eq!(allowed, 5, "the burst");
        assert!(!r.allow(1, 1.0, ms(50)));
        assert!(r.allow(1, 1.0, ms(100)), "one token a tenth of a second");
        assert!(r.allow(2, 1.0, ms(100)));
        assert!(!r.allow(3, 1.0, ms(100)), "too many keys tracked");
        r.prune(ms(10_000));
        assert!(r.allow(3, 1.0, ms(10_000)));
    }
}
