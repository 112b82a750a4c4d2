# A three-node Kafka cluster for scripts/brokers (sourced by it): kafka-cluster.
# Three KRaft nodes on loopback, each broker and controller (a controller quorum of 3), replication
# 3 and min.insync.replicas 2, so that a node (or the leader of a partition) can be killed with
# SIGKILL mid-stream without losing a write acknowledged with acks=all. One node can be killed and
# started again on its own:
#   bash scripts/brokers kill kafka-cluster N     SIGKILL node N (1-3), as a crash would
#   bash scripts/brokers start kafka-cluster N    start node N again, wait until the cluster has 3 brokers
# See README.md, Brokers and "What survives what".

KAFKA_CLUSTER_NODES=(1 2 3)
kafka_cluster_port() { echo $((19091 + $1)); }            # clients: 19092 19093 19094
kafka_cluster_controller_port() { echo $((19191 + $1)); } # controllers: 19192 19193 19194

kafka_cluster_addr() {
  local i out=()
  for i in "${KAFKA_CLUSTER_NODES[@]}"; do out+=("127.0.0.1:$(kafka_cluster_port "$i")"); done
  (IFS=,; echo "${out[*]}")
}
kafka_cluster_install() { kafka_install; }

kafka_cluster_write_config() { # $1: node
  local i=$1 d="$STATE/kafka-cluster/$1" voters="" n
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do voters+="${voters:+,}$n@127.0.0.1:$(kafka_cluster_controller_port "$n")"; done
  mkdir -p "$d/data"
  cat >"$d/server.properties" <<EOF
# Written by scripts/brokers on every start; edit scripts/brokers.d/cluster.sh, not this file.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kafka_cluster_port "$i"),CONTROLLER://127.0.0.1:$(kafka_cluster_controller_port "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kafka_cluster_port "$i")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$d/data
# What a production cluster of three has: every write on 3 replicas, acks=all needs 2 of them.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
# A killed node is fenced (its partitions' leadership moves) after 6 s without a heartbeat.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
log.index.size.max.bytes=1048576
EOF
  cp "$STATE/kafka/probe.properties" "$STATE/kafka-cluster/probe.properties" 2>/dev/null ||
    printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=15000\n' >"$STATE/kafka-cluster/probe.properties"
}

kafka_cluster_node_running() { [[ -n $(ours_pids "kafka-cluster/$1") ]]; }
# Node $1 has opened its listener ($2: at most this many seconds), for `start kafka-cluster N`.
kafka_cluster_node_wait() {
  wait_until "$2" 0.2 "kafka_cluster_node_running $1" port_open "$(kafka_cluster_port "$1")"
}
kafka_cluster_node_log() { echo "$STATE/kafka-cluster/$1/kafka.log"; }

# A node whose process is not running (so `up` starts the missing ones of a partial cluster).
kafka_cluster_missing() {
  local i
  for i in "${KAFKA_CLUSTER_NODES[@]}"; do kafka_cluster_node_running "$i" || return 0; done
  return 1
}

kafka_cluster_node_start() { # $1: node
  need_java kafka-cluster || return 1
  local i=$1 d="$STATE/kafka-cluster/$1" home id
  home=$(kafka_home)
  kafka_cluster_write_config "$i"
  if [[ ! -f $d/data/meta.properties ]]; then
    # One cluster id for the three nodes, made once.
    [[ -s $STATE/kafka-cluster/cluster.id ]] ||
      kraft_cluster_id >"$STATE/kafka-cluster/cluster.id"
    id=$(cat "$STATE/kafka-cluster/cluster.id")
    rm -rf "$d/data" && mkdir -p "$d/data"
    if ! kafka_java kafka.tools.StorageTool format --cluster-id="$id" -c "$d/server.properties" >>"$d/kafka.log" 2>&1; then
      err "kafka-cluster: formatting node $i's KRaft storage in $(rel "$d/data") failed"
      tail_log "$d/kafka.log"
      return 1
    fi
  fi
  # shellcheck disable=SC2086
  spawn "kafka-cluster/$i" "$d/kafka.log" "$JAVA" ${OMNIBUS_KAFKA_CLUSTER_HEAP:--Xms128m -Xmx512m} \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF/kafka-log4j2.properties" \
    -cp "$home/libs/*" kafka.Kafka "$d/server.properties"
}

kafka_cluster_start() {
  local i
  for i in "${KAFKA_CLUSTER_NODES[@]}"; do
    kafka_cluster_node_running "$i" || kafka_cluster_node_start "$i" || return 1
  done
}

# Ready when the cluster's metadata lists all three brokers (a quorum, and every node registered).
kafka_cluster_probe() { # $1: at most this many seconds
  need_java kafka-cluster || return 1
  local n
  n=$(timeout "${1:-30}" "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$CONF/kafka-tools-log4j2.properties" -cp "$(kafka_home)/libs/*" \
    org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$(kafka_cluster_addr)" \
    --command-config "$STATE/kafka-cluster/probe.properties" 2>>"$STATE/kafka-cluster/probe.log" |
    grep -c '(id: [0-9]')
  [[ $n == "${#KAFKA_CLUSTER_NODES[@]}" ]]
}

kafka_cluster_stop() { kill_all kafka-cluster 60; }
kafka_cluster_log() { echo "$STATE/kafka-cluster/1/kafka.log"; }
kafka_cluster_ports() {
  local i
  for i in "${KAFKA_CLUSTER_NODES[@]}"; do printf '%s %s ' "$(kafka_cluster_port "$i")" "$(kafka_cluster_controller_port "$i")"; done
}
kafka_cluster_describe() {
  local i up=""
  for i in "${KAFKA_CLUSTER_NODES[@]}"; do kafka_cluster_node_running "$i" && up+=" $i"; done
  echo "Apache Kafka $(kafka_version), 3 KRaft nodes (broker+controller), replication 3, min ISR 2; nodes running:${up:- none}"
}
kafka_cluster_keeps() { echo "kept across restart ($(rel "$STATE/kafka-cluster")/<node>/data)"; }

cluster_node_arg() { # $1: kafka-cluster or rabbitmq-cluster, $2: the node
  if [[ ! ${2:-} =~ ^[1-3]$ ]]; then
    err "$1: give a node number, 1 to 3"
    exit 2
  fi
}

# SIGKILL node $2 of cluster $1: no shutdown, no leadership handover, as a crash or an OOM kill
# would. Not an epmd the node started: every Erlang node on the machine uses it.
cmd_node_kill() {
  cluster_node_arg "$1" "${2:-}"
  local p pids=""
  for p in $(ours_pids "$1/$2"); do [[ $(cmd_of "$p") == *epmd* ]] || pids+=" $p"; done
  if [[ -z $pids ]]; then
    say "$1: node $2 was not running"
    return 0
  fi
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  wait_until 10 0.1 "" not running "$1/$2"
  say "$1: node $2 killed (SIGKILL, pid$pids)"
}
