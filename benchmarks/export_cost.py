"""Where one process's time goes, per span: create and end it, export it (encode to
OTLP protobuf and send over gRPC to the collector); and what the batch size changes.

All three share one core (the interpreter lock), so their sum bounds what one Python
process can deliver, whatever the queue and batch settings. Each repetition is a
fresh process, and in each the batch sizes take turns.

    ./benchmarks/run.sh export-cost [--quick]
"""

import json
import math
import time
from collections.abc import Sequence

from benchmarks.backends import running_backends, worker_output
from benchmarks.side_by_side import benchmark_options, median, spread, table

TARGET_SPANS_PER_SECOND = 30_000
CALLS = 5_000  # 20,000 spans
BATCH_SIZES = (512, 2048, 8192)  # the SDK's default, and larger
QUICK, FULL = 3, 7  # repetitions


def _worker(rotation: int) -> dict[str, float]:
    """µs per span, in this process, for the collector the environment names. The batch
    sizes take turns: `rotation` says which goes first."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    from benchmarks.spans import keeping_provider
    from inprocess_grpc import users

    kept = keeping_provider()
    started = time.perf_counter()
    for _ in range(CALLS):
        users.get_user(100)
    costs = {"create": (time.perf_counter() - started) / len(kept) * 1e6}

    exporter = OTLPSpanExporter()
    exporter.export(kept[:10])  # connected before timing
    for size in BATCH_SIZES[rotation:] + BATCH_SIZES[:rotation]:
        batches = [kept[i : i + size] for i in range(0, len(kept) - size + 1, size)]
        spans = sum(map(len, batches))
        started = time.perf_counter()
        for batch in batches:
            encode_spans(batch).SerializeToString()
        encode = (time.perf_counter() - started) / spans * 1e6
        started = time.perf_counter()
        for batch in batches:  # export encodes again, then sends
            assert exporter.export(batch) is SpanExportResult.SUCCESS
        costs[f"encode {size}"] = encode
        costs[f"export {size}"] = (time.perf_counter() - started) / spans * 1e6
    return costs


def run(repetitions: int) -> str:
    with running_backends() as stack:
        runs = [
            json.loads(worker_output("export_cost", str(repetition % len(BATCH_SIZES)), env=stack.collector_env))
            for repetition in range(repetitions)
        ]
    cost = {name: [run[name] for run in runs] for name in runs[0]}
    default = BATCH_SIZES[0]
    create, export, encode = (cost[key] for key in ("create", f"export {default}", f"encode {default}"))
    total = median(create) + median(export)
    ceiling = 1e6 / total
    rows: list[list[object]] = [
        ["create and end the span", f"{median(create):.1f}", spread(create), f"{100 * median(create) / total:.0f}%"],
        ["export it: encode and send", f"{median(export):.1f}", spread(export), f"{100 * median(export) / total:.0f}%"],
        ["(encoding alone, measured apart)", f"{median(encode):.1f}", spread(encode), ""],
        ["all, on one core", f"{total:.1f}", "", f"at most {ceiling:,.0f} spans/s"],
    ]
    needed = math.ceil(TARGET_SPANS_PER_SECOND / ceiling)
    batches = [[size, f"{median(cost[f'export {size}']):.1f}", spread(cost[f"export {size}"])] for size in BATCH_SIZES]
    return "\n".join(
        [
            f"Where one process's time goes, µs per span, median of {repetitions} processes"
            f" ({CALLS * 4:,} spans, batches of {default}):",
            "",
            table(["step", "µs per span", "spread", "share"], rows),
            "",
            f"{TARGET_SPANS_PER_SECOND:,} spans/s need {needed} such process{'es' * (needed > 1)}.",
            "",
            "Export cost (encode and send) by batch size, µs per span, median:",
            "",
            table(["spans per request", "µs per span", "spread"], batches),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetitions instead of {FULL}", worker=True)
    if options.worker is not None:
        print(json.dumps(_worker(int(options.worker))))
    else:
        print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
