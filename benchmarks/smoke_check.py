"""The smoke test's verdict time, and the settle it waits for, measured on the real Jaeger.

1. How late Jaeger stores a span: ms from the OK of a span's export (each span its own
   export, as a process exporting as its spans end does) to the span in Jaeger's api_v3,
   polled every 2 ms. Jaeger v2 writes through its batch processor and exporter, so a
   span the receiver acknowledged is stored later: the smoke test's settle (--settle,
   jaeger_smoke.poll.SETTLE) must cover the longest such lag.
2. ms from the app's exit to the verdict (status 0), for the app's trace (9 spans) and
   a 501-span one (the app looking up users 1 to 125; its expectation recorded by
   `--record` from a first run): the old smoke test (scripts/smoke_test.py and
   scripts/jaeger_api.py of commit e0182e6, read from git history: the /api/traces
   search, a verdict on the first answer that matches), the new one (jaeger-smoke:
   api_v3, a verdict once the complete trace stayed the same for the settle), and
   Jaeger's own answer (one GET /api/v3/traces/<id> of the stored trace, in-process).
   The smoke tests start a fresh interpreter each time; the variants take turns.

The old smoke test needs the repository's history; in a shallow clone the table leaves
it out and says how to get it (`git fetch --unshallow`).

    ./benchmarks/run.sh smoke-check [--quick]
"""

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness import compose
from harness.app import exported_trace_id, run_app
from harness.native import running_jaeger_as_configured
from harness.servers import Jaeger, wait_until
from harness.smoke import old_smoke_test, run_old_smoke_test, run_smoke_test
from jaeger_smoke.api import JaegerClient
from jaeger_smoke.poll import SETTLE

QUICK, FULL = 3, 15  # repetitions
JAEGERS = {"Jaeger 1.55": ("compose.yaml",), "Jaeger v2 (2.13)": ("compose.yaml", "compose.jaeger-v2.yaml")}
CHECK_TIMEOUT = "60"  # s, the smoke tests' own bound
LAG_SPANS = 100  # spans per store-lag run, each its own export
BIG_USERS = [str(user) for user in range(1, 126)]  # main, and 4 spans a user: 501 spans
TRACES = {"app's trace (9 spans)": ["1", "100"], "501 spans": BIG_USERS}
# Each trace under a service of its own: a search answers whole traces, and the app's
# trace's should not carry the big ones.
SERVICES = {"app's trace (9 spans)": "inprocess-grpc", "501 spans": "inprocess-grpc-501"}


@contextmanager
def both_jaegers(folder: Path) -> Iterator[dict[str, tuple[Jaeger, dict[str, str]]]]:
    """Each Jaeger, running as compose configures it, and the app's environment for it."""
    with ExitStack() as stack:
        running = {}
        for name, files in JAEGERS.items():
            config = compose.resolve(*files)
            place = folder / name.split()[1]
            place.mkdir()
            jaeger = stack.enter_context(running_jaeger_as_configured(config, place))
            running[name] = (jaeger, compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc}))
        yield running


class _Acknowledged(SpanExporter):
    """The OTLP exporter, noting when each span's export was acknowledged."""

    def __init__(self, endpoint: str) -> None:
        self.exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True)
        self.at: dict[str, float] = {}

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.exporter.export(spans)
        now = time.perf_counter()
        assert result is SpanExportResult.SUCCESS
        self.at |= {f"{span.context.span_id:016x}": now for span in spans}
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()


def store_lags(jaeger: Jaeger, run: int) -> list[float]:
    """ms from each span's acknowledged export to the span in Jaeger's API."""
    exporter = _Acknowledged(jaeger.otlp_grpc)
    provider = TracerProvider(resource=Resource.create({"service.name": f"store-lag-{run}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client, seen, done = JaegerClient(jaeger.query_url), dict[str, float](), threading.Event()
    tracer = provider.get_tracer("benchmarks.smoke_check")
    with tracer.start_as_current_span("root") as root:
        trace_id = f"{root.get_span_context().trace_id:032x}"

        def poll() -> None:
            while not done.is_set():
                found = client.trace(trace_id)
                now = time.perf_counter()
                for span in found.spans if found else []:
                    seen.setdefault(span.span_id, now)
                time.sleep(0.002)

        poller = threading.Thread(target=poll)
        poller.start()
        for _ in range(LAG_SPANS):
            with tracer.start_as_current_span("child"):
                pass
    try:
        wait_until(lambda: len(seen) == LAG_SPANS + 1, 60, "every span stored")
    finally:
        done.set()
        poller.join()
        provider.shutdown()
    return [(seen[span_id] - acknowledged) * 1000 for span_id, acknowledged in exporter.at.items()]


def exit_to_verdict(app_env: dict[str, str], users: list[str], check: Callable[[str], float | None]) -> float:
    """ms from the app's exit to the end of `check` (given the trace id): a smoke test, which
    must pass, or Jaeger's answer (which gives its own time)."""
    result = run_app(app_env, *users)
    assert result.returncode == 0, result.stderr
    exited = time.perf_counter()
    own = check(exported_trace_id(result.stderr))
    return own if own is not None else (time.perf_counter() - exited) * 1000


def _passed(verdict: subprocess.CompletedProcess) -> None:
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def jaeger_answer(jaeger: Jaeger, spans: int) -> Callable[[str], float]:
    client = JaegerClient(jaeger.query_url)

    def answer(trace_id: str) -> float:
        wait_until(lambda: (trace := client.trace(trace_id)) and len(trace.spans) == spans, 60, "the trace stored")
        started = time.perf_counter()
        assert len(client.trace(trace_id).spans) == spans
        return (time.perf_counter() - started) * 1000

    return answer


def run(repetitions: int) -> str:
    with tempfile.TemporaryDirectory(prefix="benchmark-smoke-") as folder, both_jaegers(Path(folder)) as jaegers:
        try:
            old: Path | None = old_smoke_test(Path(folder))
        except RuntimeError:
            old = None
            print("the old smoke test is read from git history, which this clone lacks: `git fetch --unshallow`"
                  " to compare with it", file=sys.stderr)  # fmt: skip
        lags = {name: [lag for run in range(repetitions) for lag in store_lags(jaeger, run)]
                for name, (jaeger, _) in jaegers.items()}  # fmt: skip
        big = Path(folder) / "501-spans.json"  # recorded from a first run, as a team would
        jaeger, env = jaegers["Jaeger 1.55"]
        trace_id = exported_trace_id(run_app({**env, "OTEL_SERVICE_NAME": SERVICES["501 spans"]}, *BIG_USERS).stderr)
        _passed(run_smoke_test(jaeger, "--record", str(big), "--trace-id", trace_id, "--timeout", CHECK_TIMEOUT))
        expect = {"app's trace (9 spans)": [], "501 spans": ["--expect", str(big)]}
        spans = {"app's trace (9 spans)": 9, "501 spans": 501}
        variants: dict[str, Callable[[], float]] = {}
        for name, (jaeger, env) in jaegers.items():
            for trace, users in TRACES.items():
                service = SERVICES[trace]
                app_env = {**env, "OTEL_SERVICE_NAME": service}
                new_args = [*expect[trace], "--service", service, "--timeout", CHECK_TIMEOUT]
                old_args = ["--service", service, "--timeout", CHECK_TIMEOUT, "--user-ids", *users]
                variants[f"{name}|{trace}|Jaeger's answer"] = lambda j=jaeger, e=app_env, u=users, t=trace: (
                    exit_to_verdict(e, u, jaeger_answer(j, spans[t]))
                )
                variants[f"{name}|{trace}|new"] = lambda j=jaeger, e=app_env, u=users, a=new_args: exit_to_verdict(
                    e, u, lambda _: _passed(run_smoke_test(j, *a))
                )
                if old is not None:
                    variants[f"{name}|{trace}|old"] = lambda j=jaeger, e=app_env, u=users, a=old_args: exit_to_verdict(
                        e, u, lambda _: _passed(run_old_smoke_test(old, j, *a))
                    )
        results = interleaved(variants, repetitions)
    lag_rows = [
        [name, len(values), f"{median(values):.1f}", f"{statistics.quantiles(values, n=100)[98]:.1f}",
         f"{max(values):.1f}"]
        for name, values in lags.items()
    ]  # fmt: skip
    rows = []
    for name in JAEGERS:
        for trace in TRACES:
            row = [name, trace]
            for variant in ("Jaeger's answer", "old", "new"):
                measured = results.get(f"{name}|{trace}|{variant}")
                row += [f"{median(measured):.0f}", spread(measured, ".0f")] if measured else ["(no history)", ""]
            rows.append(row)
    return "\n".join(
        [
            f"How late Jaeger stores a span: ms from its export's OK to it in api_v3 ({LAG_SPANS} spans a run,"
            f" each its own export, {repetitions} runs):",
            "",
            table(["back end", "spans", "median", "99th percentile", "max"], lag_rows),
            "",
            f"ms from the app's exit to the verdict (status 0), settle {SETTLE:g} s, median of {repetitions}"
            " interleaved runs; Jaeger's answer: one GET of the stored trace:",
            "",
            table(["back end", "trace", "Jaeger's answer", "spread", "old", "spread", "new", "spread"], rows),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetitions instead of {FULL}")
    print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
