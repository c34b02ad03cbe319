#!/bin/bash
# The stand-in's kafka-run-class.sh: runs a Kafka class on the jars in libs/, taking
# from the environment what upstream's script takes (KAFKA_HEAP_OPTS, KAFKA_LOG4J_OPTS,
# KAFKA_OPTS, LOG_DIR) with the same defaults, and upstream's -name and -loggc options.
# The JVM options every Kafka script adds are in ../standin/jvm-performance.options,
# written from the native tests' own list (harness/kafka.py).
set -euo pipefail
home=$(cd "$(dirname "$0")/.." && pwd)
gc_log=""
while [ $# -gt 0 ]; do
  case "$1" in
    -name) name=$2; shift 2 ;;
    -loggc) gc_log=yes; shift ;;
    -daemon) echo "kafka-run-class.sh (stand-in): -daemon is not supported" >&2; exit 2 ;;
    *) break ;;
  esac
done
# Upstream's default log folder is inside the installation: a read-only root needs LOG_DIR.
LOG_DIR=${LOG_DIR:-$home/logs}
mkdir -p "$LOG_DIR"
gc_options=()
if [ -n "$gc_log" ]; then
  gc_options=("-Xlog:gc*:file=$LOG_DIR/${name:-kafka}-gc.log:time,tags:filecount=10,filesize=100M")
fi
# Word splitting of the *_OPTS variables is wanted: each holds several options.
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx256M} "@$home/standin/jvm-performance.options" "${gc_options[@]}" \
  "-Dkafka.logs.dir=$LOG_DIR" ${KAFKA_LOG4J_OPTS:-} ${KAFKA_OPTS:-} -cp "$home/libs/*" "$@"
