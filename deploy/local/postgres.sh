#!/usr/bin/env bash
# deploy/local/postgres.sh -- run PostgreSQL for Sanlian on a machine without Docker.
#
# Why: the services and their tests need a real PostgreSQL (the event store). CI and
# some dev machines have no Docker engine, so this script uses the Debian packaging
# tools (pg_lsclusters / pg_createcluster / pg_ctlcluster) to install, create and run
# a cluster listening on 127.0.0.1:${SANLIAN_PG_PORT:-5432}, with a login role and a
# database both named `sanlian` (password `sanlian`, role has CREATEDB so tests can
# create throw-away databases).
#
# Usage: deploy/local/postgres.sh start|stop|status|dsn|version
#   start    idempotent: install PostgreSQL if missing (apt-get, needs root), create
#            a cluster on the port if none is configured there, start it, wait until
#            it accepts connections, ensure the role and the database exist
#   stop     stop the cluster configured on the port (no-op if it is not running)
#   status   prints "running" (exit 0) or "stopped" (exit 3)
#   dsn      prints postgresql://sanlian:sanlian@127.0.0.1:PORT/sanlian?sslmode=disable
#   version  prints the running server's version (SHOW server_version)
#
# Environment: SANLIAN_PG_PORT (5432), SANLIAN_PG_START_TIMEOUT seconds (60),
#              SANLIAN_STATE_DIR (<repo>/.local; only a lock file lives there).
# Works as root (typical for CI containers), as the cluster owner, or as a user
# with passwordless sudo.
set -euo pipefail

SANLIAN_LOG_TAG=postgres.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

PG_HOST=127.0.0.1
PG_PORT=${SANLIAN_PG_PORT:-5432}
PG_USER=sanlian
PG_PASSWORD=sanlian
PG_DB=sanlian
START_TIMEOUT=${SANLIAN_PG_START_TIMEOUT:-60}
# Loopback only: TLS would add a handshake and encryption to every connection for nothing.
DSN="postgresql://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB?sslmode=disable"

[[ $PG_PORT =~ ^[0-9]+$ ]] || die "SANLIAN_PG_PORT must be a port number, got '$PG_PORT'"
[[ $START_TIMEOUT =~ ^[0-9]+$ ]] || die "SANLIAN_PG_START_TIMEOUT must be a number of seconds"

server_installed() {
  local tool
  for tool in pg_lsclusters pg_createcluster pg_ctlcluster pg_isready psql; do
    command -v "$tool" >/dev/null 2>&1 || return 1
  done
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

ensure_installed() {
  server_installed && return 0
  log "PostgreSQL server not found"
  apt_install postgresql
  server_installed || die "PostgreSQL still not usable after installing the 'postgresql' package"
}

# Highest PostgreSQL major version whose server binaries are installed.
latest_version() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do
    bin=${bin#/usr/lib/postgresql/}
    printf '%s\n' "${bin%%/*}"
  done | sort -n | tail -n 1
}

# Sets CL_VER CL_NAME CL_STATUS CL_OWNER CL_LOG for the cluster configured on
# PG_PORT; returns 1 if there is none.
find_cluster() {
  local line
  line=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print; exit }') || true
  [[ -n $line ]] || return 1
  read -r CL_VER CL_NAME _ CL_STATUS CL_OWNER _ CL_LOG <<<"$line"
  CL_LOG=${CL_LOG:-}
}

# run_as USER CMD... -- run CMD as USER from a directory every user can enter.
run_as() {
  local user=$1
  shift
  if [[ $(id -un) == "$user" ]]; then
    (cd / && "$@")
  elif is_root; then
    (cd / && runuser -u "$user" -- "$@")
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    (cd / && sudo -n -u "$user" -- "$@")
  else
    die "need to run '$1' as user '$user': run this script as root or as '$user'"
  fi
}

# run_admin CMD... -- run a cluster-management command as root (pg_createcluster,
# pg_ctlcluster; the latter also works as the cluster owner).
run_admin() {
  if is_root; then
    (cd / && "$@")
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    (cd / && sudo -n -- "$@")
  elif [[ -n ${CL_OWNER:-} && $(id -un) == "$CL_OWNER" && $1 == pg_ctlcluster ]]; then
    (cd / && "$@")
  else
    die "'$1' needs root: run this script as root (or with passwordless sudo)"
  fi
}

print_log_tail() {
  if [[ -n ${CL_LOG:-} && -r $CL_LOG ]]; then
    log "last lines of $CL_LOG:"
    tail -n 30 "$CL_LOG" >&2 || true
  fi
}

is_ready() {
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until is_ready; do
    if ((SECONDS >= deadline)); then
      log "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${START_TIMEOUT}s"
      print_log_tail
      exit 1
    fi
    sleep 1
  done
}

# SQL as the cluster owner over the Unix socket (peer authentication).
owner_psql() {
  run_as "$CL_OWNER" psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres -tA "$@"
}

ensure_role_and_db() {
  owner_psql -c "
    DO \$\$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
        CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
      ELSE
        ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
      END IF;
    END
    \$\$;" >/dev/null || die "could not create/update role '$PG_USER'"
  if [[ -z $(owner_psql -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") ]]; then
    log "creating database '$PG_DB' owned by '$PG_USER'"
    owner_psql -c "CREATE DATABASE $PG_DB OWNER $PG_USER ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0" \
      >/dev/null || die "could not create database '$PG_DB'"
  fi
  PGCONNECT_TIMEOUT=5 psql -X -q "$DSN" -tAc 'SELECT 1' >/dev/null 2>&1 ||
    die "cannot log in with $DSN (check pg_hba.conf of cluster $CL_VER/$CL_NAME: it must allow password login from 127.0.0.1)"
}

cmd_start() {
  ensure_installed
  ensure_state_root
  # Serialise concurrent starts. Every command that may leave a daemon behind gets
  # `9>&-`, otherwise the server would inherit the lock and hold it forever.
  exec 9>"$SANLIAN_STATE_ROOT/postgres.lock"
  flock -w 300 9 || die "another postgres.sh start is still running"

  if ! find_cluster; then
    local ver name
    ver=$(latest_version)
    name=main
    # Debian's package creates <ver>/main on the first free port; if that is not
    # ours, add a dedicated cluster for this port next to it.
    if pg_lsclusters -h 2>/dev/null | awk -v v="$ver" '$1 == v && $2 == "main" { f = 1 } END { exit !f }'; then
      name=sanlian-$PG_PORT
    fi
    log "creating PostgreSQL $ver cluster '$name' on port $PG_PORT"
    run_admin pg_createcluster --port "$PG_PORT" --locale C.UTF-8 --start-conf auto "$ver" "$name" >&2 9>&- ||
      die "pg_createcluster $ver $name failed"
    find_cluster || die "cluster $ver/$name was created but pg_lsclusters does not list it on port $PG_PORT"
  fi

  if [[ $CL_STATUS != online* ]]; then
    log "starting PostgreSQL cluster $CL_VER/$CL_NAME on port $PG_PORT"
    if ! run_admin pg_ctlcluster "$CL_VER" "$CL_NAME" start >&2 9>&-; then
      # It may have been started concurrently by someone else; only fail if it is down.
      is_ready || { log "pg_ctlcluster $CL_VER $CL_NAME start failed"; print_log_tail; exit 1; }
    fi
  fi
  wait_ready
  ensure_role_and_db
  log "PostgreSQL $CL_VER/$CL_NAME ready at $PG_HOST:$PG_PORT (database '$PG_DB')"
}

cmd_stop() {
  server_installed || { log "PostgreSQL is not installed; nothing to stop"; return 0; }
  if ! find_cluster; then
    log "no PostgreSQL cluster configured on port $PG_PORT; nothing to stop"
    return 0
  fi
  if [[ $CL_STATUS != online* ]]; then
    log "PostgreSQL cluster $CL_VER/$CL_NAME is not running"
    return 0
  fi
  log "stopping PostgreSQL cluster $CL_VER/$CL_NAME"
  run_admin pg_ctlcluster "$CL_VER" "$CL_NAME" stop >&2 || die "pg_ctlcluster $CL_VER $CL_NAME stop failed"
}

cmd_status() {
  if server_installed && find_cluster && [[ $CL_STATUS == online* ]] && is_ready; then
    log "PostgreSQL $CL_VER/$CL_NAME running at $PG_HOST:$PG_PORT"
    echo running
  else
    log "PostgreSQL is not running on $PG_HOST:$PG_PORT"
    echo stopped
    return 3
  fi
}

cmd_version() {
  command -v psql >/dev/null 2>&1 || die "psql not installed; run '$0 start' first"
  PGCONNECT_TIMEOUT=5 psql -X -q "$DSN" -tAc 'SHOW server_version' ||
    die "cannot query the server version via $DSN; is it running? ('$0 start')"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  dsn) echo "$DSN" ;;
  version) cmd_version ;;
  *)
    echo "usage: $0 start|stop|status|dsn|version" >&2
    exit 2
    ;;
esac
