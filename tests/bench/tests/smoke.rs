//! Every implementation on every workload at the tiny sizes of `suite --quick`, through the
//! library (no child processes): the data must arrive.

use wt_bench::{Impl, Params, Report, Workload, run_one};

fn check(imp: Impl, w: Workload, p: &Params, r: &Report) {
    let what = format!("{} {}: {r:?}", imp.name(), w.name());
    assert!(r.error.is_none(), "{what}");
    assert!(r.peak_rss_kib.unwrap_or(0) > 0, "{what}");
    match w {
        Workload::Bidi1 | Workload::Bidi10 | Workload::Uni => {
            let sent = r.bytes_sent.unwrap();
            assert!(sent >= (p.mib << 20) - 16, "{what}");
            assert_eq!(r.bytes_received, Some(sent), "{what}");
            assert!(r.mib_per_s.unwrap() > 0.0, "{what}");
        }
        Workload::Datagrams | Workload::DatagramsPaced => {
            assert!(r.datagrams_sent.unwrap() > 0, "{what}");
            assert!(r.datagrams_received.unwrap() > 0, "{what}");
            assert!(r.server_cpu_ns_per_datagram.unwrap() > 0.0, "{what}");
        }
        Workload::Setup => {
            assert_eq!(r.setups, Some(p.setups), "{what}");
            assert!(r.setup_median_ms.unwrap() > 0.0, "{what}");
            assert!(
                r.setup_p90_ms.unwrap() >= r.setup_median_ms.unwrap(),
                "{what}"
            );
        }
        Workload::Sessions => {
            assert_eq!(r.sessions_ok, Some(p.sessions), "{what}");
            assert_eq!(r.sessions_accepted, Some(p.sessions), "{what}");
        }
    }
}

fn all_workloads(imp: Impl) {
    let p = Params::quick();
    for w in Workload::ALL {
        let r = run_one(imp, w, &p);
        check(imp, w, &p, &r);
        // The suite's JSON line round-trips.
        let line = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&line).unwrap();
        assert_eq!(back.workload, w.name());
    }
}

#[test]
fn quinn() {
    all_workloads(Impl::Quinn);
}

#[test]
fn wtransport() {
    all_workloads(Impl::Wtransport);
}

#[test]
fn web_transport_quinn() {
    all_workloads(Impl::WebTransportQuinn);
}

#[test]
fn wt_quinn() {
    all_workloads(Impl::WtQuinn);
}

#[test]
fn s2n_quic() {
    all_workloads(Impl::S2nQuic);
}

#[test]
fn wt_s2n_quic() {
    all_workloads(Impl::WtS2nQuic);
}
