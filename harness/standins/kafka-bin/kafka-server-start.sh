#!/bin/bash
# The stand-in's kafka-server-start.sh: upstream's defaults (a 1 GB heap, a GC log),
# then the broker. Its log4j2.yaml default is not here: set KAFKA_LOG4J_OPTS.
set -euo pipefail
[ $# -ge 1 ] || { echo "USAGE: $0 server.properties [--override property=value]*" >&2; exit 1; }
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}
# shellcheck disable=SC2086
exec "$(dirname "$0")/kafka-run-class.sh" ${EXTRA_ARGS--name kafkaServer -loggc} kafka.Kafka "$@"
