"""The scale pipeline beside all-in-one: sustained spans a second with none lost, and
time from the app's exit to its trace in the query API, in one run on one machine.

Both behind the same OpenTelemetry Collector (compose.collector.yaml): all-in-one 1.55
with Badger (compose.yaml), and the pipeline of compose.scale.yaml (Jaeger collector,
Kafka, ingester, Cassandra, query), each run natively as the tests run it. Every JVM and
Go process shares this machine's cores with the app.

- Sustained: the app's load command at 5,040 spans a second for a few seconds, under a
  service name of its own; spans stored divided by the seconds from the run's start to
  the last span visible in the query API (the backlog Kafka held included), and the
  spans lost (ended by the app, not found).
- Exit to visible: the app's default run (one trace of 9 spans), ms from its exit to
  the whole trace in the query API.

    ./benchmarks/run.sh scale [--quick]
"""

import itertools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from benchmarks.backends import running_backends
from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness import pipeline
from harness.app import BASE_ENV, SPANS_PER_TRACE, app_command, exported_trace_id, load_command
from harness.jaeger_spans import span_count
from harness.servers import Jaeger, wait_until
from harness.user_scripts import collector_token
from jaeger_smoke.api import JaegerClient, JaegerUnreachable

RATE = 560  # traces a second: 5,040 spans a second
POLL = 0.02  # s, for the exit-to-visible time
_runs = itertools.count()


@contextmanager
def both() -> Iterator[dict[str, tuple[Jaeger, dict[str, str]]]]:
    """The two set-ups, running: each one's query API and the app's environment for it."""
    with running_backends() as aio, tempfile.TemporaryDirectory(prefix="benchmark-scale-") as folder:
        config = pipeline.config(collector_token(Path(folder)))
        with pipeline.running_pipeline(config, Path(folder)) as scale:
            yield {
                "all-in-one 1.55 (Badger)": (aio.jaeger, aio.collector_env),
                "scale pipeline (Kafka, Cassandra)": (scale.query, scale.app_env),
            }


def sustained(query: Jaeger, env: dict[str, str], seconds: float) -> dict:
    """One load run under a service name of its own: spans ended, found, and the seconds
    from its start until the last was visible."""
    service = f"bench-scale-{os.getpid()}-{next(_runs)}"
    started = time.time()
    result = subprocess.run(
        load_command("--rate", str(RATE), "--duration", str(seconds)),
        env={**BASE_ENV, **env, "OTEL_SERVICE_NAME": service},
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(result.stdout)
    ended = summary["spans"]["ended"]
    counts: list[tuple[int, float]] = []

    def settled() -> bool:  # all there, or none more for 30 s
        counts.append((span_count(query.query_url, service, started - 1, time.time() + 1, timeout=120), time.time()))
        recent = [count for count, _ in counts[-6:]]
        return counts[-1][0] >= ended or (len(recent) == 6 and len(set(recent)) == 1)

    wait_until(settled, 600, "spans in Jaeger", interval=2)
    found = counts[-1][0]
    # The first poll that found them all: when the last span became visible (to a poll's precision).
    last = next(at for count, at in counts if count == found)
    return {"ended": ended, "found": found, "seconds": last - started, "sent_per_second": ended / summary["seconds"]}


def exit_to_visible(query: Jaeger, env: dict[str, str]) -> float:
    """ms from the app's exit to the first answer of the query API with all its spans."""
    result = subprocess.run(app_command(), env={**BASE_ENV, **env}, capture_output=True, text=True, timeout=60)
    exited = time.perf_counter()
    assert result.returncode == 0, result.stderr
    trace_id = exported_trace_id(result.stderr)
    api = JaegerClient(query.query_url)
    while time.perf_counter() - exited < 60:
        try:
            found = api.trace(trace_id)
        except JaegerUnreachable:
            found = None
        if found and len(found.spans) == SPANS_PER_TRACE:
            return (time.perf_counter() - exited) * 1000
        time.sleep(POLL)
    raise TimeoutError(f"trace {trace_id} not complete after 60 s")


def run(repetitions: int, visibility_repetitions: int, seconds: float) -> str:
    with both() as setups:
        loads: dict[str, Callable[[], dict]] = {
            name: lambda q=query, e=env: sustained(q, e, seconds) for name, (query, env) in setups.items()
        }
        load_results = interleaved(loads, repetitions)
        visible = interleaved(
            {name: lambda q=query, e=env: exit_to_visible(q, e) for name, (query, env) in setups.items()},
            visibility_repetitions,
        )
    rows = []
    for name in load_results:
        runs = load_results[name]
        rates = [each["found"] / each["seconds"] for each in runs]
        sent = median([each["sent_per_second"] for each in runs])
        # Kept up: stored about as fast as the app sent (within 10%: the 2-second polls
        # that look for the last span, and the app's own start, count against it).
        kept_up = "yes" if median(rates) >= 0.9 * sent else "no"
        rows.append(
            [
                name,
                f"{sent:,.0f}",
                f"{median(rates):,.0f}",
                spread(rates, ",.0f"),
                kept_up,
                f"{max(each['ended'] - each['found'] for each in runs):,}",
                f"{sum(each['ended'] for each in runs):,}",
                f"{median(visible[name]):,.0f}",
                spread(visible[name], ",.0f"),
            ]
        )
    headers = [
        "back end (behind the collector)",
        "the app sent, spans/s",
        "sustained spans/s, none lost",
        "spread",
        f"kept up with {RATE * SPANS_PER_TRACE:,} spans/s",
        "lost (worst run)",
        "spans (all runs)",
        "exit to visible, ms",
        "spread",
    ]
    return "\n".join(
        [
            f"The app was offered {RATE * SPANS_PER_TRACE:,} spans/s for {seconds:g} s; sustained = spans stored / s"
            f" from the run's start to the last one visible (median of {repetitions}); exit to visible: median"
            f" of {visibility_repetitions}:",
            "",
            table(headers, rows),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    if benchmark_options(argv, __doc__, "1 load run and 3 exit-to-visible runs each").quick:
        print(run(1, 3, 5))
    else:
        print(run(3, 10, 10))


if __name__ == "__main__":
    main()
