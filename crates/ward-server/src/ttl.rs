//! A small map whose entries expire: what the daemon may remember about the store between
//! requests (a hook token's owner) without a query per request, and for how long a change made
//! by another process (a rotated token) may go unseen.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries live for `ttl`; at `cap` entries the whole map is dropped (a flood of distinct keys
/// costs queries, never memory).
pub struct TtlCache<K, V> {
    ttl: Duration,
    cap: usize,
    map: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, cap: usize) -> TtlCache<K, V> {
        TtlCache {
            ttl,
            cap: cap.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored for `key` less than `ttl` before `now`.
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        let map = self.map.lock().ok()?;
        map.get(key)
            .filter(|(_, at)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(v, _)| v.clone())
    }

    /// Remember `value` for `key` from `now`.
    pub fn put(&self, key: K, value: V, now: Instant) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.cap && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(key, (value, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl_and_the_cap_bounds_the_map() {
        let c: TtlCache<&str, u32> = TtlCache::new(Duration::from_secs(1), 2);
        let t0 = Instant::now();
        c.put("a", 1, t0);
        assert_eq!(c.get(&"a", t0 + Duration::from_millis(999)), Some(1));
        assert_eq!(c.get(&"a", t0 + Duration::from_secs(1)), None);
        assert_eq!(c.get(&"b", t0), None);
        c.put("b", 2, t0);
        c.put("b", 3, t0);
        assert_eq!(c.get(&"a", t0), Some(1), "replacing a key does not clear");
        c.put("c", 4, t0);
        assert_eq!(c.get(&"a", t0), None, "a third key clears the full map");
        assert_eq!(c.get(&"c", t0), Some(4));
    }
}
