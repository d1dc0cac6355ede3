//! The committed instruction budgets: `tests/instructions/budgets.txt`.
//!
//! One op per line: its name, the budget (instructions per op) and the measurement the budget
//! was derived from, separated by whitespace. `#` starts a comment line.
//!
//! ```text
//! # op               budget  measured
//! datagram_in           520       510
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;

/// The budget of one op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The op's name.
    pub op: String,
    /// The most instructions one iteration may take (before the tolerance).
    pub budget: u64,
    /// The instructions per iteration measured when the budget was set.
    pub measured: u64,
}

/// A parsed budgets file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Budgets {
    /// The budgets, in file order.
    pub entries: Vec<Budget>,
}

impl Budgets {
    /// The budget of `op`, if the file has one.
    pub fn get(&self, op: &str) -> Option<&Budget> {
        self.entries.iter().find(|b| b.op == op)
    }
}

/// Where the committed budgets live: `budgets.txt` next to this crate's `Cargo.toml`.
pub fn default_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("budgets.txt")
}

/// Parses a budgets file; errors name the offending line.
pub fn parse(text: &str) -> Result<Budgets, String> {
    let mut entries: Vec<Budget> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [op, budget, measured] = fields.as_slice() else {
            return Err(format!(
                "line {n}: expected `op budget measured`, got {line:?}"
            ));
        };
        let number = |what: &str, s: &str| {
            s.parse::<u64>()
                .map_err(|e| format!("line {n}: {what} {s:?} is not a whole number: {e}"))
        };
        let budget = number("budget", budget)?;
        let measured = number("measured", measured)?;
        if entries.iter().any(|b| b.op == *op) {
            return Err(format!("line {n}: {op} appears twice"));
        }
        entries.push(Budget {
            op: (*op).to_string(),
            budget,
            measured,
        });
    }
    Ok(Budgets { entries })
}

/// The budget for a measurement: `measured` plus `headroom_percent`, rounded up.
pub fn with_headroom(measured: u64, headroom_percent: u64) -> u64 {
    measured
        .saturating_mul(100 + headroom_percent)
        .div_ceil(100)
}

/// Renders a budgets file; `note` lines become comments under the header.
pub fn render(budgets: &Budgets, note: &[String]) -> String {
    let mut out = String::new();
    out.push_str("# Instruction budgets of the wt-proto microbenchmarks (see README.md here).\n");
    out.push_str("# Written by `bash tests/instructions/check.sh --update`; CI fails when an op\n");
    out.push_str("# takes more than its budget plus the tolerance. Columns: op, budget\n");
    out.push_str("# (instructions per op), measured (per op, when the budget was set).\n");
    for line in note {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "{:<20} {:>10} {:>10}", "# op", "budget", "measured");
    for b in &budgets.entries {
        let _ = writeln!(out, "{:<20} {:>10} {:>10}", b.op, b.budget, b.measured);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let budgets = Budgets {
            entries: vec![
                Budget {
                    op: "a".into(),
                    budget: 102,
                    measured: 100,
                },
                Budget {
                    op: "b".into(),
                    budget: 7,
                    measured: 6,
                },
            ],
        };
        let text = render(&budgets, &["note".to_string()]);
        assert_eq!(parse(&text), Ok(budgets));
    }

    #[test]
    fn errors_name_the_line() {
        assert!(parse("a 1\n").unwrap_err().contains("line 1"));
        assert!(parse("# x\na 1 x\n").unwrap_err().contains("line 2"));
        assert!(parse("a 1 1\na 2 2\n").unwrap_err().contains("twice"));
    }

    #[test]
    fn headroom_rounds_up() {
        assert_eq!(with_headroom(100, 2), 102);
        assert_eq!(with_headroom(101, 2), 104);
        assert_eq!(with_headroom(0, 2), 0);
    }
}
