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
# With SANLIAN_KAFKA_BROKERS=3 it runs a KRaft cluster instead: three processes, each a
# broker and a controller voter, on consecutive ports, their state under kafka-cluster/,
# with replicated internal topics (replication factor 3, min.insync.replicas 2).
#
# Usage: deploy/local/kafka.sh start|stop|status|bootstrap|version|pid N|controller
#   start      idempotent: no-op for a broker that already answers on its port;
#              otherwise fetch the jars once, write the KRaft config, format the
#              storage once, start the broker(s) and wait until they serve clients
#              (a cluster broker that was killed is started again, the others kept)
#   stop       stop the broker(s) started from this state dir (SIGTERM, then SIGKILL)
#   status     prints "running" (exit 0), "starting" or "stopped" (exit 3)
#   bootstrap  prints 127.0.0.1:PORT (a cluster: every broker, comma-separated)
#   version    prints the Kafka version of the broker jars
#   pid N      prints the pid of broker N (1..BROKERS), if it runs
#   controller prints the node id of the active KRaft controller (the quorum's leader)
#
# Environment (defaults in brackets):
#   SANLIAN_KAFKA_BROKERS [1]             1 (one broker) or 3 (a cluster)
#   SANLIAN_KAFKA_PORT [9092]             client (PLAINTEXT) listener; broker N of a
#                                         cluster listens on PORT+N-1
#   SANLIAN_KAFKA_CONTROLLER_PORT [9093]  KRaft controller listener (a cluster: the
#                                         first of BROKERS ports, default PORT+BROKERS)
#   SANLIAN_CACHE_DIR [~/.cache/sanlian]  jars go to kafka-<version>/libs below it
#   SANLIAN_STATE_DIR [<repo>/.local]     config, data and logs go to kafka/ below it
#   SANLIAN_KAFKA_START_TIMEOUT [90]      seconds to wait for the broker to serve
#   SANLIAN_KAFKA_STOP_TIMEOUT [60]       seconds to wait before SIGKILL
#   SANLIAN_KAFKA_HEAP_OPTS [-Xmx512m -Xms256m; a cluster: -Xmx320m -Xms128m each]
#   SANLIAN_KAFKA_JVM_OPTS [Kafka's G1 flags; a cluster: -XX:+UseSerialGC
#                          -XX:TieredStopAtLevel=1]  garbage collector and compiler flags
#   JAVA_HOME                             preferred Java (must be 17 or newer)
# Files in the state dir (a cluster: kafka-cluster/node-N/ for each broker, and
# kafka-cluster/cluster.id): server.properties, data/, logs/server.log (broker log),
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
BROKERS=${SANLIAN_KAFKA_BROKERS:-1}
[[ $BROKERS =~ ^[0-9]$ ]] && ((BROKERS >= 1)) ||
  die "SANLIAN_KAFKA_BROKERS must be a number from 1 to 9, got '$BROKERS'"
BASE_PORT=${SANLIAN_KAFKA_PORT:-9092}
[[ $BASE_PORT =~ ^[0-9]+$ ]] || die "SANLIAN_KAFKA_PORT must be a number, got '$BASE_PORT'"
if ((BROKERS == 1)); then
  BASE_CONTROLLER_PORT=${SANLIAN_KAFKA_CONTROLLER_PORT:-9093}
  HEAP_OPTS=${SANLIAN_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
  CLUSTER_DIR=$SANLIAN_STATE_ROOT/kafka
else
  BASE_CONTROLLER_PORT=${SANLIAN_KAFKA_CONTROLLER_PORT:-$((BASE_PORT + BROKERS))}
  # Several JVMs on one machine: a small heap each is plenty for the event topics.
  HEAP_OPTS=${SANLIAN_KAFKA_HEAP_OPTS:--Xmx320m -Xms128m}
  CLUSTER_DIR=$SANLIAN_STATE_ROOT/kafka-cluster
fi
if ((BROKERS == 1)); then
  JVM_OPTS=${SANLIAN_KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent}
else
  # Several brokers on one machine share its cores with every service: one GC thread and
  # the quick compiler only. A broker restarted under load then takes about half the
  # processor time of G1 with both compilers, and nothing else waits behind it (measured
  # on two cores at 50 commands/s: the worst second's latency 1.5 s against 2.8 s).
  JVM_OPTS=${SANLIAN_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}
fi
START_TIMEOUT=${SANLIAN_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${SANLIAN_KAFKA_STOP_TIMEOUT:-60}

for var in BASE_CONTROLLER_PORT START_TIMEOUT STOP_TIMEOUT; do
  [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a number, got '${!var}'"
done
# The client ports and the controller ports are two ranges of BROKERS ports each.
if ((BASE_CONTROLLER_PORT < BASE_PORT + BROKERS && BASE_PORT < BASE_CONTROLLER_PORT + BROKERS)); then
  die "the client ports ($BASE_PORT+) and the controller ports ($BASE_CONTROLLER_PORT+) overlap; set SANLIAN_KAFKA_CONTROLLER_PORT"
fi

# node N -- point the per-broker variables at broker N (1..BROKERS).
node() {
  NODE=$1
  PORT=$((BASE_PORT + NODE - 1))
  CONTROLLER_PORT=$((BASE_CONTROLLER_PORT + NODE - 1))
  if ((BROKERS == 1)); then
    STATE_DIR=$CLUSTER_DIR
  else
    STATE_DIR=$CLUSTER_DIR/node-$NODE
  fi
  CONFIG=$STATE_DIR/server.properties
  DATA_DIR=$STATE_DIR/data
  LOG_DIR=$STATE_DIR/logs
  PID_FILE=$STATE_DIR/kafka.pid
  SERVER_LOG=$LOG_DIR/server.log
  OUT_FILE=$LOG_DIR/kafka.out
}
node 1

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
  local voters="" i replicas=$((BROKERS < 3 ? BROKERS : 3)) min_isr=$((BROKERS < 3 ? 1 : 2))
  for ((i = 1; i <= BROKERS; i++)); do
    voters+="${voters:+,}$i@$HOST:$((BASE_CONTROLLER_PORT + i - 1))"
  done
  cat <<EOF
# Generated by deploy/local/kafka.sh on every start; edit the script, not this file.
# KRaft, $BROKERS node(s): each process is a broker and a controller voter.
process.roles=broker,controller
node.id=$NODE
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$DATA_DIR

# Topics are created explicitly by the services (with their own retention).
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=$replicas
min.insync.replicas=$min_isr
unclean.leader.election.enable=false

# Internal topics: as many replicas as there are brokers (up to 3); fewer partitions
# than the production defaults (50) make the first consumer group/transaction quick.
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr

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

# The cluster id: one per cluster, shared by its brokers (written once, next to them).
cluster_id() {
  local file=$CLUSTER_DIR/cluster.id id
  if ((BROKERS > 1)) && [[ -s $file ]]; then
    cat "$file"
    return 0
  fi
  id=$(kafka_tool kafka.tools.StorageTool random-uuid) || die "StorageTool random-uuid failed"
  id=$(printf '%s\n' "$id" | tail -n 1)
  if ((BROKERS > 1)); then printf '%s\n' "$id" >"$file"; fi
  printf '%s\n' "$id"
}

format_storage_once() {
  [[ -f $DATA_DIR/meta.properties ]] && return 0
  local id
  id=$(cluster_id)
  log "formatting KRaft storage in $DATA_DIR (cluster id $id)"
  kafka_tool kafka.tools.StorageTool format -t "$id" -c "$CONFIG" >&2 ||
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

# Launch broker NODE (already selected with `node`) unless it serves or is starting;
# prints its pid when there is one to wait for.
launch_node() {
  mkdir -p "$STATE_DIR" "$LOG_DIR"
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
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  tcp_open "$HOST" "$PORT" && die "$HOST:$PORT is taken by something that is not a working Kafka broker"
  tcp_open "$HOST" "$CONTROLLER_PORT" &&
    die "controller port $HOST:$CONTROLLER_PORT is taken (set SANLIAN_KAFKA_CONTROLLER_PORT)"

  write_config
  format_storage_once
  rotate_logs

  log "starting Kafka $KAFKA_VERSION broker $NODE of $BROKERS on $HOST:$PORT (state in $STATE_DIR)"
  # setsid: own session, so the broker survives the caller's terminal/CI step
  # being interrupted; the pid is the JVM's because setsid/nohup exec.
  # shellcheck disable=SC2086  # HEAP_OPTS and JVM_OPTS are lists of JVM flags
  (
    cd "$STATE_DIR"
    exec setsid nohup "$JAVA" $HEAP_OPTS -server $JVM_OPTS \
      -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false \
      -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR" \
      -cp "$LIBS/*" kafka.Kafka "$CONFIG"
  ) >"$OUT_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  sleep 1
  # Should setsid have forked after all, find the JVM itself.
  is_our_broker "$pid" || pid=$(broker_pid) || pid=$!
  printf '%s\n' "$pid"
}

cmd_start() {
  ensure_state_root
  mkdir -p "$CLUSTER_DIR"
  # Serialise concurrent starts. The broker must not inherit the lock (9>&-).
  exec 9>"$CLUSTER_DIR/.lock"
  flock -w 600 9 || die "another kafka.sh start is still running"
  ensure_java
  ensure_libs
  # Every broker is launched before any is waited for: a cluster's brokers serve only
  # once a majority of the controller voters are up.
  local i t0=$SECONDS
  local -a pids=()
  for ((i = 1; i <= BROKERS; i++)); do
    node "$i"
    pids[i]=$(launch_node) || exit 1
  done
  for ((i = 1; i <= BROKERS; i++)); do
    [[ -n ${pids[i]} ]] || continue
    node "$i"
    wait_ready "${pids[i]}"
    log "Kafka broker $i ready at $HOST:$PORT after $((SECONDS - t0))s (pid ${pids[i]}, log $SERVER_LOG)"
  done
}

stop_node() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    log "no broker from $STATE_DIR is running"
    if broker_answers; then
      log "note: some other Kafka broker answers on $HOST:$PORT; not touching it"
    fi
    return 0
  fi
  log "stopping Kafka broker $NODE (pid $pid)"
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
  log "Kafka broker $NODE stopped"
}

cmd_stop() {
  # The last broker first: with a cluster, the others keep a controller majority for as
  # long as possible, so each shuts down cleanly.
  local i
  for ((i = BROKERS; i >= 1; i--)); do
    node "$i"
    stop_node
  done
}

status_node() {
  local pid
  if broker_answers; then
    if pid=$(broker_pid); then
      log "Kafka broker $NODE running at $HOST:$PORT (pid $pid)"
    else
      log "a Kafka broker not started by this script serves on $HOST:$PORT"
    fi
    return 0
  elif pid=$(broker_pid); then
    log "the broker (pid $pid) is running but not serving on $HOST:$PORT (yet)"
    return 4
  else
    log "Kafka is not running on $HOST:$PORT"
    return 3
  fi
}

cmd_status() {
  local i code worst=0
  for ((i = 1; i <= BROKERS; i++)); do
    node "$i"
    code=0
    status_node || code=$?
    ((code > worst)) && worst=$code
  done
  case $worst in
    0) echo running ;;
    4) echo starting; return 3 ;;
    *) echo stopped; return 3 ;;
  esac
}

cmd_bootstrap() {
  local i out=""
  for ((i = 1; i <= BROKERS; i++)); do
    out+="${out:+,}$HOST:$((BASE_PORT + i - 1))"
  done
  printf '%s\n' "$out"
}

cmd_pid() {
  local n=${1:-}
  [[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= BROKERS)) || die "pid: give a broker number from 1 to $BROKERS"
  node "$n"
  broker_pid || die "broker $n is not running"
}

# The quorum's leader as the running voters last recorded it (each writes the leader
# and its epoch to quorum-state when it learns of an election): the highest epoch wins.
cmd_controller() {
  local i file best_epoch=-1 best_leader=-1 line epoch leader
  for ((i = 1; i <= BROKERS; i++)); do
    node "$i"
    broker_pid >/dev/null || continue
    file=$DATA_DIR/__cluster_metadata-0/quorum-state
    [[ -r $file ]] || continue
    line=$(tr -d ' \n' <"$file")
    epoch=$(sed -n 's/.*"leaderEpoch":\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$line")
    leader=$(sed -n 's/.*"leaderId":\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$line")
    [[ -n $epoch && -n $leader ]] || continue
    if ((leader >= 1 && epoch > best_epoch)); then
      best_epoch=$epoch
      best_leader=$leader
    fi
  done
  ((best_leader >= 1)) || die "no running broker knows a controller leader"
  printf '%s\n' "$best_leader"
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
  bootstrap) cmd_bootstrap ;;
  version) cmd_version ;;
  pid) cmd_pid "${2:-}" ;;
  controller) cmd_controller ;;
  *)
    echo "usage: $0 start|stop|status|bootstrap|version|pid N|controller" >&2
    exit 2
    ;;
esac
