"""A flood of token-less clients does not take the collector down. The collector checks
the token only once it has read and decoded a request whole; what such clients can make
it hold is bounded by its receiver's limits (otel-collector-config.yaml: message size,
streams per connection). Under the real Docker Engine, with the container's memory
limit, from the host to the collector's published port (loopback): requests of the
largest size the receiver takes, as bytes (one large attribute: 32 connections, 16
requests asked in flight on each, three rounds) and as objects (empty spans, the worst
case: 3 connections, while the app exports)."""

import threading
from pathlib import Path

import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from harness import REPO, compose_project, engine
from harness.app import exported_trace_id
from harness.flood import Flood, export_request, tiny_spans_request
from harness.smoke import run_smoke_test

pytestmark = [pytest.mark.docker, pytest.mark.default_ports]


def largest_request() -> int:
    """The receiver's limit, in bytes, as otel-collector-config.yaml sets it."""
    config = yaml.safe_load((REPO / "otel-collector-config.yaml").read_text())
    return config["receivers"]["otlp"]["protocols"]["grpc"]["max_recv_msg_size_mib"] << 20


@pytest.fixture
def collector_stack(docker_engine: engine.Engine, tmp_path: Path):
    stack = compose_project.project(docker_engine, tmp_path, "compose.yaml:compose.collector.yaml")
    try:
        up = stack.compose("up", "--detach", "--build", "--wait", "jaeger", "otel-collector")
        assert up.returncode == 0, up.stderr
        yield stack
    finally:
        stack.remove()


def _neither_killed_nor_restarted(stack: compose_project.Project, record_property) -> None:
    collector = stack.containers()["otel-collector"]
    assert (collector["State"]["OOMKilled"], collector["RestartCount"], collector["State"]["Running"]) == (
        False, 0, True,
    )  # fmt: skip
    peak = Path(f"/sys/fs/cgroup/memory/docker/{collector['Id']}/memory.max_usage_in_bytes")
    if peak.exists():  # cgroup v1: reported, not asserted
        record_property("flood", f"the collector's peak memory: {int(peak.read_text()) >> 20} MiB of 512")


def _app_trace_arrives(stack: compose_project.Project) -> None:
    app = stack.compose("run", "--rm", "--no-deps", "app", timeout=120)
    assert app.returncode == 0, app.stderr
    trace_id = exported_trace_id(app.stderr)
    assert run_smoke_test("http://localhost:16686", "--trace-id", trace_id, "--timeout", "60").returncode == 0


def test_a_token_less_flood_neither_kills_nor_restarts_the_collector_and_the_next_trace_arrives(
    collector_stack: compose_project.Project, record_property
) -> None:
    flood = Flood(connections=32, streams=16, payload=export_request(largest_request() - 64), rounds=3)
    # Requests of that size, and valid OTLP: a flood of small or broken ones proves nothing.
    sent = ExportTraceServiceRequest.FromString(flood.payload)
    assert sent.ByteSize() == largest_request() - 64 and sent.resource_spans[0].scope_spans[0].spans[0].name == "flood"
    # A bound on the flood's time, not on the collector's speed.
    answered = flood.run("127.0.0.1:14317", timeout=300)
    assert answered == {"UNAUTHENTICATED": 32 * 16 * 3}
    _neither_killed_nor_restarted(collector_stack, record_property)
    _app_trace_arrives(collector_stack)


def test_during_a_token_less_flood_of_empty_spans_the_collector_stays_up_and_the_apps_trace_arrives(
    collector_stack: compose_project.Project, record_property
) -> None:
    payload = tiny_spans_request(largest_request() - 64)
    # As many spans as the largest request holds: each one 2 bytes on the wire.
    assert len(ExportTraceServiceRequest.FromString(payload).resource_spans[0].scope_spans[0].spans) > 500_000
    flood = Flood(connections=3, streams=16, payload=payload, rounds=10_000)
    stop, answered = threading.Event(), {}
    flooding = threading.Thread(target=lambda: answered.update(flood.run("127.0.0.1:14317", timeout=600, stop=stop)))
    flooding.start()
    try:
        _app_trace_arrives(collector_stack)
        assert flooding.is_alive()  # the trace arrived during the flood
    finally:
        stop.set()
        flooding.join()
    assert set(answered) == {"UNAUTHENTICATED"}
    _neither_killed_nor_restarted(collector_stack, record_property)
