"""Cold start: the app's process from start to exit for the default run, its peak
memory, and where the time goes at import.

Variants, taking turns: the bare interpreter (the floor), the app with tracing
disabled, and the default run exporting to a real Jaeger. Then `python -X importtime`
of the default run: the imports that cost the most.

    ./benchmarks/run.sh cold-start [--quick]
"""

import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence

from benchmarks.backends import running_backends
from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness.app import BASE_ENV, app_command

QUICK, FULL = 3, 15  # repetitions
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


# Each measured process is started by a small Python of its own: a child inherits its
# parent's peak memory in ru_maxrss (fork copies the parent's pages), and this
# benchmark's process is large by the time it runs; this starter stays near 10 MiB,
# below anything measured.
_STARTER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps([(time.perf_counter() - started) * 1000, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)]))
"""


def process_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall ms from start to exit, and peak resident memory in MiB (ru_maxrss is KiB on Linux)."""
    starter = [sys.executable, "-S", "-c", _STARTER, *command]
    result = subprocess.run(starter, env=env, capture_output=True, text=True, check=True)
    elapsed, peak, status = json.loads(result.stdout.splitlines()[-1])  # after the app's own output
    assert status == 0, command
    return elapsed, peak


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
    with running_backends() as stack:
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
    options = benchmark_options(argv, __doc__, f"{QUICK} repetitions instead of {FULL}")
    print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
