# A three-node RabbitMQ cluster for scripts/brokers (sourced by it): rabbitmq-cluster.
# Three nodes of Debian's RabbitMQ beside the plain and the secure one (own node names, ports, mnesia
# and log directories; all register with the one epmd), clustered through classic peer discovery
# (the config lists the three nodes: node 1 boots first, 2 and 3 join it), so that a quorum queue has
# three replicas and its leader can be killed with SIGKILL mid-stream. One node can be killed and
# started again on its own:
#   bash scripts/brokers kill rabbitmq-cluster N    SIGKILL node N (1-3), as a crash would
#   bash scripts/brokers start rabbitmq-cluster N   start node N again, wait until 3 nodes run
# See README.md, Brokers and "What survives what".

RMQ_CLUSTER_NODES=(1 2 3)
rmq_cluster_port() { echo $((5680 + $1)); } # AMQP 5681 5682 5683 (distribution: 25681-25683)
rmq_cluster_node() { echo "omnibus-c$1@localhost"; }

rabbitmq_cluster_addr() { echo "amqp://127.0.0.1:$(rmq_cluster_port 1)"; }
# The other nodes, as the adapter's `nodes` option takes them (host:port, tried in turn on reconnect).
rmq_cluster_others() {
  local i out=()
  for i in "${RMQ_CLUSTER_NODES[@]:1}"; do out+=("127.0.0.1:$(rmq_cluster_port "$i")"); done
  (IFS=,; echo "${out[*]}")
}
rabbitmq_cluster_install() { [[ " ${NAMES[*]} " == *" rabbitmq "* ]] || rabbitmq_install; }

rmq_cluster_env() { # $1: node
  rabbit_env
  rabbit_node_env "$STATE/rabbitmq-cluster/$1" "$(rmq_cluster_node "$1")" "$(rmq_cluster_port "$1")" \
    "$((20000 + $(rmq_cluster_port "$1")))"
  # No scheduler busy-waiting: three idle VMs would otherwise spin on a machine with two cores.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS +sbwt none +sbwtdcpu none +sbwtdio none"
}
rmq_cluster_ctl() { local i=$1; shift; (rmq_cluster_env "$i" && "$RMQ_BIN/rabbitmqctl" "$@"); }

rabbitmq_cluster_node_running() { running "rabbitmq-cluster/$1"; }

# A node whose VM is not running (so `up` starts the missing ones of a partial cluster).
rabbitmq_cluster_missing() {
  local i
  for i in "${RMQ_CLUSTER_NODES[@]}"; do rabbitmq_cluster_node_running "$i" || return 0; done
  return 1
}

rabbitmq_cluster_node_start() { # $1: node
  local i=$1 d="$STATE/rabbitmq-cluster/$1" n
  mkdir -p "$d/mnesia" "$d/log"
  {
    cat <<EOF
# Written by scripts/brokers on every start; edit scripts/brokers.d/rabbitmq-cluster.sh, not this file.
listeners.tcp.default = 127.0.0.1:$(rmq_cluster_port "$i")
loopback_users.guest = true
# Small limits: three nodes on a shared test machine (the memory alarm blocks publishers past this).
vm_memory_high_watermark.absolute = 512MiB
raft.wal_max_size_bytes = 32000000
# The first boot joins the nodes listed here that already run (node 1 boots first).
cluster_formation.peer_discovery_backend = classic_config
EOF
    for n in "${RMQ_CLUSTER_NODES[@]}"; do echo "cluster_formation.classic_config.nodes.$n = $(rmq_cluster_node "$n")"; done
  } >"$d/rabbitmq.conf"
  echo '[].' >"$d/enabled_plugins"
  : >"$d/rabbitmq-env.conf"
  rm -f "$d/rabbit.pid"
  rabbit_epmd "$d"
  (rmq_cluster_env "$i" && spawn "rabbitmq-cluster/$i" "$d/log/startup.log" "$RMQ_BIN/rabbitmq-server")
}

rabbitmq_cluster_node_wait() { # $1: node, $2: timeout seconds
  rmq_cluster_ctl "$1" -q wait --timeout "$2" "$STATE/rabbitmq-cluster/$1/rabbit.pid" \
    >>"$STATE/rabbitmq-cluster/$1/log/wait.log" 2>&1
}
rabbitmq_cluster_node_log() { echo "$STATE/rabbitmq-cluster/$1/log/rabbit.log"; }

# A fresh cluster boots node 1 first, so that 2 and 3 find it and join (booted together, each
# could start a cluster of its own); nodes that have been clustered before start together.
rabbitmq_cluster_start() {
  local i
  if [[ ! -d $STATE/rabbitmq-cluster/1/mnesia/$(rmq_cluster_node 1) ]]; then
    rabbitmq_cluster_node_start 1 || return 1
    rabbitmq_cluster_node_wait 1 "$(timeout_for rabbitmq-cluster)" || return 1
  fi
  for i in "${RMQ_CLUSTER_NODES[@]}"; do
    rabbitmq_cluster_node_running "$i" || rabbitmq_cluster_node_start "$i" || return 1
  done
}

# Ready when every node's AMQP port accepts connections and node 1 counts three running nodes.
rabbitmq_cluster_probe() {
  local i n
  for i in "${RMQ_CLUSTER_NODES[@]}"; do port_open "$(rmq_cluster_port "$i")" || return 1; done
  for i in "${RMQ_CLUSTER_NODES[@]}"; do
    rabbitmq_cluster_node_running "$i" || continue
    n=$(rmq_cluster_ctl "$i" -q eval 'length(rabbit_nodes:all_running()).' 2>>"$STATE/rabbitmq-cluster/probe.log")
    [[ $n == "${#RMQ_CLUSTER_NODES[@]}" ]]
    return
  done
  return 1
}

rabbitmq_cluster_stop() {
  local i beam
  # Stopped one by one, the last one stopped knows it is the last (each waits for the others at boot).
  for i in "${RMQ_CLUSTER_NODES[@]}"; do
    beam=$(cat "$STATE/rabbitmq-cluster/$i/rabbit.pid" 2>/dev/null)
    if alive "$beam"; then
      rmq_cluster_ctl "$i" -q stop "$STATE/rabbitmq-cluster/$i/rabbit.pid" >>"$STATE/rabbitmq-cluster/$i/log/stop.log" 2>&1
    fi
  done
  rabbit_stop_rest rabbitmq-cluster
}

rabbitmq_cluster_log() {
  local d="$STATE/rabbitmq-cluster/1/log"
  if [[ -s $d/rabbit.log ]]; then echo "$d/rabbit.log"; else echo "$d/startup.log"; fi
}
rabbitmq_cluster_ports() {
  local i
  for i in "${RMQ_CLUSTER_NODES[@]}"; do printf '%s %s ' "$(rmq_cluster_port "$i")" "$((20000 + $(rmq_cluster_port "$i")))"; done
}
rabbitmq_cluster_describe() {
  local i up=""
  for i in "${RMQ_CLUSTER_NODES[@]}"; do rabbitmq_cluster_node_running "$i" && up+=" $i"; done
  echo "RabbitMQ $(dpkg_version rabbitmq-server), 3 clustered nodes (AMQP $(rmq_cluster_port 1)-$(rmq_cluster_port 3)), quorum queues get 3 replicas; nodes running:${up:- none}"
}
rabbitmq_cluster_keeps() { echo "kept across restart ($(rel "$STATE/rabbitmq-cluster")/<node>/mnesia)"; }
