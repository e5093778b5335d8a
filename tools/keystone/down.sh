#!/usr/bin/env bash
# Stop the Keystone and Placement that up.sh started (by pid file, never by name).
#
#   tools/keystone/down.sh [--purge]
#
# --purge also deletes their databases, keys and configs (the venv is kept).
set -uo pipefail
BASE=${WFAAS_KEYSTONE_DIR:-/tmp/wfaas-keystone}
DATA=$BASE/data
PURGE=0
case "${1:-}" in
  --purge) PURGE=1 ;;
  "") ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

declare -A STOPPING=()
for name in placement keystone; do
  pidfile=$DATA/$name.pid
  pid=$(cat "$pidfile" 2>/dev/null) || { echo "down: $name not running" >&2; continue; }
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q gunicorn "/proc/$pid/cmdline" 2>/dev/null; then
    kill -INT "$pid"   # the gunicorn master stops its worker too
    STOPPING[$name]=$pid
  else
    echo "down: $name not running (stale pid file removed)" >&2
    rm -f "$pidfile"
  fi
done
for _ in $(seq 1 100); do
  left=0
  for name in "${!STOPPING[@]}"; do kill -0 "${STOPPING[$name]}" 2>/dev/null && left=1; done
  [ "$left" = 0 ] && break
  sleep 0.1
done
for name in "${!STOPPING[@]}"; do
  pid=${STOPPING[$name]}
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"; echo "down: $name (pid $pid) killed after 10 s" >&2
  else
    echo "down: $name (pid $pid) stopped" >&2
  fi
  rm -f "$DATA/$name.pid"
done
if [ "$PURGE" = 1 ]; then
  rm -rf "$DATA" "$BASE/etc"
  echo "down: deleted $DATA and $BASE/etc" >&2
fi
exit 0
