//! # wt-bench: our WebTransport adapters against what a user would pick instead
//!
//! One measurement ([`run_one`]) runs a server and a client in this process, each on its own OS
//! thread with its own tokio `current_thread` runtime, talking over real UDP on 127.0.0.1. The
//! implementations ([`Impl`]) are raw quinn, wtransport, web-transport-quinn and our wt-quinn
//! on the quinn side, raw s2n-quic and our wt-s2n-quic on the s2n side; the workloads
//! ([`Workload`]) cover stream throughput, datagrams, session setup and many sessions.
//!
//! [`suite`] runs every implementation in a separate child process, interleaved over several
//! rounds, and summarises the samples with paired ratios to the raw QUIC stack.

#![warn(missing_docs)]

mod impls;
pub mod measure;
mod runner;
mod scenario;
mod stack;
pub mod suite;
pub mod workload;

pub use runner::run_one;
pub use workload::{Impl, Params, Report, Workload};
