"""What the app needs from the OpenTelemetry SDK that the SDK does not expose publicly.

Each is read from the SDK's own internals here, in one place, so that nothing else
copies the SDK's knowledge. A test pins each one, so the SDK upgrade that moves one
fails there, by name, not somewhere far from the cause.
"""

import logging

from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.export import SpanExporter

# The names OTEL_TRACES_SAMPLER may take: the SDK's own table. A name it does not know,
# the SDK only warns about, and samples everything.
KNOWN_SAMPLERS: tuple[str, ...] = tuple(sampling._KNOWN_SAMPLERS)  # type: ignore[attr-defined]


def export_timeout(exporter: SpanExporter) -> float:
    """Seconds one export of the OTLP exporter may take, retries included: its own reading
    of OTEL_EXPORTER_OTLP_TRACES_TIMEOUT or OTEL_EXPORTER_OTLP_TIMEOUT (10 by default)."""
    return float(exporter._timeout)  # type: ignore[attr-defined]


def grpc_status(record: logging.LogRecord) -> str | None:
    """The gRPC status code (its name: "UNAVAILABLE") an OTLP exporter's log record is
    about: the exporter logs an export's failure and each retry with the code among the
    message's arguments. None for any other record."""
    arguments = record.args if isinstance(record.args, tuple) else ()
    for argument in arguments:
        if type(argument).__name__ == "StatusCode" and type(argument).__module__.startswith("grpc"):
            return argument.name
    return None
