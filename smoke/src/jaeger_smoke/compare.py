"""A trace against an expectation: does it match, and if not, the diff a user reads.

It exists apart from the polling and the HTTP so that the rule is in one place:

- the root is a span without a parent, with the root's name (or name pattern) and service;
- a span matches when its name, service, kind (if the file gives one), status (unless
  "any"), attributes, resource attributes and duration (if bounded) are as the file
  says, and its children match the file's children: each child expectation takes from
  `count` spans (its min) up to its max, recursively, and no span is left over unless
  the span has `"extra_children": "allowed"` (then the rest is ignored);
- a trace matches when its root matches and it holds no span outside the root's tree.

Which child span goes to which child expectation (they may overlap: a pattern, a range)
is an assignment, not a first come first served: first every expectation's minimum,
then, in the file's order, each expectation takes as many more spans as it can (up to
its max) such that no expectation before it loses a span. So a range is greedy, yet
never takes a span a later sibling needs: the children match whenever some assignment
makes them match.

On a mismatch the two trees are printed as outlines, one line a span, indented by depth,
and diffed. A found span is paired with an expected one (the one it matches, else one of
the same name, the closest), so that its line shows what that expectation checks and the
diff names the missing span, the extra one, the wrong attribute, duration, parent or
status; an extra span's line shows what the file expects of a span of its name. An
ignored span is on both sides, marked "(ignored)": context, not a difference. A line
leaves out the defaults: kind internal, status unset.
"""

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jaeger_smoke.expectation import PRESENT, AttributeValue, Expectation, Range, Regex, SpanExpectation
from jaeger_smoke.otlp import Span, Trace

INDENT = "  "
IGNORED = "(ignored)"
# Up to this many lines an outline is diffed with all of its lines as context: a tree
# reads best whole. Longer ones get difflib's usual 3 lines.
WHOLE_OUTLINE = 200


@dataclass
class Comparison:
    matches: bool
    expected: list[str]  # the expectation's outline, paired with the trace's
    found: list[str]  # the trace's outline

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
    found: list[str] = []
    matcher.outline(expectation.root, root, 0, expected, found)
    for other in matcher.tops:
        if other is not root:
            matcher.outline(matcher.shown_as(other), other, 0, None, found)
    matches = root is not None and matcher.matches(expectation.root, root) and len(matcher.tops) == 1
    return Comparison(matches, expected, found)


def can_be_root(expectation: Expectation, span: Span) -> bool:
    root = expectation.root
    return not span.parent_id and root.names(span.name) and span.service == expectation.service_of(root)


def _satisfies(expected: AttributeValue, attributes: Mapping[str, Any], name: str) -> bool:
    if name not in attributes:
        return False
    if expected is PRESENT:
        return True
    if isinstance(expected, Regex):
        return expected.matches(attributes[name])
    if isinstance(expected, Range):
        return expected.holds(attributes[name])
    return _same(expected, attributes[name])


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
    if isinstance(value, Regex | Range) or value is PRESENT:
        return str(value) if value is not PRESENT else "(present)"
    return json.dumps(value, ensure_ascii=False)


def duration_ms(span: Span) -> float:
    return (span.end_ns - span.start_ns) / 1e6


@dataclass
class _Assignment:
    """Child spans given to child expectations: `slots[n]` is the expectation (an index)
    of slot n, `span_of[n]` its span's index, if it has one; the first `least` slots
    are the expectations' minimums."""

    slots: list[int]
    span_of: dict[int, int]
    least: int

    def complete(self) -> bool:
        return all(slot in self.span_of for slot in range(self.least))


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
        self._assignments: dict[tuple[int, str], _Assignment] = {}
        # An extra span's line shows what the file expects of a span of its name elsewhere
        # in the tree: a span under the wrong parent then reads as the expected line, moved.
        self.everywhere: list[SpanExpectation] = []
        level = [expectation.root]
        while level:
            self.everywhere += level
            level = [child for expected in level for child in expected.children]

    def shown_as(self, span: Span) -> SpanExpectation | None:
        """The first expectation, breadth first, that names a span so."""
        return next((expected for expected in self.everywhere if expected.names(span.name)), None)

    def root(self) -> Span | None:
        """The span to read as the root: one that matches whole, else the newest that can
        be the root, else the first span without a parent, else the first span."""
        candidates = [span for span in self.tops if can_be_root(self.expectation, span)]
        whole = [span for span in candidates if self.matches(self.expectation.root, span)]
        if whole or candidates:
            return max(whole or candidates, key=lambda span: span.start_ns)
        return next((span for span in self.tops if not span.parent_id), self.tops[0] if self.tops else None)

    # --- matching

    def checks(self, expected: SpanExpectation, span: Span) -> Iterator[bool]:
        """Each check of the span itself (not its children), true where it holds."""
        yield expected.names(span.name)
        yield span.service == self.expectation.service_of(expected)
        if expected.kind is not None:
            yield span.kind == expected.kind
        if expected.status != "any":
            yield span.status == expected.status
        for name, value in expected.attributes.items():
            yield _satisfies(value, span.attributes, name)
        for name, value in self.expectation.resource.items():
            yield _satisfies(value, span.resource, name)
        if expected.duration_ms is not None:
            yield expected.duration_ms.holds(duration_ms(span))

    def matches(self, expected: SpanExpectation, span: Span) -> bool:
        """The span and its whole subtree are as `expected` says."""
        key = (id(expected), id(span))
        if key not in self._memo:
            self._memo[key] = False  # a cycle of parents in a malformed trace ends here
            if all(self.checks(expected, span)):
                found = self.children.get(span.span_id, [])
                assignment = self.assignment(expected, span)
                self._memo[key] = assignment.complete() and (
                    expected.extra_children or len(assignment.span_of) == len(found)
                )
        return self._memo[key]

    def assignment(self, expected: SpanExpectation, span: Span) -> _Assignment:
        """The span's children given to `expected`'s children (see the module's rule)."""
        key = (id(expected), span.span_id)
        if key in self._assignments:
            return self._assignments[key]
        wanted, found = expected.children, self.children.get(span.span_id, [])
        slots: list[int] = []
        taken_by: dict[int, int] = {}  # span index → slot

        def place(slot: int, tried: set[int]) -> bool:
            """Give the slot a span, moving others' spans to other spans where needed (an augmenting path)."""
            fits = [
                index
                for index in range(len(found))
                if index not in tried and self.matches(wanted[slots[slot]], found[index])
            ]
            free = next((index for index in fits if index not in taken_by), None)
            if free is not None:
                taken_by[free] = slot
                return True
            for index in fits:
                if index in tried:
                    continue
                tried.add(index)
                if place(taken_by[index], tried):
                    taken_by[index] = slot
                    return True
            return False

        for position, child in enumerate(wanted):  # every minimum first
            for _ in range(child.count):
                slots.append(position)
                place(len(slots) - 1, set())
        least = len(slots)
        for position, child in enumerate(wanted):  # then, in the file's order, as many more as fit
            more = (len(found) if child.most is None else child.most) - child.count
            for _ in range(max(more, 0)):
                slots.append(position)
                if not place(len(slots) - 1, set()):
                    slots.pop()
                    break  # the same expectation's next slot would not fit either
        self._assignments[key] = _Assignment(slots, {slot: index for index, slot in taken_by.items()}, least)
        return self._assignments[key]

    def pairs(
        self, expected: SpanExpectation, span: Span
    ) -> tuple[list[tuple[SpanExpectation, Span | None]], list[Span]]:
        """Each slot's expectation with its span (a whole match, else the closest free one of
        the same name) or None (missing), in the file's order; and the spans no slot took
        (extra), in start order."""
        found = self.children.get(span.span_id, [])
        assignment = self.assignment(expected, span)
        span_of = dict(assignment.span_of)
        free = [index for index in range(len(found)) if index not in span_of.values()]
        for slot in range(assignment.least):
            if slot in span_of:
                continue
            wanted = expected.children[assignment.slots[slot]]
            same_name = [index for index in free if wanted.names(found[index].name)]
            if same_name:
                closest = max(same_name, key=lambda index: self._closeness(wanted, found[index]))
                span_of[slot] = closest
                free.remove(closest)
        order = sorted(range(len(assignment.slots)), key=lambda slot: (assignment.slots[slot], slot))
        paired = [
            (expected.children[assignment.slots[slot]], found[span_of[slot]] if slot in span_of else None)
            for slot in order
            if slot in span_of or slot < assignment.least
        ]
        return paired, [found[index] for index in free]

    def _closeness(self, expected: SpanExpectation, span: Span) -> int:
        """How much of `expected` the span has: its own checks that hold, and its
        children's names in common."""
        names = [child for child in expected.children for _ in range(child.count)]
        shared = 0
        for child in self.children.get(span.span_id, []):
            named = next((wanted for wanted in names if wanted.names(child.name)), None)
            if named is not None:
                names.remove(named)
                shared += 1
        return sum(self.checks(expected, span)) + shared

    # --- outlines

    def outline(
        self,
        expected: SpanExpectation | None,
        span: Span | None,
        depth: int,
        expected_lines: list[str] | None,
        found_lines: list[str] | None,
    ) -> None:
        """The lines of `expected` (into expected_lines, unless None: an extra span) and of
        `span` (into found_lines, unless None or the span is missing), and their children's."""
        if span is None:
            if expected is not None and expected_lines is not None:
                expected_lines.append(INDENT * depth + self.expected_line(expected))
                for child in expected.children:
                    for _ in range(child.count):
                        self.outline(child, None, depth + 1, expected_lines, None)
            return
        if expected_lines is not None and expected is not None:
            expected_lines.append(INDENT * depth + self.expected_line(expected))
        if found_lines is not None:
            found_lines.append(INDENT * depth + self.found_line(span, expected, depth))
        if expected is None:
            for child in self.children.get(span.span_id, []):
                self.outline(self.shown_as(child), child, depth + 1, None, found_lines)
            return
        paired, extra = self.pairs(expected, span)
        both = expected_lines is not None
        for wanted, child in paired:
            self.outline(wanted, child, depth + 1, expected_lines if both else None, found_lines)
        for child in extra:
            if expected.extra_children and both:
                self.ignored(child, depth + 1, expected_lines, found_lines)
            else:
                self.outline(self.shown_as(child), child, depth + 1, None, found_lines)

    def ignored(self, span: Span, depth: int, *outlines: list[str] | None) -> None:
        """A span `extra_children` lets be, and its subtree: the same line on both sides."""
        line = INDENT * depth + " ".join([span.name, f"[{span.service}]", IGNORED])
        for lines in outlines:
            if lines is not None:
                lines.append(line)
        for child in self.children.get(span.span_id, []):
            self.ignored(child, depth + 1, *outlines)

    def expected_line(self, expected: SpanExpectation) -> str:
        words = [str(expected.name), f"[{self.expectation.service_of(expected)}]"]
        if expected.kind not in (None, "internal"):
            words.append(f"kind={expected.kind}")
        if expected.status not in ("unset", "any"):
            words.append(f"status={expected.status}")
        words += [f"{name}={_show(value)}" for name, value in expected.attributes.items()]
        if expected.duration_ms is not None:
            words.append(f"duration_ms={expected.duration_ms}")
        return " ".join(words)

    def found_line(self, span: Span, expected: SpanExpectation | None, depth: int) -> str:
        shown_name = str(expected.name) if expected is not None and expected.names(span.name) else span.name
        words = [shown_name, f"[{span.service}]"]
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
        if expected is not None and expected.duration_ms is not None:
            bound, measured = expected.duration_ms, duration_ms(span)
            words.append(f"duration_ms={bound if bound.holds(measured) else f'{measured:.3f}'}")
        for name, value in self.expectation.resource.items():
            if not _satisfies(value, span.resource, name):
                shown = _show(span.resource[name]) if name in span.resource else "(absent)"
                words.append(f"(resource {name}={shown})")
        if span.parent_id and depth == 0:
            words.append("(parent not in trace)")
        return " ".join(words)
