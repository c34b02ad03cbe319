"""Run the benchmarks and print their tables: `python -m benchmarks [NAME ...] [--quick]`,
as ./benchmarks/run.sh does (with the app and smoke/src on PYTHONPATH)."""

import argparse
import time

from benchmarks import (
    cold_start,
    export_cost,
    flood,
    overhead,
    queue_memory,
    scale,
    smoke_check,
    throughput,
    visibility,
)
from benchmarks.side_by_side import machine

BENCHMARKS = {
    "overhead": overhead.main,
    "throughput": throughput.main,
    "export-cost": export_cost.main,
    "visibility": visibility.main,
    "cold-start": cold_start.main,
    "queue-memory": queue_memory.main,
    "flood": flood.main,
    "scale": scale.main,
    "smoke-check": smoke_check.main,
}

parser = argparse.ArgumentParser(description="Every figure of docs/project/performance.md.")
parser.add_argument("names", nargs="*", metavar="NAME", help=f"some of: {', '.join(BENCHMARKS)} (default: all)")
parser.add_argument("--quick", action="store_true", help="fewer repetitions: for a look, not for the docs")
args = parser.parse_args()
if unknown := set(args.names) - set(BENCHMARKS):
    parser.error(f"no benchmark named {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
print(f"Machine: {machine()}. {time.strftime('%Y-%m-%d')}.\n")
for name in args.names or BENCHMARKS:
    print(f"## {name}\n", flush=True)
    BENCHMARKS[name](["--quick"] if args.quick else [])
    print(flush=True)
