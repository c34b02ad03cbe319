"""Throughput and loss: the app's load mode at rising rates, on each path.

For each path (straight to Jaeger, through the collector; OTLP/gRPC as the app ships,
OTLP/HTTP side by side under `opentelemetry-instrument`), each batch set-up (the SDK's
defaults, and the OTEL_BSP_* values compose.yaml sets) and each rate, the app runs
for a few seconds under its own service name. Reported: the spans a second it
sustained, its CPU, and the spans lost: ended by the app minus found in Jaeger,
counted through Jaeger's HTTP API. Then the target run: at least 100,000 spans through
the collector, asked at the target rate. Where a process's time goes when it cannot
keep up: benchmarks/export_cost.py.

    ./benchmarks/run.sh throughput [--quick]
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from benchmarks.backends import Backends, running_backends
from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness.app import BASE_ENV, SPANS_PER_TRACE, load_command
from harness.jaeger_spans import span_count
from harness.servers import wait_until

RATES = (1000, 2000, 3000)  # traces a second; x SPANS_PER_TRACE spans
TARGET_SPANS_PER_SECOND = 30_000
TARGET_SPANS = 100_000


def _paths(stack: Backends) -> dict[str, tuple[dict[str, str], tuple[str, ...]]]:
    """The app's environment and launcher for each path."""
    instrument = shutil.which("opentelemetry-instrument", path=os.path.dirname(sys.executable))
    assert instrument, "opentelemetry-distro is in requirements-dev.txt"
    http = {"OTEL_TRACES_EXPORTER": "otlp_proto_http"}
    return {
        "Jaeger, gRPC": (stack.direct_env, ()),
        "collector, gRPC": (stack.collector_env, ()),
        "Jaeger, HTTP": (
            {**stack.direct_env, **http, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{stack.jaeger.otlp_http}"},
            (instrument,),
        ),
        "collector, HTTP": (
            {**stack.collector_env, **http, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{stack.collector.otlp_http}"},
            (instrument,),
        ),
    }


def _sdk_defaults(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if not name.startswith("OTEL_BSP_")}


_runs = itertools.count()


def load_run(stack: Backends, env: dict[str, str], launcher: tuple[str, ...], *args: str) -> dict:
    """One load run under a service name of its own; its summary, and the spans Jaeger got."""
    service = f"bench-{os.getpid()}-{next(_runs)}"
    started = time.time()
    result = subprocess.run(
        load_command(*args, launcher=launcher),
        env={**BASE_ENV, **env, "OTEL_SERVICE_NAME": service},
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(result.stdout)
    ended = summary["spans"]["ended"]
    counts: list[int] = []

    def settled() -> bool:  # all there, or none more for 4 s
        counts.append(span_count(stack.jaeger.query_url, service, started - 1, time.time() + 1, timeout=120))
        return counts[-1] >= ended or (len(counts) >= 3 and counts[-1] == counts[-2] == counts[-3])

    wait_until(settled, 120, "spans in Jaeger", interval=2)
    return {**summary, "found": counts[-1], "lost": ended - counts[-1], "status": result.returncode}


def _row(name: str, runs: list[dict]) -> list[object]:
    """Created and delivered a second: over the whole run, the final flush included."""
    created = [run["spans"]["ended"] / run["seconds"] for run in runs]
    rate = [run["found"] / run["seconds"] for run in runs]
    cpu = [100 * run["cpu_seconds"] / run["seconds"] for run in runs]
    lost = [run["lost"] for run in runs]
    ended = [run["spans"]["ended"] for run in runs]
    return [
        *name.split(" | "),
        f"{median(created):,.0f}",
        f"{median(rate):,.0f}",
        spread(rate, ",.0f"),
        f"{median(cpu):.0f}%",
        f"{max(lost):,}",
        f"{sum(ended):,}",
    ]


def run(repetitions: int, rates: Sequence[int], duration: float) -> str:
    with running_backends() as stack:
        paths = _paths(stack)
        variants: dict[str, Callable[[], dict]] = {}
        for (path, (env, launcher)), batch, rate in itertools.product(
            paths.items(), ("SDK defaults", "compose"), rates
        ):
            batch_env = env if batch == "compose" else _sdk_defaults(env)
            name = f"{path} | {batch} | {rate * SPANS_PER_TRACE:,}"
            args = ("--rate", str(rate), "--duration", str(duration))
            variants[name] = lambda e=batch_env, lc=launcher, a=args: load_run(stack, e, lc, *a)
        target_rate = str(TARGET_SPANS_PER_SECOND / SPANS_PER_TRACE)
        target_repeat = str(-(-TARGET_SPANS // SPANS_PER_TRACE))
        target = "collector, gRPC | compose | target"
        variants[target] = lambda: load_run(
            stack, stack.collector_env, (), "--rate", target_rate, "--repeat", target_repeat
        )
        results = interleaved(variants, repetitions)

    headers = [
        "path",
        "batch settings",
        "asked spans/s",
        "created spans/s",
        "delivered spans/s",
        "spread",
        "app CPU",
        "lost (worst run)",
        "spans (all runs)",
    ]
    target_runs = results[target]
    sustained = median([r["found"] / r["seconds"] for r in target_runs])
    lost = max(r["lost"] for r in target_runs)
    met = sustained >= TARGET_SPANS_PER_SECOND and lost == 0
    return "\n".join(
        [
            f"Throughput and loss, median of {repetitions} interleaved runs of {duration:g} s each:",
            "",
            table(headers, [_row(name, runs) for name, runs in results.items()]),
            "",
            f"- target, ≥ {TARGET_SPANS_PER_SECOND:,} spans/s through the collector with none lost over"
            f" {TARGET_SPANS:,} spans: {sustained:,.0f} spans/s, {lost:,} lost: {'met' if met else 'NOT met'}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    if benchmark_options(argv, __doc__, "1 repetition, 2 rates, 2 s runs").quick:
        print(run(1, RATES[::2], 2))
    else:
        print(run(3, RATES, 4))


if __name__ == "__main__":
    main()
