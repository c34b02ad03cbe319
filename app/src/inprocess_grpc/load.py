"""`python -m inprocess_grpc.load [USER_ID ...] [--repeat N] [--rate R] [--duration S]`:
the one-trace command's lookups, as many traces, to put a backend under load.

One trace per iteration (root span `main`), paced at `--rate` traces a second, until
`--repeat` are made or `--duration` seconds are over. Prints one JSON summary on
stdout - traces, seconds, CPU seconds, and how many spans were ended, exported,
failed, and dropped by the SDK's full queue - and the outcome on stderr; exit
statuses as `python -m inprocess_grpc`.
"""

import argparse
import itertools
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from inprocess_grpc import cli, outcome, traced_run
from inprocess_grpc.delivery import Delivery
from inprocess_grpc.env_checks import ConfigError
from inprocess_grpc.users import get_user


def _positive(kind: type[int] | type[float], what: str) -> Callable[[str], int | float]:
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


def pace(repeat: int | None, rate: float | None, duration: float | None) -> Iterator[int]:
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


def summary(traces: int, seconds: float, delivery: Delivery) -> dict:
    spans = {"ended": delivery.ended, "exported": delivery.exported, "failed": delivery.failed}
    return {
        "traces": traces,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time(), 3),
        "spans": {**spans, "dropped": delivery.dropped},
    }


def main(
    argv: Sequence[str] | None = None, *, exporter: SpanExporter | None = None, provider: TracerProvider | None = None
) -> int:
    """Make the traces; return the exit status. `exporter` and `provider`: as for
    `python -m inprocess_grpc` (traced_run.start)."""
    parser = cli.parser("Make many traces of the lookups, then print a JSON summary of what was delivered.")
    parser.add_argument(
        "--repeat", type=_positive(int, "repeat count"), help="traces to make (default: 1, or no limit with --duration)"
    )
    parser.add_argument("--rate", type=_positive(float, "rate"), help="traces per second (default: as fast as it can)")
    parser.add_argument("--duration", type=_positive(float, "duration"), help="seconds to keep making traces")
    args = parser.parse_args(argv)
    try:
        run = traced_run.start(sdk_logs=args.sdk_logs, exporter=exporter, provider=provider)
    except ConfigError as error:
        return cli.report(outcome.for_config(error))

    traces, started = 0, time.monotonic()
    with cli.signal_handlers_kept():
        with cli.StoppedBySignal() as stop:
            for _ in pace(args.repeat or (None if args.duration else 1), args.rate, args.duration):
                with run.tracer.start_as_current_span("main"):
                    for user_id in args.user_ids:
                        get_user(user_id, run.tracer)
                traces += 1
        delivery = run.finish()
    print(json.dumps(summary(traces, time.monotonic() - started, delivery)), flush=True)
    return cli.report(outcome.for_load(delivery, traces), stop)


if __name__ == "__main__":
    raise SystemExit(main())
