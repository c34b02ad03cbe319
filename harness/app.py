"""The app as a process, as a user runs it: its command, its environment, and what it
prints (the exported trace's id and link, one-line errors)."""

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

from harness import REPO
from jaeger_smoke.expectation import SpanExpectation, load

# What the app gets besides the OTEL_* variables under test: no variable of the
# developer's shell leaks in.
# The repository's root too, for harness/broken_app.py: the app never imports from it.
BASE_ENV = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{REPO / 'app' / 'src'}:{REPO}", "LANG": "C.UTF-8"}

# The app's trace as expected-trace.json declares it (the smoke test's default), one
# source for its shape: a default run (ids 1 and 100) makes one such trace, a load run
# one per repetition.
APP_TRACE = load(REPO / "expected-trace.json")
SPANS_PER_TRACE = APP_TRACE.total()


def span_names(expected: SpanExpectation = APP_TRACE.root) -> list[str]:
    """The names of the spans of the app's trace, each as often as it occurs, sorted."""
    names = [expected.name] + [name for child in expected.children for name in span_names(child)]
    return sorted(names * expected.count)


# What the app says on stderr once its trace is exported: the trace's id, then the
# link to it in Jaeger's UI (trace_link).
EXPORTED_TRACE = re.compile(r"trace ([0-9a-f]{32}) exported: \S+")


def app_command(*args: str, fault: str | None = None, launcher: tuple[str, ...] = ()) -> list[str]:
    """`python -m inprocess_grpc ARGS`, or the same with one `fault` of harness/broken_app.py made first."""
    if fault is None:
        return [*launcher, sys.executable, "-m", "inprocess_grpc", *args]
    return [*launcher, sys.executable, "-m", "harness.broken_app", fault, *args]


def launcher(config: dict) -> tuple[str, ...]:
    """What the app service's compose `entrypoint` puts before `python -m inprocess_grpc`
    (the image's own entry point), as programs of this host's environment: for
    compose.distro.yaml, `python -m inprocess_grpc.instrument`. Empty when compose keeps the image's."""
    entrypoint = config["services"]["app"].get("entrypoint") or []
    if not entrypoint:
        return ()
    *before, python, option, module = entrypoint
    assert (python, option, module) == ("python", "-m", "inprocess_grpc"), entrypoint
    # This host's Python in place of the image's.
    return tuple(sys.executable if word == "python" else word for word in before)


def load_command(*args: str, launcher: tuple[str, ...] = ()) -> list[str]:
    """`python -m inprocess_grpc.load ARGS`: many traces, one JSON summary."""
    return [*launcher, sys.executable, "-m", "inprocess_grpc.load", *args]


def run_app(
    env: Mapping[str, str], *args: str, timeout: float = 60, fault: str | None = None, launcher: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the app with exactly BASE_ENV + `env`; `timeout` bounds the run."""
    return _run(app_command(*args, fault=fault, launcher=launcher), env, timeout)


def run_load(
    env: Mapping[str, str], *args: str, timeout: float = 60, launcher: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run `python -m inprocess_grpc.load ARGS` with exactly BASE_ENV + `env`."""
    return _run(load_command(*args, launcher=launcher), env, timeout)


def _run(command: list[str], env: Mapping[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_app_timing_its_end(
    env: Mapping[str, str], *args: str, launcher: tuple[str, ...] = (), hang: float = 60
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the app as run_app does; also the seconds from its last line of data on stdout
    (its lookups done) to its exit: the flush and the exit, without the interpreter's
    start-up, which a loaded machine slows and which no promise is about. `hang` bounds
    the whole run (TimeoutExpired)."""
    command = app_command(*args, launcher=launcher)
    process = subprocess.Popen(command, env={**BASE_ENV, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    lines: list[tuple[float, str]] = []
    errors: list[str] = []
    readers = [
        threading.Thread(target=lambda: lines.extend((time.monotonic(), line) for line in process.stdout)),
        threading.Thread(target=lambda: errors.append(process.stderr.read())),
    ]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=hang)
        ended = time.monotonic()
    finally:
        process.kill()
        for reader in readers:
            reader.join()
    stdout, stderr = "".join(line for _, line in lines), "".join(errors)
    last = lines[-1][0] if lines else ended
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), ended - last


def exported_trace_id(stderr: str) -> str:
    """The id of the trace the app says it exported."""
    match = EXPORTED_TRACE.search(stderr)
    assert match, stderr
    return match.group(1)


def trace_link(jaeger_url: str, trace_id: str) -> str:
    """The trace's page in Jaeger's UI at `jaeger_url`, as the app links to it."""
    return f"{jaeger_url.rstrip('/')}/trace/{trace_id}"


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """`stderr` is one line, no traceback, and says each of `fragments`."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
