"""Tracing set-up in one place: a tracer provider that exports over OTLP/gRPC.

Everything is configured by the standard OTEL_* environment variables, and the SDK
reads them itself: the exporter reads OTEL_EXPORTER_OTLP_*, the batch processor
OTEL_BSP_*, the provider OTEL_TRACES_SAMPLER and OTEL_SDK_DISABLED, the resource
OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. This module adds only what the SDK
does not do for a short-lived program:

- a default service name, `inprocess-grpc`, where the environment gives none;
- a clear error, before anything runs, when a certificate file named by a variable
  does not exist (the SDK would log it and fall back to the system's CAs);
- a flush before exit that tells the caller whether the spans were delivered, so
  that a lost trace is reported instead of passing silently.

Under `opentelemetry-instrument` the distro has already installed a tracer provider:
it is used as it is, so there is one provider and one export.
"""

import logging
import os
from dataclasses import dataclass, field

# gRPC's C core writes each failed TLS handshake to stderr, several lines per export
# attempt; the failure is reported in one line instead (see `explain`). A user who
# wants gRPC's own logs sets GRPC_VERBOSITY. Must be set before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

DEFAULT_SERVICE_NAME = "inprocess-grpc"

# The SDK's own name for a resource without a service name ("unknown_service:python3").
_SDK_FALLBACK_SERVICE_NAME = "unknown_service"

# Files the gRPC exporter loads; the signal-specific variable wins over the general one.
_FILE_VARIABLES = (
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
)


# Marks in the exporter's error message, and what they usually mean for the user.
_HINTS = (
    ("UNAUTHENTICATED", "the server rejected the credentials: check the token in OTEL_EXPORTER_OTLP_HEADERS"),
    ("WRONG_VERSION_NUMBER", "TLS client, plaintext server: use an http:// endpoint (no scheme means TLS)"),
    (
        "CERTIFICATE_VERIFY_FAILED",
        "the server's certificate is not signed by the CA in OTEL_EXPORTER_OTLP_CERTIFICATE, or does not name the host",
    ),
    (
        "TSI_DATA_CORRUPTED",
        "the server wants a client certificate (mTLS): set OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE",
    ),
    ("http1.x server", "that port speaks HTTP/1.x, not gRPC: OTLP/gRPC is usually 4317 (4318 is OTLP/HTTP)"),
    ("Socket closed", "the server closed the connection: if it uses TLS, use an https:// endpoint"),
    ("Connection refused", "nothing listens there: is the backend running, and is the port right?"),
)


def explain(message: str) -> str:
    """The exporter's error message, preceded by what it most likely means."""
    for mark, hint in _HINTS:
        if mark in message:
            return f"{hint} ({message})"
    return message


class ConfigError(Exception):
    """The OpenTelemetry configuration in the environment cannot work; one-line message."""


class _ExportErrors(logging.Handler):
    """Keeps the errors the SDK logs while exporting, to report them in one line.

    The exporter does not raise: on failure it logs (a warning per retry, then an
    error) and drops the batch. Listening to those records is how a program learns
    that its spans were lost, whichever provider - ours or the distro's - exported.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage().splitlines()[0])


@dataclass
class Tracing:
    """The provider in use, and what went wrong while it exported."""

    provider: trace.TracerProvider
    owned: bool
    _errors: _ExportErrors = field(default_factory=_ExportErrors)

    def finish(self) -> list[str]:
        """Flush every span, shut down our own provider, and return the export errors.

        Each export is bounded by the exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT,
        retries included), so this returns even when the backend is down.
        """
        if isinstance(self.provider, TracerProvider):
            self.provider.force_flush()
            if self.owned:
                self.provider.shutdown()
        return list(self._errors.messages)


def _resource() -> Resource:
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith(_SDK_FALLBACK_SERVICE_NAME):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def _check_files() -> None:
    for variable in _FILE_VARIABLES:
        path = os.environ.get(variable)
        if path and not os.path.isfile(path):
            raise ConfigError(f"{variable}={path}: no such file (it must name a PEM file)")


def start_tracing(*, sdk_logs: bool = False) -> Tracing:
    """Install the global tracer provider (unless the distro did) and return it.

    With `sdk_logs` false, the SDK's own log records (a warning per export retry,
    multi-line details) are kept off stderr; the errors among them are returned by
    `Tracing.finish` instead.
    """
    _check_files()
    errors = _ExportErrors()
    sdk_logger = logging.getLogger("opentelemetry")
    sdk_logger.addHandler(errors)
    sdk_logger.propagate = sdk_logs

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return Tracing(current, owned=False, _errors=errors)

    try:
        exporter = OTLPSpanExporter()
    except (ValueError, KeyError, RuntimeError) as error:
        raise ConfigError(f"invalid OTEL_EXPORTER_OTLP_* setting: {error}") from None
    # The provider is shut down by Tracing.finish, in the order the program chooses,
    # not by an atexit hook that would run after the exit status is decided.
    provider = TracerProvider(resource=_resource(), shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return Tracing(provider, owned=True, _errors=errors)
