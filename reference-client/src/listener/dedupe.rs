//! Repeat suppression for verified notifications.
//!
//! Facts §7.3: repeated triggers for the same session SHOULD reuse the session id and the
//! client needs to start only one session per id; DMRD-6.1.1.1-2 asks the client to detect
//! replays. A notification whose (ServerID, session id, digest) was accepted less than the
//! window ago is a repeat. The first sighting starts the window and repeats do not extend
//! it, so a server re-sending forever still gets through once per window.

use std::collections::HashMap;

/// What identifies a repeat: ServerID, 16-bit session id and the 16-byte digest.
pub type DedupeKey = (String, u16, [u8; 16]);

/// The most entries kept; beyond it the oldest is forgotten (bounds memory under a flood of
/// distinct, validly signed notifications).
pub const MAX_ENTRIES: usize = 4096;

/// The notifications accepted within the window, with the time each was first seen.
#[derive(Debug, Clone, Default)]
pub struct Dedupe {
    window_secs: u64,
    seen: HashMap<DedupeKey, u64>,
}

impl Dedupe {
    /// A table with a window of `window_secs` seconds (0: nothing is ever a repeat).
    pub fn new(window_secs: u64) -> Self {
        Dedupe {
            window_secs,
            seen: HashMap::new(),
        }
    }

    /// Record `key` at `now` (Unix seconds) if it is new and return `None`; for a repeat
    /// seen less than the window ago return `Some(first_seen)` (the first time is kept).
    pub fn repeat_of(&mut self, key: DedupeKey, now: u64) -> Option<u64> {
        if self.window_secs == 0 {
            return None;
        }
        let window = self.window_secs;
        self.seen
            .retain(|_, first| now.saturating_sub(*first) < window && *first <= now);
        if let Some(first) = self.seen.get(&key) {
            return Some(*first);
        }
        if self.seen.len() >= MAX_ENTRIES {
            if let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
            {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(key, now);
        None
    }

    /// Forget `key`, so the next identical notification is new again (used when an
    /// accepted notification could not be delivered).
    pub fn forget(&mut self, key: &DedupeKey) {
        self.seen.remove(key);
    }

    /// Number of entries currently remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(session: u16) -> DedupeKey {
        ("srv".to_owned(), session, [7; 16])
    }

    #[test]
    fn repeat_inside_window_is_refused_and_does_not_extend_it() {
        let mut d = Dedupe::new(60);
        assert_eq!(d.repeat_of(key(1), 1000), None);
        assert_eq!(d.repeat_of(key(1), 1030), Some(1000));
        assert_eq!(d.repeat_of(key(1), 1059), Some(1000));
        // 60 s after the first sighting the window is over, even though repeats came later.
        assert_eq!(d.repeat_of(key(1), 1060), None);
    }

    #[test]
    fn other_session_or_digest_is_not_a_repeat() {
        let mut d = Dedupe::new(60);
        assert_eq!(d.repeat_of(key(1), 0), None);
        assert_eq!(d.repeat_of(key(2), 0), None);
        assert_eq!(d.repeat_of(("srv".to_owned(), 1, [8; 16]), 0), None);
        assert_eq!(d.repeat_of(("other".to_owned(), 1, [7; 16]), 0), None);
        assert_eq!(d.len(), 4);
    }

    #[test]
    fn zero_window_admits_everything() {
        let mut d = Dedupe::new(0);
        assert_eq!(d.repeat_of(key(1), 5), None);
        assert_eq!(d.repeat_of(key(1), 5), None);
        assert!(d.is_empty());
    }

    #[test]
    fn forget_readmits_and_table_stays_bounded() {
        let mut d = Dedupe::new(600);
        assert_eq!(d.repeat_of(key(1), 0), None);
        d.forget(&key(1));
        assert_eq!(d.repeat_of(key(1), 0), None);
        for s in 0..(MAX_ENTRIES as u32 + 10) {
            let k = (
                "srv".to_owned(),
                (s % 0xFFFF) as u16 + 1,
                (s as u128).to_be_bytes(),
            );
            d.repeat_of(k, 1);
        }
        assert_eq!(d.len(), MAX_ENTRIES);
    }

    #[test]
    fn clock_going_back_expires_entries_instead_of_pinning_them() {
        let mut d = Dedupe::new(60);
        assert_eq!(d.repeat_of(key(1), 1000), None);
        assert_eq!(d.repeat_of(key(1), 500), None);
    }
}
