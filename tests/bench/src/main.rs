//! `wt-bench`: `one` runs one measurement and prints one JSON line; `suite` runs every
//! implementation in child processes, interleaved over rounds, and prints markdown tables.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use wt_bench::suite::{self, SuiteConfig};
use wt_bench::{Impl, Params, Workload, run_one};

#[derive(Parser)]
#[command(
    name = "wt-bench",
    about = "Compares wt-quinn and wt-s2n-quic with raw quinn, raw s2n-quic, wtransport and web-transport-quinn over UDP loopback"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one measurement and print one JSON line (exit 1 if it failed).
    One {
        /// The implementation.
        #[arg(long = "impl", value_enum)]
        imp: Impl,
        /// The workload.
        #[arg(long, value_enum)]
        workload: Workload,
        #[command(flatten)]
        sizes: Sizes,
    },
    /// Run every implementation on every workload in child processes, interleaved over rounds.
    Suite {
        /// Rounds [default: 10, or 1 with --quick].
        #[arg(long)]
        rounds: Option<usize>,
        /// Implementations (comma-separated; default all).
        #[arg(long, value_enum, value_delimiter = ',')]
        impls: Vec<Impl>,
        /// Workloads (comma-separated; default all).
        #[arg(long, value_enum, value_delimiter = ',')]
        workloads: Vec<Workload>,
        /// Tiny sizes and one round (4 MiB, 2000 datagrams, 5 setups, 20 sessions), unless
        /// given explicitly.
        #[arg(long)]
        quick: bool,
        /// Where to write every sample and the summary.
        #[arg(long, default_value = "target/bench/suite.json")]
        json: PathBuf,
        #[command(flatten)]
        sizes: Sizes,
    },
}

#[derive(Args)]
struct Sizes {
    /// MiB moved by the stream workloads [default: 256].
    #[arg(long)]
    mib: Option<u64>,
    /// Datagrams sent by the datagram workloads [default: 200000].
    #[arg(long)]
    datagrams: Option<u64>,
    /// Sessions opened by `sessions` [default: 1000].
    #[arg(long)]
    sessions: Option<u64>,
    /// Setups timed by `setup` [default: 50].
    #[arg(long)]
    setups: Option<u64>,
}

impl Sizes {
    fn params(&self, base: Params) -> Params {
        Params {
            mib: self.mib.unwrap_or(base.mib),
            datagrams: self.datagrams.unwrap_or(base.datagrams),
            sessions: self.sessions.unwrap_or(base.sessions),
            setups: self.setups.unwrap_or(base.setups),
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::One {
            imp,
            workload,
            sizes,
        } => {
            let report = run_one(imp, workload, &sizes.params(Params::default()));
            match serde_json::to_string(&report) {
                Ok(line) => println!("{line}"),
                Err(e) => {
                    eprintln!("wt-bench: {e}");
                    return ExitCode::FAILURE;
                }
            }
            // Exit now: a timed-out run leaves its threads behind.
            std::process::exit(if report.error.is_some() { 1 } else { 0 });
        }
        Cmd::Suite {
            rounds,
            impls,
            workloads,
            quick,
            json,
            sizes,
        } => {
            let base = if quick {
                Params::quick()
            } else {
                Params::default()
            };
            let config = SuiteConfig {
                rounds: rounds.unwrap_or(if quick { 1 } else { 10 }),
                impls: if impls.is_empty() {
                    Impl::ALL.to_vec()
                } else {
                    impls
                },
                workloads: if workloads.is_empty() {
                    Workload::ALL.to_vec()
                } else {
                    workloads
                },
                params: sizes.params(base),
            };
            let output = match suite::run(&config) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("wt-bench: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            println!("{}", suite::markdown(&output));
            match write_json(&json, &output) {
                Ok(()) => eprintln!("wrote {}", json.display()),
                Err(e) => {
                    eprintln!("wt-bench: writing {}: {e:#}", json.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
    }
}

fn write_json(path: &Path, output: &suite::SuiteOutput) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(output)?)?;
    Ok(())
}
