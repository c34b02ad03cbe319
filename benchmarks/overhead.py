"""Overhead per traced call: what one `GetUser` (four spans) costs with each set-up.

Each variant runs in a fresh process (a tracer provider can be installed once per
process), made the way the app makes it, and times many calls there, the final
flush included; the variants take turns. Targets: with OTEL_SDK_DISABLED the app costs
at most 1.05x the app without an SDK; the app's own code adds at most 10% to what the
SDK costs to create the same spans with the same attributes.

    ./benchmarks/run.sh overhead [--quick]
"""

import time
from collections.abc import Callable, Sequence

from benchmarks.backends import running_backends, worker_output
from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table

CALLS = 20_000
WARM_UP = 1_000
USER = 100  # found: the full tree, every attribute
QUICK, FULL = 3, 7  # repetitions

# name: (what it is, environment, the worker's set-up)
VARIANTS = {
    "reference": ("the three lookups and the merge, no OpenTelemetry call", {}, "reference"),
    "untraced": ("the app without an SDK (the API's no-op tracer)", {}, "untraced"),
    "disabled": ("the app with OTEL_SDK_DISABLED=true", {"OTEL_SDK_DISABLED": "true"}, "app"),
    "bare SDK": ("the same 4 spans and attributes, no app code; SDK, no-op export", {}, "bare"),
    "app, no-op export": ("the app on the SDK, batch processor, no-op export", {}, "noop"),
    "app, export to collector": ("the app as shipped: batch export over OTLP/gRPC to a real collector", {}, "app"),
}


def _worker(setup: str, calls: int) -> float:
    """µs per call of the variant's GetUser, in this process."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from inprocess_grpc import traced_run, users

    class NoExport(SpanExporter):
        def export(self, spans: object) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    def flush() -> None:
        provider = trace.get_tracer_provider()
        if isinstance(provider, TracerProvider):
            provider.force_flush()

    bench_tracer = trace.get_tracer("benchmark")  # a proxy, like users.TRACER

    def bare() -> None:
        with bench_tracer.start_as_current_span("GetUser") as span:
            span.set_attribute(users.USER_ID, str(USER))
            for name in ("GetInfo", "GetDetail", "GetScores"):
                with bench_tracer.start_as_current_span(name) as child:
                    child.set_attribute(users.USER_ID, str(USER))
            span.set_attribute(users.USER_FOUND, True)

    call: Callable[[], object] = lambda: users.get_user(USER)  # noqa: E731
    finish = flush
    if setup == "reference":
        call = lambda: {**users._INFO.get(USER, {}), **users._DETAIL.get(USER, {}), **users._SCORES.get(USER, {})}  # noqa: E731
    elif setup == "app":
        run = traced_run.start()  # installed globally, as the app's own run does
        call = lambda: users.get_user(USER, run.tracer)  # noqa: E731

        def finish() -> None:  # the app's own end: the flush, and a count of what was delivered
            delivery = run.finish()
            assert not delivery.dropped and not delivery.failed, delivery
    elif setup in ("noop", "bare"):
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(NoExport()))
        trace.set_tracer_provider(provider)
        if setup == "bare":
            call = bare

    for _ in range(WARM_UP):
        call()
    flush()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    finish()
    return (time.perf_counter() - started) / calls * 1e6


def run(repetitions: int, collector_env: dict[str, str]) -> str:
    def variant(name: str) -> Callable[[], float]:
        _, env, setup = VARIANTS[name]
        if name == "app, export to collector":
            # A queue for every span of the run: the cost of exporting them all is the
            # figure, not how many a smaller queue would drop (the throughput benchmark's).
            env = {**collector_env, "OTEL_BSP_MAX_QUEUE_SIZE": str(4 * (CALLS + WARM_UP))}
        return lambda: float(worker_output("overhead", setup, env=env))

    results = interleaved({name: variant(name) for name in VARIANTS}, repetitions)
    medians = {name: median(values) for name, values in results.items()}
    disabled = medians["disabled"] / medians["untraced"]
    ours = medians["app, no-op export"] / medians["bare SDK"]
    verdict = {True: "met", False: "NOT met"}
    rows = []
    for name, (what, _, _) in VARIANTS.items():
        baseline = "bare SDK" if name == "app, no-op export" else "untraced"
        rows.append(
            [
                name,
                what,
                f"{medians[name]:.2f}",
                spread(results[name], ".2f"),
                f"{medians[name] / medians[baseline]:.2f}x {baseline}",
            ]
        )
    return "\n".join(
        [
            f"Overhead per GetUser call (4 spans), µs, median of {repetitions} interleaved runs of {CALLS:,} calls:",
            "",
            table(["variant", "what runs", "µs per call", "spread", "ratio"], rows),
            "",
            f"- OTEL_SDK_DISABLED vs no SDK: {disabled:.2f}x (target ≤ 1.05x): {verdict[disabled <= 1.05]}",
            f"- the app's code over the bare SDK: {ours:.2f}x (target ≤ 1.10x): {verdict[ours <= 1.10]}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetitions instead of {FULL}", worker=True)
    if options.worker is not None:
        print(_worker(options.worker, CALLS))
        return
    with running_backends() as stack:
        print(run(QUICK if options.quick else FULL, stack.collector_env))


if __name__ == "__main__":
    main()
