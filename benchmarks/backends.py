"""The stack the benchmarks run against: the real Jaeger and collector on loopback,
configured as compose configures them (the harness the tests run it with), and the app's
environment for each path."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import compose
from harness.app import BASE_ENV
from harness.native import running_natively
from harness.servers import Collector, Jaeger
from harness.user_scripts import collector_token


@dataclass
class Backends:
    jaeger: Jaeger
    collector: Collector
    direct_env: dict[str, str]  # the app's environment in compose.yaml: straight to Jaeger
    collector_env: dict[str, str]  # with compose.collector.yaml: through the collector, with the token


@contextmanager
def running_backends() -> Iterator[Backends]:
    with tempfile.TemporaryDirectory(prefix="benchmark-") as folder:
        variables = collector_token(Path(folder))
        config = compose.resolve("compose.yaml", "compose.collector.yaml", variables=variables)
        with running_natively(config, Path(folder)) as stack:
            assert stack.collector is not None
            direct_config = compose.resolve("compose.yaml")
            direct = compose.environment(direct_config, "app", {"jaeger:4317": stack.jaeger.otlp_grpc})
            yield Backends(stack.jaeger, stack.collector, direct, stack.app_env)


def worker_output(module: str, *args: str, env: Mapping[str, str] | None = None) -> str:
    """What `python -m benchmarks.<module> --worker ARGS` prints: a measurement made in
    a fresh process (a tracer provider can be installed once per process), importing
    what this one does (its PYTHONPATH: benchmarks/run.sh's), with `env` (an app
    environment) added."""
    command = [sys.executable, "-m", f"benchmarks.{module}", "--worker", *args]
    full_env = {**BASE_ENV, "PYTHONPATH": os.environ["PYTHONPATH"], **(env or {})}
    return subprocess.run(command, env=full_env, capture_output=True, text=True, check=True).stdout
