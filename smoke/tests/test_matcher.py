"""The matcher: which traces match an expectation, and the diff of one that does not.
Traces come through the client's reader from each spelling of Jaeger's answer."""

import unittest

from jaeger_smoke.compare import compare
from jaeger_smoke.expectation import Expectation, _file

from .otlp_answers import SERVICE, node, trace_of

SPELLINGS = ("1.55", "v2", "protobuf")


def expect(root: dict, **top: object) -> Expectation:
    return _file({"service": SERVICE, "root": root, **top}, "expected.json")


def matches(expectation: Expectation, root, spelling: str = "v2") -> bool:
    return compare(expectation, trace_of(root, spelling)).matches


def diff(expectation: Expectation, root) -> list[str]:
    """The lines the diff adds or removes."""
    comparison = compare(expectation, trace_of(root))
    lines = comparison.diff("expected", "found")
    return [line for line in lines[2:] if line[:1] in "-+"]


def children(*names: str):
    return [node(name) for name in names]


class Exact(unittest.TestCase):
    def test_the_same_tree_matches_in_every_spelling(self) -> None:
        expectation = expect(
            {"name": "GET /", "kind": "server", "status": "error", "attributes": {"n": 2, "ok": False},
             "children": [{"name": "q", "kind": "client", "count": 2}]}
        )  # fmt: skip
        tree = node("GET /", node("q", kind="client"), node("q", kind="client"), kind="server", status="error",
                    attributes={"n": 2, "ok": False})  # fmt: skip
        for spelling in SPELLINGS:
            with self.subTest(spelling):
                self.assertTrue(matches(expectation, tree, spelling))

    def test_a_missing_and_an_extra_span_fail_by_default(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "a"}, {"name": "b"}]})
        self.assertFalse(matches(expectation, node("r", node("a"))))
        self.assertFalse(matches(expectation, node("r", node("a"), node("b"), node("c"))))
        self.assertEqual(diff(expectation, node("r", node("a"))), ["-  b [shop]"])
        self.assertEqual(diff(expectation, node("r", node("a"), node("b"), node("c"))), ["+  c [shop]"])


class Patterns(unittest.TestCase):
    def test_a_name_regex_matches_whole_names_only(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": {"regex": "GET /users/\\d+"}}]})
        self.assertTrue(matches(expectation, node("r", node("GET /users/42"))))
        self.assertFalse(matches(expectation, node("r", node("GET /users/42/avatar"))))

    def test_the_root_may_be_named_by_a_regex(self) -> None:
        self.assertTrue(matches(expect({"name": {"regex": "GET .*"}}), node("GET /a")))

    def test_a_string_attribute_regex_and_a_number_range(self) -> None:
        expectation = expect({"name": "r", "attributes": {"host": {"regex": "api-\\d"}, "port": {"min": 1024}}})
        self.assertTrue(matches(expectation, node("r", attributes={"host": "api-3", "port": 8080})))
        self.assertFalse(matches(expectation, node("r", attributes={"host": "api-3", "port": 80})))
        self.assertFalse(matches(expectation, node("r", attributes={"host": "web-3", "port": 8080})))
        self.assertFalse(matches(expectation, node("r", attributes={"host": 3, "port": 8080})))
        self.assertEqual(
            diff(expectation, node("r", attributes={"host": "api-3", "port": 80})),
            ["-r [shop] host=/api-\\d/ port=1024..", "+r [shop] host=/api-\\d/ port=80"],
        )


class CountRanges(unittest.TestCase):
    def test_a_range_takes_any_count_within_its_bounds(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "send", "count": {"min": 2, "max": 4}}]})
        for count, fits in [(1, False), (2, True), (4, True), (5, False)]:
            with self.subTest(count=count):
                self.assertEqual(matches(expectation, node("r", *children(*["send"] * count))), fits)

    def test_a_range_without_max_takes_any_number_from_its_min(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "send", "count": {"min": 1}}]})
        self.assertTrue(matches(expectation, node("r", *children(*["send"] * 30))))
        self.assertFalse(matches(expectation, node("r")))

    def test_a_range_from_zero_makes_a_span_optional(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "a"}, {"name": "cache", "count": {"max": 1}}]})
        self.assertTrue(matches(expectation, node("r", node("a"))))
        self.assertTrue(matches(expectation, node("r", node("a"), node("cache"))))

    def test_a_greedy_range_leaves_a_later_sibling_the_span_it_needs(self) -> None:
        # Both expectations fit every "http send" span: the range first, but never all of them.
        expectation = expect(
            {"name": "r", "children": [{"name": {"regex": "http .*"}, "count": {"min": 1}}, {"name": "http send"}]}
        )
        self.assertTrue(matches(expectation, node("r", *children("http send", "http send", "http send"))))
        self.assertFalse(matches(expectation, node("r", node("http send"))))

    def test_a_span_only_the_earlier_sibling_fits_is_not_given_to_the_later(self) -> None:
        # "a1" fits only the first expectation; the assignment moves spans so that both are met.
        expectation = expect(
            {"name": "r", "children": [{"name": {"regex": "a."}, "count": {"min": 1, "max": 2}},
                                       {"name": {"regex": "a[12]"}, "count": 1}]}
        )  # fmt: skip
        self.assertTrue(matches(expectation, node("r", node("a1"), node("a3"))))
        self.assertTrue(matches(expectation, node("r", node("a3"), node("a1"), node("a2"))))
        self.assertFalse(matches(expectation, node("r", node("a3"), node("a4"))))

    def test_with_extra_children_the_earlier_range_takes_as_many_as_it_may(self) -> None:
        expectation = expect(
            {"name": "r", "extra_children": "allowed",
             "children": [{"name": {"regex": "s.*"}, "count": {"max": 2}}, {"name": "send", "count": {"min": 1}}]}
        )  # fmt: skip
        comparison = compare(expectation, trace_of(node("r", *children("send", "send", "send", "send"))))
        self.assertTrue(comparison.matches)
        # Two to the range, in the file's order first; the rest to "send"; none ignored.
        self.assertEqual(
            comparison.found, ["r [shop]", "  /s.*/ [shop]", "  /s.*/ [shop]", "  send [shop]", "  send [shop]"]
        )

    def test_a_range_above_its_max_shows_the_extra_span(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "send", "count": {"max": 2}}]})
        self.assertEqual(diff(expectation, node("r", *children("send", "send", "send"))), ["+  send [shop]"])

    def test_a_range_below_its_min_shows_the_missing_span(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "send", "count": {"min": 2}}]})
        self.assertEqual(diff(expectation, node("r", node("send"))), ["-  send [shop]"])


class ExtraChildren(unittest.TestCase):
    def test_allowed_extra_children_are_ignored_and_shown_as_ignored(self) -> None:
        expectation = expect({"name": "r", "extra_children": "allowed", "children": [{"name": "a"}],
                              "attributes": {"x": 1}})  # fmt: skip
        tree = node("r", node("a"), node("http receive", node("deep")), attributes={"x": 1})
        self.assertTrue(matches(expectation, tree))
        wrong = node("r", node("a"), node("http receive", node("deep")), attributes={"x": 2})
        comparison = compare(expectation, trace_of(wrong))
        self.assertFalse(comparison.matches)
        lines = comparison.diff("expected", "found")
        self.assertIn("   http receive [shop] (ignored)", lines)  # context on both sides, not a difference
        self.assertIn("     deep [shop] (ignored)", lines)
        self.assertEqual([line for line in lines[2:] if line[:1] in "-+"], ["-r [shop] x=1", "+r [shop] x=2"])

    def test_allowed_extra_children_still_need_the_listed_ones(self) -> None:
        expectation = expect({"name": "r", "extra_children": "allowed", "children": [{"name": "a"}]})
        self.assertFalse(matches(expectation, node("r", node("b"))))

    def test_extra_children_is_per_span_not_inherited(self) -> None:
        expectation = expect({"name": "r", "extra_children": "allowed", "children": [{"name": "a"}]})
        self.assertFalse(matches(expectation, node("r", node("a", node("under a")))))


class Durations(unittest.TestCase):
    def test_a_span_outside_its_duration_bound_fails_showing_its_duration(self) -> None:
        expectation = expect({"name": "r", "children": [{"name": "slow", "duration_ms": {"max": 100}}]})
        self.assertTrue(matches(expectation, node("r", node("slow", duration_ms=99.5))))
        self.assertFalse(matches(expectation, node("r", node("slow", duration_ms=250))))
        self.assertEqual(
            diff(expectation, node("r", node("slow", duration_ms=250))),
            ["-  slow [shop] duration_ms=..100", "+  slow [shop] duration_ms=250.000"],
        )

    def test_a_minimum_duration(self) -> None:
        expectation = expect({"name": "r", "duration_ms": {"min": 10}})
        self.assertFalse(matches(expectation, node("r", duration_ms=5)))
        self.assertTrue(matches(expectation, node("r", duration_ms=10)))


if __name__ == "__main__":
    unittest.main()
