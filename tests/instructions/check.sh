#!/usr/bin/env bash
# Builds wt-instructions in release and checks every op's instruction count (under callgrind)
# against budgets.txt. Extra arguments go to `wt-instructions check`, e.g. `--update`.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v "${VALGRIND:-valgrind}" >/dev/null 2>&1; then
  echo "check.sh: valgrind not found (apt-get install valgrind, or set VALGRIND)" >&2
  exit 2
fi
cargo build --release -p wt-instructions
cargo run --release -q -p wt-instructions -- check "$@"
