#!/usr/bin/env bash
# deploy/local/kafka.sh -- run a single-node Apache Kafka (KRaft) for Sanlian on a
# machine without Docker.
#
# Why: the services exchange events through Kafka, and CI / some dev machines have
# no Docker engine and no Kafka tarball. Maven Central is reachable, so the broker
# jars are fetched with Maven (deploy/local/kafka/pom.xml, the one place the Kafka
# version is pinned) into a per-user cache, and the broker runs on the machine's
# Java 17 as a background process listening on 127.0.0.1 only.
#
# Usage: deploy/local/kafka.sh start|stop|status|bootstrap|version
#   start      idempotent: no-op if a broker already answers on 127.0.0.1:PORT;
#              otherwise fetch the jars once, write the KRaft config, format the
#              storage once, start the broker and wait until it serves clients
#   stop       stop the broker started from this state dir (SIGTERM, then SIGKILL)
#   status     prints "running" (exit 0), "starting" or "stopped" (exit 3)
#   bootstrap  prints 127.0.0.1:PORT
#   version    prints the Kafka version of the broker jars
#
# Environment (defaults in brackets):
#   SANLIAN_KAFKA_PORT [9092]             client (PLAINTEXT) listener
#   SANLIAN_KAFKA_CONTROLLER_PORT [9093]  KRaft controller listener
#   SANLIAN_CACHE_DIR [~/.cache/sanlian]  jars go to kafka-<version>/libs below it
#   SANLIAN_STATE_DIR [<repo>/.local]     config, data and logs go to kafka/ below it
#   SANLIAN_KAFKA_START_TIMEOUT [90]      seconds to wait for the broker to serve
#   SANLIAN_KAFKA_STOP_TIMEOUT [60]       seconds to wait before SIGKILL
#   SANLIAN_KAFKA_HEAP_OPTS [-Xmx512m -Xms256m]
#   JAVA_HOME                             preferred Java (must be 17 or newer)
# Files in the state dir: server.properties, data/, logs/server.log (broker log),
# logs/kafka.out (JVM stdout/stderr), logs/tools.log (storage tool), kafka.pid.
set -euo pipefail

SANLIAN_LOG_TAG=kafka.sh
# shellcheck source=deploy/local/_lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/_lib.sh"

KAFKA_CONF_DIR=$SANLIAN_LOCAL_DIR/kafka
POM=$KAFKA_CONF_DIR/pom.xml
LOG4J_CONF=$KAFKA_CONF_DIR/log4j2.properties
PROBE=$KAFKA_CONF_DIR/probe.py

HOST=127.0.0.1
PORT=${SANLIAN_KAFKA_PORT:-9092}
CONTROLLER_PORT=${SANLIAN_KAFKA_CONTROLLER_PORT:-9093}
START_TIMEOUT=${SANLIAN_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${SANLIAN_KAFKA_STOP_TIMEOUT:-60}
HEAP_OPTS=${SANLIAN_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}

STATE_DIR=$SANLIAN_STATE_ROOT/kafka
CONFIG=$STATE_DIR/server.properties
DATA_DIR=$STATE_DIR/data
LOG_DIR=$STATE_DIR/logs
PID_FILE=$STATE_DIR/kafka.pid
SERVER_LOG=$LOG_DIR/server.log
OUT_FILE=$LOG_DIR/kafka.out

for var in PORT CONTROLLER_PORT START_TIMEOUT STOP_TIMEOUT; do
  [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a number, got '${!var}'"
done
[[ $PORT != "$CONTROLLER_PORT" ]] || die "SANLIAN_KAFKA_PORT and SANLIAN_KAFKA_CONTROLLER_PORT must differ"

KAFKA_VERSION=$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)
[[ -n $KAFKA_VERSION ]] || die "cannot read <kafka.version> from $POM"
LIBS=$SANLIAN_CACHE_ROOT/kafka-$KAFKA_VERSION/libs

# ---------------------------------------------------------------------------
# Java and the broker jars

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 |
    awk -F'= *' '/java\.specification\.version/ { v = $2; sub(/^1\./, "", v); print int(v); exit }'
}

# Prints the path of a Java >= 17: $JAVA_HOME first, then PATH, then /usr/lib/jvm.
find_java() {
  local candidate major
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [[ -n $candidate && -x $candidate ]] || continue
    major=$(java_major "$candidate") || continue
    if [[ -n $major ]] && ((major >= 17)); then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_java() {
  JAVA=$(find_java) && return 0
  log "no Java 17+ found (Kafka $KAFKA_VERSION needs it)"
  apt_install openjdk-17-jre-headless
  JAVA=$(find_java) || die "still no Java 17+ after installing openjdk-17-jre-headless"
}

libs_complete() {
  [[ -f $LIBS/.pom-sha256 && -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] &&
    [[ $(<"$LIBS/.pom-sha256") == "$(sha256sum "$POM" | cut -d' ' -f1)" ]]
}

# Download the broker jars once. Maven writes into a temporary directory next to
# the cache entry, which is renamed into place only when complete, so an
# interrupted download is never mistaken for a usable one. A changed pom.xml
# (e.g. a different logging binding) invalidates the entry.
ensure_libs() {
  libs_complete && return 0
  command -v mvn >/dev/null 2>&1 || apt_install maven
  local parent tmp
  parent=$(dirname -- "$LIBS")
  mkdir -p "$parent"
  tmp=$(mktemp -d "$parent/libs.tmp.XXXXXX")
  # shellcheck disable=SC2064  # expand $tmp now
  trap "rm -rf '$tmp'" EXIT
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (one-time)"
  # (Maven 3.8 prints bare ANSI reset codes even in batch mode; strip them.)
  mvn -q -B -f "$POM" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 |
    sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2 ||
    die "Maven could not fetch the Kafka jars (network to Maven Central? see output above)"
  [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  sha256sum "$POM" | cut -d' ' -f1 >"$tmp/.pom-sha256"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  trap - EXIT
}

# Run a Kafka class with the cached jars; its log goes to logs/tools.log.
kafka_tool() {
  "$JAVA" -Xmx256m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR" \
    -Dsanlian.kafka.logfile=tools.log \
    -cp "$LIBS/*" "$@"
}

# ---------------------------------------------------------------------------
# Process and readiness

# True if PID is a live broker started with this state dir's config.
is_our_broker() {
  local cmdline=/proc/$1/cmdline
  [[ -r $cmdline ]] || return 1
  grep -qzxF kafka.Kafka "$cmdline" 2>/dev/null && grep -qzxF "$CONFIG" "$cmdline" 2>/dev/null
}

# Prints the pid of our broker. The pid file is only a hint: a stale one (dead
# process, or a recycled pid) is ignored and /proc is searched instead.
broker_pid() {
  local pid proc
  if [[ -f $PID_FILE ]]; then
    pid=$(<"$PID_FILE")
    if [[ $pid =~ ^[0-9]+$ ]] && is_our_broker "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    if is_our_broker "$pid"; then
      printf '%s\n' "$pid" >"$PID_FILE" 2>/dev/null || true
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

# True if a Kafka broker serves clients on HOST:PORT (ours or anybody's).
broker_answers() {
  if command -v python3 >/dev/null 2>&1; then
    python3 "$PROBE" "$HOST" "$PORT"
  else
    # Without Python only our own broker can be judged: port open + started line.
    tcp_open "$HOST" "$PORT" && [[ -f $SERVER_LOG ]] && grep -q 'Kafka Server started' "$SERVER_LOG"
  fi
}

print_logs() {
  local f
  for f in "$OUT_FILE" "$SERVER_LOG"; do
    if [[ -s $f ]]; then
      log "last lines of $f:"
      tail -n 40 "$f" >&2 || true
    fi
  done
}

# Wait until the broker with pid $1 has logged its start and answers the probe.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT)) started=
  while :; do
    if ! is_our_broker "$pid"; then
      log "the broker (pid $pid) exited during startup"
      print_logs
      rm -f "$PID_FILE"
      exit 1
    fi
    if [[ -z $started ]] && [[ -f $SERVER_LOG ]] && grep -q 'Kafka Server started' "$SERVER_LOG"; then
      started=1
    fi
    if [[ -n $started ]] && broker_answers; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "the broker did not start serving on $HOST:$PORT within ${START_TIMEOUT}s"
      print_logs
      log "it is still running as pid $pid ('$0 stop' to kill it, or '$0 start' to keep waiting)"
      exit 1
    fi
    sleep 1
  done
}

# ---------------------------------------------------------------------------
# Config and storage

render_config() {
  cat <<EOF
# Generated by deploy/local/kafka.sh on every start; edit the script, not this file.
# Single-node KRaft: this process is both the broker and the (only) controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$DATA_DIR

# Topics are created explicitly by the services (with their own retention).
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# Internal topics: one replica is all a single broker can offer; fewer partitions
# than the production defaults (50) make the first consumer group/transaction quick.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests start consumer groups all the time; do not wait for more members.
group.initial.rebalance.delay.ms=0
EOF
}

write_config() {
  local tmp
  tmp=$(mktemp "$STATE_DIR/server.properties.XXXXXX")
  render_config >"$tmp"
  mv "$tmp" "$CONFIG"
}

format_storage_once() {
  [[ -f $DATA_DIR/meta.properties ]] && return 0
  local cluster_id
  cluster_id=$(kafka_tool kafka.tools.StorageTool random-uuid) || die "StorageTool random-uuid failed"
  cluster_id=$(printf '%s\n' "$cluster_id" | tail -n 1)
  log "formatting KRaft storage in $DATA_DIR (cluster id $cluster_id)"
  kafka_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >&2 ||
    die "StorageTool format failed (see $LOG_DIR/tools.log)"
  [[ -f $DATA_DIR/meta.properties ]] || die "StorageTool format did not write $DATA_DIR/meta.properties"
}

# Keep the previous run's log next to the new one; a fresh server.log means
# "Kafka Server started" in it always refers to this run.
rotate_logs() {
  local f
  for f in "$SERVER_LOG" "$OUT_FILE"; do
    [[ -f $f ]] && mv -f "$f" "$f.prev"
  done
  rm -f "$SERVER_LOG".[0-9]*
  return 0
}

# ---------------------------------------------------------------------------
# Commands

cmd_start() {
  ensure_state_root
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  # Serialise concurrent starts. The broker must not inherit the lock (9>&-).
  exec 9>"$STATE_DIR/.lock"
  flock -w 600 9 || die "another kafka.sh start is still running"

  if broker_answers; then
    log "a Kafka broker already serves on $HOST:$PORT; nothing to do"
    return 0
  fi
  local pid
  if pid=$(broker_pid); then
    if [[ $(render_config) != "$(cat "$CONFIG" 2>/dev/null)" ]]; then
      die "the broker from $STATE_DIR (pid $pid) runs with other settings (ports?); run '$0 stop' first"
    fi
    log "the broker (pid $pid) is running but not serving yet; waiting"
    wait_ready "$pid"
    log "Kafka ready at $HOST:$PORT"
    return 0
  fi
  rm -f "$PID_FILE"
  tcp_open "$HOST" "$PORT" && die "$HOST:$PORT is taken by something that is not a working Kafka broker"
  tcp_open "$HOST" "$CONTROLLER_PORT" &&
    die "controller port $HOST:$CONTROLLER_PORT is taken (set SANLIAN_KAFKA_CONTROLLER_PORT)"

  ensure_java
  ensure_libs
  write_config
  format_storage_once
  rotate_logs

  log "starting Kafka $KAFKA_VERSION on $HOST:$PORT (state in $STATE_DIR)"
  local t0=$SECONDS
  # setsid: own session, so the broker survives the caller's terminal/CI step
  # being interrupted; the pid is the JVM's because setsid/nohup exec.
  # shellcheck disable=SC2086  # HEAP_OPTS is a list of JVM flags
  (
    cd "$STATE_DIR"
    exec setsid nohup "$JAVA" $HEAP_OPTS -server \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false \
      -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR" \
      -cp "$LIBS/*" kafka.Kafka "$CONFIG"
  ) >"$OUT_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  sleep 1
  # Should setsid have forked after all, find the JVM itself.
  is_our_broker "$pid" || pid=$(broker_pid) || pid=$!
  wait_ready "$pid"
  log "Kafka ready at $HOST:$PORT after $((SECONDS - t0))s (pid $pid, log $SERVER_LOG)"
}

cmd_stop() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    log "no broker from $STATE_DIR is running"
    if broker_answers; then
      log "note: some other Kafka broker answers on $HOST:$PORT; not touching it"
    fi
    return 0
  fi
  log "stopping Kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while is_our_broker "$pid"; do
    if ((SECONDS >= deadline)); then
      log "no exit after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  is_our_broker "$pid" && die "pid $pid is still alive"
  rm -f "$PID_FILE"
  log "Kafka stopped"
}

cmd_status() {
  local pid
  if broker_answers; then
    if pid=$(broker_pid); then
      log "Kafka running at $HOST:$PORT (pid $pid)"
    else
      log "a Kafka broker not started by this script serves on $HOST:$PORT"
    fi
    echo running
  elif pid=$(broker_pid); then
    log "the broker (pid $pid) is running but not serving on $HOST:$PORT (yet)"
    echo starting
    return 3
  else
    log "Kafka is not running on $HOST:$PORT"
    echo stopped
    return 3
  fi
}

cmd_version() {
  local jar
  for jar in "$LIBS"/kafka-clients-*.jar; do
    if [[ -f $jar ]]; then
      jar=${jar##*/kafka-clients-}
      printf '%s\n' "${jar%.jar}"
      return 0
    fi
  done
  # Jars not fetched yet: they will be exactly the version pinned in the pom.
  printf '%s\n' "$KAFKA_VERSION"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  bootstrap) echo "$HOST:$PORT" ;;
  version) cmd_version ;;
  *)
    echo "usage: $0 start|stop|status|bootstrap|version" >&2
    exit 2
    ;;
esac
