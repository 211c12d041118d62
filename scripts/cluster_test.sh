#!/usr/bin/env bash
# make cluster-test: the portal on a topology of real hosts, with faults (tests/cluster).
#
# Hosts are Linux network namespaces on one private bridge; the bridge itself lives in a namespace
# of its own, so nothing is added to this machine's own network and only the addresses below, inside
# those namespaces, are ever contacted:
#   db 10.231.0.1       PostgreSQL 15 primary and Redis (the django-q2 broker)
#   replica 10.231.0.2  a streaming replica of db, made by pg_basebackup
#   w1 10.231.0.11      manage.py qcluster (main), the urgent cluster and the hooks cluster
#   w2 10.231.0.12      manage.py qcluster (main)
#   web 10.231.0.20     gunicorn
#   ctl 10.231.0.100    the test driver (pytest tests/cluster)
# The device backend is the simulator inside each worker (ADAPTER_BACKEND=simulator), as in
# tests/adapter/test_crash.py; every hand-over is witnessed in that host's ADAPTER_SEND_LOG.
#
#   scripts/cluster_test.sh run        build the topology, run tests/cluster in it, tear it down (always)
#   scripts/cluster_test.sh check      exit 0 when this machine can build it, else print why and exit 3
#   scripts/cluster_test.sh up | down  build / tear down only (down also clears a run that was interrupted)
# Used by the tests while it runs: kill-host H, start-host H, cut H, heal H, redis-restart,
#   pg-stop primary|replica, pg-start primary|replica, on H CMD... (CMD with the host's environment)
# CLUSTER_BATCH (default 100000) and CLUSTER_FAULT_BATCH (default 20000) size the batches;
# CLUSTER_RESULTS (default bench/results/cluster.json) is where the scenarios' results go.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=$ROOT/.venv/bin/python
export PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DIR=${CLUSTER_DIR:-/tmp/portal-cluster}
NET=10.231.0
HOSTS=(db replica w1 w2 web ctl)
declare -A ADDR=([db]=$NET.1 [replica]=$NET.2 [w1]=$NET.11 [w2]=$NET.12 [web]=$NET.20 [ctl]=$NET.100)
BRIDGE_NS=pcl-net

ns() { echo "pcl-$1"; }
on_ns() { local host=$1; shift; ip netns exec "$(ns "$host")" "$@"; }
say() { echo "cluster: $*" >&2; }

# Bounded waits: at most $1 tries, 0.5 s apart.
wait_for() {
  local tries=$1 what=$2; shift 2
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "gave up waiting for $what"; return 1
}

check() {
  [ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; return 3; }
  command -v ip >/dev/null || { echo "the ip command (iproute2) is missing"; return 3; }
  local probe="pcl-probe-$$"
  ip netns add "$probe" 2>/dev/null || { echo "ip netns add is refused here (no CAP_SYS_ADMIN / CAP_NET_ADMIN)"; return 3; }
  if ! ip -n "$probe" link add pa type veth peer name pb 2>/dev/null || ! ip -n "$probe" link add pbr type bridge 2>/dev/null; then
    ip netns del "$probe"; echo "veth or bridge links cannot be made in a network namespace here"; return 3
  fi
  ip netns del "$probe"
  [ -x "$PY" ] || { echo "no virtual environment: run make venv"; return 3; }
}

install_prerequisites() {
  if ! command -v redis-server >/dev/null; then
    say "installing redis-server with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
  fi
  # pg.sh installs postgresql-15 the same way when its binaries are missing.
}

kv() { printf '%s=%q\n' "$1" "$2"; }

write_env() {  # one host's environment: the same settings on every host, as one .env would give
  local host=$1
  # zero-latency simulator, no random failures: what is measured and checked is the portal's own work
  local zero='{"median": 0, "sigma": 0}'
  local sim="{\"send_sleep\": 0, \"dsp_out\": $zero, \"dsp_in\": $zero, \"han\": $zero, \"dcc_only\": $zero,"
  sim+=" \"csp\": {\"north\": $zero, \"central\": $zero, \"south\": $zero},"
  sim+=" \"fail_e20\": {\"north\": 0, \"central\": 0, \"south\": 0}, \"fail_e21\": {\"north\": 0, \"central\": 0, \"south\": 0}}"
  {
    kv PATH "$PATH"; kv HOME "${HOME:-/root}"; kv LANG C.UTF-8; kv PYTHONDONTWRITEBYTECODE 1
    kv DJANGO_SETTINGS_MODULE config.settings
    kv DEBUG 0
    kv SECRET_KEY "cluster-test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    kv ALLOWED_HOSTS "${ADDR[web]}"
    kv SECURE_SSL_REDIRECT 0
    kv DATABASE_URL "postgres://portal@${ADDR[db]}:5432/portal"
    kv DATABASE_REPLICA_URL "postgres://portal@${ADDR[replica]}:5432/portal"
    kv REPLICA_MAX_LAG_SECONDS 10
    kv REPLICA_CHECK_SECONDS 2
    kv Q_BROKER redis
    kv Q_REDIS_URL "redis://${ADDR[db]}:6379/0"
    kv Q_WORKERS 2
    kv Q_TIMEOUT 120
    kv ADAPTER_BACKEND simulator
    kv ADAPTER_SIMULATOR "$sim"
    # a dead worker's attempts are sent again after 15 s (production: 120 s)
    kv ADAPTER_LEASE_SECONDS 15
    kv ADAPTER_SEND_LOG "$DIR/sent/$host.log"
    kv API_THROTTLE_USER 1000000/min
    kv LOGIN_THROTTLE 0
    kv EMAIL_URL locmem://
    kv LOG_LEVEL INFO
    kv PORTAL_VAR_DIR "$DIR/var"
    kv CLUSTER_HOST "$host"
  } >"$DIR/env/$host.env"
}

with_env() {  # host cmd...: run cmd in the host's namespace with the host's environment
  local host=$1; shift
  on_ns "$host" env -i bash -c 'set -a; . "$0"; set +a; exec "$@"' "$DIR/env/$host.env" "$@"
}

start_proc() {  # host name cmd...: a long-running process of the host, its own session, pid recorded
  local host=$1 name=$2; shift 2
  # ip netns exec, env, bash, setsid and the command each exec the next: $! is the command's own pid
  # (written out here, not through with_env: a function put in the background is a subshell).
  ip netns exec "$(ns "$host")" env -i bash -c 'set -a; . "$0"; set +a; exec "$@"' "$DIR/env/$host.env" \
    setsid "$@" </dev/null >>"$DIR/logs/$host-$name.log" 2>&1 &
  echo $! >"$DIR/pids/$host-$name"
  disown  # its end (a kill-host) is the test's business, not a job for this shell to report
}

pg_options() {
  local host=$1
  local opts="-c listen_addresses=${ADDR[$host]} -c hba_file=$DIR/pg_hba.conf -c max_connections=300"
  # the replica logs every statement with the client's address: the tests read there which host's
  # reads it served
  if [ "$host" = replica ]; then opts+=" -c log_statement=all -c log_line_prefix=%h: -c hot_standby_feedback=on"; fi
  echo "$opts"
}

pg() {  # pg.sh command for the primary or the replica, inside its host
  local which=$1 cmd=$2 host folder
  if [ "$which" = primary ]; then host=db; folder=$DIR/db; else host=replica; folder=$DIR/replica; fi
  on_ns "$host" env PG_OPTIONS="$(pg_options "$host")" bash "$ROOT/scripts/pg.sh" "$cmd" "$folder"
}

start_redis() {
  # Append-only file on, as a broker in production should have: queued tasks outlive a restart
  # (the tasks a worker had already taken are another matter: the adapter's sweep covers those).
  ip netns exec "$(ns db)" setsid redis-server --bind "${ADDR[db]}" --port 6379 --dir "$DIR/redis" --appendonly yes \
    --appendfsync everysec --save "" --protected-mode no --logfile "$DIR/logs/db-redis.log" </dev/null >/dev/null 2>&1 &
  echo $! >"$DIR/pids/db-redis"
  disown
  wait_for 40 "Redis" on_ns ctl redis-cli -h "${ADDR[db]}" ping
}

stop_pid() {  # pid file: SIGTERM, then SIGKILL after 10 s
  local file=$1 pid
  pid=$(cat "$file" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
}

start_host() {
  local host=$1
  case "$host" in
    w1) start_proc w1 qcluster "$PY" manage.py qcluster
        start_proc w1 urgent env Q_CLUSTER_NAME=urgent "$PY" manage.py qcluster
        start_proc w1 hooks env Q_CLUSTER_NAME=hooks "$PY" manage.py qcluster ;;
    w2) start_proc w2 qcluster "$PY" manage.py qcluster ;;
    web) start_proc web gunicorn "$ROOT/.venv/bin/gunicorn" config.wsgi -b "${ADDR[web]}:8000" -w 2 --threads 2 \
           --timeout 120 --access-logfile - ;;
    *) say "no portal processes on $host"; return 2 ;;
  esac
}

kill_host() {  # every process of the host, at once, SIGKILL
  local host=$1 pids
  pids=$(ip netns pids "$(ns "$host")" || true)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  for _ in $(seq 20); do [ -z "$(ip netns pids "$(ns "$host")")" ] && return 0; sleep 0.5; done
  say "processes of $host still there after SIGKILL"; return 1
}

web_answers() {
  on_ns ctl "$PY" -c "import urllib.request as u; u.urlopen('http://${ADDR[web]}:8000/accounts/login/', timeout=5)"
}

up() {
  check >/dev/null || { check; exit 3; }
  if ip netns list | grep -qw "$BRIDGE_NS"; then
    say "a topology is already up (or left by an interrupted run): scripts/cluster_test.sh down"; exit 1
  fi
  install_prerequisites
  rm -rf "$DIR"; mkdir -p "$DIR"/{env,logs,pids,sent,redis,var}
  chmod 755 "$DIR"
  say "network: bridge in $BRIDGE_NS, hosts ${HOSTS[*]}"
  ip netns add "$BRIDGE_NS"
  ip -n "$BRIDGE_NS" link add br0 type bridge
  ip -n "$BRIDGE_NS" link set br0 up
  for host in "${HOSTS[@]}"; do
    ip netns add "$(ns "$host")"
    ip -n "$BRIDGE_NS" link add "v-$host" type veth peer name eth0 netns "$(ns "$host")"
    ip -n "$BRIDGE_NS" link set "v-$host" master br0 up
    ip -n "$(ns "$host")" addr add "${ADDR[$host]}/24" dev eth0
    ip -n "$(ns "$host")" link set eth0 up
    ip -n "$(ns "$host")" link set lo up
    write_env "$host"
  done
  cat >"$DIR/pg_hba.conf" <<EOF
local all all trust
local replication all trust
host all all $NET.0/24 trust
host replication all $NET.0/24 trust
EOF
  say "db: PostgreSQL primary and Redis"
  pg primary start >/dev/null
  start_redis
  say "schema, schedules and data (from the web host)"
  with_env web "$PY" manage.py migrate --noinput >"$DIR/logs/setup.log" 2>&1
  with_env web "$PY" manage.py setup_schedules >>"$DIR/logs/setup.log" 2>&1
  with_env web "$PY" manage.py shell -c "from tests.cluster.support import load_data; load_data()" \
    >>"$DIR/logs/setup.log" 2>&1
  say "replica: pg_basebackup from db"
  on_ns replica env PG_OPTIONS="$(pg_options replica)" bash "$ROOT/scripts/pg.sh" replica "${ADDR[db]}:5432" \
    "$DIR/replica" >/dev/null
  say "portal processes: gunicorn on web, qcluster on w1 (main, urgent, hooks) and w2 (main)"
  for host in web w1 w2; do start_host "$host"; done
  wait_for 120 "gunicorn on web" web_answers
  say "up"
}

down() {
  for host in "${HOSTS[@]}"; do
    if ip netns list | grep -qw "$(ns "$host")"; then kill_host "$host" || true; ip netns del "$(ns "$host")"; fi
  done
  ip netns list | grep -qw "$BRIDGE_NS" && ip netns del "$BRIDGE_NS"
  if [ -d "$DIR" ]; then
    mkdir -p "$ROOT/test-output/cluster"
    cp -r "$DIR/logs" "$DIR/sent" "$ROOT/test-output/cluster/" 2>/dev/null || true
    cp "$DIR/replica/server.log" "$ROOT/test-output/cluster/logs/replica-postgres.log" 2>/dev/null || true
    cp "$DIR/db/server.log" "$ROOT/test-output/cluster/logs/db-postgres.log" 2>/dev/null || true
    rm -rf "$DIR"
  fi
  return 0
}

run() {
  local reason
  if ! reason=$(check); then echo "cluster: cannot build the topology here: $reason" >&2; exit 3; fi
  trap down EXIT
  trap 'exit 130' INT TERM
  rm -rf "$ROOT/test-output/cluster"
  local started=$SECONDS
  up
  say "topology up in $((SECONDS - started)) s; scenarios (tests/cluster)"
  local results=${CLUSTER_RESULTS:-$ROOT/bench/results/cluster.json}
  on_ns ctl env CLUSTER_DIR="$DIR" CLUSTER_RESULTS="$results" CLUSTER_BATCH="${CLUSTER_BATCH:-100000}" \
    CLUSTER_FAULT_BATCH="${CLUSTER_FAULT_BATCH:-20000}" \
    DATABASE_URL="postgres://portal@${ADDR[db]}:5432/portal" PYTHONDONTWRITEBYTECODE=1 \
    "$ROOT/.venv/bin/pytest" tests/cluster -p no:randomly -rs "$@"
  say "finished in $((SECONDS - started)) s"
}

cmd=${1:-run}; [ $# -gt 0 ] && shift
case "$cmd" in
  run) run "$@" ;;
  check) check ;;
  up) up ;;
  down) down ;;
  kill-host) kill_host "$1" ;;
  start-host) start_host "$1" ;;
  cut) ip -n "$(ns "$1")" link set eth0 down ;;
  heal) ip -n "$(ns "$1")" link set eth0 up ;;
  redis-restart) stop_pid "$DIR/pids/db-redis"; start_redis ;;
  pg-stop) pg "$1" pause ;;
  pg-start) pg "$1" resume ;;
  on) host=$1; shift; with_env "$host" "$@" ;;
  *) echo "cluster_test.sh: unknown command $cmd" >&2; exit 2 ;;
esac
