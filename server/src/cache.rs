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

/// Per-key entries that expire after a TTL, bounded in number (when full, the map is emptied:
/// a burst of misses is cheaper than bookkeeping on every hit). Used only where this process is
/// the sole writer (the embedded SQLite database), so write-through keeps it exact; the TTL
/// bounds what another process (the command line) may change underneath.
///
/// A read that missed loads from the database and then `fill`s; if any write happened in
/// between (the generation moved), the loaded value may be older than that write and is not
/// kept.
pub struct BoundedMap<K, V> {
    ttl: Duration,
    capacity: usize,
    generation: std::sync::atomic::AtomicU64,
    map: RwLock<std::collections::HashMap<K, (Instant, V)>>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> BoundedMap<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            generation: std::sync::atomic::AtomicU64::new(0),
            map: RwLock::new(std::collections::HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        let (at, v) = map.get(key)?;
        (at.elapsed() < self.ttl).then(|| v.clone())
    }

    /// Taken before loading a missed entry; see `fill`.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Keeps a value loaded after `generation()` returned `since`, unless a write came between.
    pub fn fill(&self, since: u64, key: K, value: V) {
        if let Ok(mut map) = self.map.write() {
            if self.generation() == since {
                Self::insert(&mut map, self.capacity, key, value);
            }
        }
    }

    fn insert(map: &mut std::collections::HashMap<K, (Instant, V)>, cap: usize, key: K, value: V) {
        if map.len() >= cap && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// A value just written to the database.
    pub fn put(&self, key: K, value: V) {
        if let Ok(mut map) = self.map.write() {
            self.bump();
            Self::insert(&mut map, self.capacity, key, value);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut map) = self.map.write() {
            self.bump();
            map.clear();
        }
    }

    pub fn remove(&self, key: &K) {
        if let Ok(mut map) = self.map.write() {
            self.bump();
            map.remove(key);
        }
    }

    pub fn retain(&self, keep: impl Fn(&V) -> bool) {
        if let Ok(mut map) = self.map.write() {
            self.bump();
            map.retain(|_, (at, v)| at.elapsed() < self.ttl && keep(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_expires_bounds_and_forgets() {
        let m = BoundedMap::new(Duration::from_millis(40), 2);
        m.put(1, "a");
        m.put(2, "b");
        assert_eq!(m.get(&1), Some("a"));
        m.put(2, "b2");
        assert_eq!(
            m.get(&2),
            Some("b2"),
            "updating a key never empties the map"
        );
        assert_eq!(m.get(&1), Some("a"));
        m.put(3, "c");
        assert_eq!(m.get(&1), None, "full: emptied before the new entry");
        assert_eq!(m.get(&3), Some("c"));
        m.remove(&3);
        assert_eq!(m.get(&3), None);
        m.put(4, "d");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(m.get(&4), None, "expired");
        m.put(5, "e");
        m.put(6, "f");
        m.retain(|v| *v != "e");
        assert_eq!((m.get(&5), m.get(&6)), (None, Some("f")));
    }

    #[test]
    fn a_load_overtaken_by_a_write_is_not_kept() {
        let m = BoundedMap::new(Duration::from_secs(60), 10);
        let since = m.generation();
        m.fill(since, "a", 1);
        let other = m.generation();
        m.fill(other, "b", 2);
        assert_eq!(
            (m.get(&"a"), m.get(&"b")),
            (Some(1), Some(2)),
            "fills do not race each other"
        );
        // A request loads "c" (old value) while another writes it and forgets the entry.
        let since = m.generation();
        m.remove(&"c");
        m.fill(since, "c", 0);
        assert_eq!(m.get(&"c"), None, "the stale load is dropped");
        let since = m.generation();
        m.put("d", 5);
        m.fill(since, "d", 4);
        assert_eq!(m.get(&"d"), Some(5), "the written value stays");
        m.clear();
        assert_eq!(m.get(&"a"), None);
    }

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
