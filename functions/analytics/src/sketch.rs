//! Distinct counts as mergeable HyperLogLog++ sketches (the `hyperloglogplus` crate):
//! precision 14 (16384 registers, standard error 0.8%), sparse while small, stored as
//! postcard bytes. The hash is SipHash-1-3 with fixed keys, so sketches written by any
//! container, any day, merge: days into weeks without reading raw events.

use std::hash::BuildHasher;

use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher13;

const PRECISION: u8 = 14;

/// The fixed hasher of every sketch (its keys never change: sketches must stay mergeable).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct StableHash;

impl BuildHasher for StableHash {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(0x6a6f_6273_2d61_6e61, 0x6c79_7469_6373_2d31)
    }
}

/// A distinct count of opaque ids (visitor and user hashes).
#[derive(Serialize, Deserialize)]
pub struct Sketch(HyperLogLogPlus<str, StableHash>);

impl Default for Sketch {
    fn default() -> Self {
        Sketch(HyperLogLogPlus::new(PRECISION, StableHash).expect("precision 14 is valid"))
    }
}

impl Sketch {
    pub fn insert(&mut self, id: &str) {
        self.0.insert(id);
    }

    pub fn merge(&mut self, other: &Sketch) {
        // Same precision and hasher by construction.
        let _ = self.0.merge(&other.0);
    }

    /// The estimated number of distinct ids.
    pub fn estimate(&mut self) -> u64 {
        self.0.count().round() as u64
    }

    pub fn to_bytes(&mut self) -> Vec<u8> {
        // Counting first folds the insert buffer into the registers (smaller, and what is
        // stored is final).
        let _ = self.0.count();
        postcard::to_allocvec(&self.0).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Sketch> {
        postcard::from_bytes(bytes).ok().map(Sketch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_distinct_within_three_percent_and_days_merge() {
        let mut days: Vec<Sketch> = (0..7).map(|_| Sketch::default()).collect();
        for i in 0..10_000 {
            let id = format!("session-{i:05}");
            days[i % 7].insert(&id);
            days[(i * 3) % 7].insert(&id); // seen on two days: counted once in the week
        }
        let mut week = Sketch::default();
        for d in &mut days {
            let stored = d.to_bytes();
            week.merge(&Sketch::from_bytes(&stored).expect("round trip"));
        }
        let est = week.estimate() as f64;
        assert!((est - 10_000.0).abs() / 10_000.0 < 0.03, "estimate {est}");
        let mut day = Sketch::from_bytes(&days[0].to_bytes()).unwrap();
        let exact = (0..10_000).filter(|i| i % 7 == 0 || (i * 3) % 7 == 0).count() as f64;
        assert!((day.estimate() as f64 - exact).abs() / exact < 0.03);
    }

    #[test]
    fn small_counts_are_exact_and_small() {
        let mut s = Sketch::default();
        for id in ["a", "b", "c", "a"] {
            s.insert(id);
        }
        assert_eq!(s.estimate(), 3);
        assert!(s.to_bytes().len() < 200, "sparse while small: {} bytes", s.to_bytes().len());
        assert!(Sketch::from_bytes(b"garbage").is_none());
    }
}
