# Secured brokers for scripts/brokers (sourced by it): kafka-secure and rabbitmq-secure.
# A local CA and certificates made with openssl, a second Kafka KRaft node with SASL_SSL and
# ACLs, and a second RabbitMQ node with TLS only, users limited to vhosts, and mutual TLS.
# Passwords are random, made once, and kept in files under .brokers/ (mode 600); nothing in
# this file is a secret. See README.md, Security.

KAFKA_SECURE_PORT=9094
KAFKA_SECURE_CONTROLLER_PORT=9095
RABBIT_SECURE_PORT=5671
RABBIT_SECURE_DIST_PORT=25673
RABBIT_SECURE_NODE=omnibus-secure@localhost
CERTS="$STATE/certs"

# ---------------------------------------------------------------- certificates

# One certificate signed by CA $1 (ca or rogue): name, subject CN, days, extensions.
secure_cert() {
  local ca=$1 name=$2 cn=$3 days=$4 ext=$5 d=$6
  openssl req -newkey rsa:2048 -nodes -keyout "$d/$name.key" -out "$d/$name.csr" -subj "/CN=$cn" 2>/dev/null &&
    printf '%s\n' "$ext" >"$d/$name.ext" &&
    openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" -CAcreateserial \
      -days "$days" -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null &&
    rm -f "$d/$name.csr" "$d/$name.ext"
}

# The CA, the brokers' certificate (localhost, 127.0.0.1), RabbitMQ client certificates (one
# good, one expired, one (untrusted) from a CA nobody trusts), made once into .brokers/certs.
secure_certs() {
  [[ -f $CERTS/.complete ]] && return 0
  if ! command -v openssl >/dev/null 2>&1; then
    err "secure: openssl not found; install it (apt-get install openssl)"
    return 1
  fi
  local d="$CERTS.tmp.$$" ca
  rm -rf "$d" && mkdir -p "$d" && chmod 700 "$d"
  for ca in ca rogue; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/$ca.key" -out "$d/$ca.pem" -days 3650 \
      -subj "/CN=Omnibus test $ca CA" -addext 'basicConstraints=critical,CA:TRUE' \
      -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null || { rm -rf "$d"; err "secure: openssl could not make the $ca CA"; return 1; }
  done
  local server='subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth' client='extendedKeyUsage=clientAuth'
  if ! secure_cert ca server localhost 3650 "$server" "$d" ||
    ! secure_cert ca client omnibus-cert 3650 "$client" "$d" ||
    ! secure_cert ca expired omnibus-cert 0 "$client" "$d" ||
    ! secure_cert rogue untrusted omnibus-cert 3650 "$client" "$d"; then
    rm -rf "$d"
    err "secure: openssl could not make the certificates"
    return 1
  fi
  # Kafka reads its key and chain from one PEM file.
  cat "$d/server.key" "$d/server.pem" >"$d/server-keystore.pem"
  rm -f "$d"/*.srl
  chmod 600 "$d"/*.key "$d/server-keystore.pem"
  touch "$d/.complete"
  # Another `up` may have made them meanwhile: keep whichever came first.
  mv -T "$d" "$CERTS" 2>/dev/null || rm -rf "$d"
}

# A password for user $2 of broker $1, made once: .brokers/<broker>/secrets/<user>.password.
secure_password() {
  local f="$STATE/$1/secrets/$2.password"
  if [[ ! -s $f ]]; then
    mkdir -p "$STATE/$1/secrets" && chmod 700 "$STATE/$1/secrets"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$f")
  fi
  cat "$f"
}

# ---------------------------------------------------------------- kafka-secure

# Users: admin (super user, also the broker's own), omnibus (the suite's: SCRAM-SHA-512/256 and
# PLAIN), tenant-a and tenant-b (SCRAM-SHA-512, each its own topic and group prefix).
KAFKA_SECURE_USERS=(admin omnibus tenant-a tenant-b)

# OAUTHBEARER tokens are signed with .brokers/kafka-secure/oauth/signing.key, which stands in for an
# identity provider (the tests mint tokens with it); the broker holds only its public half, as JWKS.
KAFKA_SECURE_AUDIENCE=omnibus-kafka
KAFKA_SECURE_ISSUER=urn:omnibus:test-idp
kafka_secure_oauth_keys() {
  local d="$STATE/kafka-secure/oauth" n
  [[ -s $d/jwks.json ]] && return 0
  mkdir -p "$d" && chmod 700 "$d"
  (umask 077 && openssl genrsa -out "$d/signing.key" 2048 2>/dev/null) || {
    err "kafka-secure: openssl could not make the token signing key"
    return 1
  }
  # The modulus as base64url, as a JWK wants it; genrsa's exponent is 65537 (AQAB).
  n=$(openssl rsa -in "$d/signing.key" -noout -modulus | cut -d= -f2 | xxd -r -p | basenc --base64url -w0 | tr -d =)
  printf '{"keys":[{"kty":"RSA","kid":"omnibus-test","use":"sig","alg":"RS256","n":"%s","e":"AQAB"}]}\n' "$n" \
    >"$d/jwks.json"
}

kafka_secure_addr() { echo "127.0.0.1:$KAFKA_SECURE_PORT"; }
# The same jars as kafka: when kafka is being installed in the same run, that install fetches them
# (two at once would share one temporary folder).
kafka_secure_install() { [[ " ${NAMES[*]} " == *" kafka "* ]] || kafka_install; }

kafka_secure_write_config() {
  local d="$STATE/kafka-secure" admin omnibus
  mkdir -p "$d/data"
  admin=$(secure_password kafka-secure admin)
  omnibus=$(secure_password kafka-secure omnibus)
  (
    umask 077
    cat >"$d/server.properties" <<EOF
# Written by scripts/brokers on every start; edit scripts/brokers.d/secure.sh, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT
listeners=SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT,CONTROLLER://127.0.0.1:$KAFKA_SECURE_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL
# Clients: SCRAM (users in the metadata log), PLAIN (users below) or OAUTHBEARER (RS256 tokens for
# audience omnibus-kafka from issuer urn:omnibus:test-idp, checked against the JWKS file; the
# token's sub is the principal); the node itself: PLAIN as admin.
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
sasl.oauthbearer.jwks.endpoint.url=file://$d/oauth/jwks.json
sasl.oauthbearer.expected.audience=$KAFKA_SECURE_AUDIENCE
sasl.oauthbearer.expected.issuer=$KAFKA_SECURE_ISSUER
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin" user_omnibus="$omnibus";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin";
ssl.keystore.type=PEM
ssl.keystore.location=$CERTS/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
ssl.enabled.protocols=TLSv1.3,TLSv1.2
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=$d/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
log.index.size.max.bytes=1048576
EOF
    # The admin client the script itself uses (probe, ACLs, users).
    cat >"$d/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin";
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
request.timeout.ms=5000
default.api.timeout.ms=15000
EOF
  )
}

kafka_secure_start() {
  need_java kafka-secure || return 1
  secure_certs || return 1
  kafka_secure_oauth_keys || return 1
  local d="$STATE/kafka-secure" home u scram=()
  home=$(kafka_home)
  kafka_secure_write_config
  if [[ ! -f $d/data/meta.properties ]]; then
    rm -rf "$d/data" && mkdir -p "$d/data"
    for u in "${KAFKA_SECURE_USERS[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$(secure_password kafka-secure "$u")]")
    done
    scram+=(--add-scram "SCRAM-SHA-256=[name=omnibus,password=$(secure_password kafka-secure omnibus)]")
    if ! kafka_java kafka.tools.StorageTool format --standalone --cluster-id="$(kraft_cluster_id)" -c "$d/server.properties" \
      "${scram[@]}" >>"$d/kafka.log" 2>&1; then
      err "kafka-secure: formatting the KRaft storage in $(rel "$d/data") failed"
      tail_log "$d/kafka.log"
      return 1
    fi
    rm -f "$d/acls.done"
  fi
  # shellcheck disable=SC2086
  spawn kafka-secure "$d/kafka.log" "$JAVA" ${OMNIBUS_KAFKA_HEAP:--Xms256m -Xmx1g} -XX:+UseG1GC \
    -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls="file://$d/oauth/jwks.json" \
    -Dlog4j2.configurationFile="$CONF/kafka-log4j2.properties" \
    -cp "$home/libs/*" kafka.Kafka "$d/server.properties"
}

# ACLs (kept in the metadata log, so set once per storage, and again when this list changes: the
# version in acls.done): each user may do everything on its own topic and group prefixes and
# nothing else. A tenant's groups are named omnibus.<tenant>.… by a tenant-scoped bus (the
# adapter's default groupPrefix before the tenant's prefix), its topics <tenant>.….
KAFKA_SECURE_ACLS_VERSION=2
kafka_secure_acls() {
  local d="$STATE/kafka-secure" spec user topics groups p
  [[ $(cat "$d/acls.done" 2>/dev/null) == "$KAFKA_SECURE_ACLS_VERSION" ]] && return 0
  for spec in 'omnibus|com.omnibus. omnibus.|com.omnibus. omnibus.' \
    'tenant-a|tenant-a.|tenant-a. omnibus.tenant-a.' 'tenant-b|tenant-b.|tenant-b. omnibus.tenant-b.'; do
    IFS='|' read -r user topics groups <<<"$spec"
    local args=()
    for p in $topics; do args+=(--topic "$p"); done
    for p in $groups; do args+=(--group "$p"); done
    if ! kafka_java org.apache.kafka.tools.AclCommand --bootstrap-server "127.0.0.1:$KAFKA_SECURE_PORT" \
      --command-config "$d/admin.properties" --add --allow-principal "User:$user" --operation All \
      --resource-pattern-type prefixed "${args[@]}" >>"$d/acls.log" 2>&1; then
      err "kafka-secure: adding the ACLs of $user failed; see $(rel "$d/acls.log")"
      return 1
    fi
  done
  echo "$KAFKA_SECURE_ACLS_VERSION" >"$d/acls.done"
}

# A real client operation as admin over SASL_SSL (list topics), then the ACLs once.
kafka_secure_probe() {
  need_java kafka-secure || return 1
  local d="$STATE/kafka-secure"
  timeout "${1:-30}" "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$CONF/kafka-tools-log4j2.properties" -cp "$(kafka_home)/libs/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_SECURE_PORT" \
    --command-config "$d/admin.properties" --list >/dev/null 2>>"$d/probe.log" || return 1
  kafka_secure_acls
}

kafka_secure_stop() { kill_all kafka-secure 60; }
kafka_secure_log() { echo "$STATE/kafka-secure/kafka.log"; }
kafka_secure_ports() { echo "$KAFKA_SECURE_PORT $KAFKA_SECURE_CONTROLLER_PORT"; }
kafka_secure_describe() {
  echo "Apache Kafka $(kafka_version) SASL_SSL (SCRAM-SHA-512/256, PLAIN, OAUTHBEARER), ACLs; users ${KAFKA_SECURE_USERS[*]}, passwords in $(rel "$STATE/kafka-secure/secrets"), token key $(rel "$STATE/kafka-secure/oauth/signing.key"), CA $(rel "$CERTS/ca.pem")"
}
kafka_secure_keeps() { echo "kept across restart ($(rel "$STATE/kafka-secure/data"))"; }

# ---------------------------------------------------------------- rabbitmq-secure

# A second node of Debian's RabbitMQ beside the plain one (own node name, ports, mnesia and
# log directories; both register with the one epmd), TLS only.
rabbit_secure_env() {
  rabbit_env
  rabbit_node_env "$STATE/rabbitmq-secure" "$RABBIT_SECURE_NODE" "$RABBIT_SECURE_PORT" "$RABBIT_SECURE_DIST_PORT"
}

rabbit_secure_ctl() { (rabbit_secure_env && "$RMQ_BIN/rabbitmqctl" "$@"); }

rabbitmq_secure_addr() { echo "amqps://127.0.0.1:$RABBIT_SECURE_PORT"; }
rabbitmq_secure_install() { [[ " ${NAMES[*]} " == *" rabbitmq "* ]] || rabbitmq_install; }

# RabbitMQ's own password hash (rabbit_password_hashing_sha256) of stdin: base64(salt + sha256(salt + password)).
rabbit_hash() {
  python3 -c 'import base64,hashlib,os,sys; s=os.urandom(4); print(base64.b64encode(s+hashlib.sha256(s+sys.stdin.read().encode()).digest()).decode())'
}

# Users, vhosts and permissions, imported in one call. omnibus (password) and omnibus-cert
# (EXTERNAL: the client certificate's CN, no password) may use names starting com.omnibus. or
# omnibus. in vhost omnibus; outsider may use only vhost other; tenant-a and tenant-b their own vhost.
rabbitmq_secure_definitions() {
  local u users="" p
  for u in omnibus outsider tenant-a tenant-b; do
    p=$(secure_password rabbitmq-secure "$u")
    users+="{\"name\":\"$u\",\"password_hash\":\"$(printf '%s' "$p" | rabbit_hash)\",\"hashing_algorithm\":\"rabbit_password_hashing_sha256\",\"tags\":[]},"
  done
  local own='^(com\\.omnibus\\.|omnibus\\.).*' write='^(com\\.omnibus\\.|omnibus\\.|amq\\.default$).*'
  cat <<EOF
{"users":[${users}{"name":"omnibus-cert","password_hash":"","tags":[]}],
 "vhosts":[{"name":"omnibus"},{"name":"other"},{"name":"tenant-a"},{"name":"tenant-b"}],
 "permissions":[
  {"user":"omnibus","vhost":"omnibus","configure":"$own","write":"$write","read":"$own"},
  {"user":"omnibus-cert","vhost":"omnibus","configure":"$own","write":"$write","read":"$own"},
  {"user":"outsider","vhost":"other","configure":".*","write":".*","read":".*"},
  {"user":"tenant-a","vhost":"tenant-a","configure":".*","write":".*","read":".*"},
  {"user":"tenant-b","vhost":"tenant-b","configure":".*","write":".*","read":".*"},
  {"user":"admin","vhost":"omnibus","configure":".*","write":".*","read":".*"}]}
EOF
}

rabbitmq_secure_start() {
  secure_certs || return 1
  local d="$STATE/rabbitmq-secure" admin
  mkdir -p "$d/mnesia" "$d/log"
  admin=$(secure_password rabbitmq-secure admin)
  (
    umask 077
    cat >"$d/rabbitmq.conf" <<EOF
# Written by scripts/brokers on every start; edit scripts/brokers.d/secure.sh, not this file.
listeners.tcp = none
listeners.ssl.default = 127.0.0.1:$RABBIT_SECURE_PORT
ssl_options.cacertfile = $CERTS/ca.pem
ssl_options.certfile = $CERTS/server.pem
ssl_options.keyfile = $CERTS/server.key
ssl_options.verify = verify_peer
# Password users may come without a certificate; one that is sent must be valid.
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
# The first boot creates this administrator instead of guest.
default_user = admin
default_pass = $admin
default_vhost = omnibus
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
EOF
  )
  echo '[rabbitmq_auth_mechanism_ssl].' >"$d/enabled_plugins"
  : >"$d/rabbitmq-env.conf"
  rm -f "$d/rabbit.pid"
  rabbit_epmd "$d"
  (rabbit_secure_env && spawn rabbitmq-secure "$d/log/startup.log" "$RMQ_BIN/rabbitmq-server")
}

rabbitmq_secure_wait() {
  local d="$STATE/rabbitmq-secure"
  rabbit_secure_ctl -q wait --timeout "$1" "$d/rabbit.pid" >>"$d/log/wait.log" 2>&1
}

# The node runs and its TLS listener accepts connections; then the users, once per mnesia.
rabbitmq_secure_probe() {
  local d="$STATE/rabbitmq-secure"
  (rabbit_secure_env && "$RMQ_BIN/rabbitmq-diagnostics" -q check_running >/dev/null 2>&1 &&
    "$RMQ_BIN/rabbitmq-diagnostics" -q check_port_connectivity >/dev/null 2>&1) || return 1
  [[ -f $d/mnesia/.omnibus-users ]] && return 0
  (umask 077 && rabbitmq_secure_definitions >"$d/definitions.json")
  if ! rabbit_secure_ctl -q import_definitions "$d/definitions.json" >>"$d/log/users.log" 2>&1; then
    err "rabbitmq-secure: importing users and permissions failed; see $(rel "$d/log/users.log")"
    return 1
  fi
  rm -f "$d/definitions.json"
  touch "$d/mnesia/.omnibus-users"
}

rabbitmq_secure_stop() {
  local d="$STATE/rabbitmq-secure" beam
  beam=$(cat "$d/rabbit.pid" 2>/dev/null)
  if alive "$beam"; then
    (rabbit_secure_env && timeout 60 "$RMQ_BIN/rabbitmqctl" -q stop "$d/rabbit.pid") >>"$d/log/stop.log" 2>&1
  fi
  rabbit_stop_rest rabbitmq-secure
}

rabbitmq_secure_log() {
  local d="$STATE/rabbitmq-secure/log"
  if [[ -s $d/rabbit.log ]]; then echo "$d/rabbit.log"; else echo "$d/startup.log"; fi
}
rabbitmq_secure_ports() { echo "$RABBIT_SECURE_PORT $RABBIT_SECURE_DIST_PORT"; }
rabbitmq_secure_describe() {
  echo "RabbitMQ $(dpkg_version rabbitmq-server) node $RABBIT_SECURE_NODE, TLS 1.2/1.3 only, EXTERNAL (client certificate) and PLAIN; vhost omnibus, passwords in $(rel "$STATE/rabbitmq-secure/secrets")"
}
rabbitmq_secure_keeps() { echo "kept across restart ($(rel "$STATE/rabbitmq-secure/mnesia"))"; }

# Where the tests look (the script always uses the fixed ports above).
secure_env() {
  say "export OMNIBUS_KAFKA_SECURE_BROKERS=${OMNIBUS_KAFKA_SECURE_BROKERS:-127.0.0.1:$KAFKA_SECURE_PORT}"
  say "export OMNIBUS_RABBITMQ_SECURE_URL=${OMNIBUS_RABBITMQ_SECURE_URL:-amqps://127.0.0.1:$RABBIT_SECURE_PORT/omnibus}"
  say "export OMNIBUS_SECURE_DIR=${OMNIBUS_SECURE_DIR:-$STATE}"
}
