"""Memory per queued span: what sizes the queues in compose.yaml and the collector config.

Two queues hold spans that could not be sent yet: the app's (the SDK's batch span
processor, OTEL_BSP_MAX_QUEUE_SIZE) and the collector's sending queue towards Jaeger
(`queue_size`, in spans). Their sizes are memory: measured here as the growth of the
process's resident memory per span held, the app's spans kept in a list as the queue
keeps them, the collector's queued while Jaeger is stopped.

    ./benchmarks/run.sh queue-memory [--quick]
"""

import json
import subprocess
import time
import urllib.request
from collections.abc import Sequence

from prometheus_client.parser import text_string_to_metric_families

from benchmarks.backends import running_backends, worker_output
from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness.app import BASE_ENV, SPANS_PER_TRACE, load_command
from harness.servers import wait_until

TRACES = 20_000  # 180,000 spans
QUICK, FULL = 1, 3  # repetitions


def _resident_kib(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


def _app_worker() -> float:
    """Bytes of resident memory per span held, in this process."""
    from benchmarks.spans import keeping_provider
    from inprocess_grpc import users

    held = keeping_provider()
    before = _resident_kib()
    for _ in range(TRACES):
        users.get_user(100)
    return (_resident_kib() - before) * 1024 / len(held)


def app_bytes_per_span() -> float:
    return float(worker_output("queue_memory"))


def _collector_queue(metrics_port: str) -> int:
    """Spans in the collector's sending queue, from its own metrics (Prometheus text)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "otelcol_exporter_queue_size":
                return int(sample.value)
    raise LookupError("otelcol_exporter_queue_size not in the collector's metrics")


def collector_bytes_per_span() -> float:
    """With Jaeger stopped, the app sends spans the collector must queue."""
    with running_backends() as stack:
        stack.jaeger.server.stop()
        process = stack.collector.server.process
        assert process is not None
        port = stack.collector.server.env["COLLECTOR_METRICS_PORT"]
        before = _resident_kib(process.pid)
        # A queue in the app large enough for the whole run: every span reaches the collector.
        env = {**BASE_ENV, **stack.collector_env, "OTEL_BSP_MAX_QUEUE_SIZE": str(TRACES * SPANS_PER_TRACE)}
        result = subprocess.run(load_command("--repeat", str(TRACES)), env=env, capture_output=True, text=True)
        assert json.loads(result.stdout)["spans"]["exported"] == TRACES * SPANS_PER_TRACE, result.stderr
        wait_until(lambda: _collector_queue(port) >= TRACES * SPANS_PER_TRACE, 30, "spans in the queue")
        time.sleep(1)  # the batch processor's and the queue's own buffers settle
        queued = _collector_queue(port)
        return (_resident_kib(process.pid) - before) * 1024 / queued


def run(repetitions: int) -> str:
    results = interleaved({"app": app_bytes_per_span, "collector": collector_bytes_per_span}, repetitions)
    rows = [
        ["the app (Python SDK)", f"{median(results['app']):,.0f}", spread(results["app"], ",.0f")],
        ["the collector (Go)", f"{median(results['collector']):,.0f}", spread(results["collector"], ",.0f")],
    ]
    return "\n".join(
        [
            f"Memory per queued span, bytes of resident memory, median of {repetitions}"
            f" ({TRACES * SPANS_PER_TRACE:,} spans each):",
            "",
            table(["queue", "bytes per span", "spread"], rows),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetition instead of {FULL}", worker=True)
    if options.worker is not None:
        print(_app_worker())
    else:
        print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
