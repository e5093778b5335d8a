#!/usr/bin/env bash
# Benchmark wfaas and the Mistral 23 anchor one after the other on this machine, each on a
# fresh database and alone, then print the comparison.
#
#   tools/bench/side_by_side.sh [--only wfaas|mistral] [--out DIR] [-- BENCH ARGS...]
#
# BENCH ARGS go to both runs of bench.py (default: the default workloads, 3 reps), e.g.
#   tools/bench/side_by_side.sh -- --workloads seq10 --reps 1
#   tools/bench/side_by_side.sh --only wfaas -- --workloads scaling --reps 1 --wait longpoll
# Results: DIR/wfaas.json, DIR/mistral.json, DIR/*.txt, DIR/compare.md
# (DIR defaults to /tmp/wfaas-bench/<UTC stamp>).
# Environment: WFAAS_SERVER (the wfaas-server command), WFAAS_BENCH_PORT (default 8990),
# MISTRAL_ANCHOR (the anchor folder, default ../shared/anchors/mistral from the repo),
# WFAAS_CONF_EXTRA (lines appended to wfaas's config, e.g. '[engine]\npure_actions_per_step = 0').
# Only processes started here are stopped, by their pid.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH="$HERE/bench.py"
ONLY=""
OUT="/tmp/wfaas-bench/$(date -u +%Y%m%dT%H%M%SZ)"
while [[ $# -gt 0 ]]; do
  case $1 in
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1 (bench.py arguments go after --)" >&2; exit 2 ;;
  esac
done
WFAAS_SERVER=${WFAAS_SERVER:-$(command -v wfaas-server || echo /work/venv/bin/wfaas-server)}
PORT=${WFAAS_BENCH_PORT:-8990}
ANCHOR=${MISTRAL_ANCHOR:-$REPO/../shared/anchors/mistral}
MBASE=${MISTRAL_ANCHOR_BASE:-/tmp/anchors/mistral}
mkdir -p "$OUT"
machine() {
  echo "# $(date -u '+%F %T') UTC; nproc=$(nproc); $(uname -srm); load: $(cut -d' ' -f1-3 /proc/loadavg)"
}

wait_up() {  # url pid
  for _ in $(seq 1 600); do
    if curl -sf -m 2 "$1/v2/" >/dev/null 2>&1; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "server $2 died during start-up" >&2; return 1; }
    sleep 0.1
  done
  echo "server at $1 did not answer within 60 s" >&2; return 1
}

run_wfaas() {
  local dir="$OUT/wfaas-server" pid rc=0
  mkdir -p "$dir"; rm -f "$dir"/wfaas.db*
  printf '[DEFAULT]\nstate_dir = %s\n[api]\nhost = 127.0.0.1\nport = %s\n[database]\nconnection = sqlite:///%s\n' \
    "$dir" "$PORT" "$dir/wfaas.db" >"$dir/wfaas.conf"
  if [[ -n ${WFAAS_CONF_EXTRA:-} ]]; then printf '%b\n' "$WFAAS_CONF_EXTRA" >>"$dir/wfaas.conf"; fi
  "$WFAAS_SERVER" --config-file "$dir/wfaas.conf" >"$dir/server.log" 2>&1 </dev/null &
  pid=$!
  if wait_up "http://127.0.0.1:$PORT" "$pid"; then
    { machine; echo "# wfaas-server pid $pid ($WFAAS_SERVER)"; } >"$OUT/wfaas.txt"
    python3 "$BENCH" --url "http://127.0.0.1:$PORT" --pid "$pid" --db "$dir/wfaas.db" \
      --json "$OUT/wfaas.json" "$@" 2>&1 | tee -a "$OUT/wfaas.txt" || rc=$?
  else
    rc=1; tail -20 "$dir/server.log" >&2
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return $rc
}

run_mistral() {
  local rc=0
  "$ANCHOR/stop.sh" >/dev/null
  "$ANCHOR/setup.sh" --fresh-db >"$OUT/mistral-setup.log" 2>&1
  "$ANCHOR/start.sh"
  local pid; pid=$(cat "$MBASE/mistral.pid")
  { machine; echo "# mistral anchor pid $pid"; } >"$OUT/mistral.txt"
  python3 "$BENCH" --url http://127.0.0.1:8989 --pid "$pid" --db "$MBASE/mistral.db" \
    --json "$OUT/mistral.json" "$@" 2>&1 | tee -a "$OUT/mistral.txt" || rc=$?
  "$ANCHOR/stop.sh"
  return $rc
}

status=0
if [[ -z $ONLY || $ONLY == wfaas ]]; then run_wfaas "$@" || status=$?; fi
if [[ -z $ONLY || $ONLY == mistral ]]; then run_mistral "$@" || status=$?; fi
if [[ -f $OUT/wfaas.json && -f $OUT/mistral.json ]]; then
  python3 "$BENCH" --compare "$OUT/wfaas.json" "$OUT/mistral.json" --labels wfaas,mistral \
    --markdown | tee "$OUT/compare.md"
fi
echo "results in $OUT"
exit $status
