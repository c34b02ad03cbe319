"""The smoke test, old and new: ms from the app's exit (its trace stored) to the verdict.

The same trace, the app's default run (9 spans), in the real Jaeger 1.55 and Jaeger v2
(2.13, which still serves the old endpoints). After each run of the app, one smoke test
is started and timed to its exit, which must be status 0: the old one (scripts/smoke_test.py
and scripts/jaeger_api.py of commit e0182e6, read from git history: /api/services and the
/api/traces search, a verdict on the first answer that matches) or the new one
(scripts/smoke_test.py, jaeger-smoke: api_v3, a verdict once two polls saw the same
complete trace). Both start a fresh interpreter each time; the variants take turns.

    ./benchmarks/run.sh smoke-check [--quick]
"""

import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness import compose
from harness.app import run_app
from harness.native import running_jaeger_as_configured
from harness.servers import Jaeger
from harness.smoke import old_smoke_test, run_old_smoke_test, run_smoke_test

QUICK, FULL = 3, 15  # repetitions
JAEGERS = {"Jaeger 1.55": ("compose.yaml",), "Jaeger v2 (2.13)": ("compose.yaml", "compose.jaeger-v2.yaml")}
CHECK_TIMEOUT = "30"  # s, the smoke tests' own bound


@contextmanager
def both_jaegers(folder: Path) -> Iterator[dict[str, tuple[Jaeger, dict[str, str]]]]:
    """Each Jaeger, running as compose configures it, and the app's environment for it."""
    with ExitStack() as stack:
        running = {}
        for name, files in JAEGERS.items():
            config = compose.resolve(*files)
            place = folder / name.split()[1]
            place.mkdir()
            jaeger = stack.enter_context(running_jaeger_as_configured(config, place))
            running[name] = (jaeger, compose.environment(config, "app", {"jaeger:4317": jaeger.otlp_grpc}))
        yield running


def exit_to_verdict(jaeger: Jaeger, app_env: dict[str, str], check: Callable[[], subprocess.CompletedProcess]) -> float:
    """ms from the app's exit to the end of `check`, which must pass."""
    result = run_app(app_env)
    assert result.returncode == 0, result.stderr
    exited = time.perf_counter()
    verdict = check()
    took = (time.perf_counter() - exited) * 1000
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    return took


def run(repetitions: int) -> str:
    with tempfile.TemporaryDirectory(prefix="benchmark-smoke-") as folder, both_jaegers(Path(folder)) as jaegers:
        old = old_smoke_test(Path(folder))
        variants: dict[str, Callable[[], float]] = {}
        for name, (jaeger, env) in jaegers.items():
            variants[f"{name} | old"] = lambda j=jaeger, e=env: exit_to_verdict(
                j, e, lambda: run_old_smoke_test(old, j, "--timeout", CHECK_TIMEOUT)
            )
            variants[f"{name} | new"] = lambda j=jaeger, e=env: exit_to_verdict(
                j, e, lambda: run_smoke_test(j, "--timeout", CHECK_TIMEOUT)
            )
        results = interleaved(variants, repetitions)
    rows = []
    for name in JAEGERS:
        old_ms, new_ms = results[f"{name} | old"], results[f"{name} | new"]
        rows.append(
            [
                name,
                f"{median(old_ms):.0f}",
                spread(old_ms, ".0f"),
                f"{median(new_ms):.0f}",
                spread(new_ms, ".0f"),
                f"{median(new_ms) / median(old_ms):.2f}",
            ]
        )
    headers = ["back end", "old, ms", "spread", "new, ms", "spread", "new / old"]
    return "\n".join(
        [
            f"Smoke test, ms from the app's exit to the verdict (status 0), median of {repetitions} interleaved runs:",
            "",
            table(headers, rows),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetitions instead of {FULL}")
    print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
