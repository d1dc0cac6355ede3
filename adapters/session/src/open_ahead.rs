//! Stream credit: local streams a transport opens ahead of the engine.

/// Local streams a transport opens ahead of the engine, per direction: the engine assigns ids
/// in order and may use exactly the streams opened so far
/// ([`Connection::handle_max_streams`](wt_proto::Connection::handle_max_streams)), so opening
/// never waits on the transport inside the engine.
#[derive(Debug)]
pub struct OpenAhead {
    ahead: u64,
    /// Streams opened in the transport, per direction (bidi, uni).
    opened: [u64; 2],
    /// Of them, the ones the engine used.
    used: [u64; 2],
}

fn di(dir: wt_proto::Dir) -> usize {
    match dir {
        wt_proto::Dir::Bi => 0,
        wt_proto::Dir::Uni => 1,
    }
}

impl OpenAhead {
    /// Keeps `ahead` streams per direction open beyond those the engine used.
    pub fn new(ahead: u64) -> Self {
        Self {
            ahead,
            opened: [0; 2],
            used: [0; 2],
        }
    }

    /// Whether the transport should open another stream in `dir` now.
    pub fn wants(&self, dir: wt_proto::Dir) -> bool {
        let i = di(dir);
        self.opened[i] < self.used[i].saturating_add(self.ahead)
    }

    /// The transport opened the next stream in `dir`; returns its index (0, 1, …).
    pub fn opened(&mut self, dir: wt_proto::Dir) -> u64 {
        let i = di(dir);
        let index = self.opened[i];
        self.opened[i] = index.saturating_add(1);
        index
    }

    /// The engine's credit in `dir`: the streams opened so far.
    pub fn credit(&self, dir: wt_proto::Dir) -> u64 {
        self.opened[di(dir)]
    }

    /// The engine used the next stream in `dir` (`Action::OpenStream`); returns whether it was
    /// within the credit (if not, the engine exceeded what it was given).
    pub fn used(&mut self, dir: wt_proto::Dir) -> bool {
        let i = di(dir);
        let within = self.used[i] < self.opened[i];
        self.used[i] = self.used[i].saturating_add(1);
        within
    }

    /// How many streams in `dir` the engine used.
    pub fn used_count(&self, dir: wt_proto::Dir) -> u64 {
        self.used[di(dir)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wt_proto::Dir;

    #[test]
    fn open_ahead_credit() {
        let mut o = OpenAhead::new(2);
        assert!(o.wants(Dir::Bi));
        assert_eq!(o.opened(Dir::Bi), 0);
        assert_eq!(o.opened(Dir::Bi), 1);
        assert!(!o.wants(Dir::Bi));
        assert_eq!(o.credit(Dir::Bi), 2);
        assert!(o.used(Dir::Bi));
        assert!(o.wants(Dir::Bi));
        assert!(o.used(Dir::Bi));
        assert!(!o.used(Dir::Bi), "a third use exceeds the credit of 2");
        assert_eq!(o.credit(Dir::Uni), 0);
    }
}
