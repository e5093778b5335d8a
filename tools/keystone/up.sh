#!/usr/bin/env bash
# Start a real Keystone and Placement on 127.0.0.1 (SQLite, gunicorn) for tests.
#
#   tools/keystone/up.sh [--fresh] [--quiet]
#
# Idempotent: builds the venv only when missing (or when the pinned packages
# change), bootstraps only once (marker files), starts only what is not already
# answering. --fresh stops the services and wipes their data first.
# stdout: `export OS_...=` lines (eval "$(tools/keystone/up.sh --quiet)");
# progress: stderr. Stop with tools/keystone/down.sh.
#
# Environment: WFAAS_KEYSTONE_DIR (state, default /tmp/wfaas-keystone),
# WFAAS_KEYSTONE_VENV (default /tmp/wfaas-keystone-venv), WFAAS_KEYSTONE_PYTHON
# (python3), KEYSTONE_PORT (5000), PLACEMENT_PORT (8778).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE=${WFAAS_KEYSTONE_DIR:-/tmp/wfaas-keystone}
VENV=${WFAAS_KEYSTONE_VENV:-/tmp/wfaas-keystone-venv}
PY=${WFAAS_KEYSTONE_PYTHON:-python3}
HOST=127.0.0.1
KS_PORT=${KEYSTONE_PORT:-5000}
PL_PORT=${PLACEMENT_PORT:-8778}
export ADMIN_PASSWORD=secret DEMO_PASSWORD=demo-secret WORKFLOW_PASSWORD=workflow-secret
export PLACEMENT_PASSWORD=placement-secret
PKGS="keystone==30.0.0 openstack-placement==16.0.0 openstacksdk==4.22.0 gunicorn==27.0.1"
FRESH=0 QUIET=0
for arg in "$@"; do
  case $arg in
    --fresh) FRESH=1 ;;
    --quiet) QUIET=1 ;;
    *) echo "usage: $0 [--fresh] [--quiet]" >&2; exit 2 ;;
  esac
done

T0=$(date +%s.%N)
say() {
  [ "$QUIET" = 1 ] && return 0
  printf '[keystone-up %5.1fs] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN{print a-b}')" "$*" >&2
}
die() { echo "up.sh: $*" >&2; exit 1; }

ETC=$BASE/etc DATA=$BASE/data LOGS=$BASE/log
KS_URL=http://$HOST:$KS_PORT/v3
PL_URL=http://$HOST:$PL_PORT
export OS_AUTH_URL=$KS_URL PLACEMENT_URL=$PL_URL

# ------------------------------------------------------------------ venv
STAMP="$PKGS $(sha1sum < "$HERE/constraints.txt" | cut -c1-12)"
if [ "$(cat "$VENV/.wfaas-stamp" 2>/dev/null)" != "$STAMP" ]; then
  say "installing $PKGS into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  # a current pip resolves these ~105 packages much faster than an old bundled one
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip \
    2> >(grep -v 'is ignored: it is neither' >&2)
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$HERE/constraints.txt" $PKGS \
    2> >(grep -v 'is ignored: it is neither' >&2)
  echo "$STAMP" > "$VENV/.wfaas-stamp"
  say "venv ready"
else
  say "reusing venv $VENV"
fi
BIN=$VENV/bin

ours() { # pidfile -> 0 when it names a live gunicorn
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q gunicorn "/proc/$pid/cmdline" 2>/dev/null
}

[ "$FRESH" = 1 ] && "$HERE/down.sh" --purge >&2
mkdir -p "$ETC" "$DATA/fernet-keys" "$DATA/credential-keys" "$LOGS"
chmod 700 "$DATA/fernet-keys" "$DATA/credential-keys"

# ------------------------------------------------------------------ configs
cat > "$ETC/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///$DATA/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $DATA/fernet-keys
[fernet_receipts]
key_repository = $DATA/fernet-keys
[credential]
key_repository = $DATA/credential-keys
[identity]
# bcrypt cost 4 instead of 12: a password check in ~1 ms, not ~250 ms
password_hash_rounds = 4
[cache]
# per process: correct only because keystone runs exactly one worker
enabled = true
backend = dogpile.cache.memory
EOF

cat > "$ETC/placement.conf" <<EOF
[DEFAULT]
use_stderr = true
[api]
auth_strategy = keystone
[placement_database]
connection = sqlite:///$DATA/placement.db
[keystone_authtoken]
auth_type = password
auth_url = $KS_URL
www_authenticate_uri = $KS_URL
username = placement
password = $PLACEMENT_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
EOF

cat > "$ETC/clouds.yaml" <<EOF
clouds:
  wfaas-admin:
    auth: {auth_url: "$KS_URL", username: admin, password: "$ADMIN_PASSWORD",
           project_name: admin, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
  wfaas-demo:
    auth: {auth_url: "$KS_URL", username: demo, password: "$DEMO_PASSWORD",
           project_name: demo, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
  wfaas-workflow:
    auth: {auth_url: "$KS_URL", username: workflow, password: "$WORKFLOW_PASSWORD",
           project_name: service, user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
EOF

# ------------------------------------------------------------------ helpers
# ONE sync worker per service: SQLite with several writers gives "database is
# locked", and keystone's in-memory cache would go stale across processes.
start() { # name port module
  env OS_KEYSTONE_CONFIG_DIR="$ETC" OS_PLACEMENT_CONFIG_DIR="$ETC" \
    setsid "$BIN/gunicorn" --preload --workers 1 --bind "$HOST:$2" --timeout 120 \
      --no-control-socket --pythonpath "$HERE/wsgi" --pid "$DATA/$1.pid" \
      "$3:application" </dev/null >>"$LOGS/$1.log" 2>&1 &
  STARTED=$!
}
refuse_foreign() { # url pidfile
  if ! ours "$2" && curl -s -o /dev/null --max-time 2 "$1"; then
    die "$1 already answers but it is not ours ($2): stop that server first"
  fi
}
wait_ready() { # url pid name (the pid file appears only once the app is loaded)
  local i
  for i in $(seq 1 600); do
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      tail -30 "$LOGS/$3.log" >&2; die "$3 died while starting (log: $LOGS/$3.log)"
    fi
    sleep 0.1
  done
  tail -30 "$LOGS/$3.log" >&2; die "$3 not ready after 60 s"
}

# ------------------------------------------------------------------ bootstrap
SYNC_PID=
if [ ! -f "$DATA/placement.synced" ]; then   # placement's schema, in parallel with keystone's
  ( "$BIN/placement-manage" --config-file "$ETC/placement.conf" db sync \
      >>"$LOGS/placement-manage.log" 2>&1 && touch "$DATA/placement.synced" ) & SYNC_PID=$!
fi
KS_RUNNING=0 PL_RUNNING=0 KS_PID= PL_PID=
ours "$DATA/keystone.pid" && curl -sf -o /dev/null "$KS_URL" && KS_RUNNING=1
ours "$DATA/placement.pid" && curl -sf -o /dev/null "$PL_URL/" && PL_RUNNING=1
if [ "$KS_RUNNING" = 0 ] && [ ! -f "$DATA/keystone.bootstrapped" ]; then
  rm -rf "$DATA/keystone.db" "$DATA"/fernet-keys/* "$DATA"/credential-keys/*
  say "keystone: db_sync, fernet_setup, credential_setup, bootstrap (admin/admin)"
  OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD "$BIN/python" "$HERE/keystone_init.py" \
    "$ETC/keystone.conf" db_sync \
    "fernet_setup --keystone-user $(id -un) --keystone-group $(id -gn)" \
    "credential_setup --keystone-user $(id -un) --keystone-group $(id -gn)" \
    -- "bootstrap --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-role-name admin --bootstrap-service-name keystone \
        --bootstrap-region-id RegionOne --bootstrap-admin-url $KS_URL/ \
        --bootstrap-internal-url $KS_URL/ --bootstrap-public-url $KS_URL/" \
    >>"$LOGS/keystone-manage.log" 2>&1 \
    || { tail -20 "$LOGS/keystone-manage.log" >&2; die "keystone-manage failed"; }
  touch "$DATA/keystone.bootstrapped"
fi
if [ -n "$SYNC_PID" ]; then
  wait "$SYNC_PID" || { tail -20 "$LOGS/placement-manage.log" >&2; die "placement db sync failed"; }
fi

# ------------------------------------------------------------------ start both, then wait
if [ "$KS_RUNNING" = 1 ]; then
  say "keystone already running (pid $(cat "$DATA/keystone.pid"))"
else
  refuse_foreign "$KS_URL" "$DATA/keystone.pid"
  say "keystone: starting gunicorn on $HOST:$KS_PORT"
  start keystone "$KS_PORT" keystone_app
  KS_PID=$STARTED
fi
if [ "$PL_RUNNING" = 1 ]; then
  say "placement already running (pid $(cat "$DATA/placement.pid"))"
else
  refuse_foreign "$PL_URL/" "$DATA/placement.pid"
  say "placement: starting gunicorn on $HOST:$PL_PORT"
  start placement "$PL_PORT" placement_app
  PL_PID=$STARTED
fi
if [ -n "$KS_PID" ]; then
  wait_ready "$KS_URL" "$KS_PID" keystone
  say "keystone ready (pid $(cat "$DATA/keystone.pid"))"
fi
if [ ! -f "$DATA/catalog.registered" ]; then
  say "creating projects service+demo, users demo (member), workflow (service), placement; placement endpoints"
  "$BIN/python" "$HERE/bootstrap_catalog.py" 2>>"$LOGS/bootstrap.log" \
    || { tail -20 "$LOGS/bootstrap.log" >&2; die "catalog bootstrap failed"; }
  touch "$DATA/catalog.registered"
fi
if [ -n "$PL_PID" ]; then
  wait_ready "$PL_URL/" "$PL_PID" placement
  say "placement ready (pid $(cat "$DATA/placement.pid"))"
fi

# ------------------------------------------------------------------ smoke test
BODY='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"'$ADMIN_PASSWORD'"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}'
TOKEN=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d "$BODY" "$KS_URL/auth/tokens" \
  | tr -d '\r' | awk 'tolower($1)=="x-subject-token:" {print $2}')
[ -n "$TOKEN" ] || die "no admin token from $KS_URL"
curl -sf -o /dev/null -H "X-Auth-Token: $TOKEN" "$PL_URL/resource_providers" \
  || die "placement rejected an admin token (log: $LOGS/placement.log)"
say "ready: keystone $KS_URL, placement $PL_URL (admin token accepted); clouds.yaml: $ETC/clouds.yaml"

cat <<EOF
export OS_AUTH_URL=$KS_URL
export OS_USERNAME=admin
export OS_PASSWORD=$ADMIN_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_CLIENT_CONFIG_FILE=$ETC/clouds.yaml
export PLACEMENT_URL=$PL_URL
EOF
