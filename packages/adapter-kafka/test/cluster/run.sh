#!/usr/bin/env bash
# The Kafka cluster's suite, run at the end of the package's tests (npm test) with its own report
# (.results/vitest-cluster.json): brings the three-node cluster up if it is not, runs the
# conformance suite and the failover tests (test/cluster) on it, and takes the cluster down again
# if it started it (three JVMs: not left running after a test run).
#   bash test/cluster/run.sh [STATUS]   STATUS: the exit status of the tests before, passed on
#   OMNIBUS_KAFKA_CLUSTER=0             skips it (iterating on the single-broker tests)
# Same as `npm run conformance -- kafka-cluster`, without the build.
set -uo pipefail
before=${1:-0}
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1 # packages/adapter-kafka
brokers=../../scripts/brokers
if [ "${OMNIBUS_KAFKA_CLUSTER:-1}" = 0 ]; then
  echo "[omnibus] the kafka-cluster suite is skipped (OMNIBUS_KAFKA_CLUSTER=0)"
  exit "$before"
fi
start=$SECONDS
started=0
if ! bash "$brokers" status kafka-cluster | grep -q '^kafka-cluster *up '; then
  bash "$brokers" up kafka-cluster || { bash "$brokers" down kafka-cluster >/dev/null 2>&1; exit 1; }
  started=1
fi
eval "$(bash "$brokers" env kafka-cluster)"
rm -f .results/conformance-kafka-cluster.txt .results/kafka-cluster-*.txt
npx vitest run test/conformance.test.ts test/cluster \
  --reporter=default --reporter=json --outputFile.json=.results/vitest-cluster.json
status=$?
cat .results/kafka-cluster-*.txt 2>/dev/null
[ "$started" = 1 ] && bash "$brokers" down kafka-cluster
echo "[omnibus] the kafka-cluster suite took $((SECONDS - start)) s (cluster up and down included)"
[ "$before" = 0 ] || exit "$before"
exit "$status"
