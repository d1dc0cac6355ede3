//! Counters of one connection, readable at any time with
//! [`Connection::stats`](crate::Connection::stats).

/// Connection counters. They only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sessions created (requested by a peer, or connected by us).
    pub sessions_created: u64,
    /// Sessions accepted with a 2xx (sent by us as a server, received as a client).
    pub sessions_accepted: u64,
    /// Sessions rejected with a non-2xx status, refused, or failed before establishment.
    pub sessions_rejected: u64,
    /// Established or pending sessions that ended.
    pub sessions_closed: u64,
    /// WebTransport streams opened, by either side.
    pub streams_opened: u64,
    /// WebTransport streams that ended with FIN in both directions, or were dropped with their
    /// session.
    pub streams_closed: u64,
    /// WebTransport streams reset by either side (including session teardown and refusals).
    pub streams_reset: u64,
    /// Streams refused because the buffer for not-yet-established sessions was full.
    pub streams_refused: u64,
    /// Streams reset before their header arrived, so never associated with a session.
    pub streams_unassociated: u64,
    /// Datagrams sent.
    pub datagrams_sent: u64,
    /// Datagrams received and handed to a session (or held for one).
    pub datagrams_received: u64,
    /// Datagrams dropped: for closed sessions, over a buffer limit, or unsendable.
    pub datagrams_dropped: u64,
    /// Capsules sent.
    pub capsules_sent: u64,
    /// Capsules received (unknown ones included).
    pub capsules_received: u64,
    /// Stream and datagram bytes received from the transport.
    pub bytes_in: u64,
    /// Stream and datagram bytes handed to the transport.
    pub bytes_out: u64,
}
