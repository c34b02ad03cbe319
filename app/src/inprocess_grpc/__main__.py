"""`python -m inprocess_grpc [USER_ID ...] [--sdk-logs]`: the users' lookups in one trace.

Starts tracing (`telemetry`), looks up each user inside one root span `main`, prints
one JSON object per id on stdout, then flushes the spans and says on stderr where to
see the trace, or why it was not delivered (`verdict`). The exit status tells a script
which (`cli.EXIT_STATUS`). Many traces, for load: `python -m inprocess_grpc.load`.
"""

import json
import sys
from collections.abc import Sequence

from opentelemetry import trace

from inprocess_grpc import cli, telemetry, verdict
from inprocess_grpc.env_checks import ConfigError
from inprocess_grpc.users import get_user, tracer


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lookups in one trace; return the exit status."""
    args = cli.parser("Look up users inside one trace exported over OTLP/gRPC.").parse_args(argv)
    try:
        tracing = telemetry.start_tracing(sdk_logs=args.sdk_logs)
    except ConfigError as error:
        return cli.conclude(verdict.of_config(error))

    root = trace.INVALID_SPAN_CONTEXT
    with cli.StoppedBySignal() as stop, tracer.start_as_current_span("main") as span:
        root = span.get_span_context()
        for user_id in args.user_ids:
            # As it comes: a run cut short prints what it did.
            print(json.dumps(get_user(user_id), separators=(",", ":")), flush=True)

    delivery = tracing.finish()
    return cli.conclude(verdict.of_trace(delivery, root), stop)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
