#!/usr/bin/env bash
# Benchmark wfaas and the Mistral 23 anchor one after the other on this machine, each on a
# fresh database and alone, then print the comparison.
#
#   tools/bench/side_by_side.sh [--only wfaas|mistral] [--out DIR] [-- BENCH ARGS...]
#   tools/bench/side_by_side.sh --families NAME,... [--only wfaas|mistral] [--out DIR] [-- RUN ARGS...]
#
# BENCH ARGS go to both runs of bench.py (default: the default workloads, 3 reps), e.g.
#   tools/bench/side_by_side.sh -- --workloads seq10 --reps 1
#   tools/bench/side_by_side.sh --only wfaas -- --workloads scaling --reps 1 --wait longpoll
# Results: DIR/wfaas.json, DIR/mistral.json, DIR/*.txt, DIR/compare.md
# (DIR defaults to /tmp/wfaas-bench/<UTC stamp>).
# With --families (e.g. all, or context,retries) the scaling families of families/run.py
# run instead of bench.py, three times: wfaas default, wfaas with
# [engine] pure_actions_per_step = 0 (label wfaas-executor), and Mistral; each server also
# gets [action_std_http] denied_cidrs = (empty) so std.http may reach the loopback server
# of the runner. RUN ARGS go to each run.py (e.g. --reps 1, --smoke). Results:
# DIR/families-{wfaas,wfaas-executor,mistral}.json and DIR/families.md (report.py).
# Environment: WFAAS_SERVER (the wfaas-server command), WFAAS_BENCH_PORT (default 8990),
# MISTRAL_ANCHOR (the anchor folder, default ../shared/anchors/mistral from the repo),
# MISTRAL_ANCHOR_BASE (its venv, database and pid file, default /tmp/anchors/mistral) and
# MISTRAL_PORT (default 8989): with another base and port, a second Mistral runs beside an
# anchor someone else keeps on 8989, which is then left alone (the base needs the anchor's
# venv, e.g. a symlink to /tmp/anchors/mistral/venv),
# WFAAS_CONF_EXTRA (lines appended to wfaas's config, e.g. '[engine]\npure_actions_per_step = 0').
# Only processes started here are stopped, by their pid.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH="$HERE/bench.py"
FAMRUN="$HERE/families/run.py"
ONLY=""
FAMILIES=""
OUT="/tmp/wfaas-bench/$(date -u +%Y%m%dT%H%M%SZ)"
while [[ $# -gt 0 ]]; do
  case $1 in
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --families) FAMILIES=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1 (bench.py arguments go after --)" >&2; exit 2 ;;
  esac
done
WFAAS_SERVER=${WFAAS_SERVER:-$(command -v wfaas-server || echo /work/venv/bin/wfaas-server)}
PORT=${WFAAS_BENCH_PORT:-8990}
ANCHOR=${MISTRAL_ANCHOR:-$REPO/../shared/anchors/mistral}
MBASE=${MISTRAL_ANCHOR_BASE:-/tmp/anchors/mistral}
MPORT=${MISTRAL_PORT:-8989}
export MISTRAL_URL="http://127.0.0.1:$MPORT/v2"  # what the anchor's start.sh waits for
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

# Start wfaas-server on a fresh database in DIR with EXTRA config lines; sets WPID.
start_wfaas() {  # dir extra
  local dir=$1
  mkdir -p "$dir"; rm -f "$dir"/wfaas.db*
  printf '[DEFAULT]\nstate_dir = %s\n[api]\nhost = 127.0.0.1\nport = %s\n[database]\nconnection = sqlite:///%s\n' \
    "$dir" "$PORT" "$dir/wfaas.db" >"$dir/wfaas.conf"
  if [[ -n $2 ]]; then printf '%b\n' "$2" >>"$dir/wfaas.conf"; fi
  "$WFAAS_SERVER" --config-file "$dir/wfaas.conf" >"$dir/server.log" 2>&1 </dev/null &
  WPID=$!
  wait_up "http://127.0.0.1:$PORT" "$WPID" || { tail -20 "$dir/server.log" >&2; return 1; }
}

stop_wfaas() {
  kill -TERM "$WPID" 2>/dev/null || true
  wait "$WPID" 2>/dev/null || true
}

run_wfaas() {
  local dir="$OUT/wfaas-server" rc=0
  if start_wfaas "$dir" "${WFAAS_CONF_EXTRA:-}"; then
    { machine; echo "# wfaas-server pid $WPID ($WFAAS_SERVER)"; } >"$OUT/wfaas.txt"
    python3 "$BENCH" --url "http://127.0.0.1:$PORT" --pid "$WPID" --db "$dir/wfaas.db" \
      --json "$OUT/wfaas.json" "$@" 2>&1 | tee -a "$OUT/wfaas.txt" || rc=$?
  else
    rc=1
  fi
  stop_wfaas
  return $rc
}

HTTP_OPEN='[action_std_http]\ndenied_cidrs ='

run_wfaas_families() {  # label extra-config run-args...
  local label=$1 extra=$2 rc=0; shift 2
  local dir="$OUT/$label-server"
  if start_wfaas "$dir" "$HTTP_OPEN\n$extra\n${WFAAS_CONF_EXTRA:-}"; then
    { machine; echo "# wfaas-server pid $WPID ($WFAAS_SERVER), extra config: $extra"; } \
      >"$OUT/families-$label.txt"
    python3 "$FAMRUN" --url "http://127.0.0.1:$PORT" --pid "$WPID" --label "$label" \
      --family "$FAMILIES" --json "$OUT/families-$label.json" "$@" 2>&1 \
      | tee -a "$OUT/families-$label.txt" || rc=$?
  else
    rc=1
  fi
  stop_wfaas
  return $rc
}

# The anchor's config, on MPORT, plus the lines given (printf %b); prints the file's path.
mistral_conf() {  # extra
  local conf="$OUT/mistral.conf"
  { cat "${MISTRAL_CONF:-$ANCHOR/mistral.conf}"
    printf '\n[api]\nport = %s\n%b\n' "$MPORT" "$1"; } >"$conf"
  echo "$conf"
}

run_mistral() {
  local rc=0 conf; conf=$(mistral_conf "")
  MISTRAL_CONF=$conf "$ANCHOR/stop.sh" >/dev/null
  MISTRAL_CONF=$conf "$ANCHOR/setup.sh" --fresh-db >"$OUT/mistral-setup.log" 2>&1
  MISTRAL_CONF=$conf "$ANCHOR/start.sh"
  local pid; pid=$(cat "$MBASE/mistral.pid")
  { machine; echo "# mistral anchor pid $pid"; } >"$OUT/mistral.txt"
  python3 "$BENCH" --url "http://127.0.0.1:$MPORT" --pid "$pid" --db "$MBASE/mistral.db" \
    --json "$OUT/mistral.json" "$@" 2>&1 | tee -a "$OUT/mistral.txt" || rc=$?
  MISTRAL_CONF=$conf "$ANCHOR/stop.sh"
  return $rc
}

# Mistral with its anchor config plus [action_std_http] denied_cidrs = (std.http to loopback).
run_mistral_families() {
  local rc=0 conf; conf=$(mistral_conf "$HTTP_OPEN")
  MISTRAL_CONF=$conf "$ANCHOR/stop.sh" >/dev/null
  MISTRAL_CONF=$conf "$ANCHOR/setup.sh" --fresh-db >"$OUT/mistral-setup.log" 2>&1
  MISTRAL_CONF=$conf "$ANCHOR/start.sh"
  local pid; pid=$(cat "$MBASE/mistral.pid")
  { machine; echo "# mistral anchor pid $pid, config $conf"; } >"$OUT/families-mistral.txt"
  python3 "$FAMRUN" --url "http://127.0.0.1:$MPORT" --pid "$pid" --label mistral \
    --family "$FAMILIES" --json "$OUT/families-mistral.json" "$@" 2>&1 \
    | tee -a "$OUT/families-mistral.txt" || rc=$?
  MISTRAL_CONF=$conf "$ANCHOR/stop.sh"
  return $rc
}

status=0
if [[ -n $FAMILIES ]]; then
  if [[ -z $ONLY || $ONLY == wfaas ]]; then
    run_wfaas_families wfaas "" "$@" || status=$?
    run_wfaas_families wfaas-executor '[engine]\npure_actions_per_step = 0' "$@" || status=$?
  fi
  if [[ -z $ONLY || $ONLY == mistral ]]; then run_mistral_families "$@" || status=$?; fi
  files=("$OUT"/families-wfaas.json "$OUT"/families-wfaas-executor.json "$OUT"/families-mistral.json)
  present=(); for f in "${files[@]}"; do [[ -f $f ]] && present+=("$f"); done
  if [[ ${#present[@]} -gt 0 ]]; then
    python3 "$HERE/report.py" "${present[@]}" --markdown --no-write | tee "$OUT/families.md"
    echo "to put these tables in tools/bench/README.md: copy the JSON files to" \
         "tools/bench/results/ and run tools/bench/report.py on them with --markdown"
  fi
  echo "results in $OUT"
  exit $status
fi
if [[ -z $ONLY || $ONLY == wfaas ]]; then run_wfaas "$@" || status=$?; fi
if [[ -z $ONLY || $ONLY == mistral ]]; then run_mistral "$@" || status=$?; fi
if [[ -f $OUT/wfaas.json && -f $OUT/mistral.json ]]; then
  python3 "$BENCH" --compare "$OUT/wfaas.json" "$OUT/mistral.json" --labels wfaas,mistral \
    --markdown | tee "$OUT/compare.md"
fi
echo "results in $OUT"
exit $status
