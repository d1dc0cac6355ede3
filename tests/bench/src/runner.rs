//! One measurement: a server thread and a client thread, each with its own `current_thread`
//! runtime, a hard timeout, and the report.

use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use tokio::sync::oneshot;

use crate::impls;
use crate::measure::{median, peak_rss_kib, quantile, thread_cpu_secs};
use crate::scenario::{self, ClientOut};
use crate::stack::{Client, Server, ServerInfo};
use crate::workload::{Impl, Params, RUN_TIMEOUT, Report, Workload};

/// Runs one measurement of `imp` on `workload` (at most [`RUN_TIMEOUT`]) and reports it; a
/// failure or a timeout is in [`Report::error`].
pub fn run_one(imp: Impl, workload: Workload, params: &Params) -> Report {
    run_one_within(imp, workload, params, RUN_TIMEOUT)
}

/// [`run_one`] with another time limit.
pub fn run_one_within(imp: Impl, workload: Workload, params: &Params, limit: Duration) -> Report {
    let start = Instant::now();
    let p = *params;
    let result = match imp {
        Impl::Quinn => run_pair::<impls::quinn::Srv, impls::quinn::Cli>(workload, p, limit),
        Impl::Wtransport => {
            run_pair::<impls::wtransport::Srv, impls::wtransport::Cli>(workload, p, limit)
        }
        Impl::WebTransportQuinn => run_pair::<impls::wtq::Srv, impls::wtq::Cli>(workload, p, limit),
        Impl::WtQuinn => run_pair::<impls::wt_quinn::Srv, impls::wt_quinn::Cli>(workload, p, limit),
        Impl::S2nQuic => run_pair::<impls::s2n::Srv, impls::s2n::Cli>(workload, p, limit),
        Impl::WtS2nQuic => run_pair::<impls::wt_s2n::Srv, impls::wt_s2n::Cli>(workload, p, limit),
    };
    let mut report = Report {
        implementation: imp.name().to_string(),
        workload: workload.name().to_string(),
        params: Some(p),
        ..Report::default()
    };
    match result {
        Ok(m) => fill(&mut report, workload, m),
        Err(e) => report.error = Some(format!("{e:#}")),
    }
    report.peak_rss_kib = peak_rss_kib();
    report.wall_secs = start.elapsed().as_secs_f64();
    report
}

/// What both threads measured.
struct Measured {
    client: ClientOut,
    client_cpu: f64,
    server_cpu: Option<f64>,
}

enum Done {
    Server(Option<f64>),
    Client(Result<(ClientOut, f64)>),
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn run_pair<S: Server, C: Client>(
    workload: Workload,
    params: Params,
    limit: Duration,
) -> Result<Measured> {
    let deadline = Instant::now() + limit;
    let (info_tx, info_rx) = mpsc::channel::<Result<ServerInfo, String>>();
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let (client_done_tx, client_done_rx) = oneshot::channel::<()>();
    let (stats_tx, stats_rx) = oneshot::channel();

    let server_done = done_tx.clone();
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let cpu = match runtime() {
                Ok(rt) => {
                    let local = tokio::task::LocalSet::new();
                    rt.block_on(local.run_until(async move {
                        let (server, info) = match S::bind() {
                            Ok(x) => x,
                            Err(e) => {
                                let _ = info_tx.send(Err(format!("server bind: {e:#}")));
                                return None;
                            }
                        };
                        let _ = info_tx.send(Ok(info));
                        let cpu0 = thread_cpu_secs();
                        let r = scenario::serve(server, workload, client_done_rx).await;
                        let cpu = thread_cpu_secs() - cpu0;
                        let _ = stats_tx.send(r.map_err(|e| format!("{e:#}")));
                        Some(cpu)
                    }))
                }
                Err(e) => {
                    let _ = info_tx.send(Err(format!("server runtime: {e}")));
                    None
                }
            };
            let _ = server_done.send(Done::Server(cpu));
        })?;

    std::thread::Builder::new()
        .name("bench-client".into())
        .spawn(move || {
            let r = (|| {
                let info = info_rx
                    .recv()
                    .map_err(|_| anyhow!("the server thread ended before binding"))?
                    .map_err(|e| anyhow!("{e}"))?;
                let rt = runtime()?;
                let local = tokio::task::LocalSet::new();
                rt.block_on(local.run_until(async move {
                    let client = Rc::new(C::new(&info)?);
                    let cpu0 = thread_cpu_secs();
                    let out =
                        scenario::drive(client, workload, params, client_done_tx, stats_rx).await?;
                    Ok((out, thread_cpu_secs() - cpu0))
                }))
            })();
            let _ = done_tx.send(Done::Client(r));
        })?;

    let timeout = || anyhow!("timed out after {} s", limit.as_secs());
    let mut client = None;
    let mut server_cpu = None;
    while client.is_none() || server_cpu.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(Done::Server(cpu)) => server_cpu = Some(cpu),
            // The server may wait for a client that failed: do not wait for it then.
            Ok(Done::Client(r)) => client = Some(r?),
            Err(_) => return Err(timeout()),
        }
    }
    let (client, client_cpu) = client.ok_or_else(timeout)?;
    Ok(Measured {
        client,
        client_cpu,
        server_cpu: server_cpu.flatten(),
    })
}

fn fill(r: &mut Report, workload: Workload, m: Measured) {
    let c = &m.client;
    let s = &c.server;
    r.server_cpu_secs = m.server_cpu;
    r.client_cpu_secs = Some(m.client_cpu);
    match workload {
        Workload::Bidi1 | Workload::Bidi10 | Workload::Uni => {
            r.bytes_sent = Some(c.bytes_sent);
            r.bytes_received = Some(s.bytes);
            let end = if workload == Workload::Uni {
                s.last
            } else {
                c.replies_done
            };
            if let (Some(t0), Some(end)) = (c.t0, end) {
                let secs = end.saturating_duration_since(t0).as_secs_f64();
                r.secs = Some(secs);
                if secs > 0.0 {
                    r.mib_per_s = Some(s.bytes as f64 / secs / (1 << 20) as f64);
                }
            }
            if s.bytes != c.bytes_sent {
                r.error = Some(format!(
                    "the server read {} bytes of {}",
                    s.bytes, c.bytes_sent
                ));
            }
        }
        Workload::Datagrams | Workload::DatagramsPaced => {
            r.datagrams_sent = Some(c.datagrams_sent);
            r.datagrams_refused = Some(c.datagrams_refused);
            r.send_secs = Some(c.send_secs);
            r.datagrams_received = Some(s.datagrams);
            if let (Some(first), Some(last)) = (s.first, s.last) {
                let secs = last.saturating_duration_since(first).as_secs_f64();
                if secs > 0.0 {
                    r.datagrams_per_s = Some(s.datagrams as f64 / secs);
                }
            }
            let offered = c.datagrams_sent + c.datagrams_refused;
            if offered > 0 {
                r.loss = Some(1.0 - s.datagrams as f64 / offered as f64);
            }
            if let (Some(cpu), true) = (m.server_cpu, s.datagrams > 0) {
                r.server_cpu_ns_per_datagram = Some(cpu * 1e9 / s.datagrams as f64);
            }
        }
        Workload::Setup => {
            r.setups = Some(c.setups.len() as u64);
            r.setup_median_ms = median(&c.setups).map(|x| x * 1e3);
            r.setup_p90_ms = quantile(&c.setups, 0.9).map(|x| x * 1e3);
        }
        Workload::Sessions => {
            r.sessions_ok = Some(c.sessions_ok);
            r.sessions_accepted = Some(s.sessions);
            r.sessions_secs = Some(c.sessions_secs);
        }
    }
}
