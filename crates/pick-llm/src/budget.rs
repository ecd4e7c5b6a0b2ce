//! Per-minute budgets (requests, tokens) as token buckets filled continuously at the limit's
//! rate and holding at most one second of it, so a run starts at its rate instead of spending a
//! minute's quota in the first instant and collecting 429s. A taker reserves at once (the
//! level may go below zero) and waits until its reservation is covered: waiters are served in
//! the order they asked, with one lock and no polling.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Bucket {
    per_second: f64,
    capacity: f64,
    state: Mutex<State>,
}

struct State {
    level: f64,
    at: Instant,
}

impl Bucket {
    /// `None` for no limit (0).
    pub fn per_minute(limit: u64) -> Option<Bucket> {
        (limit > 0).then(|| {
            let per_second = limit as f64 / 60.0;
            let capacity = per_second.max(1.0);
            Bucket {
                per_second,
                capacity,
                state: Mutex::new(State {
                    level: capacity,
                    at: Instant::now(),
                }),
            }
        })
    }

    /// How long the caller must wait before spending `n` (already reserved).
    pub fn reserve(&self, n: u64) -> Duration {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(s.at).as_secs_f64() * self.per_second;
        s.level = (s.level + refill).min(self.capacity);
        s.at = now;
        s.level -= n as f64;
        if s.level >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-s.level / self.per_second)
        }
    }

    pub async fn take(&self, n: u64) {
        let wait = self.reserve(n);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_one_second_and_queues_the_rest() {
        let b = Bucket::per_minute(600).unwrap(); // 10 a second
        for _ in 0..10 {
            assert_eq!(b.reserve(1), Duration::ZERO);
        }
        let w = b.reserve(1).as_secs_f64();
        assert!((0.09..=0.11).contains(&w), "{w}");
        let w = b.reserve(5).as_secs_f64();
        assert!((0.55..=0.61).contains(&w), "{w}");
        assert!(Bucket::per_minute(0).is_none());
    }
}
