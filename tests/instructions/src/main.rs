//! `wt-instructions`: runs the engine microbenchmarks, natively or counted under callgrind.
//!
//! ```text
//! wt-instructions list
//! wt-instructions run <op> <iterations>
//! wt-instructions check [--update] [--budgets FILE] [--tolerance PCT] [--headroom PCT]
//!                       [--low N] [--high N] [--jobs N]
//! ```
//!
//! `check` runs every op under `valgrind --tool=callgrind` at `--low` and `--high` iterations,
//! takes (I(high) - I(low)) / (high - low) as the instructions per op, prints a table and
//! fails (exit 1) if an op exceeds its budget by more than the tolerance. `--update` rewrites
//! the budgets file instead: each budget is the measurement plus the headroom. Set `VALGRIND`
//! to use another valgrind than the one on `PATH`.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use wt_instructions::budgets::{self, Budget, Budgets};
use wt_instructions::{OPS, Op};

const USAGE: &str = "usage:
  wt-instructions list
  wt-instructions run <op> <iterations>
  wt-instructions check [--update] [--budgets FILE] [--tolerance PCT] [--headroom PCT]
                        [--low N] [--high N] [--jobs N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("list") => {
            for op in OPS {
                println!("{:<18} {}", op.name, op.description);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("run") => run(args.get(1..).unwrap_or_default()),
        Some("check") => Options::parse(args.get(1..).unwrap_or_default()).and_then(|o| check(&o)),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("wt-instructions: {message}");
            ExitCode::from(2)
        }
    }
}

fn op_named(name: &str) -> Result<&'static Op, String> {
    wt_instructions::find(name).ok_or_else(|| {
        let names: Vec<&str> = OPS.iter().map(|o| o.name).collect();
        format!("unknown op {name:?}; the ops are {}", names.join(", "))
    })
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let [name, iterations] = args else {
        return Err(format!("run takes an op and an iteration count\n{USAGE}"));
    };
    let op = op_named(name)?;
    let iterations: u64 = iterations
        .parse()
        .map_err(|e| format!("iterations {iterations:?}: {e}"))?;
    let checksum = op.run(iterations).map_err(|e| format!("{name}: {e}"))?;
    println!("{name} {iterations} {checksum}");
    Ok(ExitCode::SUCCESS)
}

struct Options {
    update: bool,
    budgets: PathBuf,
    tolerance: f64,
    headroom: u64,
    low: u64,
    high: u64,
    jobs: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            update: false,
            budgets: budgets::default_path(),
            tolerance: 3.0,
            headroom: 2,
            low: 200,
            high: 1200,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--update" {
                o.update = true;
                continue;
            }
            const VALUED: [&str; 6] = [
                "--budgets",
                "--tolerance",
                "--headroom",
                "--low",
                "--high",
                "--jobs",
            ];
            if !VALUED.contains(&arg.as_str()) {
                return Err(format!("unknown option {arg}\n{USAGE}"));
            }
            let Some(value) = it.next() else {
                return Err(format!("{arg} needs a value\n{USAGE}"));
            };
            let bad = |e: &dyn std::fmt::Display| format!("{arg} {value:?}: {e}");
            match arg.as_str() {
                "--budgets" => o.budgets = PathBuf::from(value),
                "--tolerance" => o.tolerance = value.parse().map_err(|e| bad(&e))?,
                "--headroom" => o.headroom = value.parse().map_err(|e| bad(&e))?,
                "--low" => o.low = value.parse().map_err(|e| bad(&e))?,
                "--high" => o.high = value.parse().map_err(|e| bad(&e))?,
                "--jobs" => o.jobs = value.parse().map_err(|e| bad(&e))?,
                _ => return Err(format!("unknown option {arg}\n{USAGE}")),
            }
        }
        if o.high <= o.low {
            return Err("--high must be larger than --low".to_string());
        }
        o.jobs = o.jobs.max(1);
        Ok(o)
    }
}

fn valgrind() -> String {
    std::env::var("VALGRIND").unwrap_or_else(|_| "valgrind".to_string())
}

/// Runs `op` for `iterations` under callgrind and returns the instructions it collected.
fn count(exe: &str, op: &str, iterations: u64) -> Result<u64, String> {
    let valgrind = valgrind();
    let output = Command::new(&valgrind)
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            exe,
            "run",
            op,
            &iterations.to_string(),
        ])
        .output()
        .map_err(|e| {
            format!("cannot start {valgrind:?} ({e}); install valgrind or set VALGRIND")
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "{op} x{iterations} under callgrind failed ({}):\n{stderr}",
            output.status
        ));
    }
    // callgrind's summary: `==PID== Collected : 123456`.
    stderr
        .lines()
        .find_map(|line| {
            let (_, after) = line.split_once("Collected :")?;
            after.trim().parse::<u64>().ok()
        })
        .ok_or_else(|| format!("no `Collected :` line in callgrind's output for {op}:\n{stderr}"))
}

struct Measured {
    op: &'static str,
    low: u64,
    per_op: f64,
}

/// Measures every op at both iteration counts, `jobs` valgrind processes at a time.
fn measure(o: &Options) -> Result<Vec<Measured>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own executable: {e}"))?;
    let exe = exe
        .to_str()
        .ok_or("the executable's path is not UTF-8")?
        .to_string();
    let tasks: Vec<(&'static str, u64)> = OPS
        .iter()
        .flat_map(|op| [(op.name, o.low), (op.name, o.high)])
        .collect();
    let results: Mutex<Vec<Option<Result<u64, String>>>> = Mutex::new(vec![None; tasks.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..o.jobs.min(tasks.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(op, iterations)) = tasks.get(i) else {
                        break;
                    };
                    let r = count(&exe, op, iterations);
                    if let Ok(mut results) = results.lock()
                        && let Some(slot) = results.get_mut(i)
                    {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| "a measuring thread panicked".to_string())?;
    let mut counts = Vec::with_capacity(results.len());
    for r in results {
        counts.push(r.ok_or("a measurement is missing")??);
    }
    let span = (o.high - o.low) as f64;
    OPS.iter()
        .zip(counts.chunks(2))
        .map(|(op, pair)| match *pair {
            [low, high] if high >= low => Ok(Measured {
                op: op.name,
                low,
                per_op: (high - low) as f64 / span,
            }),
            _ => Err(format!(
                "{}: fewer instructions at more iterations",
                op.name
            )),
        })
        .collect()
}

fn tool_versions() -> Vec<String> {
    let version = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| format!("{program}: unknown version"))
    };
    vec![format!(
        "Measured with {}, {}.",
        version("rustc", "-V"),
        version(&valgrind(), "--version")
    )]
}

fn check(o: &Options) -> Result<ExitCode, String> {
    let started = Instant::now();
    let measured = measure(o)?;
    let elapsed = started.elapsed();
    if o.update {
        let updated = Budgets {
            entries: measured
                .iter()
                .map(|m| {
                    let per_op = m.per_op.round() as u64;
                    Budget {
                        op: m.op.to_string(),
                        budget: budgets::with_headroom(per_op, o.headroom),
                        measured: per_op,
                    }
                })
                .collect(),
        };
        std::fs::write(&o.budgets, budgets::render(&updated, &tool_versions()))
            .map_err(|e| format!("cannot write {}: {e}", o.budgets.display()))?;
        println!(
            "{:<18} {:>10} {:>10} {:>14}",
            "op", "measured", "budget", "setup+start"
        );
        for (m, b) in measured.iter().zip(&updated.entries) {
            println!(
                "{:<18} {:>10} {:>10} {:>14}",
                m.op,
                b.measured,
                b.budget,
                setup(m, o.low)
            );
        }
        println!(
            "wrote {} ({} ops, {}% headroom) in {:.1}s",
            o.budgets.display(),
            updated.entries.len(),
            o.headroom,
            elapsed.as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let text = std::fs::read_to_string(&o.budgets)
        .map_err(|e| format!("cannot read {}: {e}", o.budgets.display()))?;
    let committed = budgets::parse(&text).map_err(|e| format!("{}: {e}", o.budgets.display()))?;
    println!(
        "{:<18} {:>10} {:>10} {:>7}  verdict",
        "op", "measured", "budget", "ratio"
    );
    let mut failures = Vec::new();
    for m in &measured {
        let Some(b) = committed.get(m.op) else {
            println!(
                "{:<18} {:>10.0} {:>10} {:>7}  NO BUDGET",
                m.op, m.per_op, "-", "-"
            );
            failures.push(format!("{} has no budget", m.op));
            continue;
        };
        let ratio = m.per_op / (b.budget.max(1) as f64);
        let limit = b.budget as f64 * (1.0 + o.tolerance / 100.0);
        let verdict = if m.per_op > limit {
            failures.push(format!(
                "{} takes {:.0} instructions per op, over its budget {} + {}%",
                m.op, m.per_op, b.budget, o.tolerance
            ));
            "OVER BUDGET"
        } else if ratio < 0.90 {
            "ok (well under: consider --update)"
        } else {
            "ok"
        };
        println!(
            "{:<18} {:>10.0} {:>10} {:>7.3}  {verdict}",
            m.op, m.per_op, b.budget, ratio
        );
    }
    for b in &committed.entries {
        if wt_instructions::find(&b.op).is_none() {
            failures.push(format!("{} has a budget but is no op", b.op));
        }
    }
    println!(
        "{} ops, {} and {} iterations each, tolerance {}%, {:.1}s",
        measured.len(),
        o.low,
        o.high,
        o.tolerance,
        elapsed.as_secs_f64()
    );
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            eprintln!("FAIL: {f}");
        }
        eprintln!(
            "If the increase is intended (see tests/instructions/README.md), run \
             `bash tests/instructions/check.sh --update` and commit budgets.txt."
        );
        Ok(ExitCode::from(1))
    }
}

/// What the run at `low` iterations spent outside the ops: process start, setup, exit.
fn setup(m: &Measured, low: u64) -> u64 {
    (m.low as f64 - m.per_op * low as f64).max(0.0).round() as u64
}
