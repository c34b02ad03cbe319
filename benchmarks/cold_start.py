"""Cold start: the app's process from start to exit for the default run, its peak
memory, and where the time goes at import.

Variants, taking turns: the bare interpreter (the floor), the app with tracing
disabled, and the default run exporting to a real Jaeger. Then `python -X importtime`
of the default run: the imports that cost the most.

    python -m benchmarks.cold_start [--quick]
"""

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from benchmarks.side_by_side import interleaved, median, spread, table
from benchmarks.stack import collector_stack
from tests.stack import BASE_ENV, app_command

IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def process_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall ms from start to exit, and peak resident memory in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, command
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def top_imports(env: dict[str, str], repetitions: int, most: int = 8) -> list[list[object]]:
    """The top-level imports of the default run that take longest, ms cumulative (median)."""
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(repetitions):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", *app_command()[1:]], env=env, capture_output=True, text=True
        )
        for line in result.stderr.splitlines():
            match = IMPORT_LINE.match(line)
            if match and not match.group(3):  # not indented: imported by the app or the interpreter itself
                times[match.group(4)].append(int(match.group(2)) / 1000)
    ranked = sorted(times.items(), key=lambda item: -median(item[1]))[:most]
    return [[name, f"{median(values):.1f}"] for name, values in ranked]


def run(repetitions: int) -> str:
    with collector_stack() as stack:
        direct = {**BASE_ENV, **stack.direct_env}
        variants: dict[str, Callable[[], tuple[float, float]]] = {
            "bare interpreter (`python -c pass`)": lambda: process_run([sys.executable, "-c", "pass"], BASE_ENV),
            "app, OTEL_SDK_DISABLED=true": lambda: process_run(app_command(), {**direct, "OTEL_SDK_DISABLED": "true"}),
            "app, default run, export to Jaeger": lambda: process_run(app_command(), direct),
        }
        results = interleaved(variants, repetitions)
        imports = top_imports(direct, repetitions)
    rows = []
    for name, runs in results.items():
        wall, memory = [run[0] for run in runs], [run[1] for run in runs]
        rows.append([name, f"{median(wall):.0f}", spread(wall, ".0f"), f"{median(memory):.0f}"])
    return "\n".join(
        [
            f"Cold start, median of {repetitions} interleaved runs:",
            "",
            table(["process", "ms start to exit", "spread", "peak MiB"], rows),
            "",
            "Top-level imports of the default run, ms (cumulative, median):",
            "",
            table(["module", "ms"], imports),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 15")
    print(run(3 if parser.parse_args(argv).quick else 15))


if __name__ == "__main__":
    main()
