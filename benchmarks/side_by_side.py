"""Interleaved repetitions, medians, ratios, the tables they go into, and the command line
every benchmark takes."""

import argparse
import os
import platform
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def interleaved(variants: Mapping[str, Callable[[], T]], repetitions: int) -> dict[str, list[T]]:
    """Run every variant once per repetition, rotating the order each time, so that a
    drift of the machine (a warming cache, a neighbour's load) spreads over all of them."""
    names = list(variants)
    results: dict[str, list[T]] = {name: [] for name in names}
    for repetition in range(repetitions):
        shift = repetition % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(variants[name]())
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], spec: str = ".1f") -> str:
    """Lowest and highest, to show how much the repetitions agree."""
    return f"{min(values):{spec}} to {max(values):{spec}}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """The machine the figures come from, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB"
    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def benchmark_options(
    argv: Sequence[str] | None, doc: str, quick_help: str, worker: bool = False
) -> argparse.Namespace:
    """A benchmark's command line: `--quick` (`quick_help` says what it cuts) and, for a
    benchmark that measures in fresh processes, the hidden `--worker [ARG]` that
    worker_output starts them with (None when not given)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    if worker:
        parser.add_argument("--worker", nargs="?", const="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)
