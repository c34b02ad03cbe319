"""Command line: `python -m inprocess_grpc [USER_ID ...] [--repeat N] [--rate R] [--duration S]`.

Looks up each user inside one trace (root span `main`), prints one JSON object per
id on stdout, then flushes the spans and says on stderr where to see the trace, or
why it was not delivered. The exit status tells a script what happened.

Load mode (`--repeat` above 1, or `--duration`) makes one such trace per iteration,
paced by `--rate`, and prints instead one JSON summary: how many spans were ended,
exported, failed, and dropped by the SDK's full queue.
"""

import argparse
import itertools
import json
import math
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from types import FrameType

from opentelemetry import trace

from inprocess_grpc import telemetry
from inprocess_grpc.users import check_user_id, get_user, tracer

EXIT_OK = 0
EXIT_USAGE = 2  # bad command line (argparse's convention)
EXIT_EXPORT_FAILED = 3  # the data was printed, the spans were not delivered
EXIT_CONFIG = 4  # the OTEL_* environment cannot work; nothing was run
EXIT_SPANS_DROPPED = 5  # exported what it could, but the SDK's full queue dropped spans
# A signal ends the run the shell's way: 128 + the signal number, after the flush.

DEFAULT_USER_IDS = (1, 100)
DEFAULT_JAEGER_URL = "http://localhost:16686"
PROG = "inprocess-grpc"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and status 2, not argparse's usage block.
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


def _user_id(text: str) -> int:
    try:
        return check_user_id(int(text, 10))
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"invalid user id {text!r}: expected a whole number from 1 to 2^63-1"
        ) from None


def _positive(kind: type[int] | type[float], what: str):
    right = "a whole number above 0" if kind is int else "a number above 0"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: expected {right}")
        return value

    return parse


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog=PROG, description="Look up users inside one trace exported over OTLP/gRPC.")
    parser.add_argument(
        "user_ids",
        metavar="USER_ID",
        type=_user_id,
        nargs="*",
        default=list(DEFAULT_USER_IDS),
        help="users to look up (default: 1 100); user 100 exists",
    )
    load = parser.add_argument_group("load mode", "many traces, then a JSON summary of what was delivered")
    load.add_argument(
        "--repeat", type=_positive(int, "repeat count"), help="traces to make (default: 1, or no limit with --duration)"
    )
    load.add_argument("--rate", type=_positive(float, "rate"), help="traces per second (default: as fast as it can)")
    load.add_argument("--duration", type=_positive(float, "duration"), help="seconds to keep making traces")
    parser.add_argument(
        "--sdk-logs",
        action="store_true",
        help="let the OpenTelemetry SDK's own log records through to stderr (retries, details)",
    )
    return parser.parse_args(argv)


class _Terminated(Exception):
    """Raised in the main thread by SIGTERM or SIGINT, so spans end and get flushed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise _Terminated(signum)


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _pace(repeat: int | None, rate: float | None, duration: float | None) -> Iterator[int]:
    """Iteration numbers, `rate` a second, until `repeat` are done or `duration` is over."""
    start = time.monotonic()
    end = start + duration if duration else math.inf
    for number in range(repeat) if repeat else itertools.count():
        due = start + number / rate if rate else 0.0
        now = time.monotonic()
        if max(due, now) >= end:
            return
        if due > now:
            time.sleep(due - now)
        yield number


def _lost_line(delivery: telemetry.Delivery) -> tuple[int, str] | None:
    """The exit status and line for spans that did not arrive; None if all did."""
    errors = delivery.errors
    if delivery.exported is None:  # the distro's exporter: only its errors are known
        return (
            (EXIT_EXPORT_FAILED, f"export failed, spans not delivered: {telemetry.explain(errors[0])}")
            if errors
            else None
        )
    dropped, failed, ended = delivery.dropped or 0, delivery.failed or 0, delivery.ended
    if failed or errors:
        why = (
            telemetry.explain(errors[0])
            if errors
            else "the backend did not take them within OTEL_EXPORTER_OTLP_TIMEOUT"
        )
        queue = f" ({dropped} dropped by the full queue)" if dropped else ""
        return EXIT_EXPORT_FAILED, f"export failed, {failed + dropped} of {ended} spans not delivered{queue}: {why}"
    if dropped:
        return EXIT_SPANS_DROPPED, (
            f"{dropped} of {ended} spans dropped: the SDK's queue was full, spans came faster than the exporter"
            " sent them; lower the rate, or raise OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
        )
    return None


def _report_trace(root: trace.SpanContext) -> None:
    if not root.is_valid:
        _say("tracing is disabled (OTEL_SDK_DISABLED), no trace recorded")
    elif not root.trace_flags.sampled:
        _say(f"trace {trace.format_trace_id(root.trace_id)} not sampled (OTEL_TRACES_SAMPLER), nothing exported")
    else:
        trace_id = trace.format_trace_id(root.trace_id)
        jaeger_url = os.environ.get("JAEGER_URL", DEFAULT_JAEGER_URL).rstrip("/")
        _say(f"trace {trace_id} exported: {jaeger_url}/trace/{trace_id}")


def _summary(traces: int, seconds: float, delivery: telemetry.Delivery) -> dict:
    spans = {
        "ended": delivery.ended,
        "exported": delivery.exported,
        "failed": delivery.failed,
        "dropped": delivery.dropped,
    }
    return {
        "traces": traces,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time(), 3),
        "spans": spans,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lookups, one trace per iteration; return the exit status."""
    args = _parse_args(argv)
    load_mode = (args.repeat or 1) > 1 or args.duration is not None
    repeat = args.repeat or (None if args.duration else 1)
    try:
        tracing = telemetry.start_tracing(sdk_logs=args.sdk_logs)
    except telemetry.ConfigError as error:
        _say(f"error: {error}")
        return EXIT_CONFIG

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_terminated)
    signalled = None
    root = trace.INVALID_SPAN_CONTEXT
    traces = 0
    started = time.monotonic()
    try:
        for _ in _pace(repeat, args.rate, args.duration):
            with tracer.start_as_current_span("main") as span:
                root = span.get_span_context()
                for user_id in args.user_ids:
                    user = get_user(user_id)
                    if not load_mode:  # as it comes: a run cut short prints what it did
                        print(json.dumps(user, separators=(",", ":")), flush=True)
            traces += 1
    except _Terminated as stop:
        signalled = stop.signum
    finally:
        # A second signal during the flush must not cut it short: the flush is bounded.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        delivery = tracing.finish()

    if load_mode:
        print(json.dumps(_summary(traces, time.monotonic() - started, delivery)), flush=True)
    lost = _lost_line(delivery)
    if lost:
        _say(lost[1])
    elif load_mode:
        _say(f"{traces} traces, {delivery.ended} spans delivered")
    else:
        _report_trace(root)
    if signalled is not None:
        _say(f"stopped by {signal.Signals(signalled).name}, spans flushed")
        return 128 + signalled
    return lost[0] if lost else EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
