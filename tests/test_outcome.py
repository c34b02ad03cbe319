"""The line a user reads when a run ends, and the outcome behind its exit status,
from what the SDK reported (no backend: the exporter's real error texts, as logged)."""

import re

import pytest
from opentelemetry import trace

from inprocess_grpc import outcome
from inprocess_grpc.delivery import Delivery, ExportError
from inprocess_grpc.outcome import Outcome, Status

pytestmark = pytest.mark.fast

FAILED_TO = "Failed to export traces to {}, error code: StatusCode.{}, error details: {}"


def logged(message: str) -> ExportError:
    """What delivery.ExportLog keeps of the exporter's record of `message`: the first
    line, and the status code the exporter logs among its arguments."""
    status = re.search(r"StatusCode\.(\w+)", message)
    return ExportError(status[1] if status else None, message)


UNAVAILABLE = "failed to connect to all addresses; last error: UNKNOWN: {}"

# Each hint, from the message the exporter logs in that situation.
REAL_ERRORS = {
    "wrong token": (
        FAILED_TO.format("otel-collector:4317", "UNAUTHENTICATED",
                         "provided authorization does not match expected scheme or token"),
        "the server rejected the credentials: check the token in OTEL_EXPORTER_OTLP_HEADERS",
    ),
    "https:// to a plaintext server": (
        FAILED_TO.format("127.0.0.1:4317", "UNAVAILABLE", UNAVAILABLE.format(
            "ipv4:127.0.0.1:4317: Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: "
            "error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER")),
        "TLS client, plaintext server: use an http:// endpoint (no scheme means TLS)",
    ),
    "a certificate from another CA": (
        FAILED_TO.format("jaeger:4317", "UNAVAILABLE", UNAVAILABLE.format(
            "ipv4:172.18.0.2:4317: Ssl handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: "
            "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED")),
        "the server's certificate is not signed by the CA in OTEL_EXPORTER_OTLP_CERTIFICATE, or does not name the host",
    ),
    "no client certificate under mTLS": (
        FAILED_TO.format("otel-collector:4317", "UNAVAILABLE", UNAVAILABLE.format(
            "ipv4:172.18.0.3:4317: Handshake read failed (TSI_DATA_CORRUPTED)")),
        "the server wants a client certificate its CA signed (mTLS):"
        " set OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE",
    ),
    "the OTLP/HTTP port": (
        FAILED_TO.format("127.0.0.1:4318", "UNAVAILABLE", "Trying to connect an http1.x server"),
        "that port speaks HTTP/1.x, not gRPC: OTLP/gRPC is usually 4317 (4318 is OTLP/HTTP)",
    ),
    "http:// to a TLS server": (
        FAILED_TO.format("jaeger:4317", "UNAVAILABLE", "Socket closed"),
        "the server closed the connection: if it uses TLS, use an https:// endpoint",
    ),
    "nothing listening": (
        FAILED_TO.format("127.0.0.1:9", "UNAVAILABLE", UNAVAILABLE.format(
            "ipv4:127.0.0.1:9: Failed to connect to remote host: Connection refused")),
        "nothing listens there: is the backend running, and is the port right?",
    ),
    "a host unknown (c-ares)": (
        FAILED_TO.format("jaeger:4317", "UNAVAILABLE",
                         "DNS resolution failed for jaeger:4317: C-ares status is not ARES_SUCCESS qtype=A"),
        "the endpoint's host is unknown here: check OTEL_EXPORTER_OTLP_ENDPOINT; is it on this network?",
    ),
    "a host unknown (native resolver)": (
        FAILED_TO.format("jaeger:4317", "UNAVAILABLE", "errors resolving jaeger:4317: [field:hostname lookup error]"),
        "the endpoint's host is unknown here: check OTEL_EXPORTER_OTLP_ENDPOINT; is it on this network?",
    ),
}  # fmt: skip


@pytest.mark.parametrize("situation", REAL_ERRORS)
def test_each_export_error_is_explained_by_its_hint_then_the_error_itself(situation: str) -> None:
    error, hint = REAL_ERRORS[situation]
    assert outcome.explain(logged(error)) == f"{hint} ({error})"


def test_an_error_without_a_known_mark_is_shown_as_it_is() -> None:
    assert outcome.explain(logged("StatusCode.INTERNAL: boom")) == "StatusCode.INTERNAL: boom"


def test_the_hint_is_read_from_the_status_code_the_exporter_logged_not_from_its_words() -> None:
    assert outcome.explain(ExportError("UNAUTHENTICATED", "no word of it here")) == (
        "the server rejected the credentials: check the token in OTEL_EXPORTER_OTLP_HEADERS (no word of it here)"
    )
    # gRPC's words on why a connection failed count under UNAVAILABLE only.
    assert outcome.explain(ExportError("INTERNAL", "Connection refused")) == "Connection refused"
    assert outcome.explain(ExportError(None, "Connection refused")) == "Connection refused"


def test_https_to_localhost_on_a_plaintext_port_gets_the_tls_hint_though_ipv6_was_tried_last() -> None:
    # localhost is 127.0.0.1 and ::1: the retries show the TLS error on IPv4, the final
    # error only the refused IPv6 address.
    retry = (
        "Transient error StatusCode.UNAVAILABLE encountered while exporting traces to localhost:4317, retrying in "
        "0.80s. Error details: " + UNAVAILABLE.format("ipv4:127.0.0.1:4317: Tls handshake failed "
        "(TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER")
    )  # fmt: skip
    final = FAILED_TO.format("localhost:4317", "UNAVAILABLE", UNAVAILABLE.format(
        "ipv6:%5B::1%5D:4317: Failed to connect to remote host: Connection refused"))  # fmt: skip
    delivery = Delivery(ended=9, exported=0, failed=9, errors=[logged(final)], retries=[logged(retry)])
    assert outcome.for_trace(delivery, trace.INVALID_SPAN_CONTEXT) == Outcome(
        Status.EXPORT_FAILED,
        "export failed, 9 of 9 spans not delivered: TLS client, plaintext server: use an http:// endpoint "
        f"(no scheme means TLS) ({final})",
    )


SAMPLED = trace.SpanContext(0x0123456789ABCDEF0123456789ABCDEF, 0x1, False, trace.TraceFlags(1))
NOT_SAMPLED = trace.SpanContext(0x0123456789ABCDEF0123456789ABCDEF, 0x1, False, trace.TraceFlags(0))


def test_a_delivered_trace_says_where_to_see_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAEGER_URL", raising=False)
    assert outcome.for_trace(Delivery(9, 9, 0), SAMPLED) == Outcome(
        Status.DELIVERED,
        "trace 0123456789abcdef0123456789abcdef exported: http://localhost:16686/trace/0123456789abcdef0123456789abcdef",
    )


def test_the_trace_link_uses_jaeger_url_without_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAEGER_URL", "https://jaeger.example.com/")
    line = outcome.for_trace(Delivery(9, 9, 0), SAMPLED).line
    assert line.endswith(": https://jaeger.example.com/trace/0123456789abcdef0123456789abcdef")


def test_an_unsampled_or_disabled_trace_is_said_and_is_no_failure() -> None:
    assert outcome.for_trace(Delivery(0, 0, 0), NOT_SAMPLED) == Outcome(
        Status.DELIVERED, "trace 0123456789abcdef0123456789abcdef not sampled (OTEL_TRACES_SAMPLER), nothing exported"
    )
    assert outcome.for_trace(Delivery(0), trace.INVALID_SPAN_CONTEXT) == Outcome(
        Status.DELIVERED, "tracing is disabled (OTEL_SDK_DISABLED), no trace recorded"
    )


def test_failed_and_dropped_spans_are_counted_together_and_the_queue_named() -> None:
    # 100 ended: 40 exported, 50 failed, so 10 dropped by the queue.
    lost = outcome.for_load(Delivery(100, 40, 50, errors=[logged("StatusCode.INTERNAL: boom")]), traces=11)
    assert lost == Outcome(
        Status.EXPORT_FAILED,
        "export failed, 60 of 100 spans not delivered (10 dropped by the full queue): StatusCode.INTERNAL: boom",
    )


def test_spans_failed_without_an_error_logged_blame_the_timeout() -> None:
    # What the bounded flush leaves: the export cut short, nothing logged yet.
    assert outcome.for_load(Delivery(9, 0, 9), traces=1).line == (
        "export failed, 9 of 9 spans not delivered: the backend did not take them within OTEL_EXPORTER_OTLP_TIMEOUT"
    )


def test_spans_failed_while_retrying_without_an_error_logged_get_the_retries_hint() -> None:
    # The bounded flush cut the export short between two retries: the retries say why.
    retry = "Transient error StatusCode.UNAVAILABLE encountered while exporting traces to otel-collector:4317, " + (
        UNAVAILABLE.format("ipv4:172.18.0.3:4317: Handshake read failed (TSI_DATA_CORRUPTED)")
    )
    assert outcome.for_load(Delivery(9, 0, 9, retries=[logged(retry)]), traces=1).line == (
        "export failed, 9 of 9 spans not delivered: the server wants a client certificate its CA signed (mTLS):"
        f" set OTEL_EXPORTER_OTLP_CLIENT_KEY and _CLIENT_CERTIFICATE ({retry})"
    )


def test_an_error_logged_fails_the_run_even_when_every_span_counts_as_exported() -> None:
    result = outcome.for_load(Delivery(9, 9, 0, errors=[logged("StatusCode.INTERNAL: boom")]), traces=1)
    assert result.status is Status.EXPORT_FAILED


def test_spans_only_dropped_are_their_own_kind_with_what_to_change() -> None:
    assert outcome.for_load(Delivery(1000, 990, 0), traces=111) == Outcome(
        Status.SPANS_DROPPED,
        "10 of 1000 spans dropped: the SDK's queue was full, spans came faster than the exporter sent them;"
        " lower the rate, or raise OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    )


def test_a_load_run_that_delivered_everything_counts_traces_and_spans() -> None:
    assert outcome.for_load(Delivery(18, 18, 0), traces=2) == Outcome(Status.DELIVERED, "2 traces, 18 spans delivered")


def test_under_the_distro_only_a_logged_error_tells_a_failure() -> None:
    # The distro's exporter is not counted: exported and failed are unknown.
    assert outcome.for_load(Delivery(9), traces=1) == Outcome(Status.DELIVERED, "1 traces, 9 spans delivered")
    error = FAILED_TO.format("127.0.0.1:9", "UNAVAILABLE", "Connection refused")
    assert outcome.for_load(Delivery(9, errors=[logged(error)]), traces=1) == Outcome(
        Status.EXPORT_FAILED,
        "export failed, spans not delivered: nothing listens there: is the backend running, and is the port right?"
        f" ({error})",
    )


def test_under_the_distro_the_hint_is_read_from_the_retries_too() -> None:
    retry = "Transient error StatusCode.UNAVAILABLE encountered while exporting traces to localhost:4317: " + (
        UNAVAILABLE.format("ipv4:127.0.0.1:4317: Tls handshake failed (TSI_PROTOCOL_FAILURE): WRONG_VERSION_NUMBER")
    )
    final = FAILED_TO.format("localhost:4317", "UNAVAILABLE", "ipv6:%5B::1%5D:4317: Connection refused")
    assert outcome.for_load(Delivery(9, errors=[logged(final)], retries=[logged(retry)]), traces=1).line == (
        "export failed, spans not delivered: TLS client, plaintext server: use an http:// endpoint "
        f"(no scheme means TLS) ({final})"
    )


def test_a_bad_configuration_is_an_error_line_of_its_own_kind() -> None:
    assert outcome.for_config(ValueError("OTEL_X is wrong")) == Outcome(Status.BAD_CONFIG, "error: OTEL_X is wrong")
