"""The checks' outcomes as JUnit XML (`--junit FILE`), the format CI systems show as a test report.

It exists so that a failed smoke test shows in a CI's test tab with its diff, not only in
the job's log. One testsuite; one testcase per check, in the order they run; a check that
did not hold has a <failure> (the trace is wrong or missing) or an <error> (the check
could not run: a malformed file, Jaeger unreachable), and the checks after it are
<skipped>. Whatever goes in has been made safe to show by the caller: no header value, no
userinfo.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

SUITE = "jaeger-smoke"


@dataclass
class Case:
    name: str
    outcome: str  # "passed", "failure", "error" or "skipped"
    message: str = ""  # one line
    details: str = ""  # the diff, for a failure
    seconds: float = 0.0


def document(cases: list[Case], seconds: float) -> ET.ElementTree:
    counts = {outcome: sum(case.outcome == outcome for case in cases) for outcome in ("failure", "error", "skipped")}
    suite = ET.Element(
        "testsuite",
        name=SUITE,
        tests=str(len(cases)),
        failures=str(counts["failure"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{seconds:.3f}",
    )
    for case in cases:
        element = ET.SubElement(suite, "testcase", classname=SUITE, name=case.name, time=f"{case.seconds:.3f}")
        if case.outcome != "passed":
            outcome = ET.SubElement(element, case.outcome, message=case.message)
            outcome.text = case.details or case.message or None
    ET.indent(suite)
    return ET.ElementTree(suite)


def write(path: str | Path, cases: list[Case], seconds: float) -> None:
    """Write the report to `path` (OSError if it cannot be written)."""
    document(cases, seconds).write(path, encoding="utf-8", xml_declaration=True)
