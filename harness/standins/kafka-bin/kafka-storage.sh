#!/bin/bash
# The stand-in's kafka-storage.sh: KRaft storage (format, random-uuid, info).
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
