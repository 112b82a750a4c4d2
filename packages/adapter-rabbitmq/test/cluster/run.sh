#!/usr/bin/env bash
# The RabbitMQ cluster's suite, at the end of the package's tests (npm test): the conformance suite
# (its own `conformance rabbitmq-cluster:` line) and the failover tests (test/cluster) on the
# three-node cluster, which scripts/cluster-suite starts and stops around them (up in about 10-18 s,
# down in about 8 s here). Same as `npm run conformance -- rabbitmq-cluster`, without the build.
#   bash test/cluster/run.sh [STATUS]   STATUS: the exit status of the tests before, passed on
#   OMNIBUS_RABBITMQ_CLUSTER=0          skips it (iterating on the single-node tests)
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1 # packages/adapter-rabbitmq
exec bash ../../scripts/cluster-suite rabbitmq-cluster OMNIBUS_RABBITMQ_CLUSTER "${1:-0}" test/cluster --no-file-parallelism
