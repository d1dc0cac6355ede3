//! Shared definitions: the implementations, the workloads, their sizes and the report.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Stream writes and reads move at most this many bytes per call.
pub const CHUNK: usize = 64 * 1024;
/// The payload of every benchmark datagram.
pub const DATAGRAM_SIZE: usize = 1000;
/// `datagrams-paced` sends this many datagrams per second.
pub const PACED_RATE: f64 = 100_000.0;
/// Unpaced datagram senders yield to the runtime (so that the stack's driver can transmit)
/// after this many send calls; paced senders send at most this many between yields.
pub const SEND_BURST: u64 = 8;
/// The datagram server stops counting once the client is done and no datagram came for this
/// long.
pub const DATAGRAM_IDLE: Duration = Duration::from_millis(300);
/// `sessions` opens this many client connections at a time.
pub const SESSION_BATCH: usize = 50;
/// The message each `sessions` session echoes on its bidi stream.
pub const ECHO: &[u8] = b"wt-bench echo 16";
/// Streams of `bidi10` and `uni`.
pub const MANY_STREAMS: u64 = 10;
/// The hard limit of one measurement.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// An implementation under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impl {
    /// The `quinn` crate's own endpoint: raw QUIC streams and datagrams (no HTTP/3).
    #[value(name = "quinn")]
    Quinn,
    /// wtransport 0.7 (WebTransport over quinn).
    #[value(name = "wtransport")]
    Wtransport,
    /// web-transport-quinn 0.13 (WebTransport over quinn).
    #[value(name = "web-transport-quinn")]
    WebTransportQuinn,
    /// Our `wt_quinn::Endpoint` (wt-proto on quinn-proto with our own UDP driver).
    #[value(name = "wt-quinn")]
    WtQuinn,
    /// Raw s2n-quic: QUIC streams and datagrams (no HTTP/3).
    #[value(name = "s2n-quic")]
    S2nQuic,
    /// Our `wt_s2n_quic::Endpoint` (wt-proto on s2n-quic).
    #[value(name = "wt-s2n-quic")]
    WtS2nQuic,
}

impl Impl {
    /// Every implementation, raw stacks first.
    pub const ALL: [Impl; 6] = [
        Impl::Quinn,
        Impl::Wtransport,
        Impl::WebTransportQuinn,
        Impl::WtQuinn,
        Impl::S2nQuic,
        Impl::WtS2nQuic,
    ];

    /// The name used on the command line, in reports and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Quinn => "quinn",
            Impl::Wtransport => "wtransport",
            Impl::WebTransportQuinn => "web-transport-quinn",
            Impl::WtQuinn => "wt-quinn",
            Impl::S2nQuic => "s2n-quic",
            Impl::WtS2nQuic => "wt-s2n-quic",
        }
    }

    /// The raw QUIC stack this implementation is compared with (itself for the raw stacks).
    pub fn raw(self) -> Impl {
        match self {
            Impl::S2nQuic | Impl::WtS2nQuic => Impl::S2nQuic,
            _ => Impl::Quinn,
        }
    }
}

/// A workload (the client sends and the server receives unless said otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// One bidi stream carrying `mib` MiB; the server replies one byte after the FIN.
    #[value(name = "bidi1")]
    Bidi1,
    /// Ten concurrent bidi streams carrying `mib` MiB in total, each answered with one byte.
    #[value(name = "bidi10")]
    Bidi10,
    /// Ten concurrent uni streams carrying `mib` MiB in total, timed until the server has read
    /// the last FIN.
    #[value(name = "uni")]
    Uni,
    /// `datagrams` datagrams of 1000 bytes, unpaced.
    #[value(name = "datagrams")]
    Datagrams,
    /// The same, paced at 100,000 datagrams per second.
    #[value(name = "datagrams-paced")]
    DatagramsPaced,
    /// `setups` sequential connections with a session each (a bare QUIC handshake on the raw
    /// stacks), each closed before the next.
    #[value(name = "setup")]
    Setup,
    /// `sessions` connections to one server, `SESSION_BATCH` at a time, each with a session
    /// and one bidi echo, all kept open until the end.
    #[value(name = "sessions")]
    Sessions,
}

impl Workload {
    /// Every workload.
    pub const ALL: [Workload; 7] = [
        Workload::Bidi1,
        Workload::Bidi10,
        Workload::Uni,
        Workload::Datagrams,
        Workload::DatagramsPaced,
        Workload::Setup,
        Workload::Sessions,
    ];

    /// The name used on the command line, in reports and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Bidi1 => "bidi1",
            Workload::Bidi10 => "bidi10",
            Workload::Uni => "uni",
            Workload::Datagrams => "datagrams",
            Workload::DatagramsPaced => "datagrams-paced",
            Workload::Setup => "setup",
            Workload::Sessions => "sessions",
        }
    }

    /// Whether this is one of the datagram workloads.
    pub fn is_datagrams(self) -> bool {
        matches!(self, Workload::Datagrams | Workload::DatagramsPaced)
    }

    /// The headline metric of the workload: its report field, its unit, and whether higher is
    /// better.
    pub fn metric(self) -> Metric {
        match self {
            Workload::Bidi1 | Workload::Bidi10 | Workload::Uni => Metric {
                field: "mib_per_s",
                unit: "MiB/s",
                higher_is_better: true,
            },
            Workload::Datagrams | Workload::DatagramsPaced => Metric {
                field: "datagrams_per_s",
                unit: "received/s",
                higher_is_better: true,
            },
            Workload::Setup => Metric {
                field: "setup_median_ms",
                unit: "median ms",
                higher_is_better: false,
            },
            Workload::Sessions => Metric {
                field: "sessions_secs",
                unit: "s total",
                higher_is_better: false,
            },
        }
    }
}

/// A headline metric (see [`Workload::metric`]).
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// The [`Report`] field holding it.
    pub field: &'static str,
    /// Its unit, for table headers.
    pub unit: &'static str,
    /// Whether a higher value is better.
    pub higher_is_better: bool,
}

/// The sizes of the workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// MiB moved by the stream workloads.
    pub mib: u64,
    /// Datagrams sent by the datagram workloads.
    pub datagrams: u64,
    /// Sessions opened by `sessions`.
    pub sessions: u64,
    /// Setups timed by `setup`.
    pub setups: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            mib: 256,
            datagrams: 200_000,
            sessions: 1000,
            setups: 50,
        }
    }
}

impl Params {
    /// The tiny sizes of `suite --quick` and the smoke tests.
    pub fn quick() -> Self {
        Self {
            mib: 4,
            datagrams: 2000,
            sessions: 20,
            setups: 5,
        }
    }
}

/// The outcome of one measurement: one JSON line of `wt-bench one`. Fields that do not apply
/// to the workload are absent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// The implementation's name.
    pub implementation: String,
    /// The workload's name.
    pub workload: String,
    /// The sizes used.
    pub params: Option<Params>,
    /// Why the measurement failed (then the metrics may be missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Stream workloads: the bytes the client wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    /// Stream workloads: the bytes the server read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_received: Option<u64>,
    /// Stream workloads: seconds from the first write to the last reply (bidi) or to the
    /// server's last FIN (uni).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secs: Option<f64>,
    /// Stream workloads: `bytes_received / secs` in MiB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mib_per_s: Option<f64>,
    /// Datagram workloads: the datagrams the client's send calls accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams_sent: Option<u64>,
    /// Datagram workloads: the datagrams the client's send calls refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams_refused: Option<u64>,
    /// Datagram workloads: seconds the client spent in its send loop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_secs: Option<f64>,
    /// Datagram workloads: the datagrams the server received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams_received: Option<u64>,
    /// Datagram workloads: received datagrams per second over the server's first-to-last
    /// receive window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams_per_s: Option<f64>,
    /// Datagram workloads: `1 - received / offered`, where offered counts the datagrams the
    /// client tried to send (accepted or refused by the send call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// Datagram workloads: the server thread's CPU time per received datagram, in ns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_ns_per_datagram: Option<f64>,
    /// `setup`: the setups timed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setups: Option<u64>,
    /// `setup`: the median setup time in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_median_ms: Option<f64>,
    /// `setup`: the 90th percentile setup time in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_p90_ms: Option<f64>,
    /// `sessions`: the sessions that were established and echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_ok: Option<u64>,
    /// `sessions`: the sessions the server accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_accepted: Option<u64>,
    /// `sessions`: seconds until every session had echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_secs: Option<f64>,
    /// CPU seconds of the server thread from after binding (certificate and endpoint made) until
    /// its accounting was complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_secs: Option<f64>,
    /// CPU seconds of the client thread from after making its endpoint until it had the server's
    /// counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cpu_secs: Option<f64>,
    /// The process's peak resident set (VmHWM) at the end, in KiB; client and server together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_kib: Option<u64>,
    /// Wall-clock seconds of the whole measurement, start-up included.
    pub wall_secs: f64,
}

impl Report {
    /// The value of a numeric field by name (for the suite's tables).
    pub fn field(&self, name: &str) -> Option<f64> {
        let v = serde_json::to_value(self).ok()?;
        v.get(name)?.as_f64()
    }
}
