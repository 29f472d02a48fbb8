#!/usr/bin/env bash
# Mutation testing of the engines with mutmut: small bugs planted one at a time into a copy of the
# code (a `<` for a `<=`, a number off by one, a dropped argument), each run against the tests
# that reach it; the score is the share of mutants the tests kill. Run from the repository root:
#   bash bench/mutation/run.sh            (about 10 minutes on 2 cores)
# It works in a copy under $TMPDIR, so the checkout is never touched. The modules and the tests
# are listed in bench/mutation/mutmut.toml; the result is printed and written to
# bench/mutation/results.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
"$PYTHON" -m pip install -q "mutmut>=3.8,<4"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gridmap-mutation.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# the tracked files only (no virtual environment, no node_modules, no earlier mutants)
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK")
cat "$ROOT/bench/mutation/mutmut.toml" >> "$WORK/pyproject.toml"
cd "$WORK"
start=$(date +%s)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
"$(dirname "$PYTHON")/mutmut" run --max-children "$(nproc)" > mutmut.log 2>&1 || true
"$(dirname "$PYTHON")/mutmut" results --all true > results.txt 2>&1 || "$(dirname "$PYTHON")/mutmut" results > results.txt 2>&1 || true
"$PYTHON" "$ROOT/bench/mutation/score.py" results.txt | tee "$ROOT/bench/mutation/results.txt"
# each survivor sorted: harmless by a stated rule, or not judged yet (with its diff)
PATH="$(dirname "$PYTHON"):$PATH" "$PYTHON" "$ROOT/bench/mutation/sort_survivors.py" \
  "$ROOT/bench/mutation/results.txt" \
  > "$ROOT/bench/mutation/survivors.txt"
head -1 "$ROOT/bench/mutation/survivors.txt"
echo "took $(( $(date +%s) - start )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee -a "$ROOT/bench/mutation/results.txt"
