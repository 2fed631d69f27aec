//! One pause shared by everything a run does concurrently. When AWS throttles any call,
//! every worker waits before its next call, so the whole run slows down instead of each
//! worker hammering on alone (and no grant fails because of it).

use std::cell::Cell;
use std::time::Duration;

use tokio::time::Instant;

/// The shortest and longest pause after a throttled call.
const FIRST: Duration = Duration::from_millis(200);
const MOST: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub struct Backoff {
    until: Cell<Option<Instant>>,
    step: Cell<Duration>,
    hits: Cell<u64>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            until: Cell::new(None),
            step: Cell::new(FIRST),
            hits: Cell::new(0),
        }
    }
}

impl Backoff {
    /// Wait while the run is paused.
    pub async fn wait(&self) {
        while let Some(t) = self.until.get() {
            if Instant::now() >= t {
                self.until.set(None);
                break;
            }
            tokio::time::sleep_until(t).await;
        }
    }

    /// AWS throttled a call: pause everyone, longer each time in a row (with jitter so
    /// the workers do not all come back at once).
    pub fn throttled(&self) {
        self.hits.set(self.hits.get() + 1);
        let step = self.step.get();
        let mut b = [0u8; 1];
        let _ = getrandom::fill(&mut b);
        let jitter = Duration::from_millis(u64::from(b[0]) % 100);
        let until = Instant::now() + step + jitter;
        if self.until.get().is_none_or(|t| t < until) {
            self.until.set(Some(until));
        }
        self.step.set((step * 2).min(MOST));
    }

    /// A call went through: the next throttle starts from a short pause again.
    pub fn succeeded(&self) {
        self.step.set(FIRST);
    }

    /// How many throttled answers the run has seen.
    pub fn hits(&self) -> u64 {
        self.hits.get()
    }
}

/// Call `f` until it answers something other than throttling; throttling pauses the
/// whole run (the shared `backoff`) and is never an error.
pub async fn patiently<T, F, Fut>(backoff: &Backoff, mut f: F) -> Result<T, super::GrantError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, super::GrantError>>,
{
    loop {
        backoff.wait().await;
        match f().await {
            Err(e) if e.is_throttling() => backoff.throttled(),
            other => {
                backoff.succeeded();
                return other;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_pauses_everyone_longer_each_time_until_a_call_succeeds() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let b = Backoff::default();
        rt.block_on(async {
            let t0 = Instant::now();
            b.wait().await;
            assert!(t0.elapsed() < FIRST, "no pause before any throttling");
            b.throttled();
            b.throttled();
            assert_eq!(b.hits(), 2);
            assert_eq!(b.step.get(), FIRST * 4);
            let t0 = Instant::now();
            b.wait().await;
            assert!(t0.elapsed() >= FIRST * 2, "waited {:?}", t0.elapsed());
            b.succeeded();
            assert_eq!(b.step.get(), FIRST);
        });
    }
}
