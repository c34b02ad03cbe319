"""What became of a run, said in one line, and the exit status it gives: the last of the
app's extras around `tracing`.

The exporter does not raise when an export fails: it logs the failure, with its gRPC
status code, and drops the spans. `delivery.ExportLog` keeps what it logged; here that
is read for what it most likely means to the user (the hints below), and the counts
for how much was lost.
"""

import os
from dataclasses import dataclass
from enum import IntEnum

from opentelemetry import trace

from inprocess_grpc.delivery import Delivery, ExportError

DEFAULT_JAEGER_URL = "http://localhost:16686"


class Status(IntEnum):
    """Each outcome, and the exit status it gives (a signal ends a run with 128 + its number)."""

    DELIVERED = 0  # every span arrived, or none was meant to (disabled, not sampled)
    EXPORT_FAILED = 3  # the data was printed, the spans did not arrive
    BAD_CONFIG = 4  # an OTEL_* value cannot work; nothing was run
    SPANS_DROPPED = 5  # exported what it could; the SDK's full queue dropped the rest


@dataclass(frozen=True)
class Outcome:
    status: Status
    line: str  # for stderr, after the program's name


# What a gRPC status code most likely means here.
BY_STATUS = {
    "UNAUTHENTICATED": "the server rejected the credentials: check the token in OTEL_EXPORTER_OTLP_HEADERS",
}
# UNAVAILABLE says only that no connection worked; why is in gRPC's details, in these
# words. The first found in any attempt's message wins: the order is from the most to
# the least telling (a refused IPv6 address says less than a TLS error on IPv4).
_NO_SUCH_HOST = "the endpoint's host is unknown here: check OTEL_EXPORTER_OTLP_ENDPOINT; is it on this network?"
UNAVAILABLE_BECAUSE = (
    ("WRONG_VERSION_NUMBER", "TLS client, plaintext server: use an http:// endpoint (no scheme means TLS)"),
    (
        "CERTIFICATE_VERIFY_FAILED",
        "the server's certificate is not signed by the CA in OTEL_EXPORTER_OTLP_CERTIFICATE, or does not name the host",
    ),
    (
        "TSI_DATA_CORRUPTED",
        "the server wants a client certificate its CA signed (mTLS):"
        " set OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE",
    ),
    ("http1.x server", "that port speaks HTTP/1.x, not gRPC: OTLP/gRPC is usually 4317 (4318 is OTLP/HTTP)"),
    ("Socket closed", "the server closed the connection: if it uses TLS, use an https:// endpoint"),
    ("Connection refused", "nothing listens there: is the backend running, and is the port right?"),
    # gRPC's resolvers word it either way.
    ("errors resolving", _NO_SUCH_HOST),
    ("DNS resolution failed", _NO_SUCH_HOST),
)


def explain(error: ExportError, *attempts: ExportError) -> str:
    """The exporter's final `error`, preceded by what it most likely means, read from its
    status code, and for UNAVAILABLE from its details and those of the earlier
    `attempts` (a name with IPv4 and IPv6 addresses may end on the less telling one)."""
    hint = _hint(error, *attempts)
    return f"{hint} ({error.message})" if hint else error.message


def _hint(*attempts: ExportError) -> str | None:
    for each in attempts:
        if each.status in BY_STATUS:
            return BY_STATUS[each.status]
    unavailable = [each.message for each in attempts if each.status == "UNAVAILABLE"]
    for mark, hint in UNAVAILABLE_BECAUSE:
        if any(mark in message for message in unavailable):
            return hint
    return None


def _lost(delivery: Delivery) -> Outcome | None:
    """The outcome when spans did not arrive; None when all did."""
    errors = delivery.errors
    if delivery.exported is None:  # the distro's exporter: only its errors are known
        if not errors:
            return None
        why = explain(errors[0], *delivery.retries)
        return Outcome(Status.EXPORT_FAILED, f"export failed, spans not delivered: {why}")
    dropped, failed, ended = delivery.dropped or 0, delivery.failed or 0, delivery.ended
    if failed or errors:
        if errors:
            why = explain(errors[0], *delivery.retries)
        elif hint := _hint(*delivery.retries):
            # The flush's bound cut the export short while it retried: no final error,
            # but its retries say why.
            why = f"{hint} ({delivery.retries[-1].message})"
        else:
            why = "the backend did not take them within OTEL_EXPORTER_OTLP_TIMEOUT"
        queue = f" ({dropped} dropped by the full queue)" if dropped else ""
        return Outcome(
            Status.EXPORT_FAILED, f"export failed, {failed + dropped} of {ended} spans not delivered{queue}: {why}"
        )
    if dropped:
        return Outcome(
            Status.SPANS_DROPPED,
            f"{dropped} of {ended} spans dropped: the SDK's queue was full, spans came faster than the exporter"
            " sent them; lower the rate, or raise OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        )
    return None


def for_trace(delivery: Delivery, root: trace.SpanContext) -> Outcome:
    """One trace with root span `root`: where to see it, or why it is not there."""
    if lost := _lost(delivery):
        return lost
    if not root.is_valid:
        return Outcome(Status.DELIVERED, "tracing is disabled (OTEL_SDK_DISABLED), no trace recorded")
    trace_id = trace.format_trace_id(root.trace_id)
    if not root.trace_flags.sampled:
        return Outcome(Status.DELIVERED, f"trace {trace_id} not sampled (OTEL_TRACES_SAMPLER), nothing exported")
    jaeger_url = os.environ.get("JAEGER_URL", DEFAULT_JAEGER_URL).rstrip("/")
    return Outcome(Status.DELIVERED, f"trace {trace_id} exported: {jaeger_url}/trace/{trace_id}")


def for_load(delivery: Delivery, traces: int) -> Outcome:
    """Many traces: how many spans arrived, or what was lost and why."""
    return _lost(delivery) or Outcome(Status.DELIVERED, f"{traces} traces, {delivery.ended} spans delivered")


def for_config(error: Exception) -> Outcome:
    """An OTEL_* value that cannot work (env_checks.ConfigError), found before any run."""
    return Outcome(Status.BAD_CONFIG, f"error: {error}")
