"""A trace against an expectation: does it match, and if not, the diff a user reads.

It exists apart from the polling and the HTTP so that the rule is in one place:

- the root is a span without a parent, with the root's name and service;
- a span matches when its name, service, kind (if the file gives one), status (unless
  "any"), attributes and resource attributes are as the file says, and its children
  match the file's children exactly: none missing, none extra, in any order (a multiset,
  each `count` times), recursively;
- a trace matches when its root matches and it holds no span outside the root's tree.

On a mismatch the two trees are printed as outlines, one line a span, indented by depth,
and diffed. A found span is paired with an expected one (the one it matches, else one of
the same name, the closest), so that its line shows what that expectation checks and the
diff names the missing span, the extra one, the wrong attribute, parent or status; an
extra span's line shows what the file expects of a span of its name. A line leaves out
the defaults: kind internal, status unset.
"""

import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jaeger_smoke.expectation import PRESENT, AttributeValue, Expectation, SpanExpectation
from jaeger_smoke.otlp import Span, Trace

INDENT = "  "
# Up to this many lines an outline is diffed with all of its lines as context: a tree
# reads best whole. Longer ones get difflib's usual 3 lines.
WHOLE_OUTLINE = 200


@dataclass
class Comparison:
    matches: bool
    expected: list[str]  # the expectation's outline
    found: list[str]  # the trace's outline, paired with it

    def diff(self, expected_label: str, found_label: str) -> list[str]:
        """The unified diff of the two outlines."""
        longest = max(len(self.expected), len(self.found))
        context = longest if longest <= WHOLE_OUTLINE else 3
        return list(
            difflib.unified_diff(self.expected, self.found, expected_label, found_label, n=context, lineterm="")
        )


def compare(expectation: Expectation, trace: Trace) -> Comparison:
    """Whether `trace` is the trace `expectation` declares, and both outlines."""
    matcher = _Matcher(expectation, trace)
    root = matcher.root()
    expected: list[str] = []
    matcher.expected_outline(expectation.root, 0, expected)
    found: list[str] = []
    if root is not None:
        matcher.found_outline(root, expectation.root, 0, found)
    for other in matcher.tops:
        if other is not root:
            matcher.found_outline(other, matcher.by_name.get(other.name), 0, found)
    matches = root is not None and matcher.matches(expectation.root, root) and len(matcher.tops) == 1
    return Comparison(matches, expected, found)


def root_start(expectation: Expectation, trace: Trace) -> int | None:
    """When the trace's root began (ns), if it has a span that can be the expectation's
    root: no parent, the root's name and service. How the newest such trace is found."""
    starts = [span.start_ns for span in trace.spans if _can_be_root(expectation, span)]
    return max(starts) if starts else None


def _can_be_root(expectation: Expectation, span: Span) -> bool:
    root = expectation.root
    return not span.parent_id and span.name == root.name and span.service == expectation.service_of(root)


def _satisfies(expected: AttributeValue, attributes: Mapping[str, Any], name: str) -> bool:
    if name not in attributes:
        return False
    return expected is PRESENT or _same(expected, attributes[name])


def _same(expected: object, actual: object) -> bool:
    """JSON equality, with true never equal to 1 (Python's bool is an int)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and expected == actual
    if isinstance(expected, list):
        if isinstance(actual, str):
            # Jaeger 1.55 keeps an array attribute as its JSON text.
            try:
                actual = json.loads(actual)
            except ValueError:
                return False
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(one, other) for one, other in zip(expected, actual, strict=True))
        )
    return expected == actual


def _show(value: object) -> str:
    return "(present)" if value is PRESENT else json.dumps(value, ensure_ascii=False)


def _slots(children: Sequence[SpanExpectation]) -> list[SpanExpectation]:
    """Each child expectation as many times as its count."""
    return [child for child in children for _ in range(child.count)]


class _Matcher:
    def __init__(self, expectation: Expectation, trace: Trace) -> None:
        self.expectation = expectation
        ids = {span.span_id for span in trace.spans}
        self.children: dict[str, list[Span]] = {}
        self.tops: list[Span] = []  # no parent, or a parent that is not in the trace
        for span in sorted(trace.spans, key=lambda span: span.start_ns):
            if span.parent_id and span.parent_id in ids:
                self.children.setdefault(span.parent_id, []).append(span)
            else:
                self.tops.append(span)
        self._memo: dict[tuple[int, int], bool] = {}
        # An extra span's line shows what the file expects of a span of its name elsewhere
        # in the tree: a span under the wrong parent then reads as the expected line, moved.
        self.by_name: dict[str, SpanExpectation] = {}
        level = [expectation.root]
        while level:
            for expected in level:
                self.by_name.setdefault(expected.name, expected)
            level = [child for expected in level for child in expected.children]

    def root(self) -> Span | None:
        """The span to read as the root: one that matches whole, else the newest that can
        be the root, else the first span without a parent, else the first span."""
        candidates = [span for span in self.tops if _can_be_root(self.expectation, span)]
        whole = [span for span in candidates if self.matches(self.expectation.root, span)]
        if whole or candidates:
            return max(whole or candidates, key=lambda span: span.start_ns)
        return next((span for span in self.tops if not span.parent_id), self.tops[0] if self.tops else None)

    # --- matching

    def checks(self, expected: SpanExpectation, span: Span) -> Iterator[bool]:
        """Each check of the span itself (not its children), true where it holds."""
        yield span.name == expected.name
        yield span.service == self.expectation.service_of(expected)
        if expected.kind is not None:
            yield span.kind == expected.kind
        if expected.status != "any":
            yield span.status == expected.status
        for name, value in expected.attributes.items():
            yield _satisfies(value, span.attributes, name)
        for name, value in self.expectation.resource.items():
            yield _satisfies(value, span.resource, name)

    def matches(self, expected: SpanExpectation, span: Span) -> bool:
        """The span and its whole subtree are as `expected` says."""
        key = (id(expected), id(span))
        if key not in self._memo:
            found = self.children.get(span.span_id, [])
            slots = _slots(expected.children)
            self._memo[key] = (
                all(self.checks(expected, span))
                and len(found) == len(slots)
                and len(self._matching(slots, found)) == len(slots)
            )
        return self._memo[key]

    def _matching(self, slots: list[SpanExpectation], found: list[Span]) -> dict[int, int]:
        """A largest pairing of slots with spans that match them whole (slot → span index),
        by augmenting paths: a span taken by one slot moves to another if it can."""
        taken_by: dict[int, int] = {}  # span index → slot index

        def place(slot: int, tried: set[int]) -> bool:
            for index, span in enumerate(found):
                if index in tried or not self.matches(slots[slot], span):
                    continue
                tried.add(index)
                if index not in taken_by or place(taken_by[index], tried):
                    taken_by[index] = slot
                    return True
            return False

        for slot in range(len(slots)):
            place(slot, set())
        return {slot: index for index, slot in taken_by.items()}

    def pairs(self, slots: list[SpanExpectation], found: list[Span]) -> tuple[list[Span | None], list[Span]]:
        """For each slot, its span (a whole match, else the closest of the same name) or
        None (missing); and the spans no slot took (extra), in start order."""
        paired: dict[int, int] = self._matching(slots, found)
        free = [index for index in range(len(found)) if index not in paired.values()]
        for slot, expected in enumerate(slots):
            if slot in paired:
                continue
            same_name = [index for index in free if found[index].name == expected.name]
            if same_name:
                closest = max(same_name, key=lambda index: self._closeness(expected, found[index]))
                paired[slot] = closest
                free.remove(closest)
        return [found[paired[slot]] if slot in paired else None for slot in range(len(slots))], [
            found[index] for index in free
        ]

    def _closeness(self, expected: SpanExpectation, span: Span) -> int:
        """How much of `expected` the span has: its own checks that hold, and its
        children's names in common."""
        names = [child.name for child in _slots(expected.children)]
        shared = 0
        for child in self.children.get(span.span_id, []):
            if child.name in names:
                names.remove(child.name)
                shared += 1
        return sum(self.checks(expected, span)) + shared

    # --- outlines

    def expected_outline(self, expected: SpanExpectation, depth: int, lines: list[str]) -> None:
        words = [expected.name, f"[{self.expectation.service_of(expected)}]"]
        if expected.kind not in (None, "internal"):
            words.append(f"kind={expected.kind}")
        if expected.status not in ("unset", "any"):
            words.append(f"status={expected.status}")
        words += [f"{name}={_show(value)}" for name, value in expected.attributes.items()]
        lines.append(INDENT * depth + " ".join(words))
        for child in _slots(expected.children):
            self.expected_outline(child, depth + 1, lines)

    def found_outline(self, span: Span, expected: SpanExpectation | None, depth: int, lines: list[str]) -> None:
        words = [span.name, f"[{span.service}]"]
        # What the paired expectation checks; a span with none shows its kind and status
        # where they are not the defaults.
        if (expected is None or expected.kind is not None) and span.kind != "internal":
            words.append(f"kind={span.kind}")
        if (expected is None or expected.status != "any") and span.status != "unset":
            words.append(f"status={span.status}")
        for name, value in (expected.attributes if expected else {}).items():
            if _satisfies(value, span.attributes, name):
                words.append(f"{name}={_show(value)}")
            else:
                words.append(f"{name}={_show(span.attributes[name]) if name in span.attributes else '(absent)'}")
        for name, value in self.expectation.resource.items():
            if not _satisfies(value, span.resource, name):
                shown = _show(span.resource[name]) if name in span.resource else "(absent)"
                words.append(f"(resource {name}={shown})")
        if span.parent_id and depth == 0:
            words.append("(parent not in trace)")
        lines.append(INDENT * depth + " ".join(words))
        slots = _slots(expected.children) if expected else []
        paired, extra = self.pairs(slots, self.children.get(span.span_id, []))
        for slot, child in zip(slots, paired, strict=True):
            if child is not None:
                self.found_outline(child, slot, depth + 1, lines)
        for child in extra:
            self.found_outline(child, self.by_name.get(child.name), depth + 1, lines)
