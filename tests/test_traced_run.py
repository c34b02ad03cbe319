"""One run's set-up (traced_run.start): the defaults it adds to the SDK, the SDK's own
checks said in one line, nothing of the process changed when it is given the
exporter to use, and the program's provider installed (or the distro's used) when not."""

from collections.abc import Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from inprocess_grpc import traced_run
from inprocess_grpc.env_checks import ConfigError

pytestmark = pytest.mark.fast


class Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    ):
        monkeypatch.delenv(name, raising=False)


def service_name() -> str:
    run = traced_run.start(exporter=Kept())
    try:
        return str(run.provider.resource.attributes[SERVICE_NAME])
    finally:
        run.finish()


def test_the_service_is_named_inprocess_grpc_by_default() -> None:
    assert service_name() == "inprocess-grpc"


def test_otel_service_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored")
    assert service_name() == "checkout"


def test_a_service_name_in_resource_attributes_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=billing,team=core")
    assert service_name() == "billing"


def test_given_an_exporter_the_run_uses_it_and_installs_nothing_globally() -> None:
    before = trace.get_tracer_provider()
    exporter = Kept()
    run = traced_run.start(exporter=exporter)
    run.tracer.start_span("span").end()
    assert run.finish().exported == 1
    assert [span.name for span in exporter.spans] == ["span"]
    assert trace.get_tracer_provider() is before


@pytest.mark.parametrize(("batch", "queue"), [("1", "1"), ("2048", None), ("3000", "4000")])
def test_a_batch_up_to_the_queue_passes(batch: str, queue: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", batch)
    if queue:
        monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", queue)
    traced_run.start(exporter=Kept()).finish()


# Alone, a batch is compared with the SDK's default queue (2048), a queue with its default batch (512).
@pytest.mark.parametrize(("batch", "queue"), [("101", "100"), ("2049", None), (None, "511")])
def test_a_batch_larger_than_the_queue_is_refused_by_the_sdks_own_check(
    batch: str | None, queue: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", batch), ("OTEL_BSP_MAX_QUEUE_SIZE", queue)):
        if value:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        traced_run.start(exporter=Kept())
    assert str(refused.value) == (
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE / OTEL_BSP_MAX_QUEUE_SIZE refused by the SDK's batch span processor: "
        "max_export_batch_size must be less than or equal to max_queue_size."
    )


# --- without an exporter given: the run is the program's (the global provider)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> list:
    """The providers installed for the whole program, caught instead of installed (the
    process's global provider can be set only once)."""
    caught: list = []
    monkeypatch.setattr(trace, "set_tracer_provider", caught.append)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing is exported
    return caught


def test_the_run_installs_its_provider_for_the_whole_program(installed: list) -> None:
    run = traced_run.start()
    assert installed == [run.provider]
    assert isinstance(run.tracer, sdk_trace.Tracer)
    run.finish()


def test_under_the_distro_the_run_uses_the_provider_it_installed(
    installed: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    distro = sdk_trace.TracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: distro)
    run = traced_run.start()
    assert run.provider is distro
    assert installed == []
    run.finish()


def test_with_the_sdk_disabled_a_named_no_op_provider_is_installed_and_no_exit_hook(
    installed: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    hooks: list = []
    monkeypatch.setattr("atexit.register", lambda hook, *args: hooks.append(hook) or hook)
    run = traced_run.start()
    assert installed == [run.provider]
    assert isinstance(run.tracer, trace.NoOpTracer)
    assert run.provider.resource.attributes[SERVICE_NAME] == "inprocess-grpc"
    assert hooks == []  # the program decides when the provider ends (run.finish)
    run.finish()


@pytest.mark.parametrize("value", ["true", "TRUE", " True ", "false", "False", "", "yes", "1"])
def test_otel_sdk_disabled_is_read_as_the_sdks_tracer_provider_reads_it(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", value)
    sdk_reading = isinstance(sdk_trace.TracerProvider(shutdown_on_exit=False).get_tracer("test"), trace.NoOpTracer)
    assert traced_run.sdk_disabled() is sdk_reading
