//! A small time-bounded cache for data every visitor sees and that changes rarely (the start
//! page's service list). Each instance keeps its own copy; a change shows within the TTL.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub struct TtlCache<T> {
    ttl: Duration,
    slot: RwLock<Option<(Instant, Arc<T>)>>,
}

impl<T> TtlCache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slot: RwLock::new(None),
        }
    }

    pub async fn get_or_load<E, F, Fut>(&self, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Ok(slot) = self.slot.read() {
            if let Some((at, value)) = slot.as_ref() {
                if at.elapsed() < self.ttl {
                    return Ok(value.clone());
                }
            }
        }
        let value = Arc::new(load().await?);
        if let Ok(mut slot) = self.slot.write() {
            *slot = Some((Instant::now(), value.clone()));
        }
        Ok(value)
    }

    /// Drops the cached value, e.g. after this instance changed the data.
    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loads_once_within_the_ttl_and_again_after() {
        let cache = TtlCache::new(Duration::from_millis(50));
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let load = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, ()>(42)
        };
        assert_eq!(*cache.get_or_load(load).await.unwrap(), 42);
        assert_eq!(*cache.get_or_load(load).await.unwrap(), 42);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
        cache.get_or_load(load).await.unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        cache.invalidate();
        cache.get_or_load(load).await.unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
