"""Tracing set-up: the defaults it adds to the SDK."""

import pytest
from opentelemetry.sdk.resources import SERVICE_NAME

from inprocess_grpc import telemetry

pytestmark = pytest.mark.fast


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)


def test_the_service_is_named_inprocess_grpc_by_default() -> None:
    assert telemetry._resource().attributes[SERVICE_NAME] == "inprocess-grpc"


def test_otel_service_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored")
    assert telemetry._resource().attributes[SERVICE_NAME] == "checkout"


def test_a_service_name_in_resource_attributes_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=billing,team=core")
    attributes = telemetry._resource().attributes
    assert (attributes[SERVICE_NAME], attributes["team"]) == ("billing", "core")
