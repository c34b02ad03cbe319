"""`python -m inprocess_grpc [USER_ID ...] [--sdk-logs]`: the users' lookups in one trace.

Starts tracing (`traced_run`: the set-up of `tracing`, checked and counted), looks up
each user inside one root span `main`, prints one JSON object per id on stdout, then
flushes the spans and says on stderr where to see the trace, or why it was not
delivered (`outcome`). The exit status tells a script which (`outcome.Status`). Many
traces, for load: `python -m inprocess_grpc.load`.
"""

import json
import sys
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from inprocess_grpc import cli, outcome, traced_run
from inprocess_grpc.env_checks import ConfigError
from inprocess_grpc.users import get_user


def main(
    argv: Sequence[str] | None = None, *, exporter: SpanExporter | None = None, provider: TracerProvider | None = None
) -> int:
    """Run the lookups in one trace; return the exit status. `exporter` and `provider`
    stand for the OTLP exporter and for a provider set up already (traced_run.start)."""
    args = cli.parser("Look up users inside one trace exported over OTLP/gRPC.").parse_args(argv)
    try:
        run = traced_run.start(sdk_logs=args.sdk_logs, exporter=exporter, provider=provider)
    except ConfigError as error:
        return cli.report(outcome.for_config(error))

    root = trace.INVALID_SPAN_CONTEXT
    with cli.signal_handlers_kept():
        with cli.StoppedBySignal() as stop, run.tracer.start_as_current_span("main") as span:
            root = span.get_span_context()
            for user_id in args.user_ids:
                # As it comes: a run cut short prints what it did.
                print(json.dumps(get_user(user_id, run.tracer), separators=(",", ":")), flush=True)
        delivery = run.finish()
    return cli.report(outcome.for_trace(delivery, root), stop)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
