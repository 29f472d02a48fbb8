#!/usr/bin/env bash
# Mutation testing of the engines with mutmut: small bugs planted one at a time into a copy of the
# code (a `<` for a `<=`, a number off by one, a dropped argument), each run against the tests
# that reach it; the score is the share of mutants the tests kill. Run from the repository root:
#   bash bench/mutation/run.sh                   the engines (about 30 minutes on 2 cores)
#   bash bench/mutation/run.sh validators        the checks (imports, tokens, plans, tickets)
#   bash bench/mutation/run.sh lifecycle         the plan lifecycle and region scopes (database)
#   bash bench/mutation/run.sh SET NAME...       only the mutants named (globs: 'gridmap.x.x_f*'),
#                                                e.g. the survivors of the last run after new tests
# It works in a copy under $TMPDIR, so the checkout is never touched. The modules and the tests
# are listed in bench/mutation/mutmut.toml (validators.toml); the result is printed and written
# to bench/mutation/results.txt (results-validators.txt), the survivors sorted beside it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SET="${1:-mutmut}"
shift || true
case "$SET" in
  mutmut) RESULTS=results.txt SURVIVORS=survivors.txt ;;
  *) RESULTS="results-$SET.txt" SURVIVORS="survivors-$SET.txt" ;;
esac
if [ $# -gt 0 ]; then  # a partial run does not overwrite the full run's files
  RESULTS="${RESULTS%.txt}-again.txt" SURVIVORS="${SURVIVORS%.txt}-again.txt"
fi
CONFIG="$ROOT/bench/mutation/$SET.toml"
[ -f "$CONFIG" ] || { echo "no $CONFIG" >&2; exit 2; }
"$PYTHON" -m pip install -q "mutmut>=3.8,<4"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gridmap-mutation.XXXXXX")"
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
# the tracked files only (no virtual environment, no node_modules, no earlier mutants)
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK")
cat "$CONFIG" >> "$WORK/pyproject.toml"
cd "$WORK"
if grep -q "needs: database" "$CONFIG"; then
  # one throw-away cluster for every test session of the run, each in databases of its own
  PGROOT="$(mktemp -d "${TMPDIR:-/tmp}/gridmap-mutation-pg.XXXXXX")"
  chmod 755 "$PGROOT"
  stop_cluster() {
    "$PYTHON" -c 'import sys; from pathlib import Path; from gridmap.config import DEFAULT_PG_BINDIR; from gridmap.db.local import LocalCluster; LocalCluster(Path(sys.argv[1]), bindir=DEFAULT_PG_BINDIR).down()' "$PGROOT/pg" || true
    rm -rf "$PGROOT"
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
  }
  trap stop_cluster EXIT
  "$PYTHON" -c 'import sys; from pathlib import Path; from gridmap.config import DEFAULT_PG_BINDIR; from gridmap.db.local import LocalCluster; LocalCluster(Path(sys.argv[1]), bindir=DEFAULT_PG_BINDIR, fast=True).up()' "$PGROOT/pg"
  export GRIDMAP_TEST_ATTACH="$PGROOT/pg"
fi
start=$(date +%s)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
"$(dirname "$PYTHON")/mutmut" run --max-children "$(nproc)" "$@" > mutmut.log 2>&1 || tail -20 mutmut.log
"$(dirname "$PYTHON")/mutmut" results --all true > results.txt 2>&1 || "$(dirname "$PYTHON")/mutmut" results > results.txt 2>&1 || true
"$PYTHON" "$ROOT/bench/mutation/score.py" results.txt | tee "$ROOT/bench/mutation/$RESULTS"
# each survivor sorted: harmless by a stated rule, or not judged yet (with its diff)
PATH="$(dirname "$PYTHON"):$PATH" "$PYTHON" "$ROOT/bench/mutation/sort_survivors.py" \
  "$ROOT/bench/mutation/$RESULTS" \
  > "$ROOT/bench/mutation/$SURVIVORS"
head -1 "$ROOT/bench/mutation/$SURVIVORS"
echo "took $(( $(date +%s) - start )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee -a "$ROOT/bench/mutation/$RESULTS"
