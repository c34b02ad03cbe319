"""--record's file: what it holds of a trace, and that the check passes it against that trace."""

import unittest

from jaeger_smoke.compare import compare
from jaeger_smoke.expectation import _file
from jaeger_smoke.record import CannotRecord, document

from .otlp_answers import node, trace_of

WEB = node(
    "GET /users/{id}",
    node("SELECT users", kind="client", attributes={"db.system": "postgresql", "db.operation": "SELECT",
                                                   "net.peer.port": 5432, "db.statement": "SELECT * WHERE id=7"}),
    node("http send", attributes={"asgi.event.type": "http.response.body"}),
    node("http send", attributes={"asgi.event.type": "http.response.body"}),
    node("GET", node("POST /score", service="scores", kind="server", attributes={"http.route": "/score"}),
         kind="client", status="error", attributes={"http.request.method": "GET", "server.port": 8081,
                                                     "http.response.status_code": 503}),
    kind="server",
    attributes={"http.route": "/users/{id}", "http.method": "GET", "http.status_code": 200, "http.host": "a:1",
                "http.target": "/users/7", "net.host.port": 5000},
)  # fmt: skip


def recorded(root=WEB, keys=None) -> tuple[dict, object]:
    trace = trace_of(root)
    [top] = [span for span in trace.spans if not span.parent_id]
    return (document(trace, top) if keys is None else document(trace, top, keys)), trace


class Recording(unittest.TestCase):
    def test_a_recorded_trace_holds_its_tree_names_kinds_statuses_services_and_stable_attributes(self) -> None:
        data, _ = recorded()
        self.assertEqual(data["service"], "shop")
        self.assertEqual(
            data["root"],
            {
                "name": "GET /users/{id}", "kind": "server",
                "attributes": {"http.route": "/users/{id}", "http.method": "GET", "http.status_code": 200},
                "children": [
                    {"name": "SELECT users", "kind": "client",
                     "attributes": {"db.system": "postgresql", "db.operation": "SELECT"}},
                    {"name": "http send", "kind": "internal", "count": 2},
                    {"name": "GET", "kind": "client", "status": "error",
                     "attributes": {"http.request.method": "GET", "http.response.status_code": 503},
                     "children": [{"name": "POST /score", "service": "scores", "kind": "server",
                                   "attributes": {"http.route": "/score"}}]},
                ],
            },
        )  # fmt: skip

    def test_the_recorded_file_passes_against_its_trace_in_every_spelling(self) -> None:
        for spelling in ("1.55", "v2", "protobuf"):
            with self.subTest(spelling):
                trace = trace_of(WEB, spelling)
                [top] = [span for span in trace.spans if not span.parent_id]
                self.assertTrue(compare(_file(document(trace, top), "recorded.json"), trace).matches)

    def test_keys_given_are_recorded_too(self) -> None:
        data, trace = recorded(keys=["asgi.event.type"])
        self.assertEqual(data["root"]["children"][1]["attributes"], {"asgi.event.type": "http.response.body"})
        self.assertNotIn("attributes", data["root"])
        self.assertTrue(compare(_file(data, "recorded.json"), trace).matches)

    def test_siblings_that_differ_below_are_not_folded(self) -> None:
        data, trace = recorded(node("r", node("a", node("x")), node("a", node("y")), node("a", node("x"))))
        self.assertEqual([child.get("count", 1) for child in data["root"]["children"]], [2, 1])
        self.assertTrue(compare(_file(data, "recorded.json"), trace).matches)

    def test_a_trace_with_spans_outside_its_root_cannot_be_recorded(self) -> None:
        trace = trace_of(node("r", node("a")))
        orphan = trace.spans[1]
        trace.spans[1] = type(orphan)(**{**orphan.__dict__, "parent_id": "ffffffffffffffff"})
        with self.assertRaises(CannotRecord) as caught:
            document(trace, trace.spans[0])
        self.assertIn("1 of its 2 spans are not under its root 'r'", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
