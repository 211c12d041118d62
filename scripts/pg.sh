#!/usr/bin/env bash
# A throwaway PostgreSQL 15 on a unix socket in a temporary folder, for tests and benchmarks.
#   scripts/pg.sh start DIR   initialise and start a server in DIR; prints its DATABASE_URL
#   scripts/pg.sh stop DIR    stop it and delete DIR
#   scripts/pg.sh pause DIR / resume DIR   stop and start the same server (fault tests)
#   scripts/pg.sh replica PRIMARY DIR      a streaming replica (pg_basebackup) of the server in folder PRIMARY
#                                          (its socket) or at PRIMARY=host:port, started in DIR; prints its
#                                          DATABASE_URL (stop/pause/resume DIR as above)
# PG_OPTIONS adds server options (e.g. "-c log_statement=all") to start, replica and resume.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|stop|pause|resume|replica}; dir=${2:?folder}

as_pg() {  # initdb refuses to run as root: run the server as the postgres user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_binaries() {
  if [ ! -x "$PGBIN/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "pg.sh: installing postgresql-15 with apt-get" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
    fi
    [ -x "$PGBIN/initdb" ] || { echo "pg.sh: PostgreSQL 15 server binaries not found in $PGBIN" >&2; exit 1; }
  fi
}

server_options() {
  echo "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB ${PG_OPTIONS:-}"
}

url_of() {
  enc=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1")
  echo "postgres://portal@${enc}/portal"
}

case "$cmd" in
  start)
    ensure_binaries
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U portal --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # Durability is not needed for throwaway data: fsync off makes the suite faster.
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(server_options)" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_pg "$PGBIN/createdb" -h "$dir" -U portal portal
    url_of "$dir"
    ;;
  replica)
    # dir is the primary (folder or host:port) here; the replica goes into the third argument.
    primary=$dir; dir=${3:?replica folder}
    ensure_binaries
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    # -R writes standby.signal and primary_conninfo: the copy starts as a hot standby streaming
    # from the primary (initdb's pg_hba trusts local replication connections).
    if [ -d "$primary" ]; then source_args=(-h "$primary"); else source_args=(-h "${primary%:*}" -p "${primary##*:}"); fi
    as_pg "$PGBIN/pg_basebackup" "${source_args[@]}" -U portal -D "$dir/data" -R -X stream -c fast >"$dir/basebackup.log" 2>&1 \
      || { cat "$dir/basebackup.log" >&2; exit 1; }
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(server_options)" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    url_of "$dir"
    ;;
  pause)  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
  # resume must listen on the same socket folder as start, or clients cannot find the server again.
  resume) as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(server_options)" start >/dev/null ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
