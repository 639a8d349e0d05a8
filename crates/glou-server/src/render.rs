//! Rendered JSON of listed servers, cached per entry revision. A server in a popular
//! list is encoded once per change instead of once per query, subscriber or page; a
//! reply is then a concatenation of cached strings. The cache is bounded: when full it
//! starts over, so a scan of everything cannot make it grow without end.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::Arc;

use glou_core::{Entry, EntryId};
use parking_lot::Mutex;

use crate::http::convert;

#[derive(Debug)]
pub struct Renderer {
    cache: Mutex<HashMap<EntryId, (u64, Arc<str>)>>,
    capacity: usize,
}

impl Renderer {
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Drops a removed entry's JSON (it would otherwise stay until the cache starts
    /// over).
    pub fn forget(&self, id: EntryId) {
        self.cache.lock().remove(&id);
    }

    /// The JSON of one entry.
    pub fn json(&self, e: &Entry) -> Arc<str> {
        self.many(std::slice::from_ref(&e))
            .pop()
            .expect("one in, one out")
    }

    /// The JSON of each entry, in order. Encodes outside the lock.
    pub fn many<E: Borrow<Entry>>(&self, entries: &[E]) -> Vec<Arc<str>> {
        let mut out: Vec<Option<Arc<str>>> = {
            let cache = self.cache.lock();
            entries
                .iter()
                .map(|e| {
                    let e: &Entry = e.borrow();
                    cache
                        .get(&e.id)
                        .filter(|(rev, _)| *rev == e.revision)
                        .map(|(_, s)| s.clone())
                })
                .collect()
        };
        let mut fresh = Vec::new();
        for (slot, e) in out.iter_mut().zip(entries) {
            if slot.is_none() {
                let e: &Entry = e.borrow();
                let json: Arc<str> = convert::server_json(e).into();
                fresh.push((e.id, e.revision, json.clone()));
                *slot = Some(json);
            }
        }
        if !fresh.is_empty() {
            let mut cache = self.cache.lock();
            if cache.len() + fresh.len() > self.capacity {
                cache.clear();
            }
            for (id, rev, json) in fresh {
                cache.insert(id, (rev, json));
            }
        }
        out.into_iter()
            .map(|s| s.expect("every slot filled"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use glou_core::{Listing, Source, Timestamp};

    use super::*;

    fn entry(revision: u64, name: &str) -> Entry {
        Entry {
            id: EntryId(1),
            listing: Listing {
                game: "g".into(),
                name: name.into(),
                ..Listing::default()
            },
            source: Source::Native,
            owner: Ipv4Addr::LOCALHOST.into(),
            secret: None,
            first_seen: Timestamp::default(),
            last_seen: Timestamp::default(),
            expires_at: None,
            origin: None,
            revision,
        }
    }

    #[test]
    fn a_new_revision_is_encoded_again() {
        let r = Renderer::new(10);
        assert!(r.json(&entry(0, "old")).contains("\"old\""));
        assert!(
            r.json(&entry(0, "not re-encoded")).contains("\"old\""),
            "same revision: cached"
        );
        assert!(r.json(&entry(1, "new")).contains("\"new\""));
    }

    #[test]
    fn bounded() {
        let r = Renderer::new(2);
        for id in 0..5 {
            r.json(&Entry {
                id: EntryId(id),
                ..entry(0, "x")
            });
            assert!(r.cache.lock().len() <= 2);
        }
    }
}
