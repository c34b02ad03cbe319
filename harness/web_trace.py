"""Another team's trace, for the smoke test's tests: a web request across two services,
made with the OpenTelemetry SDK and exported over OTLP/gRPC, as smoke/examples/web-request.json
(docs/smoke-test.md's example) declares it.

    python -m harness.web_trace HOST:PORT [--hold]

shop-frontend serves GET /orders/{id} (SERVER) and calls orders-api (CLIENT); orders-api
serves it (SERVER), asks its Redis cache twice, refused both times (two CLIENT spans,
status ERROR), then PostgreSQL (a CLIENT span). Each service has its own resource, as two
processes would. It prints the trace's id.

Each service exports on its own schedule, as two processes do: shop-frontend each span as
it ends, orders-api its four at once, at the end. With --hold, orders-api waits for a line
on stdin first (after printing "held"), so that a test can check a trace whose spans are
not all in Jaeger yet.
"""

import argparse
import sys

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

HOUR_MS = 3_600_000


def _provider(endpoint: str, service: str, version: str, processor: type) -> TracerProvider:
    resource = Resource.create(
        {"service.name": service, "service.version": version, "deployment.environment.name": "staging"}
    )
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=f"http://{endpoint}", insecure=True)
    if processor is BatchSpanProcessor:  # holds every span until force_flush
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=HOUR_MS))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoint", help="Jaeger's OTLP/gRPC receiver, host:port")
    parser.add_argument("--hold", action="store_true", help="export orders-api's spans only after a line on stdin")
    args = parser.parse_args()

    frontend = _provider(args.endpoint, "shop-frontend", "1.4.2", SimpleSpanProcessor)
    orders = _provider(args.endpoint, "orders-api", "2.0.1", BatchSpanProcessor)
    web, api = frontend.get_tracer("shop.frontend"), orders.get_tracer("orders.api")

    with web.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER) as request:
        request.set_attributes({"http.request.method": "GET", "http.route": "/orders/{id}"})
        trace_id = format(request.get_span_context().trace_id, "032x")
        with web.start_as_current_span("GET", kind=SpanKind.CLIENT) as call:
            call.set_attributes({"http.request.method": "GET", "server.address": "orders-api"})
            with api.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER) as served:
                served.set_attributes({"http.request.method": "GET", "http.route": "/orders/{id}"})
                for _attempt in range(2):
                    with api.start_as_current_span("HGETALL", kind=SpanKind.CLIENT, record_exception=False,
                                                   set_status_on_exception=False) as cache:  # fmt: skip
                        cache.set_attributes({"db.system.name": "redis", "db.operation.name": "HGETALL",
                                              "error.type": "ConnectionRefusedError"})  # fmt: skip
                        cache.set_status(Status(StatusCode.ERROR, "connection refused"))
                with api.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as query:
                    query.set_attributes({"db.system.name": "postgresql", "db.operation.name": "SELECT",
                                          "db.collection.name": "orders"})  # fmt: skip
                served.set_attribute("http.response.status_code", 200)
            call.set_attribute("http.response.status_code", 200)
        request.set_attribute("http.response.status_code", 200)

    print(trace_id, flush=True)
    if args.hold:
        print("held", flush=True)
        sys.stdin.readline()
    orders.force_flush()
    orders.shutdown()
    frontend.shutdown()


if __name__ == "__main__":
    main()
