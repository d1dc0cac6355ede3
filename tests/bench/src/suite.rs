//! The suite: every implementation as a separate child process (`wt-bench one`), interleaved
//! over rounds, summarised per workload with medians, spreads and paired ratios to the raw
//! QUIC stack.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::measure::{median, quantile};
use crate::workload::{Impl, Params, RUN_TIMEOUT, Report, Workload};

/// What the suite runs.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteConfig {
    /// Rounds; each runs every workload once per implementation.
    pub rounds: usize,
    /// The implementations, in their first round's order.
    pub impls: Vec<Impl>,
    /// The workloads.
    pub workloads: Vec<Workload>,
    /// The sizes.
    pub params: Params,
}

/// One row of the summary: a workload and an implementation.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The workload's name.
    pub workload: String,
    /// The implementation's name.
    pub implementation: String,
    /// The headline metric's report field.
    pub metric: String,
    /// The unit of the headline metric.
    pub unit: String,
    /// Successful samples.
    pub samples: usize,
    /// Failed samples.
    pub failures: usize,
    /// Median of the headline metric.
    pub median: Option<f64>,
    /// Minimum.
    pub min: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
    /// First quartile.
    pub q1: Option<f64>,
    /// Third quartile.
    pub q3: Option<f64>,
    /// The raw stack it is compared with.
    pub raw: String,
    /// Median over rounds of (this / raw) within the same round.
    pub paired_ratio: Option<f64>,
    /// Datagrams: median loss fraction.
    pub loss: Option<f64>,
    /// Datagrams: median server CPU ns per received datagram.
    pub cpu_ns_per_datagram: Option<f64>,
    /// Setup: median of the p90 setup times (ms).
    pub setup_p90_ms: Option<f64>,
    /// Median peak RSS of the process, in MiB.
    pub peak_rss_mib: Option<f64>,
    /// The first error seen, if any.
    pub first_error: Option<String>,
}

/// Everything the suite wrote: its configuration, every sample and the summary.
#[derive(Debug, Serialize)]
pub struct SuiteOutput {
    /// What ran.
    pub config: SuiteConfig,
    /// Every sample, with its round.
    pub samples: Vec<Sample>,
    /// One row per workload and implementation.
    pub summary: Vec<Row>,
}

/// One measurement of the suite.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// The round (0-based).
    pub round: usize,
    /// The measurement.
    pub report: Report,
}

/// Runs the suite, printing progress to stderr; returns every sample and the summary.
pub fn run(config: &SuiteConfig) -> Result<SuiteOutput> {
    let exe = std::env::current_exe().context("locating wt-bench")?;
    let mut samples = Vec::new();
    let n = config.impls.len().max(1);
    for round in 0..config.rounds {
        for &workload in &config.workloads {
            let mut order = config.impls.clone();
            order.rotate_left(round % n);
            for imp in order {
                let start = Instant::now();
                let report = run_child(&exe, imp, workload, &config.params);
                eprintln!(
                    "round {}/{} {:<16} {:<20} {:>6.1} s {}",
                    round + 1,
                    config.rounds,
                    workload.name(),
                    imp.name(),
                    start.elapsed().as_secs_f64(),
                    headline(&report, workload),
                );
                samples.push(Sample { round, report });
            }
        }
    }
    let summary = summarize(config, &samples);
    Ok(SuiteOutput {
        config: config.clone(),
        samples,
        summary,
    })
}

fn headline(r: &Report, w: Workload) -> String {
    if let Some(e) = &r.error {
        return format!("ERROR {e}");
    }
    let m = w.metric();
    match r.field(m.field) {
        Some(v) => format!("{} {}", fmt_num(v), m.unit),
        None => "n/a".into(),
    }
}

/// Runs `wt-bench one` in a child process and parses its JSON line.
fn run_child(exe: &PathBuf, imp: Impl, workload: Workload, p: &Params) -> Report {
    let failed = |e: String| Report {
        implementation: imp.name().into(),
        workload: workload.name().into(),
        params: Some(*p),
        error: Some(e),
        ..Report::default()
    };
    let child = Command::new(exe)
        .args(["one", "--impl", imp.name(), "--workload", workload.name()])
        .args(["--mib", &p.mib.to_string()])
        .args(["--datagrams", &p.datagrams.to_string()])
        .args(["--sessions", &p.sessions.to_string()])
        .args(["--setups", &p.setups.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return failed(format!("spawning: {e}")),
    };
    // The child enforces its own timeout; this is the backstop.
    let deadline = Instant::now() + RUN_TIMEOUT + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return failed("the child process hung; killed".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return failed(format!("waiting: {e}")),
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    match out.lines().rev().find(|l| l.starts_with('{')) {
        Some(line) => serde_json::from_str(line)
            .unwrap_or_else(|e| failed(format!("bad JSON from the child: {e}"))),
        None => failed("no JSON from the child".into()),
    }
}

fn summarize(config: &SuiteConfig, samples: &[Sample]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &w in &config.workloads {
        let metric = w.metric();
        for &imp in &config.impls {
            let mine: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.report.workload == w.name() && s.report.implementation == imp.name())
                .collect();
            let ok: Vec<&Report> = mine
                .iter()
                .map(|s| &s.report)
                .filter(|r| r.error.is_none())
                .collect();
            let vals: Vec<f64> = ok.iter().filter_map(|r| r.field(metric.field)).collect();
            let field_median = |name: &str| {
                let v: Vec<f64> = ok.iter().filter_map(|r| r.field(name)).collect();
                median(&v)
            };
            let raw = imp.raw();
            let ratios: Vec<f64> = (0..config.rounds)
                .filter_map(|round| {
                    let value = |i: Impl| {
                        samples
                            .iter()
                            .find(|s| {
                                s.round == round
                                    && s.report.workload == w.name()
                                    && s.report.implementation == i.name()
                                    && s.report.error.is_none()
                            })
                            .and_then(|s| s.report.field(metric.field))
                    };
                    let (a, b) = (value(imp)?, value(raw)?);
                    (b != 0.0).then(|| a / b)
                })
                .collect();
            rows.push(Row {
                workload: w.name().into(),
                implementation: imp.name().into(),
                metric: metric.field.into(),
                unit: metric.unit.into(),
                samples: ok.len(),
                failures: mine.len() - ok.len(),
                median: median(&vals),
                min: quantile(&vals, 0.0),
                max: quantile(&vals, 1.0),
                q1: quantile(&vals, 0.25),
                q3: quantile(&vals, 0.75),
                raw: raw.name().into(),
                paired_ratio: median(&ratios),
                loss: field_median("loss"),
                cpu_ns_per_datagram: field_median("server_cpu_ns_per_datagram"),
                setup_p90_ms: field_median("setup_p90_ms"),
                peak_rss_mib: field_median("peak_rss_kib").map(|k| k / 1024.0),
                first_error: mine.iter().find_map(|s| s.report.error.clone()),
            });
        }
    }
    rows
}

/// A number with about three significant digits.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_else(|| "n/a".into())
}

/// The summary as markdown: one table per workload.
pub fn markdown(output: &SuiteOutput) -> String {
    let mut s = String::new();
    let c = &output.config;
    s += &format!(
        "Rounds: {}; sizes: {} MiB, {} datagrams, {} setups, {} sessions.\n",
        c.rounds, c.params.mib, c.params.datagrams, c.params.setups, c.params.sessions
    );
    for &w in &c.workloads {
        let m = w.metric();
        let better = if m.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        s += &format!("\n### {} ({}, {})\n\n", w.name(), m.unit, better);
        let extra = match w {
            Workload::Datagrams | Workload::DatagramsPaced => " loss | server CPU ns/dgram |",
            Workload::Setup => " p90 ms |",
            _ => "",
        };
        s += &format!(
            "| impl | median | min–max | IQR | vs raw (paired) |{extra} peak RSS MiB | n |\n"
        );
        let cols = 7 + extra.matches('|').count();
        s += &format!("|{}\n", "---|".repeat(cols));
        for r in output.summary.iter().filter(|r| r.workload == w.name()) {
            let ratio = if r.implementation == r.raw {
                "1 (raw)".to_string()
            } else {
                r.paired_ratio
                    .map(|x| format!("{x:.3} vs {}", r.raw))
                    .unwrap_or_else(|| "n/a".into())
            };
            let extra = match w {
                Workload::Datagrams | Workload::DatagramsPaced => {
                    format!(" {} | {} |", opt(r.loss), opt(r.cpu_ns_per_datagram))
                }
                Workload::Setup => format!(" {} |", opt(r.setup_p90_ms)),
                _ => String::new(),
            };
            let n = if r.failures > 0 {
                format!("{} ({} failed)", r.samples, r.failures)
            } else {
                r.samples.to_string()
            };
            s += &format!(
                "| {} | {} | {}–{} | {}–{} | {} |{} {} | {} |\n",
                r.implementation,
                opt(r.median),
                opt(r.min),
                opt(r.max),
                opt(r.q1),
                opt(r.q3),
                ratio,
                extra,
                opt(r.peak_rss_mib),
                n
            );
        }
        let errors: Vec<&Row> = output
            .summary
            .iter()
            .filter(|r| r.workload == w.name() && r.first_error.is_some())
            .collect();
        for r in errors {
            s += &format!(
                "\n{} error: {}\n",
                r.implementation,
                r.first_error.as_deref().unwrap_or_default()
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(round: usize, imp: Impl, v: f64) -> Sample {
        Sample {
            round,
            report: Report {
                implementation: imp.name().into(),
                workload: "bidi1".into(),
                mib_per_s: Some(v),
                ..Report::default()
            },
        }
    }

    #[test]
    fn paired_ratios_and_table() {
        let config = SuiteConfig {
            rounds: 3,
            impls: vec![Impl::Quinn, Impl::WtQuinn],
            workloads: vec![Workload::Bidi1],
            params: Params::quick(),
        };
        let samples = vec![
            sample(0, Impl::Quinn, 100.0),
            sample(0, Impl::WtQuinn, 50.0),
            sample(1, Impl::Quinn, 200.0),
            sample(1, Impl::WtQuinn, 150.0),
            sample(2, Impl::Quinn, 100.0),
            sample(2, Impl::WtQuinn, 90.0),
        ];
        let rows = summarize(&config, &samples);
        let wt = rows
            .iter()
            .find(|r| r.implementation == "wt-quinn")
            .unwrap();
        assert_eq!(wt.median, Some(90.0));
        assert_eq!(wt.paired_ratio, Some(0.75));
        assert_eq!(wt.min, Some(50.0));
        assert_eq!(wt.max, Some(150.0));
        let out = SuiteOutput {
            config,
            samples,
            summary: rows,
        };
        let md = markdown(&out);
        assert!(md.contains("| wt-quinn | 90.00 | 50.00–150.0 |"), "{md}");
        assert!(md.contains("0.750 vs quinn"), "{md}");
    }
}
