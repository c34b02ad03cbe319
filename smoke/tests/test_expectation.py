"""The expectation file: today's keys, the patterns, ranges, extra children and durations,
and a malformed file as one line naming the place."""

import json
import tempfile
import unittest
from pathlib import Path

from jaeger_smoke.expectation import PRESENT, ExpectationError, Range, Regex, load

APP_LIKE = {"service": "canary", "root": {"name": "main", "children": [{"name": "GetUser"}, {"name": "GetUser"}]}}


def parsed(document: dict | str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "expected-trace.json"
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        return load(path)


def refused(document: dict | str) -> str:
    """The one line that refuses the file, without its path."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "expected-trace.json"
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        try:
            load(path)
        except ExpectationError as error:
            message = str(error)
            assert message.startswith(f"{path}: "), message
            return message.removeprefix(f"{path}: ")
        raise AssertionError("the file was accepted")


def app_like(**changes: dict) -> dict:
    """APP_LIKE with the second child's keys changed."""
    document = json.loads(json.dumps(APP_LIKE))
    document["root"]["children"][1].update(changes)
    return document


class TodaysFormat(unittest.TestCase):
    def test_a_file_of_todays_format_reads_as_before(self) -> None:
        expectation = parsed(
            {"service": "shop", "resource": {"service.version": {"present": True}},
             "root": {"name": "GET /", "kind": "server", "status": "ok", "attributes": {"http.route": "/"},
                      "children": [{"name": "SELECT", "count": 2, "service": "db"}]}}
        )  # fmt: skip
        self.assertEqual(expectation.resource, {"service.version": PRESENT})
        [child] = expectation.root.children
        self.assertEqual((child.name, child.count, child.most, child.service), ("SELECT", 2, 2, "db"))
        self.assertEqual((expectation.total(), expectation.spans_expected()), (3, "3"))
        self.assertFalse(child.extra_children)
        self.assertIsNone(child.duration_ms)


class NewKeys(unittest.TestCase):
    def test_a_name_and_a_string_attribute_may_be_a_regex(self) -> None:
        expectation = parsed(
            {
                "service": "shop",
                "root": {"name": {"regex": "GET /users/.*"}, "attributes": {"url": {"regex": "/u/\\d+"}}},
            }
        )
        self.assertEqual(expectation.root.name, Regex("GET /users/.*"))
        self.assertEqual(expectation.root.attributes["url"], Regex("/u/\\d+"))

    def test_a_regex_matches_the_whole_value(self) -> None:
        pattern = Regex("GET /users/\\d+")
        self.assertTrue(pattern.matches("GET /users/42"))
        self.assertFalse(pattern.matches("GET /users/42/avatar"))
        self.assertFalse(pattern.matches("xGET /users/42"))
        self.assertFalse(pattern.matches(42))

    def test_a_number_attribute_may_be_a_range_with_either_bound(self) -> None:
        expectation = parsed(
            {"service": "s", "root": {"name": "r", "attributes": {"a": {"min": 1, "max": 2.5}, "b": {"min": 3},
                                                                   "c": {"max": 4}}}}
        )  # fmt: skip
        self.assertEqual(
            dict(expectation.root.attributes), {"a": Range(1, 2.5), "b": Range(3, None), "c": Range(None, 4)}
        )
        self.assertTrue(Range(1, 2.5).holds(2.5))
        self.assertFalse(Range(1, 2.5).holds(2.6))
        self.assertFalse(Range(None, 4).holds(True))  # a boolean is not a number
        self.assertFalse(Range(None, 4).holds("3"))

    def test_a_count_may_be_a_range_with_either_bound(self) -> None:
        expectation = parsed(app_like(count={"min": 2, "max": 5}))
        child = expectation.root.children[1]
        self.assertEqual((child.count, child.most), (2, 5))
        self.assertEqual((expectation.total(), expectation.spans_expected()), (4, "4 or more"))
        self.assertEqual(parsed(app_like(count={"max": 3})).root.children[1].count, 0)
        self.assertIsNone(parsed(app_like(count={"min": 1})).root.children[1].most)

    def test_extra_children_allowed(self) -> None:
        self.assertTrue(parsed(app_like(extra_children="allowed")).root.children[1].extra_children)
        self.assertFalse(parsed(app_like(extra_children="exact")).root.children[1].extra_children)
        self.assertEqual(parsed(app_like(extra_children="allowed")).spans_expected(), "3 or more")

    def test_a_duration_bound_in_ms(self) -> None:
        self.assertEqual(parsed(app_like(duration_ms={"max": 250})).root.children[1].duration_ms, Range(None, 250))


MALFORMED = {
    "bad JSON": (
        '{\n  "service": "canary",\n  "root": {"name": "main",}\n}\n',
        "line 3, column 27: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    "an unknown key": (
        app_like(colour="blue"),
        "root.children[1]: unknown key 'colour'; a span has the keys name, service, kind, status, attributes, count,"
        " duration_ms, extra_children, children",
    ),
    "an unknown key at the top": (
        {**APP_LIKE, "servce": "canary"},
        "top level: unknown key 'servce'; an expectation file has the keys service, root, resource, description",
    ),
    "a wrong type": (
        {"service": "canary", "root": {"name": "main", "children": {"name": "GetUser"}}},
        "root.children: expected a list of spans, not an object",
    ),
    "a name that is not a string": (
        app_like(name=5),
        "root.children[1].name: expected a non-empty string, not a number",
    ),
    "an unknown status": (
        app_like(status="fine"),
        "root.children[1].status: 'fine' is not a status; expected one of unset, ok, error, any",
    ),
    "an unknown kind": (
        {"service": "canary", "root": {"name": "main", "kind": "Server"}},
        "root.kind: 'Server' is not a span kind; expected one of internal, server, client, producer, consumer",
    ),
    "count 0": (
        app_like(count=0),
        "root.children[1].count: 0 is not a count; expected a whole number from 1 up (default 1), or a range"
        ' {"min": 1, "max": 3}',
    ),
    "a count on the root": (
        {"service": "canary", "root": {"name": "main", "count": 2}},
        "root.count: the root is one span: a count belongs to a child",
    ),
    "an attribute object": (
        {"service": "canary", "root": {"name": "main", "attributes": {"user.id": {"present": False}}}},
        'root.attributes["user.id"]: an object here must be {"present": true}, {"regex": "…"} or'
        ' {"min": …, "max": …}; any other value is matched exactly',
    ),
    "a null attribute": (
        {**APP_LIKE, "resource": {"service.version": None}},
        'resource["service.version"]: null is not an attribute value; expected a string, number, boolean, list or'
        ' {"present": true}, {"regex": "…"} or {"min": …, "max": …}',
    ),
    "no root": ({"service": "canary"}, "top level: missing key 'root'"),
    "a key given twice": (
        '{"service": "a", "root": {"name": "main", "kind": "server", "kind": "client"}}',
        "root: key 'kind' given twice",
    ),
    "a regex that does not compile": (
        app_like(name={"regex": "GET ("}),
        "root.children[1].name: 'GET (' is not a Python regular expression: missing ), unterminated subpattern at"
        " position 4",
    ),
    "a name object that is not a regex": (
        app_like(name={"glob": "GET *"}),
        "root.children[1].name: unknown key 'glob'; a name pattern has the keys regex",
    ),
    "a count range upside down": (app_like(count={"min": 3, "max": 2}), "root.children[1].count: min 3 is above max 2"),
    "a count range of no spans": (
        app_like(count={"max": 0}),
        "root.children[1].count: a count range's max is 1 or more",
    ),
    "a count range of parts": (
        app_like(count={"min": 1.5}),
        "root.children[1].count.min: expected a whole number, not a number",
    ),
    "an empty range": (
        app_like(duration_ms={}),
        'root.children[1].duration_ms: a duration in ms needs "min", "max" or both',
    ),
    "a negative duration": (app_like(duration_ms={"min": -1}), "root.children[1].duration_ms.min: -1 is below 0"),
    "a duration bound that is text": (
        app_like(duration_ms={"max": "1s"}),
        "root.children[1].duration_ms.max: expected a number, not a string",
    ),
    "extra children otherwise": (
        app_like(extra_children=True),
        'root.children[1].extra_children: True is not allowed here; expected "allowed" (or "exact", the default)',
    ),
}


class Malformed(unittest.TestCase):
    def test_a_malformed_file_is_one_line_naming_the_place(self) -> None:
        for case, (document, says) in MALFORMED.items():
            with self.subTest(case):
                self.assertEqual(refused(document), says)

    def test_a_missing_file_is_one_line(self) -> None:
        with tempfile.TemporaryDirectory() as folder, self.assertRaises(ExpectationError) as caught:
            load(Path(folder) / "nowhere.json")
        self.assertEqual(
            str(caught.exception), f"{Path(folder) / 'nowhere.json'}: cannot be read: No such file or directory"
        )


if __name__ == "__main__":
    unittest.main()
