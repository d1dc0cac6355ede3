#!/usr/bin/env bash
# Stateful fuzzing of the engine (issue 10, item 5): builds and runs the `pair` target (two
# engines over a fuzzed in-memory transport) and the `peer_input` target (one engine fed
# arbitrary peer input) for $1 seconds each (default 30), starting from their seed corpora in
# fuzz/corpus/<target>/ (seed-* files; libFuzzer adds what it finds next to them). Stable
# toolchain, no sanitizer, as in .ci/run. Exits non-zero if either target crashed or broke an
# invariant; the input is in fuzz/artifacts/<target>/ (replay it with WT_FUZZ_TRACE=1 to see
# every step, action and event). WT_FUZZ_SKIP=name,... turns named invariants off.
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
status=0
for target in pair peer_input; do
  echo "== fuzz $target for ${secs}s"
  mkdir -p "fuzz/corpus/$target"
  if ! cargo fuzz run -s none "$target" "fuzz/corpus/$target" -- -max_total_time="$secs"; then
    echo "fuzz target $target failed" >&2
    status=1
  fi
done
exit "$status"
