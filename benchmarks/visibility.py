"""Time to visible: from the app's exit to its whole trace in Jaeger's HTTP API.

The app flushes before it exits, so what is measured is the backend's part: Jaeger
storing the spans (and, on the collector path, the collector's batching and its export
to Jaeger). The two paths take turns. Targets: under 1 s direct, under 1.5 s through
the collector.

    ./benchmarks/run.sh visibility [--quick]
"""

import subprocess
import time
from collections.abc import Sequence

from benchmarks.backends import Backends, running_backends
from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness.app import BASE_ENV, SPANS_PER_TRACE, app_command, exported_trace_id
from jaeger_smoke.api import JaegerClient

QUICK, FULL = 3, 15  # repetitions
POLL = 0.005  # s
TARGETS = {"straight to Jaeger": 1000.0, "through the collector": 1500.0}  # ms


def time_to_visible(stack: Backends, env: dict[str, str]) -> float:
    """ms from the app's exit to the first answer of Jaeger's API with all its spans."""
    result = subprocess.run(app_command(), env={**BASE_ENV, **env}, capture_output=True, text=True, timeout=60)
    exited = time.perf_counter()
    assert result.returncode == 0, result.stderr
    trace_id = exported_trace_id(result.stderr)
    api = JaegerClient(stack.jaeger.query_url)
    while time.perf_counter() - exited < 30:
        found = api.trace(trace_id)
        if found and len(found.spans) == SPANS_PER_TRACE:
            return (time.perf_counter() - exited) * 1000
        time.sleep(POLL)
    raise TimeoutError(f"trace {trace_id} not complete in Jaeger after 30 s")


def run(repetitions: int) -> str:
    with running_backends() as stack:
        envs = {"straight to Jaeger": stack.direct_env, "through the collector": stack.collector_env}
        results = interleaved(
            {name: lambda e=env: time_to_visible(stack, e) for name, env in envs.items()}, repetitions
        )
    rows = []
    for name, values in results.items():
        met = "met" if median(values) < TARGETS[name] else "NOT met"
        rows.append([name, f"{median(values):.1f}", spread(values), f"< {TARGETS[name]:.0f}: {met}"])
    return "\n".join(
        [
            f"Time to visible, ms from the app's exit to its trace in Jaeger's API, median of {repetitions}:",
            "",
            table(["path", "ms", "spread", "target"], rows),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetitions instead of {FULL}")
    print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
