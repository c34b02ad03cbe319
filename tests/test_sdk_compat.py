"""What the app reads from the OpenTelemetry SDK's internals (inprocess_grpc/sdk_compat.py),
pinned against the SDK installed: an upgrade that moves one fails here, by name."""

import logging

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider

from harness.servers import free_port
from inprocess_grpc import sdk_compat

pytestmark = pytest.mark.fast


def test_the_samplers_are_the_sdks_table() -> None:
    assert sdk_compat.KNOWN_SAMPLERS == (
        "always_on", "always_off", "parentbased_always_on", "parentbased_always_off",
        "traceidratio", "parentbased_traceidratio",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("variables", "seconds"),
    [
        ({}, 10.0),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}, 7.0),
        ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "3"}, 3.0),
    ],
)
def test_the_export_timeout_is_the_otlp_exporters_own_reading(
    variables: dict[str, str], seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert sdk_compat.export_timeout(OTLPSpanExporter(endpoint="http://127.0.0.1:9")) == seconds


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_status_code_is_read_from_the_otlp_exporters_own_records_of_a_failed_export() -> None:
    # A real export, to a port where nothing listens: what the exporter logs, and how.
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{free_port()}", timeout=1.5)
    span = TracerProvider(shutdown_on_exit=False).get_tracer("test").start_span("span")
    span.end()
    seen = Records()
    logger = logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter")
    logger.addHandler(seen)
    try:
        exporter.export([span])
    finally:
        logger.removeHandler(seen)
        exporter.shutdown()
    assert seen.records, "the exporter logged nothing"
    assert {sdk_compat.grpc_status(record) for record in seen.records} == {"UNAVAILABLE"}
    assert grpc.StatusCode.UNAVAILABLE in seen.records[-1].args


def test_a_record_without_a_status_code_has_none() -> None:
    record = logging.LogRecord("opentelemetry.sdk", logging.ERROR, "", 0, "boom %s", ("UNAVAILABLE",), None)
    assert sdk_compat.grpc_status(record) is None
