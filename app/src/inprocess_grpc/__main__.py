"""Command line: `python -m inprocess_grpc [USER_ID ...]`.

Looks up each user inside one trace (root span `main`), prints one JSON object per
id on stdout, then flushes the spans and says on stderr where to see the trace, or
why it was not delivered. The exit status tells a script what happened.
"""

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from opentelemetry import trace

from inprocess_grpc import telemetry
from inprocess_grpc.users import check_user_id, get_user, tracer

EXIT_OK = 0
EXIT_USAGE = 2  # bad command line (argparse's convention)
EXIT_EXPORT_FAILED = 3  # the data was printed, the spans were not delivered
EXIT_CONFIG = 4  # the OTEL_* environment cannot work; nothing was run
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


def _report(root: trace.SpanContext, errors: list[str]) -> int:
    if errors:
        _say(f"export failed, spans not delivered: {telemetry.explain(errors[0])}")
        return EXIT_EXPORT_FAILED
    if not root.is_valid:
        _say("tracing is disabled (OTEL_SDK_DISABLED), no trace recorded")
    elif not root.trace_flags.sampled:
        _say(f"trace {trace.format_trace_id(root.trace_id)} not sampled (OTEL_TRACES_SAMPLER), nothing exported")
    else:
        trace_id = trace.format_trace_id(root.trace_id)
        jaeger_url = os.environ.get("JAEGER_URL", DEFAULT_JAEGER_URL).rstrip("/")
        _say(f"trace {trace_id} exported: {jaeger_url}/trace/{trace_id}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lookups in one trace; return the exit status."""
    args = _parse_args(argv)
    try:
        tracing = telemetry.start_tracing(sdk_logs=args.sdk_logs)
    except telemetry.ConfigError as error:
        _say(f"error: {error}")
        return EXIT_CONFIG

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _raise_terminated)
    signalled = None
    root = trace.INVALID_SPAN_CONTEXT
    try:
        with tracer.start_as_current_span("main") as span:
            root = span.get_span_context()
            for user_id in args.user_ids:
                print(json.dumps(get_user(user_id), separators=(",", ":")), flush=True)
    except _Terminated as stop:
        signalled = stop.signum
    finally:
        # A second signal during the flush must not cut it short: the flush is bounded.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        errors = tracing.finish()

    status = _report(root, errors)
    if signalled is not None:
        _say(f"stopped by {signal.Signals(signalled).name}, spans flushed")
        return 128 + signalled
    return status


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
