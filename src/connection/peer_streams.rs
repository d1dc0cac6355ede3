//! Which peer-initiated stream ids have been seen, so that late first data on a lower-numbered
//! stream is accepted (QUIC opens streams implicitly and may deliver them in any order,
//! RFC 9000 §2.1) while data on a stream that is over is ignored.

use std::collections::BTreeSet;

/// Seen stream indices of one direction: every index below `floor`, plus those in `above`.
///
/// `above` only holds indices seen out of order; it is bounded by the stream credit the
/// transport grants the peer, since the lower streams it skipped stay open (and hold credit)
/// until they are seen.
#[derive(Debug, Default)]
pub(super) struct PeerStreams {
    floor: u64,
    above: BTreeSet<u64>,
}

impl PeerStreams {
    /// Whether the stream with this index has not been seen yet.
    pub fn is_new(&self, index: u64) -> bool {
        index >= self.floor && !self.above.contains(&index)
    }

    /// Marks an index as seen.
    pub fn mark(&mut self, index: u64) {
        if !self.is_new(index) {
            return;
        }
        if index == self.floor {
            self.floor = self.floor.saturating_add(1);
            while self.above.remove(&self.floor) {
                self.floor = self.floor.saturating_add(1);
            }
        } else {
            self.above.insert(index);
        }
    }

    /// One more than the highest index seen: the first index no request can have used yet.
    pub fn next_unused(&self) -> u64 {
        self.above
            .last()
            .map_or(self.floor, |&i| i.saturating_add(1))
    }

    /// How many indices are remembered individually.
    pub fn out_of_order(&self) -> usize {
        self.above.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_then_filled() {
        let mut p = PeerStreams::default();
        p.mark(2);
        assert!(p.is_new(0) && p.is_new(1) && !p.is_new(2));
        assert_eq!(p.next_unused(), 3);
        p.mark(0);
        p.mark(1);
        assert_eq!(p.out_of_order(), 0);
        assert!(!p.is_new(2) && p.is_new(3));
        p.mark(1);
        assert_eq!(p.next_unused(), 3);
    }
}
